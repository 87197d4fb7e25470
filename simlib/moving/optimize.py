"""The optimised batch plan: PuLP chooses the convoy days (county, date, households).

Formulation (days d are the moving days of the horizon, counties c):

- x[c,d] households of county c on day d (integer), y[c,d] = 1 if c convoys on d;
- all_moved[c]: the days' households add up to the county's;
- day_capacity[c,d]: x[c,d] <= cap[c] y[c,d], cap[c] the largest convoy day of c that keeps
  its plan at mean times with the plan's slack (vehicle pool, drivers, route passes,
  police, cadres, doctors, loading crews, daylight, reception: `generate.DaySizer`);
- new_town[d]: sum_c x[c,d] / town[c] <= 1, town[c] the largest day of c the move-in
  teams (and the flats' preparation) take with the road unlimited: counties moving on one
  date share the new town;
- rest_days[c,d]: at most one convoy day of c in any `rest_days + 1` consecutive days;
- poor_by_deadline[c]: the county's registered-poor households (called first) moved by the
  deadline;
- finish: T counts the moving days up to c's last convoy day (busy[c,d] >= busy[c,d+1],
  y[c,d] <= busy[c,d], T >= sum_d busy[c,d]); slack: P counts the moving days before c's
  registered-poor households are all moved (poor_left[c,d] = 0 only once they are moved
  before d).

Objective `finish` minimises T (the last family in its flat), `slack` minimises P (the
last registered-poor family), each with the other and the number of convoy days as small
tie-breakers. The capacities are linear stand-ins for the rules, so every solution is
checked day by day at mean times (`DaySizer.fits`); a date that does not keep its plan
gets a cut (fewer households that date) and the model is solved again. The answer is
verified from the variable values (constraint residuals, integrality) and by the checks
every plan passes. Solved with HiGHS through PuLP, as the job matching is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pulp

from simlib.matching.solve import _quiet_stdout, model_residuals
from simlib.moving.generate import DaySizer
from simlib.moving.inputs import ROAD_POOLS, MovingParams
from simlib.moving.plan import BatchPlan, check_plan, county_queues, moving_days, plan_frame
from simlib.provenance import RunFailed

OBJECTIVES = ("finish", "slack")
TOL = 1e-6
MAX_ROUNDS = 12  # re-solves after cuts


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
        }


@dataclass
class _Data:
    params: MovingParams
    days: list[int]
    households: dict[str, int]
    poor: dict[str, int]
    cap: dict[str, int]
    town: dict[str, int]


def _capacities(params, households, queues, sizer: DaySizer) -> tuple[dict, dict]:
    """cap[c] (the county alone) and town[c] (its reception with the road unlimited): the
    least over five places in its queue (household sizes vary along it), less 1 %."""
    day = moving_days(params)[0]
    road = {k: 10**6 for k in ROAD_POOLS if k != "trucks"}
    town_sizer = DaySizer(replace(params, **road, leased_vehicles=2 * 10**6), households, queues)
    most = 2 * params.day_households_max  # beyond the plan target, within reason
    cap, town = {}, {}
    for c, q in queues.items():
        starts = sorted({min(len(q) - 1, k * len(q) // 5) for k in range(5)})
        cap[c] = max(1, int(0.99 * min(sizer.largest(day, [], c, s, min(most, len(q) - s)) or 1 for s in starts)))  # fmt: skip
        town[c] = max(1, int(0.99 * min(town_sizer.largest(day, [], c, s, min(most, len(q) - s)) or 1 for s in starts)))  # fmt: skip
    return cap, town


def _horizon(params: MovingParams, households: dict[str, int], cap: dict[str, int]) -> list[int]:
    """Moving days up to the later of the deadline and the time the slowest county needs
    at its largest days, rest days and pauses included (then some room)."""
    days = moving_days(params)
    need = max(-(-households[c] // cap[c]) for c in households) * (params.rest_days + 1)
    paused = params.max_campaign_days - len(days)
    end = min(params.max_campaign_days, max(params.deadline_day + 1, need + paused + params.rest_days + 1))  # fmt: skip
    return [d for d in days if d < end]


def _model(data: _Data, objective: str, cuts: list[tuple[int, dict[str, int], int]]):
    """The formulation of the module docstring, with the cuts found so far. Two monotone
    indicators per county and day (`busy`: the county still has convoy days from this day
    on; `poor_left`: its registered-poor households are not all moved before it) count the
    days up to the last family and the last registered-poor family, which keeps the LP
    relaxation tight."""
    p, days, counties = data.params, data.days, list(data.households)
    prob = pulp.LpProblem("batch_plan", pulp.LpMinimize)
    x = {(c, d): pulp.LpVariable(f"x_{c}_{d}", 0, data.cap[c]) for c in counties for d in days}
    y = {(c, d): pulp.LpVariable(f"y_{c}_{d}", cat="Binary") for c in counties for d in days}
    busy = {(c, d): pulp.LpVariable(f"busy_{c}_{d}", 0, 1) for c in counties for d in days}
    slack = True  # the registered-poor indicators also guide the search for the finish
    left = {(c, d): pulp.LpVariable(f"poor_left_{c}_{d}", cat="Binary") for c in counties for d in days}  # fmt: skip
    finish = pulp.LpVariable("finish", 0)
    poor_end = pulp.LpVariable("last_registered_poor_day", 0)
    for c in counties:
        prob += pulp.lpSum(x[c, d] for d in days) == data.households[c], f"all_moved[{c}]"
        # a valid cut: whole convoy days, each at most cap[c]
        prob += pulp.lpSum(y[c, d] for d in days) >= -(-data.households[c] // data.cap[c]), f"convoy_days[{c}]"  # fmt: skip
        prob += pulp.lpSum(x[c, d] for d in days if d <= p.deadline_day) >= data.poor[c], f"poor_by_deadline[{c}]"  # fmt: skip
        prob += finish >= pulp.lpSum(busy[c, d] for d in days), f"finish[{c}]"
        if slack:
            prob += poor_end >= pulp.lpSum(left[c, d] for d in days), f"poor_end[{c}]"
        for i, d in enumerate(days):
            prob += x[c, d] <= data.cap[c] * y[c, d], f"day_capacity[{c},{d}]"
            window = [e for e in days if d <= e <= d + p.rest_days]
            prob += pulp.lpSum(y[c, e] for e in window) <= 1, f"rest_days[{c},{d}]"
            prob += y[c, d] <= busy[c, d], f"busy[{c},{d}]"
            if i + 1 < len(days):
                prob += busy[c, d] >= busy[c, days[i + 1]], f"busy_stays[{c},{d}]"
            if slack:
                before = pulp.lpSum(x[c, e] for e in days[:i])
                prob += before >= data.poor[c] * (1 - left[c, d]), f"poor_left[{c},{d}]"
                if i + 1 < len(days):
                    prob += left[c, d] >= left[c, days[i + 1]], f"poor_left_stays[{c},{d}]"
    for d in days:
        prob += pulp.lpSum(x[c, d] * (1.0 / data.town[c]) for c in counties) <= 1, f"new_town[{d}]"
    for k, (d, sizes, most) in enumerate(cuts):
        prob += pulp.lpSum(x[c, d] for c in sizes) <= most, f"cut_{k}[{d}]"
    small = 1.0 / (len(days) * len(counties) + 1)
    days_used = pulp.lpSum(y.values())
    main, other = (poor_end, finish) if objective == "slack" else (finish, poor_end)
    prob += main + small * other + small * small * days_used
    return prob, x, y


def _solve(prob, time_limit: float) -> tuple[str, float | None]:
    """Solve with HiGHS (its chatter away from stdout); the status and the relative gap."""
    # the objective counts days (the tie-breakers add less than a quarter of a day), so a
    # solution within half a day of the bound is proven optimal in days
    solver = pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=0, gapAbs=0.5, mip_heuristic_effort=0.5)
    with _quiet_stdout():
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


def _rows(data: _Data, x) -> list[tuple[int, str, int]]:
    """Households per county day, in whole households: each county's running total is
    rounded, so the days still add up to the county."""
    rows = []
    for c in data.households:
        values = np.array([max(0.0, x[c, d].varValue or 0.0) for d in data.days])
        cum = np.round(np.cumsum(values) * data.households[c] / max(values.sum(), 1e-9))
        sizes = np.diff(np.concatenate([[0], cum])).astype(int)
        rows += [(d, c, int(n)) for d, n in zip(data.days, sizes, strict=True) if n > 0]
    return rows


def _failing(data: _Data, rows, queues, sizer: DaySizer) -> list[tuple[int, dict[str, int], int]]:
    """Dates of the plan that do not keep their plan at mean times, as cuts."""
    head = dict.fromkeys(queues, 0)
    by_day: dict[int, list[tuple[str, int, int]]] = {}
    for d, c, n in sorted(rows):
        by_day.setdefault(d, []).append((c, head[c], n))
        head[c] += n
    cuts = []
    for d, entries in by_day.items():
        if not sizer.fits(d, entries):
            total = sum(n for _, _, n in entries)
            cuts.append((d, {c: n for c, _, n in entries}, total - max(1, total // 50)))
    return cuts


def optimise_plan(
    params: MovingParams, households: pd.DataFrame, objective: str = "finish", time_limit: float = 10.0
) -> OptimisedPlan:
    """The optimised plan (see the module docstring); RunFailed when none exists."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective(={objective!r}) must be one of {OBJECTIVES}")
    start = time.perf_counter()
    households = households.reset_index(drop=True)
    queues = county_queues(households, params)
    sizer = DaySizer(params, households, queues)
    cap, town = _capacities(params, households, queues, sizer)
    poor = households["registered_poor"].to_numpy(dtype=bool)
    sizes = {c: len(q) for c, q in queues.items()}
    poor_count = {c: int(np.flatnonzero(poor[q])[-1]) + 1 if poor[q].any() else 0 for c, q in queues.items()}  # fmt: skip
    data = _Data(params, _horizon(params, sizes, cap), sizes, poor_count, cap, town)
    cuts: list = []
    for rounds in range(1, MAX_ROUNDS + 1):
        prob, x, _ = _model(data, objective, cuts)
        status, gap = _solve(prob, max(1.0, time_limit - (time.perf_counter() - start)))
        if status not in ("optimal", "time_limit_feasible"):
            raise RunFailed(_why(status, data))
        rows = _rows(data, x)
        new = _failing(data, rows, queues, sizer)
        if not new:
            break
        cuts += new
    else:
        raise RunFailed(f"the optimised plan still had dates that do not keep their plan after {MAX_ROUNDS} rounds of cuts")  # fmt: skip
    violation, fraction = model_residuals(prob)
    if violation > TOL or fraction > TOL:
        raise RunFailed(f"the optimised plan fails its own check (violation {violation:.2g}, integrality {fraction:.2g})")  # fmt: skip
    table = plan_frame(rows, params)
    plan = check_plan(params, households, table, f"optimised: {objective}")
    return _result(plan, data, objective, (status, gap, pulp.value(prob.objective)), (rounds, len(cuts), time.perf_counter() - start, violation))  # fmt: skip


def _result(plan: BatchPlan, data: _Data, objective: str, solved, counts) -> OptimisedPlan:
    p = data.params
    status, gap, value = solved
    rows = plan.rows
    last_poor = max(
        int(rows.loc[(rows["county"] == c) & (rows["households"].groupby(rows["county"]).cumsum() >= data.poor[c]), "day"].min())  # fmt: skip
        for c in data.households
        if data.poor[c]
    )
    return OptimisedPlan(plan, objective, status, float(value), gap, p.date(int(rows["day"].max())).isoformat(), p.date(last_poor).isoformat(), *counts)  # fmt: skip


def _why(status: str, data: _Data) -> str:
    """One line saying why no plan came out."""
    p = data.params
    if status == "infeasible":
        need = {c: -(-data.poor[c] // data.cap[c]) for c in data.households}
        worst = max(need, key=lambda c: need[c] * (p.rest_days + 1))
        return (
            f"no plan moves every registered-poor household by {p.deadline.isoformat()} with "
            f"these resources and rest days: {worst} needs {need[worst]} convoy days of at most "
            f"{data.cap[worst]} households, {p.rest_days} rest days apart"
        )
    return f"the solver stopped without a plan ({status})"
