"""Inputs of the moving campaign, loaded from data/moving/ and validated.

Everything is a frozen dataclass; times are minutes (of the day, or of duration), dates are
`datetime.date`. Counts of resources are scaled with the scenario's scale (at least 1).
A variant is made with `scenario.with_overrides("moving", ...)`, never by mutation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simlib.provenance import DataError, read_table
from simlib.scenario import Scenario

POLICIES = ("round_robin", "county_waves", "daily_quota")
PHASES = ("before", "after", "followup")
DAY = 1440.0  # minutes


@dataclass(frozen=True)
class Road:
    county: str
    distance_km: float  # km
    road_type: str
    travel_time: float  # minutes, without delays


@dataclass(frozen=True)
class StepSpec:
    """One of the eight steps: who serves it and how long it takes (gamma, mean and cv)."""

    order: int
    step: str
    phase: str  # before | after | followup
    resource: str
    service_mean: float  # minutes per household
    service_cv: float  # coefficient of variation; 0 = fixed, 1 = exponential


@dataclass(frozen=True)
class MovingParams:
    campaign_start: dt.date
    deadline: dt.date  # registered-poor households all in by this date
    pauses: tuple[tuple[dt.date, dt.date], ...]  # inclusive date ranges with no moving
    policy: str
    registered_poor_first: bool
    daily_quota: int  # households/day received at the new town
    county_batch_max: int  # households/day sent by one county
    max_campaign_days: int  # days
    trucks: int  # per county
    truck_households: int  # households per truck
    buses: int  # per county
    bus_seats: int  # people per bus
    convoy_trucks: int  # trucks per convoy
    police_escorts: int  # per county
    medical_escorts: int  # per county
    gather_start: float  # minute of day
    dark: float  # minute of day
    hold_late_convoys: bool
    loading_mean: float  # minutes per household
    loading_cv: float
    travel_delay_sigma: float  # lognormal sigma of the travel-time factor
    breakdown_probability: float  # per convoy
    breakdown_delay_mean: float  # minutes
    unload_turnaround: float  # minutes
    work_start: float  # minute of day
    work_end: float  # minute of day
    followup_cadres: int
    visits_per_cadre_day: int
    followup_days_target: int  # days
    roads: dict[str, Road]
    steps: tuple[StepSpec, ...]
    resources: dict[str, int]  # step resource -> units (scaled)

    def max_trips_per_day(self, county: str) -> int:
        """Round trips one truck can make in a day of daylight (at least one)."""
        road = self.roads[county]
        window = self.dark - self.gather_start
        cycle = self.loading_mean * self.truck_households + 2 * road.travel_time
        cycle += self.unload_turnaround
        return max(1, int(window // cycle))


def scaled(count: int, scale: float) -> int:
    """A count of resources at the scenario's scale, never below one."""
    return max(1, round(count * scale))


