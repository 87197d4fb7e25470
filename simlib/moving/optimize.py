"""The optimised batch plan: PuLP chooses the convoy days (county, date, households).

A county's households are called in queue order, so its convoy days are filled in that
order: the j-th day takes the next `size[c][j]` households, each day as large as keeps
its plan at mean times with the plan's slack when the county moves alone (vehicle pool,
drivers, route passes, police, cadres, doctors, loading crews, daylight, reception:
`generate.DaySizer`), the last day the rest. The model chooses the dates.

Formulation (days d are the moving days of the horizon, counties c, y[c,d] = 1 if c
convoys on d):

- convoy_days[c]: sum_d y[c,d] = k[c], the number of its filled days;
- rest_days[c,d]: at most one convoy day of c in any `rest_days + 1` consecutive days;
- new_town[d]: sum_c y[c,d] * biggest[c] / town[c] <= 1: counties moving on one date share
  the new town (town[c]: the largest day of c the move-in teams and the flats'
  preparation take with the road unlimited);
- poor_by_deadline[c]: c's m[c]-th day, the one with its last registered-poor household
  (they are called first), is on or before the deadline;
- finish: T counts the moving days up to c's last convoy day (busy[c,d] >= busy[c,d+1],
  y[c,d] <= busy[c,d], T >= sum_d busy[c,d]); slack: P counts the moving days before c's
  m[c]-th day (sum_{e<d} y[c,e] >= m[c] (1 - poor_left[c,d]), P >= sum_d poor_left[c,d]).

Objective `finish` minimises T (the last family in its flat), `slack` minimises P (the
last registered-poor family), each with the other as a small tie-breaker. Every date of a
solution is checked at mean times (`DaySizer.fits`); two counties that do not fit on one
date get a cut (not both that date) and the model is solved again. The answer is verified
from the variable values (constraint residuals, integrality) and by the checks every plan
passes. Solved with HiGHS through PuLP, as the job matching is.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pulp

from simlib.matching.solve import model_residuals
from simlib.moving.generate import DaySizer
from simlib.moving.inputs import ROAD_POOLS, MovingParams
from simlib.moving.plan import BatchPlan, check_plan, county_queues, moving_days, plan_frame
from simlib.provenance import RunFailed

OBJECTIVES = ("finish", "slack")
TOL = 1e-6
MAX_ROUNDS = 8  # re-solves after cuts


@dataclass(frozen=True)
class OptimisedPlan:
    """The optimised plan and how it was found."""

    plan: BatchPlan
    objective: str
    status: str  # optimal | time_limit_feasible
    objective_value: float
    gap: float | None
    last_move_in_date: str
    last_registered_poor_date: str
    rounds: int
    cuts: int
    seconds: float
    max_violation: float
    largest_receivable_day: dict[str, int]  # what the move-in teams take of each county

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "objective": self.objective,
            "objective_value": self.objective_value,
            "gap": self.gap,
            "last_move_in_date": self.last_move_in_date,
            "last_registered_poor_date": self.last_registered_poor_date,
            "rounds": self.rounds,
            "cuts": self.cuts,
            "solve_seconds": round(self.seconds, 3),
            "max_constraint_violation": self.max_violation,
            "largest_receivable_day": self.largest_receivable_day,
        }


@dataclass
class _Data:
    params: MovingParams
    days: list[int]
    sizes: dict[str, list[int]]  # households of each of c's convoy days, in order
    poor_day: dict[str, int]  # which of c's days (1-based) carries its last registered-poor
    town: dict[str, int]


def fill_days(sizer: DaySizer, queues, day: int) -> dict[str, list[int]]:
    """Each county's convoy days filled in call order, each as large as fits alone."""
    most = 2 * sizer.params.day_households_max  # beyond the plan target, within reason
    sizes = {}
    for c, q in queues.items():
        days, pos = [], 0
        while pos < len(q):
            n = sizer.largest(day, [], c, pos, min(most, len(q) - pos))
            if n == 0:
                raise RunFailed(f"no convoy day of {c} keeps its plan even with one household: the route is too long for the time rules")  # fmt: skip
            days.append(n)
            pos += n
        sizes[c] = days
    return sizes


def _town(params, households, queues, day: int) -> dict[str, int]:
    """The largest day of each county the new town takes with the road unlimited."""
    road = {k: 10**6 for k in ROAD_POOLS if k != "trucks"}
    sizer = DaySizer(replace(params, **road, leased_vehicles=2 * 10**6), households, queues)
    most = 2 * params.day_households_max
    return {c: sizer.largest(day, [], c, 0, min(most, len(q))) or 1 for c, q in queues.items()}


