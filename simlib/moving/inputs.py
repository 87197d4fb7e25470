"""Inputs of the moving campaign, loaded once from data/moving/ and validated.

`load_moving_params` is the only place that reads data/moving (and a planner's batch plan
file named in the scenario). Everything is a frozen dataclass; times are minutes (of the
day, or of duration), dates are `datetime.date`. Counts of vehicles, drivers, police,
cadres, doctors, crews, teams and households per day scale with the scenario (at least
1), so a small scenario is limited by the same resources as the full one. Variants:
`dataclasses.replace`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simlib.moving.tables import (
    SEGMENTS,
    PlannedDay,
    Road,
    StepSpec,
    Weather,
    parse_date,
    read_batch_plan,
    read_roads,
    read_steps,
    read_teams,
    read_weather,
)
from simlib.provenance import DataError, read_table
from simlib.scenario import Scenario

if TYPE_CHECKING:
    from simlib.moving.flats import Homes

POLICIES = ("round_robin", "county_waves", "daily_quota", "even_days")
SHIFT_RULES = ("carry_over", "overtime")
CALL_ORDERS = ("registration", "building")  # how a county's households are called
DARK_RULES = ("stop", "drive")
DAY = 1440.0  # minutes
VEHICLES_LEAST = 2  # one truck and one coach: the least that moves a household

# the road resources of one county convoy day, as MovingParams names them
ROAD_POOLS = (
    "trucks",
    "coaches",
    "drivers",
    "route_vehicles",
    "police_officers",
    "police_cars",
    "cadres",
    "doctors",
    "loading_crews",
)


@dataclass(frozen=True)
class MovingParams:
    """Every input of the moving model (see data/moving/parameters.csv for sources).

    Road resources are per county convoy day: `trucks`, `coaches` and `drivers` are leased
    centrally (the counties moving on one date share their pool); the route, police,
    cadres, doctors and loading crews are the county's own.
    """

    scenario: str  # scenario name, for the summary
    campaign_start: dt.date
    deadline: dt.date  # registered-poor households all in by this date
    pauses: tuple[tuple[dt.date, dt.date], ...]  # inclusive date ranges with no moving
    batch_plan: tuple[PlannedDay, ...] | None  # a planner's plan, or None: generated
    batch_plan_file: str  # where the plan came from ("" when generated)
    policy: str  # plan generator
    registered_poor_first: bool
    rest_days: int  # days between two convoy days of one county
    day_households_max: int  # households per county convoy day (plan target)
    plan_slack: float  # minutes a planned day keeps before dark and the shift end
    max_campaign_days: int  # days
    households_per_truck: int
    bus_seats: int  # people per coach
    leased_vehicles: int  # trucks + coaches leased per county convoy day
    coaches: int  # of them coaches
    drivers: int  # per county convoy day
    route_vehicles: int  # vehicles the police let along one route in one day
    convoy_vehicles_max: int  # vehicles in one convoy
    convoy_headway: float  # minutes between two convoys of a county
    police_officers: int  # per county convoy day
    vehicles_per_police_officer: int
    police_cars: int
    vehicles_per_police_car: int
    cadres: int
    vehicles_per_cadre: int
    doctors: int
    vehicles_per_doctor: int
    loading_crews: int
    loading_mean: float  # minutes per household
    loading_cv: float
    travel_delay_sigma: float  # lognormal sigma of each segment's driving time
    return_time_factor: float  # return trip / outward mean time
    gather_start: float  # minute of day
    latest_departure: float  # minute of day
    dark: float  # minute of day
    dark_rule: str  # stop | drive
    flats_ready_days_before: int  # moving days before the convoy day that steps 1-3 run
    work_start: float  # minute of day
    work_end: float  # minute of day
    shift_end_rule: str  # carry_over | overtime
    followup_days_target: int  # days
    binding_load_share: float  # peak load share at which a resource binds a kept day
    breakdown_probability: float  # per convoy
    breakdown_delay_mean: float  # minutes
    illness_probability: float  # per household on the road
    illness_delay_mean: float  # minutes
    weather_risk_factor: float
    movein_buildings: bool  # the move-in day tied to the housing allocation (see `homes`)
    call_order: str  # registration | building: the order a county's households are called
    carry_minutes_per_floor: float  # minutes a floor above the ground, by the stairs
    lift_minutes: float  # minutes a household, by lift (above the ground floor)
    lift_minutes_per_floor: float  # minutes a floor above the ground, by lift
    squads_per_stairwell: int  # squads carrying up one walk-up stairwell at once
    move_in_includes_carry: bool  # the carrying step's mean time includes the average carry
    weather: dict[tuple[str, int], Weather]  # (county, month) -> chances
    roads: dict[str, Road]
    steps: tuple[StepSpec, ...]
    resources: dict[str, int]  # move-in team -> units (scaled)
    calibrated: tuple[str, ...] = ()  # parameters set to reproduce a reported figure
    # each household's building, stairwell and floor (the housing allocation, drawn once a
    # run in the inputs path: simlib.moving.homes.tie); None: the move-in day is not tied
    homes: Homes | None = None

    @property
    def trucks(self) -> int:
        return self.leased_vehicles - self.coaches

    def date(self, day: int) -> dt.date:
        return self.campaign_start + dt.timedelta(days=int(day))

    def day(self, date: dt.date) -> int:
        return (date - self.campaign_start).days

    @property
    def deadline_day(self) -> int:
        """Day index (0 = campaign_start) of the registered-poor deadline."""
        return self.day(self.deadline)

    def paused(self, day: int) -> bool:
        date = self.date(day)
        return any(a <= date <= b for a, b in self.pauses)

    def pools(self) -> dict[str, int]:
        """The road resources of one county convoy day, by name (see ROAD_POOLS)."""
        return {name: getattr(self, name) for name in ROAD_POOLS}

    def weather_on(self, county: str, day: int) -> Weather:
        """The chances for a county's convoy day, times `weather_risk_factor`."""
        w = self.weather[(county, self.date(day).month)]
        f = self.weather_risk_factor
        cancel = min(1.0, w.cancel * f)
        return Weather(cancel, min(1.0 - cancel, w.delay * f), w.delay_mean)


