"""Readers of the moving tables in data/moving/ and of a planner's batch plan file.

Each reader goes through the project's hardened table reader (`simlib.provenance`:
UTF-8, finite numbers, integers up to 2^53, provenance on every data row) and then checks
what the table means: roads whose segments add up, weather with a row for every county and
month, teams that name counts of parameters.csv, steps in a sensible order, plan rows with
dates that exist. Every error names the file, the field and the value.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simlib.provenance import LARGEST_INT, DataError, read_table, read_text

PHASES = ("before", "after", "followup")
SEGMENTS = ("township", "county_road", "expressway")
MAX_PLAN_BYTES = 1_000_000  # a full campaign plan is a few tens of kB
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Segment:
    """One stretch of a route: its kind, length (km) and mean driving time (minutes)."""

    kind: str
    km: float
    minutes: float


@dataclass(frozen=True)
class Road:
    """The planned route from one county's townships to Maojiawan, in segments."""

    county: str
    distance_km: float
    road_type: str
    segments: tuple[Segment, ...]

    @property
    def travel_time(self) -> float:
        """Mean driving time (minutes), without stops."""
        return sum(s.minutes for s in self.segments)


@dataclass(frozen=True)
class Weather:
    """Chance that a county's convoy day in one month is called off or held, and the mean
    hold (minutes)."""

    cancel: float
    delay: float
    delay_mean: float


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


def parse_date(text: Any, file: Path | str, field: str) -> dt.date:
    """A YYYY-MM-DD date; a well-formed date that does not exist (2020-02-30) says so."""
    raw = str(text).strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        if ISO_DATE.fullmatch(raw):
            raise DataError(file, field, text, "is not a date that exists") from None
        raise DataError(file, field, text, "expected a date YYYY-MM-DD") from None


def parse_count(text: Any, file: Path | str, field: str) -> int:
    """A count of households: a whole number above 0 and at most 2^53, read exactly (a
    float would round 2^53 + 1 down to 2^53)."""
    raw = str(text).strip()
    if not re.fullmatch(r"[+-]?\d+", raw):
        raise DataError(file, field, text, "expected a whole number of households")
    value = int(raw)
    if value > LARGEST_INT:
        raise DataError(file, field, text, f"is too large (more than {LARGEST_INT:,})")
    if value <= 0:
        raise DataError(file, field, text, "must be > 0")
    return value


def read_roads(path: Path, counties: set[str], speeds: dict[str, float]) -> dict[str, Road]:
    """roads.csv: one row per county, its segments' lengths; driving times from `speeds`."""
    columns = {"county": "str", "distance_km": "float", "road_type": "str"}
    columns.update({f"{s}_km": "float" for s in SEGMENTS})
    table = read_table(path, columns, key="county")
    roads = {}
    for row in table.itertuples(index=False):
        if row.county not in counties:
            raise DataError(
                path, "county", row.county, f"unknown county; known: {sorted(counties)}"
            )
        kms = {s: float(getattr(row, f"{s}_km")) for s in SEGMENTS}
        total = sum(kms.values())
        if abs(total - row.distance_km) > 0.5 or row.distance_km <= 0 or total <= 0:
            raise DataError(
                path,
                f"distance_km[{row.county}]",
                row.distance_km,
                f"must be > 0 and equal the sum of its segments ({total:g} km)",
            )
        segments = tuple(Segment(s, km, 60.0 * km / speeds[s]) for s, km in kms.items() if km > 0)
        roads[row.county] = Road(row.county, row.distance_km, row.road_type, segments)
    missing = sorted(counties - set(roads))
    if missing:
        raise DataError(path, "county", missing, "sending counties without a road")
    return roads


