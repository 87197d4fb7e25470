"""Inputs of the moving campaign, loaded once from data/moving/ and validated.

`load_moving_params` is the only place that reads data/moving (and a planner's batch plan
file named in the scenario). Everything is a frozen dataclass; times are minutes (of the
day, or of duration), dates are `datetime.date`. Counts of vehicles, cadres, doctors,
teams and households per day scale with the scenario (at least 1), so a small scenario is
limited by the same resources as the full one. Variants: `dataclasses.replace`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simlib.provenance import DataError, read_table
from simlib.scenario import Scenario

POLICIES = ("round_robin", "county_waves", "daily_quota")
SHIFT_RULES = ("carry_over", "overtime")
PHASES = ("before", "after", "followup")
DAY = 1440.0  # minutes
VEHICLES_LEAST = 2  # one truck and one coach: the least that moves a household

# scalar counts that must be positive
POSITIVE = (
    "county_rest_days",
    "convoy_day_households_max",
    "max_campaign_days",
    "households_per_truck",
    "bus_seats",
    "leased_vehicles_per_county_day",
    "route_vehicles_per_day",
    "convoy_vehicles_max",
    "cadres_per_county",
    "vehicles_per_cadre",
    "doctors_per_county",
    "vehicles_per_doctor",
)


@dataclass(frozen=True)
class Road:
    """The planned route from one county's townships to Maojiawan."""

    county: str
    distance_km: float  # km
    road_type: str
    travel_time: float  # minutes of driving, without delays


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
class PlannedDay:
    """One row of a planner's batch plan: a county's convoy day."""

    date: dt.date
    county: str
    households: int
    township: str = ""


@dataclass(frozen=True)
class MovingParams:
    """Every input of the moving model (see data/moving/parameters.csv for sources)."""

    scenario: str  # scenario name, for the summary
    campaign_start: dt.date
    deadline: dt.date  # registered-poor households all in by this date
    pauses: tuple[tuple[dt.date, dt.date], ...]  # inclusive date ranges with no moving
    batch_plan: tuple[PlannedDay, ...] | None  # a planner's plan, or None: generated
    batch_plan_file: str  # where the plan came from ("" when generated)
    policy: str  # plan generator: round_robin | county_waves | daily_quota
    registered_poor_first: bool
    rest_days: int  # days between two convoy days of one county
    day_households_max: int  # households per county convoy day (plan target)
    max_campaign_days: int  # days
    households_per_truck: int
    bus_seats: int  # people per coach
    leased_vehicles: int  # vehicles a county can lease for one convoy day
    route_vehicles: int  # vehicles the police can direct along one route in one day
    convoy_vehicles_max: int  # vehicles in one convoy
    convoy_headway: float  # minutes between two convoys of a county
    cadres: int  # per county and convoy day
    vehicles_per_cadre: int
    doctors: int  # per county and convoy day
    vehicles_per_doctor: int
    gather_start: float  # minute of day
    dark: float  # minute of day
    loading_mean: float  # minutes per household
    loading_cv: float
    travel_delay_sigma: float  # lognormal sigma of the travel-time factor
    breakdown_probability: float  # per convoy
    breakdown_delay_mean: float  # minutes
    flats_ready_days_before: int  # days before the convoy day that steps 1-3 start
    work_start: float  # minute of day
    work_end: float  # minute of day
    shift_end_rule: str  # carry_over | overtime
    followup_days_target: int  # days
    binding_load_share: float  # share of capacity at which a resource binds a day
    roads: dict[str, Road]
    steps: tuple[StepSpec, ...]
    resources: dict[str, int]  # step resource -> units (scaled)
    calibrated: tuple[str, ...] = ()  # parameters set to reproduce a reported figure

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

    def day_limits(self) -> dict[str, int]:
        """Vehicles one county can send on one convoy day, by resource."""
        return {
            "route": self.route_vehicles,
            "fleet": self.leased_vehicles,
            "cadres": self.cadres * self.vehicles_per_cadre,
            "doctors": self.doctors * self.vehicles_per_doctor,
        }


