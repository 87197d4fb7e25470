"""The road: per county, batches are loaded into convoys of rented trucks and buses that
leave with a police and a medical escort, travel with random delays, and must arrive
before dark.

A convoy forms at the township gathering point from `gather_start` on the batch day once
its trucks and buses are back; each truck is loaded household after household (random
loading times), trucks in parallel. It departs when both escorts are free. If it would
arrive after dark and `hold_late_convoys` is set, it waits for the next morning (unless
even a morning departure could not arrive before dark; then it goes and is counted after
dark). Vehicles drive back after unloading, escorts with them, ready for the next trip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from simlib.moving_inputs import DAY, MovingParams


@dataclass
class CountyFleet:
    """The vehicles and escorts of one county (counts from the parameters)."""

    trucks: simpy.Container
    buses: simpy.Container
    police: simpy.Resource
    medical: simpy.Resource
    travel_factor: np.ndarray  # one per convoy, in convoy order: lognormal x breakdown delay
    next_convoy: int = 0

    @classmethod
    def create(cls, env: simpy.Environment, params: MovingParams, factors: np.ndarray):
        return cls(
            trucks=simpy.Container(env, params.trucks, init=params.trucks),
            buses=simpy.Container(env, params.buses, init=params.buses),
            police=simpy.Resource(env, params.police_escorts),
            medical=simpy.Resource(env, params.medical_escorts),
            travel_factor=factors,
        )


@dataclass
class ConvoyLog:
    """One record per convoy, turned into a table at the end."""

    rows: list[tuple] = field(default_factory=list)

    COLUMNS = (
        "convoy_id",
        "county",
        "batch_day",
        "households",
        "people",
        "trucks",
        "buses",
        "formed",
        "loaded",
        "departure",
        "arrival",
        "held_overnight",
        "after_dark",
    )


def form_convoys(members: list[int], people: np.ndarray, params: MovingParams) -> list[list[int]]:
    """Split one county's batch (household positions, in call order) into convoys: at most
    `convoy_trucks` trucks, and no more people than the county's buses seat."""
    size = min(params.convoy_trucks, params.trucks) * params.truck_households
    seats = params.buses * params.bus_seats
    convoys, current, riders = [], [], 0
    for h in members:
        if current and (len(current) == size or riders + people[h] > seats):
            convoys.append(current)
            current, riders = [], 0
        current.append(h)
        riders += people[h]
    if current:
        convoys.append(current)
    return convoys


def convoy(
    env: simpy.Environment,
    convoy_id: int,
    county: str,
    day: int,
    members: list[int],
    people: np.ndarray,
    loading: np.ndarray,
    fleet: CountyFleet,
    params: MovingParams,
    arrived: simpy.Event,
    log: ConvoyLog,
    departure: np.ndarray,
    arrival: np.ndarray,
):
    """One convoy from forming to arrival; its vehicles and escorts return afterwards."""
    day_start = day * DAY
    if day_start + params.gather_start > env.now:
        yield env.timeout(day_start + params.gather_start - env.now)
    n_trucks = math.ceil(len(members) / params.truck_households)
    riders = int(people[members].sum())
    n_buses = math.ceil(riders / params.bus_seats)
    yield fleet.trucks.get(n_trucks) & fleet.buses.get(n_buses)
    formed = env.now
    # trucks load in parallel; one truck's households one after another
    per_truck = [
        float(loading[members[i : i + params.truck_households]].sum())
        for i in range(0, len(members), params.truck_households)
    ]
    yield env.timeout(max(per_truck))
    loaded = env.now
    police = fleet.police.request()
    medical = fleet.medical.request()
    yield police & medical
    road = params.roads[county]
    travel = road.travel_time * fleet.travel_factor[fleet.next_convoy % len(fleet.travel_factor)]
    fleet.next_convoy += 1
    held = False
    can_make_it = params.gather_start + travel <= params.dark
    while params.hold_late_convoys and can_make_it:
        today = math.floor(env.now / DAY) * DAY
        if env.now + travel <= today + params.dark:
            break
        held = True
        yield env.timeout(today + DAY + params.gather_start - env.now)
    depart = env.now
    yield env.timeout(travel)
    arrive = env.now
    departure[members] = depart
    arrival[members] = arrive
    after_dark = arrive - math.floor(depart / DAY) * DAY > params.dark
    log.rows.append(
        (
            convoy_id,
            county,
            day,
            len(members),
            riders,
            n_trucks,
            n_buses,
            formed,
            loaded,
            depart,
            arrive,
            held,
            bool(after_dark),
        )
    )
    arrived.succeed()
    env.process(
        _return(
            env,
            fleet,
            n_trucks,
            n_buses,
            police,
            medical,
            params.unload_turnaround + road.travel_time,
        )
    )


def _return(env, fleet, n_trucks, n_buses, police, medical, duration):
    yield env.timeout(duration)
    fleet.police.release(police)
    fleet.medical.release(medical)
    yield fleet.trucks.put(n_trucks) & fleet.buses.put(n_buses)


def travel_factors(
    rng_delay: np.random.Generator,
    rng_breakdown: np.random.Generator,
    params: MovingParams,
    travel_time: float,
    n: int,
) -> np.ndarray:
    """Per-convoy multiplier of the base travel time: lognormal spread (mean 1) plus, with
    `breakdown_probability`, an exponential stop of mean `breakdown_delay_mean` minutes."""
    sigma = params.travel_delay_sigma
    factor = rng_delay.lognormal(-(sigma**2) / 2, sigma, n) if sigma > 0 else np.ones(n)
    broke = rng_breakdown.random(n) < params.breakdown_probability
    stop = (
        rng_breakdown.exponential(params.breakdown_delay_mean, n)
        if params.breakdown_delay_mean > 0
        else np.zeros(n)
    )
    return factor + np.where(broke, stop, 0.0) / travel_time
