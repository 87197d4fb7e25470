"""Solving the matching and checking the answer ourselves.

Stages (lexicographic mode): 1. expected lasting employment (less the soft household
penalty), 2. expected net income with stage 1 held at its optimum; the remaining ties are
broken by person id when the counts go back to people. The weighted mode solves once.

Each stage first solves the LP relaxation: most rows form a network, so its optimal vertex
is usually integral, and then it *is* a proven optimum of the integer programme (its bound
is met). Otherwise branch and bound runs (CBC or HiGHS, `time_limit` per solve). Every
answer is checked from the variable values (`model_residuals`) and, person by person,
from the plan (`check_assignment`). Only a verified proven optimum is "optimal"; a
feasible plan stopped by the time limit is "time_limit_feasible" with its gap to the LP
bound. Anything else is no plan: `MatchFailed`, with an elastic diagnosis that says which
hard rows give way, named as a planner reads them (county, household type in words).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pulp

from simlib.matching.formulation import Model
from simlib.matching.instance import Instance
from simlib.provenance import RunFailed

SOLVERS = ("cbc", "highs")
TOL = 1e-6


class MatchFailed(RunFailed):
    """The matching ended without a plan (infeasible, or stopped with none): the message
    says why and, where the elastic re-solve ran, which hard rows give way."""

    def __init__(self, status: str, message: str, diagnosis: dict[str, Any] | None = None):
        self.status = status
        self.diagnosis = diagnosis
        super().__init__(message)


def make_solver(name: str, time_limit: float, mip: bool = True):
    """CBC (ships with PuLP) or HiGHS through PuLP, asked for proven optimality."""
    if name == "cbc":
        with warnings.catch_warnings():
            # PuLP 3 warns that the bundled CBC moves to an extra in 4.0; it is still here
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=0, gapAbs=0, mip=mip)
    if name == "highs":
        return pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=0, gapAbs=0, mip=mip)
    raise ValueError(f"solver(={name!r}) must be one of {SOLVERS}")


@contextlib.contextmanager
def _quiet_stdout():
    """Send what a solver library prints (HiGHS prints a banner from C++) to stderr, so
    that `--json` leaves nothing but JSON on stdout."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (e.g. captured by a notebook)
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


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


def _solve(
    model: Model, solver: str, time_limit: float, log: SolveLog, stage: str, final: bool = True
) -> str:
    """Solve one stage (LP relaxation first), then check the answer ourselves (the row
    residuals only for a final stage: a first stage's values are replaced by the next)."""
    start = time.perf_counter()
    problem = model.problem
    entry: dict[str, Any] = {"stage": stage}
    relaxed = bound = None
    if model.lp_first:
        _run(problem, solver, time_limit, mip=False)
        relaxed = problem.status
        if relaxed == pulp.LpStatusOptimal:
            bound = float(pulp.value(problem.objective) or 0.0)
            entry["bound"] = bound
            # the LP's reduced costs and duals, before a branch-and-bound solve overwrites them
            model.lp_duals = (
                {v.name: v.dj for v in model.variables()},
                {row.name: row.pi for row in problem.constraints()},
            )
    if model.lp_first and relaxed == pulp.LpStatusOptimal and _integral(model.variables()):
        status, entry["proof"] = "optimal", "lp_relaxation_integral"
    elif relaxed == pulp.LpStatusInfeasible:
        status, entry["proof"] = "infeasible", "lp_relaxation_infeasible"
    else:
        _run(problem, solver, time_limit)  # the limit applies to each solve
        status, entry["proof"] = _status(problem), "branch_and_bound"
    seconds = time.perf_counter() - start
    log.solve_seconds += seconds
    entry.update(status=status, seconds=round(seconds, 4))
    if status in ("optimal", "time_limit_feasible"):
        violation, fraction = model_residuals(problem, model.variables()) if final else (0, 0)
        log.max_violation = max(log.max_violation, violation)
        log.max_fraction = max(log.max_fraction, fraction)
        entry["objective"] = float(pulp.value(problem.objective) or 0.0)
        if status == "time_limit_feasible" and bound is not None:
            entry["gap"] = abs(bound - entry["objective"]) / max(abs(bound), 1e-9)
            log.gap = max(log.gap or 0.0, entry["gap"])
        if violation > TOL or fraction > TOL:
            # the solver's word is not enough: a solution that fails our own check is not one
            status = "solution_failed_verification"
            entry["status"] = status
    log.stages.append(entry)
    return status


def first_objective(model: Model, inst: Instance) -> pulp.LpAffineExpression:
    """Stage 1: expected lasting employment, less the soft household rule's penalty (and
    plus the weighted income term in the weighted mode)."""
    p = inst.params
    objective = model.lasting - p.household_uncovered_penalty * model.uncovered
    if p.objective_mode == "weighted":
        objective = objective + (p.income_weight / 1000.0) * model.income
    return objective