def scaled(count: int, scale: float, least: int = 1) -> int:
    """A count at the scenario's scale, never below `least`."""
    return max(least, round(count * scale))


def _pauses(raw: Any, file: Path | str) -> tuple[tuple[dt.date, dt.date], ...]:
    """`start/end;start/end` text, or a list of [start, end] pairs from a scenario file."""
    if raw is None or raw == "":
        return ()
    shape = "a list of [start, end] pairs, or text start/end;start/end"
    if isinstance(raw, str):
        pairs = [p.split("/") for p in raw.split(";") if p.strip()]
    elif isinstance(raw, list | tuple):
        pairs = [p.split("/") if isinstance(p, str) else p for p in raw]
    else:
        raise DataError(file, "pause_windows", raw, f"must be {shape}")
    result = []
    for pair in pairs:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise DataError(file, "pause_windows", pair, "each pause is a [start, end] pair")
        start = parse_date(pair[0], file, "pause_windows")
        end = parse_date(pair[1], file, "pause_windows")
        if end < start:
            raise DataError(file, "pause_windows", pair, "a pause must not end before it starts")
        result.append((start, end))
    return tuple(result)


def _check_dates(
    lottery: dt.date,
    start: dt.date,
    deadline: dt.date,
    pauses: tuple[tuple[dt.date, dt.date], ...],
    horizon: int,
    file: Path | str,
) -> None:
    """Dates in an order that makes sense, or a DataError saying which and why."""
    if start < lottery:
        raise DataError(
            file,
            "campaign_start",
            start.isoformat(),
            f"is before the housing lottery ({lottery.isoformat()}): no flat is allocated yet",
        )
    if deadline <= start:
        raise DataError(
            file,
            "registered_poor_deadline",
            deadline.isoformat(),
            f"must be after campaign_start ({start.isoformat()}); it is "
            f"{(start - deadline).days} days before it",
        )
    end = start + dt.timedelta(days=horizon - 1)
    if deadline > end:
        raise DataError(
            file,
            "registered_poor_deadline",
            deadline.isoformat(),
            f"lies after the planning horizon ({horizon} days from {start.isoformat()}, "
            f"to {end.isoformat()})",
        )
    for a, b in pauses:
        if b < start or a > end:
            raise DataError(
                file,
                "pause_windows",
                f"{a.isoformat()}/{b.isoformat()}",
                f"lies outside the campaign ({start.isoformat()} to {end.isoformat()})",
            )
    days = (start + dt.timedelta(days=d) for d in range(horizon))
    if all(any(a <= day <= b for a, b in pauses) for day in days):
        raise DataError(
            file,
            "pause_windows",
            [(a.isoformat(), b.isoformat()) for a, b in pauses],
            f"pauses cover the whole campaign ({horizon} days from {start}); no day is left to move",
        )


