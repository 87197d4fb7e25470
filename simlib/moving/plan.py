"""The batch plan: which county moves how many households on which day.

A plan is data: one row per county convoy day (date, county, households), either a
planner's own file named in the scenario (checked here against the calendar and the
population) or generated from targets (start date, rest days between a county's convoy
days, the largest convoy day, the day limits of vehicles, route and escorts, the move-in
capacity of the new town). Within a county, households are called in queue order:
registered-poor first (if so assumed), then by registration order. `simlib plan` writes a
generated plan so a planner can edit it and run it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simlib.moving.convoys import expected_arrival, fit_day
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
    source: str  # the plan file, or "generated: <policy>"

    def frame(self) -> pd.DataFrame:
        return self.rows.copy()

    def to_csv(self, path: str | Path) -> None:
        """Write the plan in the format a scenario's `batch_plan` reads back."""
        header = (
            f"# Batch plan ({self.source}): one row per county convoy day. Edit and name it in "
            "a scenario (moving: {batch_plan: FILE}) to run it; county totals must equal the "
            "county's households.\n"
        )
        with Path(path).open("w", encoding="utf-8", newline="") as handle:
            handle.write(header)
            self.rows[["date", "county", "households"]].to_csv(handle, index=False)


def _frame(rows: list[tuple[int, str, int]], params: MovingParams) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=["day", "county", "households"])
    table.insert(0, "date", [params.date(d).isoformat() for d in table["day"]])
    return table.sort_values(["day", "county"], kind="stable").reset_index(drop=True)


def reception_capacity(params: MovingParams) -> tuple[float, str]:
    """Households the move-in steps 1-7 can serve in one working day by arithmetic (units x
    shift / mean service), and the step that sets it."""
    shift = params.work_end - params.work_start
    loads: dict[str, float] = {}
    for s in params.steps:
        if s.phase != "followup":
            loads[s.resource] = loads.get(s.resource, 0.0) + s.service_mean
    caps = {
        r: params.resources[r] * shift / minutes for r, minutes in loads.items()
    }  # a resource serving two steps serves them both
    name = min(caps, key=caps.get)
    return caps[name], name


def generate_plan(params: MovingParams, households: pd.DataFrame) -> BatchPlan:
    """A plan from the targets: each county convoys when its rest days are over (round_robin,
    starts staggered over the rest period; daily_quota, the county whose next household
    registered earliest first) or one county after another (county_waves); a
    convoy day is as large as the day limits, the largest-day target and the day's move-in
    capacity allow, and none is planned whose convoy would still be on the road on a pause
    day."""
    sizes = households["size"].to_numpy()
    order = households["registration_order"].to_numpy()
    queues = county_queues(households, params)
    counties = list(queues)
    head = dict.fromkeys(counties, 0)
    period = params.rest_days + 1
    next_day = {c: (i * period) // len(counties) for i, c in enumerate(counties)}
    nights = {c: expected_arrival(c, params)[1] for c in counties}
    reception, _ = reception_capacity(params)
    rows: list[tuple[int, str, int]] = []
    received: dict[int, int] = {}
    wave = 0
    for day in moving_days(params):
        if params.policy == "county_waves":
            while wave < len(counties) and head[counties[wave]] == len(queues[counties[wave]]):
                wave += 1
            active = counties[wave : wave + 1]
        elif params.policy == "daily_quota":  # the earliest registered household first
            active = sorted(
                (c for c in counties if head[c] < len(queues[c])),
                key=lambda c: order[queues[c][head[c]]],
            )
        else:
            active = counties[day % len(counties) :] + counties[: day % len(counties)]
        for c in active:
            q = queues[c]
            if head[c] == len(q) or day < next_day[c]:
                continue
            arrive = day + nights[c]
            if any(params.paused(d) for d in range(day + 1, arrive + 1)):
                continue
            room = int(reception - received.get(arrive, 0))
            take = min(len(q) - head[c], params.day_households_max, room)
            if take <= 0:
                continue
            n, _ = fit_day(sizes[q[head[c] : head[c] + take]].tolist(), params)
            if n == 0:
                continue
            rows.append((day, c, n))
            head[c] += n
            received[arrive] = received.get(arrive, 0) + n
            next_day[c] = day + period
        if all(head[c] == len(queues[c]) for c in counties):
            break
    return BatchPlan(_frame(rows, params), f"generated: {params.policy}")


def check_plan(params: MovingParams, households: pd.DataFrame) -> BatchPlan:
    """The planner's plan of `params`, checked against the calendar and the population:
    dates inside the campaign and outside every pause, each county's total equal to its
    households, every registered-poor household planned by the deadline."""
    file = params.batch_plan_file
    rows = []
    for i, p in enumerate(params.batch_plan or ()):
        day = params.day(p.date)
        where = f"date[row {i + 2}]"
        if not 0 <= day < params.max_campaign_days:
            raise DataError(
                file,
                where,
                p.date.isoformat(),
                f"outside the campaign ({params.campaign_start} and the "
                f"{params.max_campaign_days} days after it)",
            )
        if params.paused(day):
            raise DataError(file, where, p.date.isoformat(), "falls inside a pause window")
        rows.append((day, p.county, p.households))
    plan = _frame(rows, params)
    queues = county_queues(households, params)
    totals = plan.groupby("county")["households"].sum()
    for c in sorted(set(queues) | set(totals.index)):
        want, got = len(queues.get(c, ())), int(totals.get(c, 0))
        if want != got:
            raise DataError(
                file, f"households[{c}]", got, f"the plan moves {got}; the county has {want}"
            )
    poor = households["registered_poor"].to_numpy(dtype=bool)
    for c, q in queues.items():
        called = np.flatnonzero(poor[q])
        if not len(called):
            continue
        last = int(called[-1]) + 1  # households of the county that must be in by the deadline
        by_deadline = plan[(plan["county"] == c) & (plan["day"] <= params.deadline_day)]
        if int(by_deadline["households"].sum()) < last:
            late = plan[plan["county"] == c]
            cum = late["households"].cumsum()
            when = late.loc[cum >= last, "date"].iloc[0]
            raise DataError(
                file,
                f"date[{c}]",
                when,
                f"{c}'s last registered-poor household is planned for {when}, after the "
                f"deadline {params.deadline.isoformat()}",
            )
    return BatchPlan(plan, file)


def make_plan(params: MovingParams, households: pd.DataFrame) -> BatchPlan:
    """The planner's plan (checked) if the scenario names one, else a generated plan."""
    if params.batch_plan is not None:
        return check_plan(params, households)
    return generate_plan(params, households)