def _horizon(params: MovingParams, sizes: dict[str, list[int]]) -> list[int]:
    """Moving days up to the later of the deadline and what the county with the most days
    needs at one every rest period, pauses included (then some room)."""
    days = moving_days(params)
    need = max(len(s) for s in sizes.values()) * (params.rest_days + 1)
    paused = params.max_campaign_days - len(days)
    end = min(params.max_campaign_days, max(params.deadline_day + 1, need + paused + 2 * (params.rest_days + 1)))  # fmt: skip
    return [d for d in days if d < end]


def _model(data: _Data, objective: str, cuts: list[tuple[int, str, str]]):
    """The formulation of the module docstring, with the cuts found so far."""
    p, days, counties = data.params, data.days, list(data.sizes)
    prob = pulp.LpProblem("batch_plan", pulp.LpMinimize)
    var = prob.add_variable
    y = {(c, d): var(f"y_{c}_{d}", 0, 1, cat="Integer") for c in counties for d in days}
    busy = {(c, d): var(f"busy_{c}_{d}", 0, 1) for c in counties for d in days}
    left = {(c, d): var(f"poor_left_{c}_{d}", 0, 1, cat="Integer") for c in counties for d in days}  # fmt: skip
    finish = var("finish", 0)
    poor_end = var("last_registered_poor_day", 0)
    for c in counties:
        k, m = len(data.sizes[c]), data.poor_day[c]
        prob += pulp.lpSum(y[c, d] for d in days) == k, f"convoy_days[{c}]"
        prob += pulp.lpSum(y[c, d] for d in days if d <= p.deadline_day) >= m, f"poor_by_deadline[{c}]"  # fmt: skip
        prob += finish >= pulp.lpSum(busy[c, d] for d in days), f"finish[{c}]"
        prob += poor_end >= pulp.lpSum(left[c, d] for d in days), f"poor_end[{c}]"
        for i, d in enumerate(days):
            window = [e for e in days[i : i + p.rest_days + 1] if e <= d + p.rest_days]
            prob += pulp.lpSum(y[c, e] for e in window) <= 1, f"rest_days[{c},{d}]"
            prob += y[c, d] <= busy[c, d], f"busy[{c},{d}]"
            before = pulp.lpSum(y[c, e] for e in days[:i])
            prob += before >= m * (1 - left[c, d]), f"poor_left[{c},{d}]"
            if i + 1 < len(days):
                prob += busy[c, d] >= busy[c, days[i + 1]], f"busy_stays[{c},{d}]"
                prob += left[c, d] >= left[c, days[i + 1]], f"poor_left_stays[{c},{d}]"
    biggest = {c: max(s) for c, s in data.sizes.items()}
    for d in days:
        prob += pulp.lpSum(y[c, d] * (biggest[c] / data.town[c]) for c in counties) <= 1 + TOL, f"new_town[{d}]"  # fmt: skip
    for k, (d, a, b) in enumerate(cuts):
        prob += y[a, d] + y[b, d] <= 1, f"cut_{k}[{d},{a},{b}]"
    small = 1.0 / (len(days) + 1)
    main, other = (finish, poor_end) if objective == "finish" else (poor_end, finish)
    prob += main + small * other
    return prob, y


@contextlib.contextmanager
def _silent():
    """HiGHS prints a banner from C++ whatever its options: send the process's stdout to
    the null device while it solves (so that `--json` and the notebooks show nothing)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def _solve(prob, time_limit: float) -> tuple[str, float | None]:
    """Solve with HiGHS (its chatter away from stdout); the status and the relative gap."""
    # the objective counts days (the tie-breaker adds less than one), so a solution within
    # half a day of the bound is proven optimal in days
    solver = pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=0, gapAbs=0.5)
    with _silent():
        prob.solve(solver)
    gap = None
    info = getattr(prob, "solverModel", None)
    if info is not None:
        try:
            gap = float(info.getInfo().mip_gap)
        except (AttributeError, TypeError, ValueError):
            gap = None
    if prob.sol_status == pulp.LpSolutionOptimal:
        return "optimal", 0.0 if gap is None or gap < TOL else gap
    if prob.sol_status == pulp.LpSolutionIntegerFeasible:
        return "time_limit_feasible", gap
    if prob.status == pulp.LpStatusInfeasible:
        return "infeasible", None
    return "no_solution", None


def _rows(data: _Data, y) -> list[tuple[int, str, int]]:
    """The chosen dates with each county's days in order."""
    rows = []
    for c, sizes in data.sizes.items():
        dates = [d for d in data.days if (y[c, d].varValue or 0) > 0.5]
        rows += [(d, c, n) for d, n in zip(dates, sizes, strict=True)]
    return rows


