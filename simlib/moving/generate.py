"""Plans generated from targets, each day sized by the rules the simulation follows.

`round_robin` (counties take turns, each as soon as its rest days are over, starts
staggered over the rest period), `county_waves` (one county after another) and
`daily_quota` (the county whose next household registered earliest first) plan a convoy
day as large as keeps it at mean times with `plan_slack` minutes to spare, given the
counties already planned that date (they share the vehicles and the move-in teams), and
no larger than `convoy_day_households_max`; a county whose days, so sized, cannot all be
planned within the horizon (a route too long for the daylight) is planned at what its
resources allow instead, and the simulation shows what that costs. A day is sized with
each family's carry up to its floor but not the queues at the buildings it fills (the
check and the simulation count them: a plan that calls households building by building
may not fit its buildings, and the check says so). `even_days` is a planner's rule of thumb:
every county in turn each rest period, its households in equal days of at most
`convoy_day_households_max`, sized without looking at the resources.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from simlib.moving.calendar import Calendar
from simlib.moving.inputs import MovingParams
from simlib.moving.plan import (
    BatchPlan,
    check_plan,
    county_queues,
    even_sizes,
    moving_days,
    plan_frame,
    read_plan,
    slack_params,
)
from simlib.moving.timing import DayTimer


class DaySizer:
    """The largest convoy day of a county that keeps its plan at mean times (with the
    plan's slack), next to the county days already planned on the same date."""

    def __init__(self, params: MovingParams, households: pd.DataFrame, queues, road_only: bool = False) -> None:  # fmt: skip
        self.road_only = road_only  # only the road resources: every household sent that day
        self.params = slack_params(params)
        self.timer = DayTimer(self.params, households, Calendar(self.params))
        self.queues = queues
        self.last: dict[str, int] = {}  # the county's last size: the first guess

    def fits(self, day: int, entries: list[tuple[str, int, int]]) -> bool:
        """Whether these county days (county, first queue position, households) of one
        date all keep their plan."""
        rows, members, queues = [], [], {}
        for county, first, n in entries:
            q = self.queues[county][first : first + n]
            queues[county] = np.arange(len(members), len(members) + n)
            members += q.tolist()
            rows.append((county, day, n))
        members = np.asarray(members, dtype=np.int64)
        if self.road_only:
            return bool((self.timer.road(rows, queues, members)[1].sent_day == day).all())
        return self.timer.all_kept(rows, queues, members)

    def largest(self, day: int, today: list, county: str, first: int, most: int) -> int:
        """The largest n <= most with which the county's day fits (0 if none does),
        searched from the county's last size (days are mostly alike)."""

        def fits(n: int) -> bool:
            return self.fits(day, [*today, (county, first, n)])

        guess = min(most, self.last.get(county, self.params.day_households_max))
        if most <= 0:
            return 0
        step = 1  # gallop from the guess to bracket the answer: lo fits, hi does not
        if fits(guess):
            lo, hi = guess, guess + step
            while hi <= most and fits(hi):
                lo, step = hi, step * 2
                hi = min(most + 1, lo + step)
            hi = min(hi, most + 1)
        else:
            lo, hi = guess - step, guess
            while lo > 0 and not fits(lo):
                hi, step = lo, step * 2
                lo = max(0, hi - step)
            lo = max(lo, 0)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        self.last[county] = lo or self.last.get(county, most)
        return lo


def _active(params: MovingParams, day: int, counties: list[str], head, queues, order) -> list[str]:
    """The counties that may move on `day`, in the order the policy gives them."""
    left = [c for c in counties if head[c] < len(queues[c])]
    if params.policy == "county_waves":
        return left[:1]
    if params.policy == "daily_quota":  # the earliest registered household first
        return sorted(left, key=lambda c: order[queues[c][head[c]]])
    turn = day % len(counties)
    return [c for c in counties[turn:] + counties[:turn] if c in left]


def _fitted_rows(params: MovingParams, households: pd.DataFrame, queues, relaxed: set[str]) -> list:  # fmt: skip
    """The plan's rows; the counties in `relaxed` are sized by their road resources alone
    (every household sent that day, the time rules set aside)."""
    strict = DaySizer(params, households, queues)
    loose = DaySizer(replace(params, dark_rule="drive", plan_slack=0.0), households, queues, road_only=True)  # fmt: skip
    order = households["registration_order"].to_numpy()
    counties = list(queues)
    head = dict.fromkeys(counties, 0)
    period = params.rest_days + 1
    next_day = {c: (i * period) // len(counties) for i, c in enumerate(counties)}
    rows: list[tuple[int, str, int]] = []
    for day in moving_days(params):
        today: list[tuple[str, int, int]] = []
        for c in _active(params, day, counties, head, queues, order):
            if day < next_day[c]:
                continue
            most = min(len(queues[c]) - head[c], params.day_households_max)
            n = (loose if c in relaxed else strict).largest(day, today, c, head[c], most)
            if n:
                today.append((c, head[c], n))
                rows.append((day, c, n))
                head[c] += n
                next_day[c] = day + period
        if all(head[c] == len(queues[c]) for c in counties):
            break
    return rows


def _even_rows(params: MovingParams, queues) -> list:
    counties = list(queues)
    period = params.rest_days + 1
    days = moving_days(params)
    rows = []
    for i, c in enumerate(counties):
        day = (i * period) // len(counties)
        for n in even_sizes(len(queues[c]), params.day_households_max):
            day = next((d for d in days if d >= day), params.max_campaign_days)
            if day >= params.max_campaign_days:
                break
            rows.append((day, c, n))
            day += period
    return rows


def generated_source(policy: str) -> str:
    """The name a generated plan carries as its `BatchPlan.source`."""
    return f"generated: {policy}"


def own_plan_source(params: MovingParams) -> str:
    """The source of the plan `make_plan` makes for `params`: the planner's plan file, or
    the generating policy."""
    return params.batch_plan_file if params.batch_plan is not None else generated_source(params.policy)  # fmt: skip


def generate_plan(params: MovingParams, households: pd.DataFrame) -> BatchPlan:
    """A plan from the targets by the scenario's `scheduling_policy` (module docstring)."""
    households = households.reset_index(drop=True)
    queues = county_queues(households, params)
    if params.policy == "even_days":
        rows = _even_rows(params, queues)
        return BatchPlan(plan_frame(rows, params), generated_source(params.policy))
    rows = _fitted_rows(params, households, queues, set())
    planned = pd.DataFrame(rows, columns=["day", "county", "households"]).groupby("county")["households"].sum()  # fmt: skip
    short = {c for c, q in queues.items() if planned.get(c, 0) < len(q)}
    if short:  # counties whose days the time rules keep too small to finish in the horizon
        rows = _fitted_rows(params, households, queues, short)
    return BatchPlan(plan_frame(rows, params), generated_source(params.policy))


def make_plan(params: MovingParams, households: pd.DataFrame) -> BatchPlan:
    """The planner's plan (checked) if the scenario names one, else a generated plan
    (checked the same way; one the horizon cuts short leaves the rest not moved, see
    `unplanned`)."""
    households = households.reset_index(drop=True)
    if params.batch_plan is not None:
        return read_plan(params, households)
    plan = generate_plan(params, households)
    return check_plan(params, households, plan.rows, plan.source, short_ok=True)


def unplanned(plan: BatchPlan, households: pd.DataFrame) -> int:
    """Households a plan never calls (a generated plan cut short by the horizon)."""
    return len(households) - int(plan.rows["households"].sum())


def planners_plan(inputs) -> BatchPlan:
    """A planner's plan written without looking at the resources (`even_days`: every county
    in turn each rest period, its households in equal days of at most
    `convoy_day_households_max`), checked as any plan file is."""
    params = replace(inputs.moving, policy="even_days")
    households = inputs.population.households.reset_index(drop=True)
    plan = generate_plan(params, households)
    return check_plan(params, households, plan.rows, "a planner's plan: equal days, every county in turn")  # fmt: skip