def read_weather(path: Path, counties: set[str]) -> dict[tuple[str, int], Weather]:
    """weather.csv: a row for every county and month, probabilities within their ranges."""
    columns = {"county": "str", "month": "int", "delay_mean_minutes": "float"}
    shares = ("cancel_probability", "cancel_low", "cancel_high")
    shares += ("delay_probability", "delay_low", "delay_high")
    columns.update(dict.fromkeys(shares, "float"))
    table = read_table(path, columns, shares=shares)
    weather = {}
    for i, row in enumerate(table.itertuples(index=False)):
        where = f"{row.county}, month {row.month}"
        if row.county not in counties:
            raise DataError(path, f"county[row {i + 2}]", row.county, "unknown county")
        if not 1 <= row.month <= 12 or (row.county, row.month) in weather:
            raise DataError(path, f"month[{where}]", row.month, "a month 1-12, once per county")
        for kind in ("cancel", "delay"):
            value = getattr(row, f"{kind}_probability")
            low, high = getattr(row, f"{kind}_low"), getattr(row, f"{kind}_high")
            if not low <= value <= high:
                raise DataError(
                    path, f"{kind}_probability[{where}]", value, f"outside [{low}, {high}]"
                )
        if row.cancel_probability + row.delay_probability > 1:
            raise DataError(path, f"delay_probability[{where}]", row.delay_probability, "with cancel_probability above 1")  # fmt: skip
        weather[(row.county, row.month)] = Weather(
            row.cancel_probability, row.delay_probability, row.delay_mean_minutes
        )
    missing = [f"{c} {m}" for c in sorted(counties) for m in range(1, 13) if (c, m) not in weather]
    if missing:
        raise DataError(path, "month", missing[:5], "every county needs a row for every month")
    return weather


def read_teams(path: Path, counts: dict[str, Any], scale: float) -> dict[str, int]:
    """resources.csv: each team's capacity = its count x desks (from parameters.csv),
    scaled with the scenario (at least 1)."""
    table = read_table(path, {"resource": "str", "team": "str", "desks": "str"}, key="resource")
    teams = {}
    for row in table.itertuples(index=False):
        for column in ("team", "desks"):
            name = getattr(row, column)
            if (name or column == "team") and not isinstance(counts.get(name), int):
                raise DataError(
                    path, f"{column}[{row.resource}]", name, "must name a count in parameters.csv"
                )
        capacity = counts[row.team] * (counts[row.desks] if row.desks else 1)
        if capacity <= 0:
            raise DataError(path, f"team[{row.resource}]", capacity, "a team needs at least one")
        teams[row.resource] = max(1, round(capacity * scale))
    return teams


def read_steps(path: Path, teams: dict[str, int]) -> tuple[StepSpec, ...]:
    """steps.csv: the eight steps in order; before steps, after steps, one follow-up last."""
    columns = {"order": "int", "step": "str", "phase": "str", "resource": "str"}
    columns.update({"service_mean": "float", "service_cv": "float"})
    table = read_table(path, columns, key="step")
    steps = []
    for row in table.sort_values("order").itertuples(index=False):
        if row.phase not in PHASES:
            raise DataError(path, f"phase[{row.step}]", row.phase, f"must be one of {PHASES}")
        if row.resource not in teams:
            raise DataError(path, f"resource[{row.step}]", row.resource, "not in resources.csv")
        if row.service_mean <= 0:
            raise DataError(path, f"service_mean[{row.step}]", row.service_mean, "must be > 0")
        steps.append(
            StepSpec(row.order, row.step, row.phase, row.resource, row.service_mean, row.service_cv)
        )
    phases = [s.phase for s in steps]
    if phases.count("followup") != 1 or phases[-1] != "followup":
        raise DataError(path, "phase", phases, "exactly one followup step, the last one")
    if "after" not in phases or phases != sorted(phases, key=PHASES.index):
        raise DataError(path, "phase", phases, "before steps, then after steps, then followup")
    return tuple(steps)


def read_batch_plan(path: Path, counties: set[str]) -> tuple[PlannedDay, ...]:
    """A planner's plan file (CSV: date, county, households[, township]), read through the
    hardened reader (size, encoding, integers); dates against the calendar and totals
    against the population are checked in `simlib.moving.plan.check_plan`."""
    text = read_text(path, limit=MAX_PLAN_BYTES)  # size and encoding, before anything is parsed
    lines = text.splitlines()
    # the first data row's line, after leading comments (as `BatchPlan.to_csv` writes) and header
    first = next((i for i, line in enumerate(lines) if not line.startswith("#")), 0) + 2
    columns = {"date": "str", "county": "str", "households": "str"}  # counts parsed exactly
    table = read_table(path, columns, provenance=False)
    if table.empty:
        raise DataError(path, "(rows)", 0, "the batch plan has no convoy days")
    rows = []
    for i, row in enumerate(table.itertuples(index=False)):
        where = f"line {i + first}"
        date = parse_date(row.date, path, f"date[{where}]")
        if row.county not in counties:
            raise DataError(
                path, f"county[{where}]", row.county, f"unknown county; known: {sorted(counties)}"
            )
        households = parse_count(row.households, path, f"households[{where}]")
        township = str(getattr(row, "township", "") or "")
        rows.append(PlannedDay(date, row.county, households, township))
    return tuple(rows)