def _failing(rows, queues, sizer: DaySizer) -> list[tuple[int, str, str]]:
    """Dates where two or more counties do not keep their plans together, as cuts."""
    head = dict.fromkeys(queues, 0)
    by_day: dict[int, list[tuple[str, int, int]]] = {}
    for d, c, n in sorted(rows):
        by_day.setdefault(d, []).append((c, head[c], n))
        head[c] += n
    cuts = []
    for d, entries in by_day.items():
        if len(entries) > 1 and not sizer.fits(d, entries):
            cuts += [(d, a[0], b[0]) for i, a in enumerate(entries) for b in entries[i + 1 :]]
    return cuts


def _data(params: MovingParams, households: pd.DataFrame, queues, sizer: DaySizer) -> _Data:
    day = moving_days(params)[0]
    sizes = fill_days(sizer, queues, day)
    poor = households["registered_poor"].to_numpy(dtype=bool)
    poor_day = {}
    for c, q in queues.items():
        last = int(np.flatnonzero(poor[q])[-1]) + 1 if poor[q].any() else 0
        poor_day[c] = int(np.searchsorted(np.cumsum(sizes[c]), last)) + 1 if last else 0
    return _Data(params, _horizon(params, sizes), sizes, poor_day, _town(params, households, queues, day))  # fmt: skip


def optimise_plan(
    params: MovingParams,
    households: pd.DataFrame,
    objective: str = "finish",
    time_limit: float = 10.0,
) -> OptimisedPlan:
    """The optimised plan (see the module docstring); RunFailed when none exists."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective(={objective!r}) must be one of {OBJECTIVES}")
    start = time.perf_counter()
    households = households.reset_index(drop=True)
    queues = county_queues(households, params)
    sizer = DaySizer(params, households, queues)
    data = _data(params, households, queues, sizer)
    cuts: list = []
    rounds = 0
    while True:
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise RunFailed(f"the optimised plan still had dates that do not keep their plan after {MAX_ROUNDS} rounds of cuts")  # fmt: skip
        prob, y = _model(data, objective, cuts)
        # each round gets what is left of the time limit, and never less than a few seconds
        status, gap = _solve(prob, max(3.0, time_limit - (time.perf_counter() - start)))
        if status not in ("optimal", "time_limit_feasible"):
            raise RunFailed(_why(status, data))
        rows = _rows(data, y)
        new = _failing(rows, queues, sizer)
        if not new:
            break
        cuts += new
    violation, fraction = model_residuals(prob)
    if violation > TOL or fraction > TOL:
        raise RunFailed(f"the optimised plan fails its own check (violation {violation:.2g}, integrality {fraction:.2g})")  # fmt: skip
    plan = check_plan(params, households, plan_frame(rows, params), f"optimised: {objective}")
    return _result(plan, data, objective, (status, gap, pulp.value(prob.objective)), (rounds, len(cuts), time.perf_counter() - start, violation))  # fmt: skip


def _result(plan: BatchPlan, data: _Data, objective: str, solved, counts) -> OptimisedPlan:
    p = data.params
    status, gap, value = solved
    rows = plan.rows
    last_poor = max(
        int(rows[rows["county"] == c]["day"].iloc[m - 1]) for c, m in data.poor_day.items() if m
    )
    return OptimisedPlan(plan, objective, status, float(value), gap, p.date(int(rows["day"].max())).isoformat(), p.date(last_poor).isoformat(), *counts, dict(data.town))  # fmt: skip


def _why(status: str, data: _Data) -> str:
    """One line saying why no plan came out."""
    p = data.params
    if status == "infeasible":
        worst = max(data.poor_day, key=lambda c: data.poor_day[c])
        return (
            f"no plan moves every registered-poor household by {p.deadline.isoformat()} with "
            f"these resources and rest days: {worst} needs {data.poor_day[worst]} convoy days of "
            f"at most {max(data.sizes[worst])} households, {p.rest_days} rest days apart"
        )
    return f"the solver stopped without a plan ({status})"