def _check_values(v: dict[str, Any], where: Path | str) -> None:
    """The choices and the checks between fields; every value's own limits (positive
    counts and times, a coach's least seats) are the min/max columns of
    data/moving/parameters.csv, checked on loading (`Scenario.values`)."""
    choices = {
        "scheduling_policy": POLICIES,
        "shift_end_rule": SHIFT_RULES,
        "dark_rule": DARK_RULES,
        "call_order": CALL_ORDERS,
    }
    for name, allowed in choices.items():
        if v[name] not in allowed:
            raise DataError(where, name, v[name], f"must be one of {allowed}")
    if not v["gather_start"] < v["dark"] <= DAY:
        raise DataError(where, "dark", v["dark"], "must be after gather_start and within the day")
    if not v["latest_departure"] <= v["dark"]:
        raise DataError(where, "latest_departure", v["latest_departure"], "must not be after dark")
    if not v["work_start"] < v["work_end"] <= DAY:
        raise DataError(where, "work_end", v["work_end"], "must be after work_start within the day")
    if v["coaches_per_county_day"] >= v["leased_vehicles_per_county_day"]:
        raise DataError(
            where,
            "coaches_per_county_day",
            v["coaches_per_county_day"],
            f"must leave trucks among the {v['leased_vehicles_per_county_day']} leased vehicles",
        )


def _road_values(v: dict[str, Any], s: float) -> dict[str, Any]:
    """The road resources of a county convoy day at the scenario's scale."""
    leased = scaled(v["leased_vehicles_per_county_day"], s, VEHICLES_LEAST)
    return {
        "leased_vehicles": leased,
        "coaches": min(leased - 1, scaled(v["coaches_per_county_day"], s)),
        "drivers": scaled(v["drivers_per_county_day"], s),
        "route_vehicles": scaled(v["route_vehicles_per_day"], s, VEHICLES_LEAST),
        "police_officers": scaled(v["police_officers_per_county"], s),
        "police_cars": scaled(v["police_cars_per_county"], s),
        "cadres": scaled(v["cadres_per_county"], s),
        "doctors": scaled(v["doctors_per_county"], s),
        "loading_crews": scaled(v["loading_crews_per_county"], s),
        "day_households_max": scaled(v["convoy_day_households_max"], s),
    }