def solve_model(
    inst: Instance,
    build,
    solver: str = "cbc",
    time_limit: float | None = None,
    write_mps: str | Path | None = None,
) -> tuple[Model, SolveLog]:
    """Stage 1, then stage 2 with stage 1 fixed (module docstring). Raises MatchFailed,
    with the elastic diagnosis, when there is no plan."""
    if solver not in SOLVERS:
        raise ValueError(f"solver(={solver!r}) must be one of {SOLVERS}")
    p = inst.params
    limit = p.time_limit if time_limit is None else time_limit
    log = SolveLog()
    start = time.perf_counter()
    model = build(inst)
    weighted = p.objective_mode == "weighted"
    objective = first_objective(model, inst)
    model.problem.setObjective(objective)
    log.build_seconds = time.perf_counter() - start
    first_is_final = weighted  # otherwise stage 2 replaces the values, and is checked
    status = _solve(
        model, solver, limit, log, "weighted" if weighted else "lasting", first_is_final
    )
    if status not in ("optimal", "time_limit_feasible"):
        log.status = status
        _fail(inst, build, solver, limit, log)
    if status == "time_limit_feasible" and not first_is_final:
        status = _check_residuals(model, log, status)  # no stage 2: this plan is the result
    if status == "optimal" and not weighted:
        best = float(pulp.value(objective) or 0.0)
        _hold_first_stage(model, objective, best, log.stages[-1])
        model.problem.setObjective(model.income)
        first = {v.name: v.varValue for v in model.variables()}
        status = _solve(model, solver, limit, log, "income")
        if status not in ("optimal", "time_limit_feasible"):
            # no income-stage plan: keep the first stage's (and say so in the status)
            for v in model.variables():
                v.varValue = first[v.name]
            status = "time_limit_feasible" if status.startswith("time_limit") else status
            status = _check_residuals(model, log, status)
        held = float(pulp.value(objective) or 0.0)
        if held < best - TOL * max(1.0, abs(best)):
            status = "solution_failed_verification"  # stage 2 must not give up stage 1
    log.status = status
    if status not in ("optimal", "time_limit_feasible"):
        _fail(inst, build, solver, limit, log)
    if write_mps is not None:
        write_model(model, write_mps)
    return model, log


def _check_residuals(model: Model, log: SolveLog, status: str) -> str:
    """Our own check of the plan that stands, from the variable values."""
    violation, fraction = model_residuals(model.problem, model.variables())
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
        reduced, prices = duals
        for v in model.variables():
            dj = reduced.get(v.name)
            if dj is not None and abs(dj) > 1e-7:
                v.lowBound = v.upBound = v.varValue
        for row in model.problem.constraints():
            pi = prices.get(row.name)
            if pi is not None and abs(pi) > 1e-7:
                row.sense = pulp.LpConstraintEQ
        stage["held_by"] = "lp_optimal_face"
        return
    stage["held_by"] = "objective_row"
    model.problem += pulp.LpConstraint(
        objective, pulp.LpConstraintGE, "lasting_fixed", best - TOL * max(1.0, abs(best))
    )


def _fail(inst: Instance, build, solver: str, limit: float, log: SolveLog) -> None:
    """No plan: run the elastic diagnosis and raise MatchFailed saying what happened."""
    diagnosis = elastic_diagnosis(inst, build, solver, limit, log)
    log.elastic = diagnosis
    what = {
        "infeasible": "the hard rules cannot all hold",
        "time_limit_no_solution": f"the time limit ({limit:g} s per solve) ran out before any plan",
        "solution_failed_verification": "the solver's answer failed our own check of the "
        "rows and integrality",
    }.get(log.status, f"the solver returned {log.status}")
    lines = [f"job matching found no plan: {what}"]
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
    penalty = 10.0 * (len(inst.laborers) + 1)  # one unit of slack outweighs all employment
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
    inst: Instance, build, solver: str, time_limit: float | None, change
) -> float | None:
    """Stage 1's optimum after `change(model)` (e.g. one more place), or None unless it is
    a proven optimum that passes our own check. Used for marginal values."""
    p = inst.params
    limit = p.time_limit if time_limit is None else time_limit
    model = build(inst)
    change(model)
    objective = first_objective(model, inst)
    model.problem.setObjective(objective)
    log = SolveLog()
    if _solve(model, solver, limit, log, "marginal") != "optimal":
        return None
    return float(pulp.value(objective) or 0.0)


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
        covered = set(household[hired].tolist())
        worst["household_has_worker"] = float(sum(h not in covered for h in inst.required))
    if len(inst.care_bound):
        away = np.zeros(n, dtype=bool)
        away[rows] = inst.away[employer[rows]]
        stays = ~away
        kept = set(household[stays].tolist())
        gone = sum(h not in kept for h in inst.care_bound.tolist())
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
