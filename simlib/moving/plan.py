"""The batch plan: which county moves how many households on which day.

A plan is data: one row per county convoy day (date, county, households), either a
planner's own file named in the scenario or generated from targets. Every plan, generated
or read, passes the same `check_plan` (dates inside the campaign and outside every pause,
one row per county and date, each county's total equal to its households), so a plan
written by `simlib plan --out` is accepted when it is read back, and the other way round.
Within a county, households are called in queue order: registered-poor first (if so
assumed), then by registration order.

The generator sizes each convoy day as the largest that keeps its plan at mean times with
`plan_slack` minutes to spare (`simlib.moving.timing`), so the plan fits the resources by
the same rules the simulation follows; `even_days` is a planner's rule of thumb that does
not look at the resources at all.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from simlib.files import write_atomic
from simlib.moving.inputs import MovingParams
from simlib.provenance import DataError

PLAN_COLUMNS = ("date", "day", "county", "households")


def moving_days(params: MovingParams) -> list[int]:
    """Day indices (0 = campaign_start) within the horizon that are not paused."""
    return [d for d in range(params.max_campaign_days) if not params.paused(d)]


def county_queues(households: pd.DataFrame, params: MovingParams) -> dict[str, np.ndarray]:
    """Row positions of each county's households in the order they are called."""
    hh = households.reset_index(drop=True)
    keys = [hh["registration_order"].to_numpy()]
    if params.registered_poor_first:
        keys.append(~hh["registered_poor"].to_numpy(dtype=bool))
    order = np.lexsort(keys)
    county = hh["county"].to_numpy()[order]
    return {c: order[county == c] for c in params.roads if (county == c).any()}


@dataclass(frozen=True)
class BatchPlan:
    """One row per county convoy day: date, day (0 = campaign_start), county, households."""

    rows: pd.DataFrame
    source: str  # the plan file, or "generated: <policy>", or "optimised: <objective>"

    def frame(self) -> pd.DataFrame:
        return self.rows.copy()

    def to_csv(self, path: str | Path) -> None:
        """Write the plan in the format a scenario's `batch_plan` reads back (atomically)."""
        header = (
            f"# Batch plan ({self.source}): one row per county convoy day. Edit and name it in "
            "a scenario (moving: {batch_plan: FILE}) to run it; county totals must equal the "
            "county's households.\n"
        )
        body = self.rows[["date", "county", "households"]].to_csv(index=False, lineterminator="\n")
        write_atomic(Path(path), header + body)


def plan_frame(rows: list[tuple[int, str, int]], params: MovingParams) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["day", "county", "households"])
    table["households"] = table["households"].astype(np.int64)
    table.insert(0, "date", [params.date(d).isoformat() for d in table["day"]])
    return table.sort_values(["day", "county"], kind="stable").reset_index(drop=True)


def check_plan(
    params: MovingParams,
    households: pd.DataFrame,
    rows: pd.DataFrame,
    file: str,
    short_ok: bool = False,
) -> BatchPlan:
    """A plan's rows (day, county, households) checked against the calendar and the
    population; a DataError names the file, the row and the value. With `short_ok` (a
    generated plan that the horizon cut short) a county may have fewer households planned
    than it has: the rest are never called, and reported as not moved."""
    seen = set()
    for r in rows.itertuples(index=False):
        where = f"date[{r.county}]"
        date = params.date(r.day).isoformat()
        if not 0 <= r.day < params.max_campaign_days:
            raise DataError(file, where, date, f"outside the campaign ({params.campaign_start} and the {params.max_campaign_days} days after it)")  # fmt: skip
        if params.paused(r.day):
            raise DataError(file, where, date, "falls inside a pause window")
        if (r.day, r.county) in seen:
            raise DataError(file, where, date, f"{r.county} has two rows on this date")
        seen.add((r.day, r.county))
    queues = county_queues(households, params)
    totals = rows.groupby("county")["households"].sum()
    for c in sorted(set(queues) | set(totals.index)):
        want, got = len(queues.get(c, ())), int(totals.get(c, 0))
        if got > want or (got < want and not short_ok):
            raise DataError(
                file, f"households[{c}]", got, f"the plan moves {got}; the county has {want}"
            )
    return BatchPlan(plan_frame(list(zip(rows["day"], rows["county"], rows["households"], strict=True)), params), file)  # fmt: skip


def read_plan(params: MovingParams, households: pd.DataFrame) -> BatchPlan:
    """The planner's plan of `params`, checked."""
    rows = pd.DataFrame(
        [(params.day(p.date), p.county, p.households) for p in params.batch_plan or ()],
        columns=["day", "county", "households"],
    )
    return check_plan(params, households, rows, params.batch_plan_file)


def poor_deadline_misses(params: MovingParams, households: pd.DataFrame, plan: BatchPlan):
    """Counties whose last registered-poor household is planned after the deadline, with
    the planned date: {county: date}."""
    queues = county_queues(households, params)
    poor = households["registered_poor"].to_numpy(dtype=bool)
    late = {}
    for c, q in queues.items():
        called = np.flatnonzero(poor[q])
        if not len(called):
            continue
        rows = plan.rows[plan.rows["county"] == c]
        planned = rows.loc[rows["households"].cumsum() > called[-1], "date"]
        if not len(planned):  # a plan the horizon cut short never calls them
            late[c] = "never"
        elif params.day(dt.date.fromisoformat(planned.iloc[0])) > params.deadline_day:
            late[c] = planned.iloc[0]
    return late


def slack_params(params: MovingParams) -> MovingParams:
    """The rules a planned day is sized by: dark and the shift end `plan_slack` earlier."""
    s = params.plan_slack
    dark = max(params.gather_start + 1.0, params.dark - s)
    return replace(
        params,
        dark=dark,
        latest_departure=min(params.latest_departure, dark),
        work_end=max(params.work_start + 1.0, params.work_end - s),
    )


def even_sizes(total: int, most: int) -> list[int]:
    """`total` split into the fewest equal days of at most `most`."""
    days = math.ceil(total / most)
    return [total // days + (1 if i < total % days else 0) for i in range(days)]
