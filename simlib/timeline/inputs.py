"""Inputs of the employment timeline, loaded from data/timeline/ and validated.

Two files: `parameters.csv` (settling days, batch interval, hold-back policy, the reporting
window, the export buses) and `programmes.csv` (when each programme opens, how fast it
ramps up and how long its training takes). Both are read through the hardened table reader
(`simlib.provenance.read_table`: UTF-8, a cell per column, types, provenance), and every
value is checked against its meaning (a day count is a whole number of days within ten
years, a date exists and lies within its recorded range, the two-month day lies within the
modelled window, the bus channel is an away employer). Everything is a frozen dataclass;
a variant is made with `scenario.with_overrides("timeline", ...)`, never by mutation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simlib.jobs_inputs import PROGRAMMES
from simlib.present.headlines import headline
from simlib.provenance import DataError, read_table
from simlib.scenario import Scenario

HOLDBACK_POLICIES = ("none", "proportional", "lookahead")
MAX_DAYS = 3650  # a day count beyond ten years is a typo, not a plan


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
    report_days_after_last_arrival: int  # days: the modelled window after the last arrival
    two_months_days: int  # days: "two months", within the modelled window
    reported_employed: int  # people (full scale; data/reported_figures.csv)
    export_buses: int  # buses, at the scenario's scale (0: no bus channel)
    export_workers_reported: int  # people (full scale; data/reported_figures.csv)
    export_bus_seats: int  # seats per bus
    export_first_departure: dt.date
    export_last_departure: dt.date
    export_departure_interval_days: int  # days
    export_bus_channel: str  # the away employer of data/jobs whose places the buses carry
    openings: tuple[Opening, ...]
    scale: float = 1.0  # the scenario's scale (reported figures are full scale)

    def opening(self, programme: str, employer: str) -> Opening:
        """The employer's own row if there is one, else its programme's."""
        rows = {o.unit: o for o in self.openings}
        return rows.get(employer) or rows[programme]


def _date(text: Any, file: Path | str, field: str) -> dt.date:
    """A date written YYYY-MM-DD that exists (2020-02-30 does not)."""
    text = str(text).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        shaped = re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None
        problem = "is not a date that exists" if shaped else "expected a date YYYY-MM-DD"
        raise DataError(file, field, text, problem) from None


def _check_counts(v: Mapping[str, Any], where: Path | str) -> None:
    # the counts' hard limits (and two_months_days <= report_days_after_last_arrival) are
    # the min/max columns of data/timeline/parameters.csv, checked on loading
    if v["holdback_policy"] not in HOLDBACK_POLICIES:
        raise DataError(
            where, "holdback_policy", v["holdback_policy"], f"must be one of {HOLDBACK_POLICIES}"
        )


def _dates(scenario: Scenario, v: Mapping[str, Any], where: Path | str) -> tuple[dt.date, ...]:
    """The first and last bus departures: dates that exist; in data/ within the low/high
    dates of their rows (a scenario's override may leave the range, as a what-if does)."""
    pfile = scenario.table("timeline", "parameters")
    rows = read_table(pfile, {"name": "str", "low": "str", "high": "str"}, key="name")
    rows = rows.set_index("name")
    out = []
    for name in ("export_first_departure", "export_last_departure"):
        overridden = name in scenario.overrides.get("timeline", {})
        date = _date(v[name], where if overridden else pfile, name)
        if not overridden and rows.loc[name, "provenance"] == "assumed":
            low = _date(rows.loc[name, "low"], pfile, f"{name}.low")
            high = _date(rows.loc[name, "high"], pfile, f"{name}.high")
            if not low <= date <= high:
                raise DataError(pfile, name, v[name], f"lies outside its range [{low}, {high}]")
        out.append(date)
    if out[1] < out[0]:
        raise DataError(where, "export_last_departure", str(out[1]), f"is before {out[0]}")
    return tuple(out)


def _channel(v: Mapping[str, Any], employers, where: Path | str) -> str:
    """The bus channel: an employer of data/jobs whose work is away."""
    channel = v["export_bus_channel"]
    if not employers:
        return channel
    found = {e.employer: e for e in employers}
    if channel not in found:
        raise DataError(where, "export_bus_channel", channel, "not an employer of data/jobs")
    if found[channel].location == "new_town":
        raise DataError(
            where,
            "export_bus_channel",
            channel,
            "is a local employer; the return-to-work buses carry an away (labour-export) one",
        )
    return channel


OPENING_COLUMNS = {
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
}


def _opening(row, file: Path, known: set[str]) -> Opening:
    """One row of programmes.csv, every value checked against its meaning."""
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
        if not 0 <= lo <= hi <= MAX_DAYS:
            raise DataError(file, name + where, (lo, hi), f"need 0 <= low <= high <= {MAX_DAYS}")
        if not lo <= value <= hi:
            raise DataError(file, name + where, value, f"outside its range [{lo}, {hi}]")
    return Opening(row.unit, date, row.initial_share, row.ramp_days, row.training_days)


def _openings(file: Path, known: set[str]) -> tuple[Opening, ...]:
    table = read_table(file, OPENING_COLUMNS, key="unit", shares=["initial_share"])
    if table.empty:
        raise DataError(file, "(rows)", 0, "has a header and no rows: every programme needs one")
    return tuple(_opening(row, file, known) for row in table.itertuples(index=False))


def _check_openings(openings, employers, file: Path) -> None:
    have = {o.unit for o in openings}
    for e in employers:
        if e.programme not in have and e.employer not in have:
            raise DataError(
                file,
                "unit",
                e.programme,
                f"no opening row for programme {e.programme} (employer {e.employer})",
            )


def load_timeline_params(scenario: Scenario, employers=()) -> TimelineParams:
    """Read data/timeline/ with the scenario's overrides and validate it.

    `employers` (from `load_jobs_params`) lets employer-specific rows and the bus channel
    be checked and every programme be required to have an opening row.
    """
    pfile = scenario.table("timeline", "parameters")
    where = scenario.path if scenario.overrides.get("timeline") else pfile
    v = scenario.values("timeline")
    _check_counts(v, where)
    first, last = _dates(scenario, v, where)
    channel = _channel(v, employers, where)
    ofile = scenario.table("timeline", "programmes")
    openings = _openings(ofile, set(PROGRAMMES) | {e.employer for e in employers})
    _check_openings(openings, employers, ofile)
    buses = v["export_buses"]
    return TimelineParams(
        settling_days=v["settling_days"],
        batch_interval_days=v["batch_interval_days"],
        holdback_policy=v["holdback_policy"],
        allow_reassignment=v["allow_reassignment"],
        report_days_after_last_arrival=v["report_days_after_last_arrival"],
        two_months_days=v["two_months_days"],
        reported_employed=int(headline("employed_two_months", scenario.data_dir).reported),
        # no buses means no bus channel; a smaller scale keeps at least one bus
        export_buses=0 if buses == 0 else max(1, round(buses * scenario.scale)),
        export_workers_reported=int(headline("export_workers_by_bus", scenario.data_dir).reported),
        export_bus_seats=v["export_bus_seats"],
        export_first_departure=first,
        export_last_departure=last,
        export_departure_interval_days=v["export_departure_interval_days"],
        export_bus_channel=channel,
        openings=openings,
        scale=scenario.scale,
    )
