"""Solving the matching and checking the answer ourselves.

Stages (lexicographic mode): 1. expected lasting employment (less the soft household
penalty), 2. expected net income with stage 1 held at its optimum; the remaining ties are
broken by person id when the counts go back to people. The weighted mode solves once.

Each stage first solves the LP relaxation, in process with HiGHS's simplex (no files, no
child process): most rows form a network, so its optimal vertex is usually integral, and
then it *is* a proven optimum of the integer programme (its bound is met). Otherwise
branch and bound runs (the `solver`: CBC or HiGHS, through PuLP; at most NODE_LIMIT nodes
for CBC, and `time_limit` seconds, per solve). Every answer is checked from the variable
values (`model_residuals`) and, person by person, from the plan (`check_assignment`). Only
a verified proven optimum is "optimal"; a feasible plan stopped by the node or the time
limit is "time_limit_feasible" with its gap to the LP bound. Anything else is no plan:
`MatchFailed`, with an elastic diagnosis that says which hard rows give way, named as a
planner reads them (county, household type in words).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pulp

from simlib.jobs_inputs import SOLVERS
from simlib.matching.formulation import Model, elastic_penalty
from simlib.matching.instance import Instance
from simlib.provenance import RunFailed

TOL = 1e-6
# CBC's branch-and-bound nodes per solve. The search stops at this count, the same on any
# machine, before the wall-clock limit binds (CBC explores ~200 nodes a second here), so
# the same inputs give the same plan whatever the load. A timeline batch of 2,639 laborers
# that CBC cannot prove optimal in 300 s had its best plan (the one HiGHS proves optimal)
# after 50 nodes; the wall-clock limit made it, and everything after it, vary with the
# machine's load.
NODE_LIMIT = 1000


class MatchFailed(RunFailed):
    """The matching ended without a plan (infeasible, or stopped with none): the message
    says why and, where the elastic re-solve ran, which hard rows give way."""

    def __init__(self, status: str, message: str, diagnosis: dict[str, Any] | None = None):
        self.status = status
        self.diagnosis = diagnosis
        super().__init__(message)


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector while the model is built and solved: the
    model is hundreds of thousands of small objects, none in a cycle that matters, and each
    collection would walk them all (a third of the time of a disaggregation). Reference
    counting still frees them; the collector runs again afterwards."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def make_solver(name: str, time_limit: float, mip: bool = True):
    """CBC (ships with PuLP; within NODE_LIMIT nodes) or HiGHS through PuLP, asked for
    proven optimality within `time_limit` seconds."""
    if name == "cbc":
        with warnings.catch_warnings():
            # PuLP 3 warns that the bundled CBC moves to an extra in 4.0; it is still here
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(
                msg=False, timeLimit=time_limit, gapRel=0, gapAbs=0, mip=mip, maxNodes=NODE_LIMIT
            )
    if name == "highs":
        # no node limit: PuLP cannot read back a HiGHS run stopped by one (kSolutionLimit)
        return pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=0, gapAbs=0, mip=mip)
    raise ValueError(f"solver(={name!r}) must be one of {SOLVERS}")


@contextlib.contextmanager
def _quiet_stdout(to: str | None = None):
    """Send what a solver library prints (HiGHS prints a banner from C++) to stderr (or to
    the file `to`), so that `--json` leaves nothing but JSON on stdout."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (e.g. captured by a notebook)
        yield
        return
    target = os.open(to, os.O_WRONLY) if to else 2
    try:
        os.dup2(target, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        if to:
            os.close(target)


def _run(problem: pulp.LpProblem, solver: str, time_limit: float, mip: bool = True) -> None:
    if solver == "highs":
        with _quiet_stdout():
            problem.solve(make_solver(solver, time_limit, mip=mip))
    else:
        problem.solve(make_solver(solver, time_limit, mip=mip))


def _status(problem: pulp.LpProblem) -> str:
    """An honest status: 'optimal' only if the solver proved it."""
    if problem.status == pulp.LpStatusInfeasible:
        return "infeasible"
    if problem.status == pulp.LpStatusUnbounded:
        return "unbounded"
    if problem.sol_status == pulp.LpSolutionOptimal:
        return "optimal"
    if problem.sol_status == pulp.LpSolutionIntegerFeasible:
        return "time_limit_feasible"
    if problem.status == pulp.LpStatusNotSolved:
        return "time_limit_no_solution"
    return "not_solved"


def model_residuals(
    problem: pulp.LpProblem, variables: list[pulp.LpVariable] | None = None
) -> tuple[float, float]:
    """(largest constraint violation, largest distance of an integer variable from an
    integer), computed from the variable values, not taken from the solver."""
    violation = 0.0
    for constraint in problem.constraints():
        value = sum((v.varValue or 0.0) * a for v, a in constraint.items()) + constraint.constant
        if constraint.sense == pulp.LpConstraintLE:
            violation = max(violation, value)
        elif constraint.sense == pulp.LpConstraintGE:
            violation = max(violation, -value)
        else:
            violation = max(violation, abs(value))
    fraction = 0.0
    for v in problem.variables() if variables is None else variables:
        value = v.varValue or 0.0
        if v.lowBound is not None:
            violation = max(violation, v.lowBound - value)
        if v.upBound is not None:
            violation = max(violation, value - v.upBound)
        if v.cat == pulp.LpInteger:
            fraction = max(fraction, abs(value - round(value)))
    return violation, fraction


def _check(model: Model) -> tuple[float, float]:
    """`model_residuals` of the model, computed from the same rows read as arrays (once per
    model) and the variable values: the largest row or bound violation and the largest
    distance of an integer variable from an integer."""
    if model.lp_matrix is None:
        return model_residuals(model.problem, model.variables())
    a = _arrays(model.problem, model)
    x = np.array([v.varValue or 0.0 for v in a.columns])
    row_of = np.repeat(np.arange(len(a.rows)), np.diff(a.start))
    activity = np.bincount(row_of, weights=a.value * x[a.index], minlength=len(a.rows))
    gaps = [a.row_lower - activity, activity - a.row_upper, a.lower - x, x - a.upper]
    violation = max((float(g.max()) for g in gaps if len(g)), default=0.0)
    integer = np.array([v.cat == pulp.LpInteger for v in a.columns], dtype=bool)
    fraction = float(np.abs(x - np.round(x))[integer].max(initial=0.0))
    return max(violation, 0.0), fraction


@dataclass
class SolveLog:
    """What happened in the solves, for the summary."""

    status: str = "not_solved"
    stages: list[dict[str, Any]] = field(default_factory=list)
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    max_violation: float = 0.0
    max_fraction: float = 0.0
    gap: float | None = None  # relative gap to the LP bound of a time-limited plan
    elastic: dict[str, Any] | None = None


def _integral(variables: list[pulp.LpVariable]) -> bool:
    """Whether every integer variable already sits on an integer (to 1e-7), and if so
    snap them, so that the LP relaxation's vertex can serve as the integer solution."""
    ints = [v for v in variables if v.cat == pulp.LpInteger]
    if any(v.varValue is None or abs(v.varValue - round(v.varValue)) > 1e-7 for v in ints):
        return False
    for v in ints:
        v.varValue = float(round(v.varValue))
    return True


@dataclass(frozen=True)
class _Arrays:
    """The problem as arrays, row-wise, in the order of `columns` and `rows`."""

    columns: list[pulp.LpVariable]
    rows: list[pulp.LpConstraint]
    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray


def _matrix(problem: pulp.LpProblem, columns: list[pulp.LpVariable]) -> tuple:
    """(columns, rows, start, index, value): the rows of the problem, row-wise."""
    columns = list(columns)
    where = {id(v): j for j, v in enumerate(columns)}
    rows = list(problem.constraints())
    start, index, value = [0], [], []
    for row in rows:
        try:
            index.extend(map(where.__getitem__, map(id, row.keys())))
        except KeyError:  # a variable the model did not list: take it in
            for v in row:
                if id(v) not in where:
                    where[id(v)] = len(columns)
                    columns.append(v)
            index.extend(map(where.__getitem__, map(id, row.keys())))
        value.extend(row.values())
        start.append(len(index))
    as_int = np.int32
    return columns, rows, np.array(start, as_int), np.array(index, as_int), np.array(value)


def _arrays(problem: pulp.LpProblem, model: Model) -> _Arrays:
    """Read the PuLP problem into arrays (what an MPS file would say, without the file).
    The rows' coefficients are read once per model (a later stage only changes bounds,
    senses and the objective; a new row means a new read)."""
    rows_now = problem.constraints()
    key = (len(rows_now), id(rows_now[-1]) if rows_now else None)
    if model.lp_matrix is None or model.lp_matrix[0] != key:
        model.lp_matrix = (key, _matrix(problem, model.variables()))
    columns, rows, start, index, value = model.lp_matrix[1]
    where = {id(v): j for j, v in enumerate(columns)}
    if any(id(v) not in where for v in problem.objective):  # only in the objective
        extra = [v for v in problem.objective if id(v) not in where]
        model.lp_matrix = (key, _matrix(problem, [*columns, *extra]))
        columns, rows, start, index, value = model.lp_matrix[1]
        where = {id(v): j for j, v in enumerate(columns)}
    rhs = np.array([-row.constant for row in rows], dtype=float)
    sense = np.array([row.sense for row in rows])
    cost = np.zeros(len(columns))
    for v, a in problem.objective.items():
        cost[where[id(v)]] = a
    low = [v.lowBound for v in columns]
    up = [v.upBound for v in columns]
    return _Arrays(
        columns, rows, cost,
        np.array([-np.inf if x is None else x for x in low], dtype=float),
        np.array([np.inf if x is None else x for x in up], dtype=float),
        np.where(sense == pulp.LpConstraintLE, -np.inf, rhs),
        np.where(sense == pulp.LpConstraintGE, np.inf, rhs),
        start, index, value,
    )  # fmt: skip


def _highs(arrays: _Arrays, time_limit: float, maximise: bool):
    """A HiGHS instance holding the LP relaxation, simplex without presolve (whose optimal
    vertex on these network-like rows is the one most often integral)."""
    import highspy

    with _quiet_stdout(os.devnull):  # HiGHS prints its banner when an instance is made
        h = highspy.Highs()
    for option, value in (("output_flag", False), ("presolve", "off"), ("solver", "simplex")):
        h.setOptionValue(option, value)
    h.setOptionValue("time_limit", float(time_limit))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(arrays.columns), len(arrays.rows)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = arrays.cost, arrays.lower, arrays.upper
    lp.row_lower_, lp.row_upper_ = arrays.row_lower, arrays.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = arrays.start, arrays.index
    lp.a_matrix_.value_ = arrays.value
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    h.passModel(lp)
    return h


def _solve_lp(model: Model, time_limit: float) -> str:
    """The LP relaxation, in process: 'optimal' (the values, reduced costs and duals are
    then on the model), 'infeasible', or 'unknown' (let branch and bound decide)."""
    import highspy

    problem = model.problem
    arrays = _arrays(problem, model)
    h = _highs(arrays, time_limit, problem.sense == pulp.LpMaximize)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible"
    if status != highspy.HighsModelStatus.kOptimal:
        return "unknown"
    solution = h.getSolution()
    for v, x in zip(arrays.columns, np.asarray(solution.col_value).tolist(), strict=True):
        v.varValue = x
    # the variables with a nonzero reduced cost and the rows with a nonzero dual
    dj, pi = np.asarray(solution.col_dual), np.asarray(solution.row_dual)
    model.lp_duals = (
        [arrays.columns[j] for j in np.flatnonzero(np.abs(dj) > 1e-7).tolist()],
        [arrays.rows[i] for i in np.flatnonzero(np.abs(pi) > 1e-7).tolist()],
    )
    return "optimal"


def _relaxation(model: Model, time_limit: float, entry: dict[str, Any]) -> str | None:
    """The stage decided by its LP relaxation: 'optimal' (its vertex is integral),
    'infeasible', 'fractional' (an optimal vertex that is not integral: the values and
    duals are on the model), or None (let branch and bound decide)."""
    if not model.lp_first:
        return None
    relaxed = _solve_lp(model, time_limit)
    entry["lp_solver"] = "highs"
    if relaxed == "infeasible":
        entry["proof"] = "lp_relaxation_infeasible"
        return "infeasible"
    if relaxed != "optimal":
        return None
    entry["bound"] = float(pulp.value(model.problem.objective) or 0.0)
    if _integral(model.variables()):
        entry["proof"] = "lp_relaxation_integral"
        return "optimal"
    return "fractional"


def _solve(
    model: Model,
    solver: str,
    time_limit: float,
    log: SolveLog,
    stage: str | dict[str, Any],
    final: bool = True,
    relax: str = "first",
) -> str:
    """Solve one stage, then check the answer ourselves (the row residuals only for a
    final stage: a first stage's values are replaced by the next). `relax`: 'first' tries
    the LP relaxation before branch and bound, 'stop' returns 'fractional' when its vertex
    is not integral (the caller tries the LP's optimal face), 'skip' goes straight to
    branch and bound. `stage`: its name, or the entry of an LP already solved."""
    start = time.perf_counter()
    entry: dict[str, Any] = {"stage": stage} if isinstance(stage, str) else stage
    status = None if relax == "skip" else _relaxation(model, time_limit, entry)
    if status == "fractional" and relax == "stop":
        seconds = time.perf_counter() - start
        log.solve_seconds += seconds
        entry["seconds"] = round(seconds, 4)
        log.stages.append(entry)
        return status
    if status in (None, "fractional"):
        _run(model.problem, solver, time_limit)  # the limit applies to each solve
        status, entry["proof"] = _status(model.problem), "branch_and_bound"
    return _finish(model, entry, status, log, final, start)


def _finish(model: Model, entry: dict, status: str, log: SolveLog, final: bool, start) -> str:
    """Record a stage: its status, time and objective, checked from the values."""
    seconds = time.perf_counter() - start
    log.solve_seconds += seconds
    entry.update(status=status, seconds=round(seconds, 4))
    if status in ("optimal", "time_limit_feasible"):
        violation, fraction = _check(model) if final else (0, 0)
        log.max_violation = max(log.max_violation, violation)
        log.max_fraction = max(log.max_fraction, fraction)
        entry["objective"] = float(pulp.value(model.problem.objective) or 0.0)
        bound = entry.get("bound")
        if status == "time_limit_feasible" and bound is not None:
            entry["gap"] = abs(bound - entry["objective"]) / max(abs(bound), 1e-9)
            log.gap = max(log.gap or 0.0, entry["gap"])
        if violation > TOL or fraction > TOL:
            # the solver's word is not enough: a solution that fails our own check is not one
            status = "solution_failed_verification"
            entry["status"] = status
    log.stages.append(entry)
    return status


MAXIMISE = ("lasting", "employed")  # what stage 1 maximises: the plan's, or a bound's


def first_objective(model: Model, inst: Instance, maximise: str = "lasting"):
    """Stage 1: expected lasting employment (or, for a bound in people, employment), less
    the soft household rule's penalty and any soft row's shortfall (and plus the weighted
    income term in the weighted mode)."""
    p = inst.params
    target = model.employed if maximise == "employed" else model.lasting
    objective = target - p.household_uncovered_penalty * model.uncovered - model.shortfall
    if p.objective_mode == "weighted":
        objective = objective + (p.income_weight / 1000.0) * model.income
    return objective


def plan_objective(inst: Instance, employer: np.ndarray) -> float:
    """Stage 1's value of any plan (employer index per laborer, -1 none), scored as the
    model scores it: how a rule of thumb is compared with the optimum on its own terms."""
    p = inst.params
    rows = np.flatnonzero(employer >= 0)
    prob = inst.probability[rows, employer[rows]]
    value = float(prob.sum())
    if not p.household_floor_hard:
        household = inst.laborers["household_id"].to_numpy()
        uncovered = len(np.setdiff1d(inst.required, household[rows]))
        value -= p.household_uncovered_penalty * uncovered
    if p.objective_mode == "weighted":
        value += p.income_weight / 1000.0 * float((prob * inst.net_wage[employer[rows]]).sum())
    return value


def _check_solver(solver: str, maximise: str) -> None:
    if solver not in SOLVERS:
        raise ValueError(f"solver(={solver!r}) must be one of {SOLVERS}")
    if maximise not in MAXIMISE:
        raise ValueError(f"maximise(={maximise!r}) must be one of {MAXIMISE}")


def solve_model(
    inst: Instance,
    build,
    solver: str = "cbc",
    time_limit: float | None = None,
    write_mps: str | Path | None = None,
    maximise: str = "lasting",
    diagnose: bool = True,
) -> tuple[Model, SolveLog]:
    """Stage 1, then stage 2 with stage 1 fixed (module docstring). Raises MatchFailed,
    with the elastic diagnosis, when there is no plan. `diagnose=False` skips that
    re-solve (a caller that only reads the failure's status, such as a batch that tries
    softer rules next, would throw its few seconds away)."""
    _check_solver(solver, maximise)
    p = inst.params
    limit = p.time_limit if time_limit is None else time_limit
    log = SolveLog()
    start = time.perf_counter()
    model = build(inst)
    objective = first_objective(model, inst, maximise)
    model.problem.setObjective(objective)
    log.build_seconds = time.perf_counter() - start
    if p.objective_mode == "weighted":
        status = _solve(model, solver, limit, log, "weighted")
    else:
        status = _lexicographic(model, objective, solver, limit, log, maximise)
    log.status = status
    if status not in ("optimal", "time_limit_feasible"):
        _fail(inst, build, solver, limit, log, diagnose)
    if write_mps is not None:
        write_model(model, write_mps)
    return model, log


def _lexicographic(model: Model, objective, solver: str, limit: float, log: SolveLog, stage):
    """Stage 1, then expected income on stage 1's optimal plans. A fractional stage-1
    vertex is first given a chance on its LP's optimal face: if the income LP over that
    face has an integral vertex, it is an integer point of value equal to the LP bound,
    which proves stage 1 optimal and is stage 2's optimum too (no branch and bound)."""
    status = _solve(model, solver, limit, log, stage, final=False, relax="stop")
    if status == "fractional":
        status = _on_the_face(model, objective, limit, log)
        if status is not None:
            return status
        status = _solve(model, solver, limit, log, log.stages.pop(), final=False, relax="skip")
    if status == "time_limit_feasible":
        return _check_residuals(model, log, status)  # no stage 2: this plan is the result
    if status != "optimal":
        return status
    return _second_stage(model, objective, solver, limit, log)


def _on_the_face(model: Model, objective, limit: float, log: SolveLog) -> str | None:
    """Expected income over stage 1's LP optimal face; the final status when its vertex
    is integral, else None with the model as it was (bounds, senses, objective)."""
    first = log.stages[-1]
    start = time.perf_counter()
    variables, rows = model.variables(), list(model.problem.constraints())
    saved = ([(v.lowBound, v.upBound) for v in variables], [r.sense for r in rows])
    duals = model.lp_duals  # stage 1's: the income LP below replaces them
    _hold_first_stage(model, objective, first["bound"], first)
    model.problem.setObjective(model.income)
    entry: dict[str, Any] = {"stage": "income"}
    if _relaxation(model, limit, entry) == "optimal":
        value = float(pulp.value(objective) or 0.0)
        first.update(status="optimal", proof="integral_point_of_lp_optimal_face", objective=value)
        return _finish(model, entry, "optimal", log, True, start)
    for v, (low, up) in zip(variables, saved[0], strict=True):
        v.lowBound, v.upBound = low, up
    for row, sense in zip(rows, saved[1], strict=True):
        row.sense = sense
    first.pop("held_by", None)
    model.lp_duals = duals
    model.problem.setObjective(objective)
    return None


def _second_stage(model: Model, objective, solver: str, limit: float, log: SolveLog) -> str:
    """Expected income with stage 1 held at its optimum; without an income-stage plan, the
    first stage's plan stands (and the status says so)."""
    best = float(pulp.value(objective) or 0.0)
    _hold_first_stage(model, objective, best, log.stages[-1])
    model.problem.setObjective(model.income)
    variables = model.variables()
    first = [v.varValue for v in variables]
    status = _solve(model, solver, limit, log, "income")
    if status not in ("optimal", "time_limit_feasible"):
        for v, value in zip(variables, first, strict=True):
            v.varValue = value
        status = "time_limit_feasible" if status.startswith("time_limit") else status
        status = _check_residuals(model, log, status)
    held = float(pulp.value(objective) or 0.0)
    if held < best - TOL * max(1.0, abs(best)):
        status = "solution_failed_verification"  # stage 2 must not give up stage 1
    return status


def _check_residuals(model: Model, log: SolveLog, status: str) -> str:
    """Our own check of the plan that stands, from the variable values."""
    violation, fraction = _check(model)
    log.max_violation = max(log.max_violation, violation)
    log.max_fraction = max(log.max_fraction, fraction)
    return "solution_failed_verification" if violation > TOL or fraction > TOL else status


def _hold_first_stage(model: Model, objective, best: float, stage: dict[str, Any]) -> None:
    """Keep stage 2 on stage 1's optimal plans. When stage 1's integer optimum meets its
    LP bound, its optimal plans are exactly the integer points of the LP's optimal face:
    by complementary slackness, the variables with a nonzero reduced cost stay at their
    bound and the rows with a nonzero dual stay tight. Fixing those keeps the network
    structure (the next vertex is usually integral again), where a row "objective >= best"
    with fractional coefficients would not. Otherwise that row is used."""
    bound = stage.get("bound")
    duals = model.lp_duals
    if duals is not None and bound is not None and abs(bound - best) <= 1e-9 * max(1.0, abs(best)):
        priced_columns, priced_rows = duals
        for v in priced_columns:
            v.lowBound = v.upBound = v.varValue
        for row in priced_rows:
            row.sense = pulp.LpConstraintEQ
        stage["held_by"] = "lp_optimal_face"
        return
    stage["held_by"] = "objective_row"
    model.problem += pulp.LpConstraint(
        objective, pulp.LpConstraintGE, "lasting_fixed", best - TOL * max(1.0, abs(best))
    )


def _fail(inst: Instance, build, solver: str, limit: float, log: SolveLog, diagnose=True):
    """No plan: run the elastic diagnosis (if asked) and raise MatchFailed saying what
    happened."""
    what = {
        "infeasible": "the hard rules cannot all hold",
        "time_limit_no_solution": f"the time limit ({limit:g} s per solve) ran out before any plan",
        "solution_failed_verification": "the solver's answer failed our own check of the "
        "rows and integrality",
    }.get(log.status, f"the solver returned {log.status}")
    lines = [f"job matching found no plan: {what}"]
    if not diagnose:
        raise MatchFailed(log.status, lines[0] + " (no elastic diagnosis asked for)")
    diagnosis = elastic_diagnosis(inst, build, solver, limit, log)
    log.elastic = diagnosis
    for kind, r in (diagnosis or {}).items():
        worst = sorted(r["by_constraint"].items(), key=lambda kv: -kv[1])[:3]
        names = "; ".join(f"{k} short by {v:g}" for k, v in worst)
        lines.append(
            f"  {kind}: {r['constraints']} rows give way by {r['shortfall']:g} {r['unit']} "
            f"(largest: {names})"
        )
    if diagnosis == {}:
        lines.append("  the elastic re-solve needs no slack: raise the time limit")
    if diagnosis is None:
        lines.append(
            f"  the elastic diagnosis found no plan within the limit either ({limit:g} s): "
            "raise --time-limit to learn which rules give way"
        )
    raise MatchFailed(log.status, "\n".join(lines), diagnosis)


def elastic_diagnosis(
    inst: Instance, build, solver: str, limit: float, log: SolveLog
) -> dict[str, Any] | None:
    """Re-solve with a penalised slack on each household and floor row, and report which
    give way, by how much (None if even that finds no plan)."""
    start = time.perf_counter()
    model = build(inst, elastic=True)
    penalty = elastic_penalty(inst)
    slacks = [s for group in model.slacks.values() for s in group.values()]
    model.problem.setObjective(model.lasting - penalty * (model.uncovered + pulp.lpSum(slacks)))
    log.build_seconds += time.perf_counter() - start
    status = _solve(model, solver, limit, log, "elastic")
    if status not in ("optimal", "time_limit_feasible"):
        return None
    report: dict[str, Any] = {}
    groups = {"household_has_worker": model.household_slacks, **model.slacks}
    for kind, group in groups.items():
        values = {k: float(pulp.value(v) or 0.0) for k, v in group.items()}
        values = {k: v for k, v in values.items() if v > TOL}
        if values:
            report[kind] = {
                "constraints": len(values),
                "shortfall": round(sum(values.values()), 6),
                "unit": "households" if kind == "household_has_worker" else "people",
                "by_constraint": {k: round(v, 6) for k, v in values.items()},
            }
    return report


def write_model(model: Model, path: str | Path) -> None:
    """The final model solved, as MPS. PuLP marks a maximisation only in a comment, so an
    OBJSENSE MAX section is added for other solvers to read it right."""
    path = Path(path)
    model.problem.writeMPS(str(path))
    if model.problem.sense == pulp.LpMaximize:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("ROWS\n", "OBJSENSE\n    MAX\nROWS\n", 1), "utf-8")