def scaled(count: int, scale: float, least: int = 1) -> int:
    """A count at the scenario's scale, never below `least`."""
    return max(least, round(count * scale))


def _date(text: Any, file: Path | str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise DataError(file, field, text, "expected a date YYYY-MM-DD") from None


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
        start = _date(pair[0], file, "pause_windows")
        end = _date(pair[1], file, "pause_windows")
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
    day = start
    while day <= end:
        if not any(a <= day <= b for a, b in pauses):
            return
        day += dt.timedelta(days=1)
    raise DataError(
        file,
        "pause_windows",
        [(a.isoformat(), b.isoformat()) for a, b in pauses],
        f"pauses cover the whole campaign ({horizon} days from {start}); no day is left to move",
    )


def read_batch_plan(path: Path, counties: set[str]) -> tuple[PlannedDay, ...]:
    """A planner's plan file (CSV: date, county, households[, township]); format checks only.

    Dates against the calendar and totals against the population are checked in
    `simlib.moving.plan.check_plan`, where the population is known.
    """
    table = read_table(
        path, {"date": "str", "county": "str", "households": "int"}, provenance=False
    )
    if table.empty:
        raise DataError(path, "(rows)", 0, "the batch plan has no convoy days")
    rows = []
    for i, row in enumerate(table.itertuples(index=False)):
        where = f"row {i + 2}"
        date = _date(row.date, path, f"date[{where}]")
        if row.county not in counties:
            raise DataError(
                path, f"county[{where}]", row.county, f"unknown county; known: {sorted(counties)}"
            )
        if row.households <= 0:
            raise DataError(path, f"households[{where}]", row.households, "must be > 0")
        township = str(getattr(row, "township", "") or "")
        rows.append(PlannedDay(date, row.county, int(row.households), township))
    return tuple(rows)


def _roads(scenario: Scenario, counties: set[str]) -> dict[str, Road]:
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
    return roads


def _steps_and_resources(scenario: Scenario) -> tuple[tuple[StepSpec, ...], dict[str, int]]:
    res_file = scenario.table("moving", "resources")
    res = read_table(res_file, {"resource": "str", "count": "int"}, key="resource")
    resources = {}
    for row in res.itertuples(index=False):
        if row.count <= 0:
            raise DataError(res_file, f"count[{row.resource}]", row.count, "must be > 0")
        resources[row.resource] = scaled(row.count, scenario.scale)

    steps_file = scenario.table("moving", "steps")
    columns = {
        "order": "int",
        "step": "str",
        "phase": "str",
        "resource": "str",
        "service_mean": "float",
        "service_cv": "float",
    }
    st = read_table(steps_file, columns, key="step")
    steps = []
    for row in st.sort_values("order").itertuples(index=False):
        if row.phase not in PHASES:
            raise DataError(steps_file, f"phase[{row.step}]", row.phase, f"must be one of {PHASES}")
        if row.resource not in resources:
            raise DataError(
                steps_file, f"resource[{row.step}]", row.resource, "not in resources.csv"
            )
        if row.service_mean <= 0:
            raise DataError(
                steps_file, f"service_mean[{row.step}]", row.service_mean, "must be > 0"
            )
        steps.append(
            StepSpec(row.order, row.step, row.phase, row.resource, row.service_mean, row.service_cv)
        )
    phases = [s.phase for s in steps]
    if phases.count("followup") != 1 or phases[-1] != "followup":
        raise DataError(steps_file, "phase", phases, "exactly one followup step, the last one")
    if "after" not in phases:
        raise DataError(steps_file, "phase", phases, "at least one step after arrival")
    return tuple(steps), resources


def load_moving_params(scenario: Scenario) -> MovingParams:
    """Read data/moving/ (and a named batch plan) with the scenario's overrides; validate."""
    pfile = scenario.table("moving", "parameters")
    where = scenario.path if scenario.overrides.get("moving") else pfile
    v = scenario.values("moving", structured=("pause_windows",))
    counties_file = scenario.table("population", "counties")
    counties = set(read_table(counties_file, {"county": "str"}, key="county")["county"])
    roads = _roads(scenario, counties)
    steps, resources = _steps_and_resources(scenario)

    for name in POSITIVE:
        if v[name] <= 0:
            raise DataError(where, name, v[name], "must be > 0")
    if v["scheduling_policy"] not in POLICIES:
        raise DataError(
            where, "scheduling_policy", v["scheduling_policy"], f"must be one of {POLICIES}"
        )
    if v["shift_end_rule"] not in SHIFT_RULES:
        raise DataError(
            where, "shift_end_rule", v["shift_end_rule"], f"must be one of {SHIFT_RULES}"
        )
    if not v["gather_start"] < v["dark"] <= DAY:
        raise DataError(where, "dark", v["dark"], "must be after gather_start and within the day")
    if not v["work_start"] < v["work_end"] <= DAY:
        raise DataError(where, "work_end", v["work_end"], "must be after work_start within the day")
    if v["bus_seats"] < 12:
        raise DataError(where, "bus_seats", v["bus_seats"], "a coach must seat a large household")

    lottery = _date(v["lottery_date"], where, "lottery_date")
    start = _date(v["campaign_start"], where, "campaign_start")
    deadline = _date(v["registered_poor_deadline"], where, "registered_poor_deadline")
    pauses = _pauses(v["pause_windows"], where)
    _check_dates(lottery, start, deadline, pauses, v["max_campaign_days"], where)

    plan, plan_file = None, ""
    if str(v["batch_plan"]).strip():
        path = Path(str(v["batch_plan"]).strip())
        path = path if path.is_absolute() else scenario.path.parent / path
        plan, plan_file = read_batch_plan(path, counties), str(path)

    s = scenario.scale
    return MovingParams(
        scenario=scenario.name,
        campaign_start=start,
        deadline=deadline,
        pauses=pauses,
        batch_plan=plan,
        batch_plan_file=plan_file,
        policy=v["scheduling_policy"],
        registered_poor_first=v["registered_poor_first"],
        rest_days=v["county_rest_days"],
        day_households_max=scaled(v["convoy_day_households_max"], s),
        max_campaign_days=v["max_campaign_days"],
        households_per_truck=v["households_per_truck"],
        bus_seats=v["bus_seats"],
        leased_vehicles=scaled(v["leased_vehicles_per_county_day"], s, VEHICLES_LEAST),
        route_vehicles=scaled(v["route_vehicles_per_day"], s, VEHICLES_LEAST),
        convoy_vehicles_max=v["convoy_vehicles_max"],  # a convoy is a convoy at any scale
        convoy_headway=v["convoy_headway"],
        cadres=scaled(v["cadres_per_county"], s),
        vehicles_per_cadre=v["vehicles_per_cadre"],
        doctors=scaled(v["doctors_per_county"], s),
        vehicles_per_doctor=v["vehicles_per_doctor"],
        gather_start=v["gather_start"],
        dark=v["dark"],
        loading_mean=v["loading_mean"],
        loading_cv=v["loading_cv"],
        travel_delay_sigma=v["travel_delay_sigma"],
        breakdown_probability=v["breakdown_probability"],
        breakdown_delay_mean=v["breakdown_delay_mean"],
        flats_ready_days_before=v["flats_ready_days_before"],
        work_start=v["work_start"],
        work_end=v["work_end"],
        shift_end_rule=v["shift_end_rule"],
        followup_days_target=v["followup_days_target"],
        binding_load_share=v["binding_load_share"],
        roads=roads,
        steps=steps,
        resources=resources,
        calibrated=tuple(
            p.name
            for p in scenario.parameters("moving").values()
            if p.source.lower().startswith("calibrated")
            and p.name not in scenario.overrides.get("moving", {})
        ),
    )
