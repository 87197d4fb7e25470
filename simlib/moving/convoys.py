"""County convoy days: how many vehicles a batch needs, how it splits into convoys, what
limits one county's day on the road, and how a convoy drives in daylight only.

A county moves its batch on its convoy day as one convoy or a few. Trucks carry the
belongings (`households_per_truck` households each), coaches the people (`bus_seats`);
a convoy holds at most `convoy_vehicles_max` vehicles. The vehicles a county can send in
one day are limited by what it can lease, by what the police can direct along its route,
and by the cadres and doctors who ride along (one per so many vehicles). Pure functions:
the SimPy process that uses them is `simlib.moving.campaign.Campaign.convoy`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from simlib.moving.inputs import DAY, MovingParams

# the order in which equal limits are named as binding
LIMITS = ("route", "fleet", "cadres", "doctors")


def vehicles(households: int, people: int, params: MovingParams) -> tuple[int, int]:
    """(trucks, coaches) for one convoy of `households` households and `people` people."""
    return math.ceil(households / params.households_per_truck), math.ceil(people / params.bus_seats)


def form_convoys(sizes: Sequence[int], params: MovingParams) -> list[tuple[int, int, int, int]]:
    """Split a convoy day's households (their sizes, in call order) into convoys of at most
    `convoy_vehicles_max` vehicles. Returns (first, stop, trucks, coaches) per convoy, with
    households first..stop-1 of the batch."""
    convoys = []
    first, people = 0, 0
    for i, size in enumerate(sizes):
        n = i - first + 1
        if n > 1 and sum(vehicles(n, people + size, params)) > params.convoy_vehicles_max:
            convoys.append((first, i, *vehicles(i - first, people, params)))
            first, people = i, 0
        people += size
    if len(sizes):
        convoys.append((first, len(sizes), *vehicles(len(sizes) - first, people, params)))
    return convoys


def day_vehicles(sizes: Sequence[int], params: MovingParams) -> int:
    """Vehicles (trucks and coaches) of a whole convoy day."""
    return sum(t + b for _, _, t, b in form_convoys(sizes, params))


def day_limit(params: MovingParams) -> tuple[int, str]:
    """Most vehicles one county can send in one day, and the resource that sets it."""
    limits = params.day_limits()
    name = min(LIMITS, key=lambda k: (limits[k], LIMITS.index(k)))
    return limits[name], name


def fit_day(sizes: Sequence[int], params: MovingParams) -> tuple[int, str | None]:
    """How many of these households (in call order) one county can send in one day, and the
    resource that stops the next one (None when all fit)."""
    limit, name = day_limit(params)
    if day_vehicles(sizes, params) <= limit:
        return len(sizes), None
    lo, hi = 0, len(sizes)  # lo fits, hi does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if day_vehicles(sizes[:mid], params) <= limit:
            lo = mid
        else:
            hi = mid
    return lo, name


def drive(depart: float, travel: float, params: MovingParams) -> tuple[float, int]:
    """Arrival time (minutes) of a convoy leaving at `depart` with `travel` minutes of
    driving, in daylight only: at dark it stops overnight on the way and goes on at the
    next gathering time. Returns (arrival, overnight stops)."""
    now, left, nights = depart, travel, 0
    while True:
        day0 = math.floor(now / DAY) * DAY
        if now < day0 + params.gather_start:
            now = day0 + params.gather_start
        daylight = day0 + params.dark - now
        if left <= daylight:
            return now + left, nights
        left -= max(daylight, 0.0)
        now = day0 + DAY + params.gather_start
        nights += 1


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


def expected_arrival(county: str, params: MovingParams) -> tuple[float, int]:
    """Arrival (minutes after the convoy day's midnight) and overnight stops of a county's
    convoy without delays: gathering, one truck's loading, the road in daylight."""
    depart = params.gather_start + params.loading_mean * params.households_per_truck
    return drive(depart, params.roads[county].travel_time, params)