def resolve_first_stage(
    inst: Instance, build, solver: str, time_limit: float | None, changes: dict
) -> dict:
    """Stage 1's optimum after each `change(model)` of `changes` (key -> change, e.g. one
    more place), or None unless it is a proven optimum that passes our own check. Used for
    marginal values. One model serves them all (a build cost more than an LP solve): a
    change may only move right-hand sides, and the model is put back before the next."""
    p = inst.params
    limit = p.time_limit if time_limit is None else time_limit
    values: dict = {}
    model = None
    for key, change in changes.items():
        if model is None:
            model = build(inst)
            objective = first_objective(model, inst)
            restore = _snapshot(model, objective)
        change(model)
        values[key] = _first_stage_optimum(model, objective, solver, limit)
        if not restore():
            model = None  # the solve added a row: the next change gets a fresh model
    return values


def _snapshot(model: Model, objective):
    """A function that puts the model back as it is now (right-hand sides, senses, bounds,
    objective) and says whether it could (False if rows were added since)."""
    model.problem.setObjective(objective)
    rows, variables = list(model.problem.constraints()), model.variables()
    saved_rows = [(row.constant, row.sense) for row in rows]
    saved_bounds = [(v.lowBound, v.upBound) for v in variables]

    def restore() -> bool:
        for row, (constant, sense) in zip(rows, saved_rows, strict=True):
            row.constant, row.sense = constant, sense
        for v, (low, up) in zip(variables, saved_bounds, strict=True):
            v.lowBound, v.upBound = low, up
        model.problem.setObjective(objective)
        return len(model.problem.constraints()) == len(rows)

    return restore