# parameters.csv name -> MovingParams field, for the values used as they are
AS_IS = {
    "scheduling_policy": "policy",
    "registered_poor_first": "registered_poor_first",
    "county_rest_days": "rest_days",
    "plan_slack_minutes": "plan_slack",
    "max_campaign_days": "max_campaign_days",
    "households_per_truck": "households_per_truck",
    "bus_seats": "bus_seats",
    "convoy_vehicles_max": "convoy_vehicles_max",  # a convoy is a convoy at any scale
    "convoy_headway": "convoy_headway",
    "vehicles_per_police_officer": "vehicles_per_police_officer",
    "vehicles_per_police_car": "vehicles_per_police_car",
    "vehicles_per_cadre": "vehicles_per_cadre",
    "vehicles_per_doctor": "vehicles_per_doctor",
    "loading_mean": "loading_mean",
    "loading_cv": "loading_cv",
    "travel_delay_sigma": "travel_delay_sigma",
    "return_time_factor": "return_time_factor",
    "gather_start": "gather_start",
    "latest_departure": "latest_departure",
    "dark": "dark",
    "dark_rule": "dark_rule",
    "flats_ready_days_before": "flats_ready_days_before",
    "work_start": "work_start",
    "work_end": "work_end",
    "shift_end_rule": "shift_end_rule",
    "followup_days_target": "followup_days_target",
    "binding_load_share": "binding_load_share",
    "breakdown_probability": "breakdown_probability",
    "breakdown_delay_mean": "breakdown_delay_mean",
    "illness_probability": "illness_probability",
    "illness_delay_mean": "illness_delay_mean",
    "weather_risk_factor": "weather_risk_factor",
    "movein_buildings": "movein_buildings",
    "call_order": "call_order",
    "carry_minutes_per_floor": "carry_minutes_per_floor",
    "lift_minutes": "lift_minutes",
    "lift_minutes_per_floor": "lift_minutes_per_floor",
    "squads_per_stairwell": "squads_per_stairwell",
    "move_in_includes_carry": "move_in_includes_carry",
}


def _tables(scenario: Scenario, v: dict[str, Any]) -> dict[str, Any]:
    """Roads, weather, teams and steps, read and checked."""
    counties_file = scenario.table("population", "counties")
    counties = set(read_table(counties_file, {"county": "str"}, key="county")["county"])
    speeds = {s: v[f"{s}_speed_kmh"] for s in SEGMENTS}
    teams = read_teams(scenario.table("moving", "resources"), v, scenario.scale)
    plan, plan_file = None, ""
    if str(v["batch_plan"]).strip():
        path = Path(str(v["batch_plan"]).strip())
        path = path if path.is_absolute() else scenario.path.parent / path
        plan, plan_file = read_batch_plan(path, counties), str(path)
    return {
        "roads": read_roads(scenario.table("moving", "roads"), counties, speeds),
        "weather": read_weather(scenario.table("moving", "weather"), counties),
        "resources": teams,
        "steps": read_steps(scenario.table("moving", "steps"), teams),
        "batch_plan": plan,
        "batch_plan_file": plan_file,
    }


def load_moving_params(scenario: Scenario) -> MovingParams:
    """Read data/moving/ (and a named batch plan) with the scenario's overrides; validate."""
    pfile = scenario.table("moving", "parameters")
    where = scenario.path if scenario.overrides.get("moving") else pfile
    v = scenario.values("moving", structured=("pause_windows",))
    _check_values(v, where)
    lottery = parse_date(v["lottery_date"], where, "lottery_date")
    start = parse_date(v["campaign_start"], where, "campaign_start")
    deadline = parse_date(v["registered_poor_deadline"], where, "registered_poor_deadline")
    pauses = _pauses(v["pause_windows"], where)
    _check_dates(lottery, start, deadline, pauses, v["max_campaign_days"], where)
    overridden = scenario.overrides.get("moving", {})
    return MovingParams(
        scenario=scenario.name,
        campaign_start=start,
        deadline=deadline,
        pauses=pauses,
        **{field: v[name] for name, field in AS_IS.items()},
        **_road_values(v, scenario.scale),
        **_tables(scenario, v),
        calibrated=tuple(
            p.name
            for p in scenario.parameters("moving").values()
            if p.source.lower().startswith("calibrated") and p.name not in overridden
        ),
    )
