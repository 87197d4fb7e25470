"""Inputs of the employment timeline, loaded from data/timeline/ and validated.

Two files: `parameters.csv` (settling days, batch interval, hold-back policy, the export
buses) and `programmes.csv` (when each programme opens, how fast it ramps up and how long
its training takes). Everything is a frozen dataclass; a variant is made with
`scenario.with_overrides("timeline", ...)`, never by mutation.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from simlib.jobs_inputs import PROGRAMMES
from simlib.provenance import DataError, read_table
from simlib.scenario import Scenario

HOLDBACK_POLICIES = ("none", "proportional", "lookahead")


@dataclass(frozen=True)
class Opening:
    """When one programme (or one employer) hires, and how its places open over time."""

    unit: str  # a programme or an employer of data/jobs/programmes.csv
    open_date: dt.date  # first day of hiring
    initial_share: float  # share of the capacity open on open_date
    ramp_days: int  # days from open_date to full capacity (linear)
    training_days: int  # days between a match and the first day of work


@dataclass(frozen=True)
class TimelineParams:
    """Scalars of the timeline; units in the comments."""

    settling_days: int  # days from moving in to registering for work
    batch_interval_days: int  # days between two matching batches
    holdback_policy: str  # none | proportional | lookahead
    allow_reassignment: bool
    report_days_after_last_arrival: int  # days
    two_months_days: int  # days after the last arrival
    reported_employed: int  # people (full scale)
    export_buses: int  # buses, at the scenario's scale
    export_workers_reported: int  # people (full scale)
    export_bus_seats: int  # seats per bus
    export_first_departure: dt.date
    export_last_departure: dt.date
    export_departure_interval_days: int  # days
    export_bus_channel: str  # the employer of data/jobs whose places the buses carry
    openings: tuple[Opening, ...]
    scale: float = 1.0  # the scenario's scale (reported figures are full scale)

    def opening(self, programme: str, employer: str) -> Opening:
        """The employer's own row if there is one, else its programme's."""
        rows = {o.unit: o for o in self.openings}
        return rows.get(employer) or rows[programme]


def _date(text: str, file: Path | str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise DataError(file, field, text, "expected a date YYYY-MM-DD") from None


def _dated(value: str, name: str, where: Path | str, file: Path) -> dt.date:
    """A date parameter; in data/ it must lie within the low/high dates of its row (a
    scenario's override may leave the range, as a what-if does)."""
    with file.open(newline="", encoding="utf-8") as handle:
        rows = {
            row["name"].strip(): row
            for row in csv.DictReader(line for line in handle if not line.startswith("#"))
        }
    date = _date(value, where, name)
    if rows[name]["provenance"].strip() == "assumed" and where == file:
        low = _date(rows[name]["low"], file, f"{name}.low")
        high = _date(rows[name]["high"], file, f"{name}.high")
        if not low <= date <= high:
            raise DataError(file, name, value, f"lies outside its range [{low}, {high}]")
    return date


def _openings(file: Path, known: set[str]) -> tuple[Opening, ...]:
    table = read_table(
        file,
        {
            "unit": "str",
            "open_date": "str",
            "open_date_low": "str",
            "open_date_high": "str",
            "initial_share": "float",
            "ramp_days": "int",
            "ramp_low": "int",
            "ramp_high": "int",
            "training_days": "int",
            "training_low": "int",
            "training_high": "int",
        },
        key="unit",
        shares=["initial_share"],
    )
    rows = []
    for row in table.itertuples(index=False):
        where = f"[{row.unit}]"
        if row.unit not in known:
            raise DataError(file, "unit", row.unit, "not a programme or employer of data/jobs")
        date = _date(row.open_date, file, "open_date" + where)
        low = _date(row.open_date_low, file, "open_date_low" + where)
        high = _date(row.open_date_high, file, "open_date_high" + where)
        if not low <= date <= high:
            raise DataError(file, "open_date" + where, row.open_date, f"outside [{low}, {high}]")
        for name, lo, hi in (
            ("ramp_days", row.ramp_low, row.ramp_high),
            ("training_days", row.training_low, row.training_high),
        ):
            value = getattr(row, name)
            if not lo <= value <= hi:
                raise DataError(file, name + where, value, f"outside its range [{lo}, {hi}]")
        rows.append(Opening(row.unit, date, row.initial_share, row.ramp_days, row.training_days))
    return tuple(rows)


def load_timeline_params(scenario: Scenario, employers=()) -> TimelineParams:
    """Read data/timeline/ with the scenario's overrides and validate it.

    `employers` (from `load_jobs_params`) lets employer-specific rows be checked and
    every programme be required to have an opening row.
    """
    pfile = scenario.table("timeline", "parameters")
    where = scenario.path if scenario.overrides.get("timeline") else pfile
    v = scenario.values("timeline")
    if v["holdback_policy"] not in HOLDBACK_POLICIES:
        raise DataError(
            where, "holdback_policy", v["holdback_policy"], f"must be one of {HOLDBACK_POLICIES}"
        )
    for name in ("batch_interval_days", "export_departure_interval_days", "export_bus_seats"):
        if v[name] < 1:
            raise DataError(where, name, v[name], "must be >= 1")
    first = _dated(v["export_first_departure"], "export_first_departure", where, pfile)
    last = _dated(v["export_last_departure"], "export_last_departure", where, pfile)
    if last < first:
        raise DataError(where, "export_last_departure", str(last), f"is before {first}")
    names = {e.employer for e in employers}
    if employers and v["export_bus_channel"] not in names:
        raise DataError(
            where, "export_bus_channel", v["export_bus_channel"], "not an employer of data/jobs"
        )
    known = set(PROGRAMMES) | names
    openings = _openings(scenario.table("timeline", "programmes"), known)
    have = {o.unit for o in openings}
    for e in employers:
        if e.programme not in have and e.employer not in have:
            raise DataError(
                scenario.table("timeline", "programmes"),
                "unit",
                e.programme,
                f"no opening row for programme {e.programme} (employer {e.employer})",
            )
    return TimelineParams(
        settling_days=v["settling_days"],
        batch_interval_days=v["batch_interval_days"],
        holdback_policy=v["holdback_policy"],
        allow_reassignment=v["allow_reassignment"],
        report_days_after_last_arrival=v["report_days_after_last_arrival"],
        two_months_days=v["two_months_days"],
        reported_employed=v["reported_employed"],
        export_buses=max(1, round(v["export_buses"] * scenario.scale)),
        export_workers_reported=v["export_workers_reported"],
        export_bus_seats=v["export_bus_seats"],
        export_first_departure=first,
        export_last_departure=last,
        export_departure_interval_days=v["export_departure_interval_days"],
        export_bus_channel=v["export_bus_channel"],
        openings=openings,
        scale=scenario.scale,
    )