def _first_stage_optimum(model: Model, objective, solver: str, limit: float) -> float | None:
    """Stage 1 proven as the matching proves it (`_lexicographic`): its LP relaxation, then
    an integral point of the LP's optimal face, then branch and bound; its value if proven
    optimal and checked, else None."""
    log = SolveLog()
    status = _solve(model, solver, limit, log, "marginal", relax="stop")
    if status == "fractional":
        status = _on_the_face(model, objective, limit, log)
        if status is None:
            status = _solve(model, solver, limit, log, log.stages.pop(), relax="skip")
    return float(pulp.value(objective) or 0.0) if status == "optimal" else None


def check_assignment(
    inst: Instance, employer: np.ndarray, household_floor: bool = True
) -> dict[str, float]:
    """Every rule, checked from the people table alone (not from the solver): eligibility,
    capacity, households, the care rule, floors. Returns the worst violation per group."""
    lab = inst.laborers
    n = len(lab)
    worst: dict[str, float] = {}
    hired = employer >= 0
    rows = np.flatnonzero(hired)
    worst["eligibility"] = float((~inst.eligible[rows, employer[rows]]).sum())
    counts = np.bincount(employer[hired], minlength=len(inst.employers))
    caps = np.array([e.capacity for e in inst.employers], dtype=int)
    worst["capacity"] = float(max(0, (counts - caps).max(initial=0)))
    household = lab["household_id"].to_numpy()
    if household_floor and inst.params.household_floor_hard and len(inst.required):
        uncovered = np.isin(inst.required, household[hired], invert=True)
        worst["household_has_worker"] = float(uncovered.sum())
    if len(inst.care_bound):
        away = np.zeros(n, dtype=bool)
        away[rows] = inst.away[employer[rows]]
        gone = int(np.isin(inst.care_bound, household[~away], invert=True).sum())
        worst["care_rule"] = float(max(0, gone - inst.params.care_places))
    total = hired.sum()
    for kind, groups in inst.groups().items():
        f = inst.floor(kind)
        if f <= 0 or n == 0:
            continue
        for mask in groups.values():
            gap = f * mask.sum() / n * total - hired[mask].sum()
            worst[kind] = max(worst.get(kind, 0.0), float(gap))
    return {k: max(0.0, v) for k, v in worst.items()}