def _date(text: Any, file: Path | str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise DataError(file, field, text, "expected a date YYYY-MM-DD") from None


def _pauses(raw: Any, file: Path | str) -> tuple[tuple[dt.date, dt.date], ...]:
    """`start/end;start/end` text, or a list of [start, end] pairs from a scenario file."""
    if raw is None or raw == "":
        return ()
    if isinstance(raw, str):
        pairs = [p.split("/") for p in raw.split(";") if p.strip()]
    else:
        pairs = [list(p) if not isinstance(p, str) else p.split("/") for p in raw]
    result = []
    for pair in pairs:
        if len(pair) != 2:
            raise DataError(file, "pause_windows", pair, "each pause is a [start, end] pair")
        start = _date(pair[0], file, "pause_windows")
        end = _date(pair[1], file, "pause_windows")
        if end < start:
            raise DataError(file, "pause_windows", pair, "a pause must not end before it starts")
        result.append((start, end))
    return tuple(result)


def load_moving_params(scenario: Scenario) -> MovingParams:
    """Read data/moving/ with the scenario's overrides, scale the counts, validate."""
    pfile = scenario.table("moving", "parameters")
    where = scenario.path if scenario.overrides.get("moving") else pfile
    v = scenario.values("moving", structured=("pause_windows",))
    counties_file = scenario.table("population", "counties")
    counties = set(read_table(counties_file, {"county": "str"}, key="county")["county"])

    roads_file = scenario.table("moving", "roads")
    table = read_table(
        roads_file,
        {"county": "str", "distance_km": "float", "road_type": "str", "travel_time_min": "float"},
        key="county",
    )
    roads = {}
    for row in table.itertuples(index=False):
        if row.county not in counties:
            raise DataError(
                roads_file, "county", row.county, f"unknown county; known: {sorted(counties)}"
            )
        if row.travel_time_min <= 0:
            raise DataError(
                roads_file, f"travel_time_min[{row.county}]", row.travel_time_min, "must be > 0"
            )
        roads[row.county] = Road(row.county, row.distance_km, row.road_type, row.travel_time_min)
    missing = sorted(counties - set(roads))
    if missing:
        raise DataError(roads_file, "county", missing, "sending counties without a road")

    res_file = scenario.table("moving", "resources")
    res = read_table(res_file, {"resource": "str", "count": "int"}, key="resource")
    resources = {}
    for row in res.itertuples(index=False):
        if row.count <= 0:
            raise DataError(res_file, f"count[{row.resource}]", row.count, "must be > 0")
        resources[row.resource] = scaled(row.count, scenario.scale)

    steps_file = scenario.table("moving", "steps")
    st = read_table(
        steps_file,
        {
            "order": "int",
            "step": "str",
            "phase": "str",
            "resource": "str",
            "service_mean": "float",
            "service_cv": "float",
        },
        key="step",
    )
    steps = []
    for row in st.sort_values("order").itertuples(index=False):
        if row.phase not in PHASES:
            raise DataError(steps_file, f"phase[{row.step}]", row.phase, f"must be one of {PHASES}")
        if row.phase != "followup" and row.resource not in resources:
            raise DataError(
                steps_file, f"resource[{row.step}]", row.resource, "not in resources.csv"
            )
        steps.append(
            StepSpec(row.order, row.step, row.phase, row.resource, row.service_mean, row.service_cv)
        )
    phases = [s.phase for s in steps]
    if phases.count("followup") != 1 or phases[-1] != "followup":
        raise DataError(steps_file, "phase", phases, "exactly one followup step, the last one")

    for name in (
        "daily_reception_quota",
        "county_batch_max",
        "trucks_per_county",
        "truck_households",
        "buses_per_county",
        "bus_seats",
        "convoy_trucks",
        "police_escorts_per_county",
        "medical_escorts_per_county",
        "max_campaign_days",
        "followup_cadres",
        "visits_per_cadre_day",
    ):
        if v[name] <= 0:
            raise DataError(where, name, v[name], "must be > 0")
    if v["scheduling_policy"] not in POLICIES:
        raise DataError(
            where, "scheduling_policy", v["scheduling_policy"], f"must be one of {POLICIES}"
        )
    if not v["gather_start"] < v["dark"] <= DAY:
        raise DataError(where, "dark", v["dark"], "must be after gather_start and within the day")
    if not v["work_start"] < v["work_end"] <= DAY:
        raise DataError(where, "work_end", v["work_end"], "must be after work_start within the day")

    s = scenario.scale
    params = MovingParams(
        campaign_start=_date(v["campaign_start"], where, "campaign_start"),
        deadline=_date(v["registered_poor_deadline"], where, "registered_poor_deadline"),
        pauses=_pauses(v["pause_windows"], where),
        policy=v["scheduling_policy"],
        registered_poor_first=v["registered_poor_first"],
        daily_quota=scaled(v["daily_reception_quota"], s),
        county_batch_max=scaled(v["county_batch_max"], s),
        max_campaign_days=v["max_campaign_days"],
        trucks=scaled(v["trucks_per_county"], s),
        truck_households=v["truck_households"],
        buses=scaled(v["buses_per_county"], s),
        bus_seats=v["bus_seats"],
        convoy_trucks=v["convoy_trucks"],
        police_escorts=v["police_escorts_per_county"],
        medical_escorts=v["medical_escorts_per_county"],
        gather_start=v["gather_start"],
        dark=v["dark"],
        hold_late_convoys=v["hold_late_convoys"],
        loading_mean=v["loading_mean"],
        loading_cv=v["loading_cv"],
        travel_delay_sigma=v["travel_delay_sigma"],
        breakdown_probability=v["breakdown_probability"],
        breakdown_delay_mean=v["breakdown_delay_mean"],
        unload_turnaround=v["unload_turnaround"],
        work_start=v["work_start"],
        work_end=v["work_end"],
        followup_cadres=scaled(v["followup_cadres"], s),
        visits_per_cadre_day=v["visits_per_cadre_day"],
        followup_days_target=v["followup_days_target"],
        roads=roads,
        steps=tuple(steps),
        resources=resources,
    )
    _check_feasible(params, where)
    return params


def _check_feasible(p: MovingParams, file: Path | str) -> None:
    """Plans that can never work fail here, with the reason, instead of running forever."""
    horizon_end = p.campaign_start + dt.timedelta(days=p.max_campaign_days - 1)
    day = p.campaign_start
    covered = True
    while day <= horizon_end:
        if not any(a <= day <= b for a, b in p.pauses):
            covered = False
            break
        day += dt.timedelta(days=1)
    if covered:
        raise DataError(
            file,
            "pause_windows",
            [(a.isoformat(), b.isoformat()) for a, b in p.pauses],
            f"pauses cover the whole campaign ({p.max_campaign_days} days from "
            f"{p.campaign_start}); no day is left to move",
        )
    for county in p.roads:
        most = p.trucks * p.truck_households * p.max_trips_per_day(county)
        if p.county_batch_max > most:
            raise DataError(
                file,
                "county_batch_max",
                p.county_batch_max,
                f"{county}'s fleet ({p.trucks} trucks x {p.truck_households} households x "
                f"{p.max_trips_per_day(county)} trips in daylight) can carry at most "
                f"{most} households a day",
            )
    if p.buses * p.bus_seats < 12:
        raise DataError(
            file,
            "buses_per_county",
            p.buses,
            f"{p.buses} buses x {p.bus_seats} seats cannot carry one large household",
        )
