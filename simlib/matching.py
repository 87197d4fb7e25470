"""Job matching (PuLP): who goes to which job.

Employment first, expected income second, every household with labour has a worker, and
no county is left far behind. The formulation is aggregated, because laborers who agree
on everything the model reads are interchangeable (see `simlib.eligibility.classify`):

Data: classes c (size s_c, county, eligibility), employers e (capacity k_e), household
types t = households whose laborers fall in the same *set* of classes (n_t households).

Variables:
    x[c, e] >= 0 integer   laborers of class c employed by e (only where c may work for e)
    y[t, c] >= 0 integer   households of type t whose *designated worker* is of class c

Constraints:
    capacity[e]               sum_c x[c, e] <= k_e
    class_size[c]             sum_e x[c, e] <= s_c
    household_has_worker[t]   sum_c y[t, c]  = n_t          (hard household floor)
    designated_employed[c]    sum_e x[c, e] >= sum_t y[t, c]
    fairness[county]          E_county >= f * (L_county / L) * E   (E = total employed)
    sex_balance[s], age_balance[b]   the same form, when their floors are > 0

Objective: max E, then (with E fixed) max sum wage_e * suitability_ce * x[c, e].

Why this is exact (disaggregation, `_disaggregate`): the n_t households of a type are
identical as far as the model is concerned, and each has at least one member of every
class in its set. Give the first y[t, c1] of them (by household id) a designated worker of
class c1, the next y[t, c2] one of class c2, and so on: every household gets exactly one
designated worker because sum_c y[t, c] = n_t. Within a class all members are alike, so
the e_c = sum_e x[c, e] employed members of class c can be chosen to include its d_c =
sum_t y[t, c] designated ones (d_c <= e_c <= s_c) and then spread over employers by x[c, e].
Conversely every individual assignment gives such x and y (pick one employed member per
covered household as the designated one). So both models have the same optimum; the
tests check this against the individual model and brute force. Only the *set* of classes
matters (y[t, c] <= n_t already follows from the equality), which keeps types few.

Solving (`solve_model`): each stage first solves the LP relaxation; most rows form a
network, so its optimal vertex is usually integral, and then it *is* a proven optimum of
the integer programme. Otherwise branch and bound runs (CBC or HiGHS, `time_limit` per
solve). Every answer is checked here (`model_residuals`: row residuals, bounds,
integrality; `check_assignment`: every rule, person by person) before it is reported, and
only a proven, verified optimum is called optimal. If the hard rows cannot all hold, an
elastic re-solve adds a penalised slack to each household and floor row and reports which
groups give way and by how much (`SolveLog.elastic`). The marginal value of one more job
at an employer is the dual of its capacity row in the employment stage's LP relaxation
(people employed per extra job; one dual among several when the LP is degenerate); its
marginal income is the same row's dual in the income stage, with employment held at its
optimum (expected yuan/month one more place adds).

Households with laborers none of whom is eligible anywhere cannot be covered by any plan;
they are left out of the hard household rows and reported with that reason.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pulp

from simlib.eligibility import age_band, class_people, classify, eligibility
from simlib.jobs_inputs import AGE_BANDS, JobsParams, load_jobs_params
from simlib.population import Population, generate_population
from simlib.scenario import Scenario

SOLVERS = ("cbc", "highs")
TOL = 1e-6
REASON_NOWHERE = "not eligible for any programme"
REASON_FULL = "every programme this laborer is eligible for is full"
REASON_FLOOR = "eligible capacity left, but a fairness or balance floor holds it back"
REASON_HH_NOWHERE = "no member is eligible for any programme"
REASON_HH_FULL = "every programme its members are eligible for is full"
REASON_HH_RELAXED = "household floor relaxed (elastic re-solve or not hard) and not covered"


# --- the instance ------------------------------------------------------------------------


@dataclass
class Instance:
    """Laborers, their eligibility and the aggregated classes and household types."""

    laborers: pd.DataFrame  # one row per laborer, in person_id order
    params: JobsParams
    eligible: np.ndarray  # laborers x employers
    suitability: np.ndarray  # laborers x employers
    class_of: np.ndarray  # class index per laborer
    classes: pd.DataFrame
    class_eligible: np.ndarray  # classes x employers
    class_suitability: np.ndarray
    types: list[tuple[int, ...]]  # the set of classes of each household type
    type_households: list[np.ndarray]  # household ids per type (sorted)
    required: np.ndarray  # household ids that must get a worker
    hopeless: np.ndarray  # household ids with laborers none of whom is eligible anywhere

    @property
    def employers(self):
        return self.params.employers

    def groups(self) -> dict[str, dict[str, np.ndarray]]:
        """Balance groups (name -> member mask over laborers) per kind of floor."""
        lab = self.laborers
        result = {"fairness": {c: (lab["county"] == c).to_numpy() for c in _counties(lab)}}
        if self.params.sex_balance_floor > 0:
            result["sex_balance"] = {s: (lab["sex"] == s).to_numpy() for s in ("F", "M")}
        if self.params.age_balance_floor > 0:
            band = age_band(lab["age"].to_numpy())
            result["age_balance"] = {
                f"{lo}-{hi}": band == k for k, (lo, hi) in enumerate(AGE_BANDS)
            }
        return result

    def floor(self, kind: str) -> float:
        return {
            "fairness": self.params.fairness_floor,
            "sex_balance": self.params.sex_balance_floor,
            "age_balance": self.params.age_balance_floor,
        }[kind]


def _counties(laborers: pd.DataFrame) -> list[str]:
    return sorted(laborers["county"].unique())


def build_instance(people: pd.DataFrame, params: JobsParams) -> Instance:
    """Eligibility per laborer, classes, and household types (by set of classes)."""
    laborers = people[people["laborer"]].sort_values("person_id").reset_index(drop=True)
    eligible, suitability = eligibility(laborers, params)
    class_of, classes = classify(laborers, params)
    class_eligible, class_suitability = eligibility(class_people(classes), params)
    anywhere = class_eligible.any(axis=1)
    frame = pd.DataFrame({"household_id": laborers["household_id"], "c": class_of})
    frame = frame[anywhere[class_of]]
    frame = frame.drop_duplicates().sort_values(["household_id", "c"])
    sets = frame.groupby("household_id")["c"].agg(tuple)
    by_type = defaultdict(list)
    for household, key in sets.items():
        by_type[key].append(household)
    types = sorted(by_type)
    with_labour = np.unique(laborers["household_id"])
    required = np.array(sorted(sets.index), dtype=int)
    return Instance(
        laborers=laborers,
        params=params,
        eligible=eligible,
        suitability=suitability,
        class_of=class_of,
        classes=classes,
        class_eligible=class_eligible,
        class_suitability=class_suitability,
        types=types,
        type_households=[np.array(sorted(by_type[t]), dtype=int) for t in types],
        required=required,
        hopeless=np.setdiff1d(with_labour, required),
    )


# --- solving -----------------------------------------------------------------------------


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
class Model:
    """A PuLP problem plus the pieces the later stages need."""

    problem: pulp.LpProblem
    assign: dict[tuple[int, int], pulp.LpVariable]  # (unit, employer) -> variable
    employed: pulp.LpAffineExpression
    income: pulp.LpAffineExpression
    capacity: dict[int, pulp.LpConstraint]
    slacks: dict[str, dict[str, pulp.LpVariable]] = field(default_factory=dict)
    designated: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    totals: list[pulp.LpVariable] = field(default_factory=list)
    lp_first: bool = True  # try the LP relaxation before branch and bound

    def variables(self) -> list[pulp.LpVariable]:
        """Every variable of the model (cheaper than asking PuLP, which scans all rows)."""
        slacks = [v for group in self.slacks.values() for v in group.values()]
        return [*self.assign.values(), *self.designated.values(), *slacks, *self.totals]


def _employed_total(problem: pulp.LpProblem, assign) -> pulp.LpVariable:
    """E = the number employed, as one variable, so that the floors and the fixed
    employment of the second stage refer to it instead of repeating every assignment."""
    total = problem.add_variable("employed", lowBound=0)
    terms = [(v, 1) for v in assign.values()] + [(total, -1)]
    problem += pulp.LpConstraint(
        pulp.LpAffineExpression(terms), pulp.LpConstraintEQ, "employed_total", 0
    )
    return total


def _floors(problem, inst: Instance, units_in_group, employed, elastic: bool, slacks) -> None:
    """fairness[county] and the optional balances: E_g >= floor * (L_g / L) * E."""
    total = len(inst.laborers)
    if total == 0:
        return
    for kind, groups in inst.groups().items():
        f = inst.floor(kind)
        if f <= 0:
            continue
        for name, mask in groups.items():
            size = int(mask.sum())
            if size == 0:
                continue
            expr = units_in_group(mask) - (f * size / total) * employed
            if elastic:
                slack = problem.add_variable(f"short_{kind}_{name}", lowBound=0)
                slacks.setdefault(kind, {})[name] = slack
                expr = expr + slack
            problem += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"{kind}[{name}]", 0)


def build_aggregated(inst: Instance, elastic: bool = False) -> Model:
    """The aggregated model (module docstring): class counts and designated workers."""
    p = inst.params
    problem = pulp.LpProblem("job_matching", pulp.LpMaximize)
    x: dict[tuple[int, int], pulp.LpVariable] = {}
    cls, emp = np.nonzero(inst.class_eligible)
    for c, e in zip(cls.tolist(), emp.tolist(), strict=True):
        x[c, e] = problem.add_variable(f"x_c{c}_e{e}", lowBound=0, cat=pulp.LpInteger)
    by_class = defaultdict(list)
    by_employer = defaultdict(list)
    for (c, e), var in x.items():
        by_class[c].append(var)
        by_employer[e].append(var)
    # E is kept as the sum of x (not a variable of its own): with E as a variable the LP
    # relaxation's vertex turned fractional here and branch and bound was needed
    employed = pulp.LpAffineExpression([(v, 1) for v in x.values()])
    income = pulp.LpAffineExpression(
        [(v, p.employers[e].wage * inst.class_suitability[c, e]) for (c, e), v in x.items()]
    )
    capacity = {}
    for e, emp_ in enumerate(p.employers):
        if by_employer[e]:
            capacity[e] = pulp.LpConstraint(
                pulp.LpAffineExpression([(v, 1) for v in by_employer[e]]),
                pulp.LpConstraintLE,
                f"capacity[{emp_.employer}]",
                emp_.capacity,
            )
            problem += capacity[e]
    sizes = inst.classes["size"].to_numpy()
    for c, vars_ in by_class.items():
        problem += pulp.LpConstraint(
            pulp.LpAffineExpression([(v, 1) for v in vars_]),
            pulp.LpConstraintLE,
            f"class_size[c{c}]",
            int(sizes[c]),
        )
    slacks: dict[str, dict[str, pulp.LpVariable]] = {}
    y_vars: dict[tuple[int, int], pulp.LpVariable] = {}
    if p.household_floor_hard:
        designated = defaultdict(list)
        for t, (key, households) in enumerate(zip(inst.types, inst.type_households, strict=True)):
            ys = [problem.add_variable(f"y_t{t}_c{c}", 0, None, pulp.LpInteger) for c in key]
            for c, y in zip(key, ys, strict=True):
                designated[c].append(y)
                y_vars[t, c] = y
            expr = pulp.LpAffineExpression([(y, 1) for y in ys])
            if elastic:
                slack = problem.add_variable(f"uncovered_t{t}", lowBound=0, upBound=len(households))
                slacks.setdefault("household_has_worker", {})[f"t{t}"] = slack
                expr = expr + slack
            problem += pulp.LpConstraint(
                expr, pulp.LpConstraintEQ, f"household_has_worker[t{t}]", len(households)
            )
        for c, ys in designated.items():
            problem += pulp.LpConstraint(
                pulp.LpAffineExpression(
                    [(v, 1) for v in by_class.get(c, [])] + [(y, -1) for y in ys]
                ),
                pulp.LpConstraintGE,
                f"designated_employed[c{c}]",
                0,
            )
    class_groups = {}

    def units_in_group(mask: np.ndarray) -> pulp.LpAffineExpression:
        # a class lies wholly inside or outside every balance group (county, sex, band)
        key = mask.tobytes()
        if key not in class_groups:
            members = np.unique(inst.class_of[mask])
            class_groups[key] = pulp.LpAffineExpression(
                [(v, 1) for c in members.tolist() for v in by_class.get(c, [])]
            )
        return class_groups[key]

    _floors(problem, inst, units_in_group, employed, elastic, slacks)
    return Model(problem, x, employed, income, capacity, slacks, y_vars)


def build_individual(inst: Instance, elastic: bool = False) -> Model:
    """The straightforward model: one binary per eligible laborer x employer (reference)."""
    p = inst.params
    problem = pulp.LpProblem("job_matching_individual", pulp.LpMaximize)
    z: dict[tuple[int, int], pulp.LpVariable] = {}
    person, emp = np.nonzero(inst.eligible)
    for i, e in zip(person.tolist(), emp.tolist(), strict=True):
        z[i, e] = problem.add_variable(f"z_i{i}_e{e}", 0, 1, pulp.LpBinary)
    by_person = defaultdict(list)
    by_employer = defaultdict(list)
    for (i, e), var in z.items():
        by_person[i].append(var)
        by_employer[e].append(var)
    total = _employed_total(problem, z)
    employed = pulp.LpAffineExpression([(total, 1)])
    income = pulp.LpAffineExpression(
        [(v, p.employers[e].wage * inst.suitability[i, e]) for (i, e), v in z.items()]
    )
    capacity = {}
    for e, emp_ in enumerate(p.employers):
        if by_employer[e]:
            capacity[e] = pulp.LpConstraint(
                pulp.LpAffineExpression([(v, 1) for v in by_employer[e]]),
                pulp.LpConstraintLE,
                f"capacity[{emp_.employer}]",
                emp_.capacity,
            )
            problem += capacity[e]
    pid = inst.laborers["person_id"].to_numpy()
    for i, vars_ in by_person.items():
        problem += pulp.LpConstraint(
            pulp.LpAffineExpression([(v, 1) for v in vars_]),
            pulp.LpConstraintLE,
            f"one_job[p{pid[i]}]",
            1,
        )
    slacks: dict[str, dict[str, pulp.LpVariable]] = {}
    if p.household_floor_hard:
        members = inst.laborers.groupby("household_id").indices
        for h in inst.required.tolist():
            expr = pulp.LpAffineExpression(
                [(v, 1) for i in members[h].tolist() for v in by_person[i]]
            )
            if elastic:
                slack = problem.add_variable(f"uncovered_h{h}", lowBound=0, upBound=1)
                slacks.setdefault("household_has_worker", {})[f"h{h}"] = slack
                expr = expr + slack
            problem += pulp.LpConstraint(
                expr, pulp.LpConstraintGE, f"household_has_worker[h{h}]", 1
            )

    def units_in_group(mask: np.ndarray) -> pulp.LpAffineExpression:
        return pulp.LpAffineExpression(
            [(v, 1) for i in np.flatnonzero(mask).tolist() for v in by_person[i]]
        )

    _floors(problem, inst, units_in_group, employed, elastic, slacks)
    return Model(problem, z, employed, income, capacity, slacks, {}, [total], lp_first=False)


@dataclass
class SolveLog:
    """What happened in the solves, for the summary."""

    status: str = "not_solved"
    stages: list[dict[str, Any]] = field(default_factory=list)
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    max_violation: float = 0.0
    max_fraction: float = 0.0
    elastic: dict[str, Any] | None = None
    marginal_jobs: dict[int, float] = field(default_factory=dict)  # people per extra place
    marginal_income: dict[int, float] = field(default_factory=dict)  # yuan/month per extra place


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
    model: Model,
    solver: str,
    time_limit: float,
    log: SolveLog,
    stage: str,
    duals: dict[int, float] | None = None,
) -> str:
    """Solve, then check the answer ourselves. The LP relaxation comes first: most of
    the matrix is a network, so its optimal vertex is usually integral, and an integral
    optimum of the relaxation is a proven optimum of the integer programme (its bound is
    met). Only when it is fractional does the branch-and-bound solve run."""
    start = time.perf_counter()
    problem = model.problem
    entry: dict[str, Any] = {"stage": stage}
    relaxed = None
    if model.lp_first or duals is not None:
        _run(problem, solver, time_limit, mip=False)
        relaxed = problem.status
    if relaxed == pulp.LpStatusOptimal and duals is not None:
        sign = -1.0 if solver == "highs" else 1.0  # PuLP passes HiGHS duals of a max negated
        duals.update({e: sign * float(c.pi or 0.0) for e, c in model.capacity.items()})
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
        violation, fraction = model_residuals(problem, model.variables())
        log.max_violation = max(log.max_violation, violation)
        log.max_fraction = max(log.max_fraction, fraction)
        entry["objective"] = float(pulp.value(problem.objective) or 0.0)
        if violation > TOL or fraction > TOL:
            # the solver's word is not enough: a solution that fails our own check is not one
            status = "solution_failed_verification"
            entry["status"] = status
    log.stages.append(entry)
    return status


def solve_model(
    inst: Instance,
    build,
    solver: str = "cbc",
    time_limit: float | None = None,
    duals: bool = True,
    write_mps: str | Path | None = None,
) -> tuple[Model, SolveLog]:
    """Employment first, then expected income with employment fixed (or one weighted
    solve); an elastic re-solve when the hard constraints cannot all be met."""
    if solver not in SOLVERS:
        raise ValueError(f"solver(={solver!r}) must be one of {SOLVERS}")
    p = inst.params
    limit = p.time_limit if time_limit is None else time_limit
    log = SolveLog()
    start = time.perf_counter()
    model = build(inst)
    weighted = p.objective_mode == "weighted"
    scale = p.income_weight / 1000.0
    model.problem.setObjective(
        model.employed + scale * model.income if weighted else model.employed
    )
    log.build_seconds = time.perf_counter() - start
    stage = "weighted" if weighted else "employment"
    status = _solve(model, solver, limit, log, stage, log.marginal_jobs if duals else None)
    if status == "infeasible":
        model, status = _elastic(inst, build, solver, limit, log)
        log.status = status
        return _finish(model, log, write_mps)
    if status != "optimal" or weighted:
        log.status = status
        return _finish(model, log, write_mps)
    best = round(pulp.value(model.employed) or 0)
    start = time.perf_counter()
    model.problem += pulp.LpConstraint(
        model.employed, pulp.LpConstraintGE, "employment_fixed", best
    )
    model.problem.setObjective(model.income)
    log.build_seconds += time.perf_counter() - start
    first = {v.name: v.varValue for v in model.variables()}
    # with employment held at its optimum, the capacity duals price one more place in
    # expected income (yuan/month): which programme to grow when every one is full
    log.status = _solve(model, solver, limit, log, "income", log.marginal_income if duals else None)
    if log.status not in ("optimal", "time_limit_feasible"):
        # no income-stage solution: keep the employment stage's plan (status stays honest)
        for v in model.variables():
            v.varValue = first[v.name]
    return _finish(model, log, write_mps)


def _elastic(inst: Instance, build, solver: str, limit: float, log: SolveLog):
    """Re-solve with a penalised slack on each hard group, and say which groups give way."""
    start = time.perf_counter()
    model = build(inst, elastic=True)
    penalty = 10.0 * (len(inst.laborers) + 1)  # one unit of slack outweighs all employment
    short = pulp.lpSum(s for group in model.slacks.values() for s in group.values())
    model.problem.setObjective(model.employed - penalty * short)
    log.build_seconds += time.perf_counter() - start
    status = _solve(model, solver, limit, log, "elastic")
    report: dict[str, Any] = {}
    if status in ("optimal", "time_limit_feasible"):
        for kind, group in model.slacks.items():
            values = {k: float(v.varValue) for k, v in group.items() if v.varValue > TOL}
            if values:
                report[kind] = {
                    "constraints": len(values),
                    "shortfall": round(sum(values.values()), 6),
                    "unit": "households" if kind == "household_has_worker" else "people",
                    "by_constraint": {k: round(v, 6) for k, v in values.items()},
                }
    log.elastic = report
    return model, ("infeasible" if status in ("optimal", "time_limit_feasible") else status)


def _finish(model: Model, log: SolveLog, write_mps):
    """Write the final model solved, if asked. PuLP marks a maximisation only in a
    comment, so an OBJSENSE MAX section is added for other solvers to read it right."""
    if write_mps is not None:
        path = Path(write_mps)
        model.problem.writeMPS(str(path))
        if model.problem.sense == pulp.LpMaximize:
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("ROWS\n", "OBJSENSE\n    MAX\nROWS\n", 1), "utf-8")
    return model, log


# --- from counts to people ---------------------------------------------------------------


def _values(model: Model) -> dict[tuple[int, int], int]:
    return {k: round(v.varValue or 0) for k, v in model.assign.items()}


def _disaggregate(inst: Instance, model: Model) -> np.ndarray:
    """Employer index per laborer (-1: none) from the aggregated counts (module docstring)."""
    x = _values(model)
    n = len(inst.laborers)
    employer = np.full(n, -1)
    if n == 0:
        return employer
    designated = np.zeros(n, dtype=bool)
    if inst.params.household_floor_hard:
        first_member: dict[tuple[int, int], int] = {}
        households_of = inst.laborers["household_id"].to_numpy().tolist()
        for i, (h, c) in enumerate(zip(households_of, inst.class_of.tolist(), strict=True)):
            first_member.setdefault((h, c), i)  # laborers are in person_id order
        for t, (key, households) in enumerate(zip(inst.types, inst.type_households, strict=True)):
            start = 0
            for c in key:
                var = model.designated.get((t, c))
                count = round(var.varValue or 0) if var is not None else 0
                for h in households[start : start + count].tolist():
                    designated[first_member[(h, c)]] = True
                start += count
    order = np.lexsort((inst.laborers["person_id"].to_numpy(), ~designated, inst.class_of))
    by_class = np.split(order, np.cumsum(np.bincount(inst.class_of))[:-1])
    for c, members in enumerate(by_class):
        start = 0
        for e in range(len(inst.employers)):
            count = x.get((c, e), 0)
            employer[members[start : start + count]] = e
            start += count
    return employer


def _individual_assignment(inst: Instance, model: Model) -> np.ndarray:
    employer = np.full(len(inst.laborers), -1)
    for (i, e), value in _values(model).items():
        if value:
            employer[i] = e
    return employer


# --- the result --------------------------------------------------------------------------


@dataclass
class Baseline:
    """A heuristic plan to compare with: how many it employs and how many households it
    leaves without a worker."""

    name: str
    employer: np.ndarray  # employer index per laborer, -1 none
    employed: int
    households_without_worker: int
    income: float


def check_assignment(inst: Instance, employer: np.ndarray, household_floor: bool = True) -> dict:
    """Every constraint, checked from the people table alone (not from the solver):
    eligibility, capacity, households, floors. Returns the worst violation per group."""
    lab = inst.laborers
    n = len(lab)
    worst: dict[str, float] = {}
    hired = employer >= 0
    rows = np.flatnonzero(hired)
    worst["eligibility"] = float((~inst.eligible[rows, employer[rows]]).sum())
    counts = np.bincount(employer[hired], minlength=len(inst.employers))
    caps = np.array([e.capacity for e in inst.employers])
    worst["capacity"] = float(max(0, (counts - caps).max(initial=0)))
    if household_floor and inst.params.household_floor_hard and len(inst.required):
        covered = set(lab.loc[hired, "household_id"].tolist())
        worst["household_has_worker"] = float(sum(h not in covered for h in inst.required))
    total = hired.sum()
    for kind, groups in inst.groups().items():
        f = inst.floor(kind)
        if f <= 0 or n == 0:
            continue
        for mask in groups.values():
            gap = f * mask.sum() / n * total - hired[mask].sum()
            worst[kind] = max(worst.get(kind, 0.0), float(gap))
    return {k: max(0.0, v) for k, v in worst.items()}


@dataclass
class MatchResult:
    """The optimised plan, one row per laborer, with the solves' log and the baselines."""

    assignments: pd.DataFrame
    instance: Instance
    log: SolveLog
    solver: str
    formulation: str
    model_size: dict[str, int]
    greedy: Baseline | None = None
    random: Baseline | None = None
    scenario: str = ""
    seed: int | None = None
    households: pd.DataFrame | None = None

    @property
    def optimal(self) -> bool:
        return self.log.status == "optimal" and self.max_constraint_violation <= TOL

    @property
    def employed(self) -> int:
        return int((self.assignments["employer"] != "").sum())

    @property
    def max_constraint_violation(self) -> float:
        employer = self.assignments["employer_index"].to_numpy()
        checked = check_assignment(
            self.instance, employer, household_floor=self.log.elastic is None
        )
        return max([self.log.max_violation, *checked.values()], default=0.0)

    def by_county(self) -> pd.DataFrame:
        a = self.assignments
        table = (
            pd.DataFrame({"county": a["county"], "employed": (a["employer"] != "").astype(int)})
            .groupby("county")
            .agg(laborers=("employed", "size"), employed=("employed", "sum"))
        )
        table["rate"] = table["employed"] / table["laborers"]
        return table.reset_index()

    def by_programme(self) -> pd.DataFrame:
        a = self.assignments
        assigned = a[a["employer"] != ""].groupby("employer").size()
        rows = []
        for e, emp in enumerate(self.instance.employers):
            rows.append(
                {
                    "programme": emp.programme,
                    "employer": emp.employer,
                    "location": emp.location,
                    "capacity": emp.capacity,
                    "assigned": int(assigned.get(emp.employer, 0)),
                    "wage_yuan_month": emp.wage,
                    "marginal_value": self.log.marginal_jobs.get(e, 0.0)
                    if self.log.marginal_jobs
                    else float("nan"),
                    "marginal_income_yuan_month": self.log.marginal_income.get(e, 0.0)
                    if self.log.marginal_income
                    else float("nan"),
                }
            )
        return pd.DataFrame(rows)

    def households_without_worker(self) -> pd.DataFrame:
        """Households with laborers but nobody employed, and why."""
        a = self.assignments
        flags = pd.DataFrame(
            {
                "household_id": a["household_id"],
                "county": a["county"],
                "hired": a["employer"] != "",
                "nowhere": a["reason"] == REASON_NOWHERE,
                "blocked": a["reason"].isin([REASON_NOWHERE, REASON_FULL]),
            }
        )
        per = flags.groupby("household_id", sort=True).agg(
            county=("county", "first"),
            laborers=("hired", "size"),
            hired=("hired", "any"),
            nowhere=("nowhere", "all"),
            blocked=("blocked", "all"),
        )
        per = per[~per["hired"]]
        if a["reason"].str.startswith("no plan").any():
            reason = np.full(len(per), a["reason"].iloc[0], dtype=object)
            return pd.DataFrame(
                {
                    "household_id": per.index.to_numpy(),
                    "county": per["county"].to_numpy(),
                    "laborers": per["laborers"].to_numpy(),
                    "reason": reason,
                }
            )
        reason = np.where(
            per["nowhere"],
            REASON_HH_NOWHERE,
            np.where(per["blocked"], REASON_HH_FULL, REASON_HH_RELAXED),
        )
        return pd.DataFrame(
            {
                "household_id": per.index.to_numpy(),
                "county": per["county"].to_numpy(),
                "laborers": per["laborers"].to_numpy(),
                "reason": reason,
            }
        )

    def unemployed(self) -> pd.DataFrame:
        a = self.assignments
        return a.loc[a["employer"] == "", ["person_id", "household_id", "county", "reason"]]

    def flows(self) -> pd.DataFrame:
        a = self.assignments
        table = pd.crosstab(a["county"], a["programme"].replace("", "none"))
        return table

    def summary(self) -> dict[str, Any]:
        a = self.assignments
        laborers = len(a)
        employed = self.employed
        hh_with = int(a["household_id"].nunique())
        without = len(self.households_without_worker())
        by_programme = {}
        for row in self.by_programme().itertuples():
            g = by_programme.setdefault(
                row.programme, {"capacity": 0, "assigned": 0, "employers": {}}
            )
            g["capacity"] += int(row.capacity)
            g["assigned"] += int(row.assigned)
            mv = None if pd.isna(row.marginal_value) else round(float(row.marginal_value), 6)
            mi = row.marginal_income_yuan_month
            mi = None if pd.isna(mi) else round(float(mi), 2)
            g["employers"][row.employer] = {
                "capacity": int(row.capacity),
                "assigned": int(row.assigned),
                "wage_yuan_month": float(row.wage_yuan_month),
                "marginal_value": mv,
                "marginal_income_yuan_month": mi,
            }
        for g in by_programme.values():
            for key in ("marginal_value", "marginal_income_yuan_month"):
                values = [e[key] for e in g["employers"].values()]
                g[key] = None if None in values else max(values, default=0.0)
        p = self.instance.params
        objective = {
            s["stage"]: round(s["objective"], 6) for s in self.log.stages if "objective" in s
        }
        result = {
            "scenario": self.scenario,
            "seed": self.seed,
            "solver": self.solver,
            "formulation": self.formulation,
            "objective_mode": p.objective_mode,
            "status": self.log.status,
            "optimal": self.optimal,
            "laborers": laborers,
            "employed": employed,
            "employment_rate": round(employed / laborers, 6) if laborers else 0.0,
            "expected_income_yuan_month": round(float(a["expected_income"].sum()), 2),
            "households_with_laborers": hh_with,
            "households_without_worker": without,
            # the last stage's objective (expected income in yuan/month when lexicographic)
            "objective": list(objective.values())[-1] if objective else None,
            "objectives": objective,
            "by_county": {
                r.county: {
                    "laborers": int(r.laborers),
                    "employed": int(r.employed),
                    "rate": round(float(r.rate), 6),
                }
                for r in self.by_county().itertuples()
            },
            "by_programme": by_programme,
            "unemployed_by_reason": {
                k: int(v) for k, v in self.unemployed()["reason"].value_counts().items()
            },
            "build_seconds": round(self.log.build_seconds, 4),
            "solve_seconds": round(self.log.solve_seconds, 4),
            "stages": self.log.stages,
            "max_constraint_violation": self.max_constraint_violation,
            "max_integrality_gap": self.log.max_fraction,
            "model_size": self.model_size,
            "elastic": self.log.elastic,
            "capacity": p.capacity,
            "reported_employed": p.reported_employed,
            "reported_rate": p.reported_rate,
        }
        for base in (self.greedy, self.random):
            if base is not None:
                result[f"{base.name}_employed"] = base.employed
                result[f"{base.name}_households_without_worker"] = base.households_without_worker
        if self.greedy is not None:
            result["gain_over_greedy"] = employed - self.greedy.employed
            result["households_gain_over_greedy"] = self.greedy.households_without_worker - without
        return result


def _reasons(inst: Instance, employer: np.ndarray) -> np.ndarray:
    """Why each unemployed laborer has no job ('' for the employed)."""
    counts = np.bincount(employer[employer >= 0], minlength=len(inst.employers))
    full = counts >= np.array([e.capacity for e in inst.employers])
    reason = np.full(len(employer), "", dtype=object)
    idle = employer < 0
    nowhere = ~inst.eligible.any(axis=1)
    all_full = ~(inst.eligible & ~full).any(axis=1)
    reason[idle & nowhere] = REASON_NOWHERE
    reason[idle & ~nowhere & all_full] = REASON_FULL
    reason[idle & ~nowhere & ~all_full] = REASON_FLOOR
    return reason


def assignment_table(inst: Instance, employer: np.ndarray) -> pd.DataFrame:
    """One row per laborer: who, where, what they earn and, if idle, why."""
    lab = inst.laborers
    emps = inst.employers
    hired = employer >= 0
    idx = np.where(hired, employer, 0)
    pick = (
        (lambda attr: np.where(hired, np.array([getattr(e, attr) for e in emps])[idx], ""))
        if emps
        else None
    )
    n = len(lab)
    suit = inst.suitability[np.arange(n), idx] if emps and n else np.zeros(n)
    wage = np.array([e.wage for e in emps])[idx] if emps and n else np.zeros(n)
    return pd.DataFrame(
        {
            "person_id": lab["person_id"].to_numpy(),
            "household_id": lab["household_id"].to_numpy(),
            "county": lab["county"].to_numpy(),
            "sex": lab["sex"].to_numpy(),
            "age": lab["age"].to_numpy(),
            "skill": lab["skill"].to_numpy(),
            "carer": lab["carer"].to_numpy(bool),
            "programme": pick("programme") if pick else np.full(n, ""),
            "employer": pick("employer") if pick else np.full(n, ""),
            "employer_index": employer,
            "location": pick("location") if pick else np.full(n, ""),
            "wage_yuan_month": np.where(hired, wage, 0.0),
            "suitability": np.where(hired, suit, 0.0),
            "expected_income": np.where(hired, wage * suit, 0.0),
            "reason": _reasons(inst, employer),
        }
    )


def model_size(model: Model, inst: Instance) -> dict[str, int]:
    problem = model.problem
    return {
        "classes": len(inst.classes),
        "household_types": len(inst.types),
        "variables": len(problem.variables()),
        "constraints": len(problem.constraints()),
        "nonzeros": sum(len(c) for c in problem.constraints()),
    }


def match_population(
    people: pd.DataFrame,
    households: pd.DataFrame | None,
    params: JobsParams,
    *,
    solver: str = "cbc",
    time_limit: float | None = None,
    formulation: str = "aggregated",
    seed: int = 0,
    baselines: bool = True,
    duals: bool = True,
    write_mps: str | Path | None = None,
) -> MatchResult:
    """Match the laborers among `people` to the employers in `params`."""
    from simlib.baselines import greedy_first_come, random_assignment

    inst = build_instance(people, params)
    if formulation == "aggregated":
        model, log = solve_model(inst, build_aggregated, solver, time_limit, duals, write_mps)
        employer = (
            _disaggregate(inst, model) if _has_solution(log) else np.full(len(inst.laborers), -1)
        )
    elif formulation == "individual":
        model, log = solve_model(inst, build_individual, solver, time_limit, duals, write_mps)
        employer = (
            _individual_assignment(inst, model)
            if _has_solution(log)
            else np.full(len(inst.laborers), -1)
        )
    else:
        raise ValueError(f"formulation(={formulation!r}) must be aggregated or individual")
    table = assignment_table(inst, employer)
    if not _has_solution(log):
        # no plan at all: the rule-based reasons would blame the floors; say what happened
        table["reason"] = f"no plan: the solver returned {log.status}"
    result = MatchResult(
        assignments=table,
        instance=inst,
        log=log,
        solver=solver,
        formulation=formulation,
        model_size=model_size(model, inst),
        seed=seed,
        households=households,
    )
    if baselines:
        order = _registration_order(inst, households)
        result.greedy = greedy_first_come(inst, order)
        result.random = random_assignment(inst, seed)
    return result


def _has_solution(log: SolveLog) -> bool:
    return log.status in ("optimal", "time_limit_feasible", "infeasible") and any(
        "objective" in s for s in log.stages
    )


def _registration_order(inst: Instance, households: pd.DataFrame | None) -> np.ndarray:
    """Laborers in the order their households registered for jobs (then by person id)."""
    lab = inst.laborers
    if households is not None and "registration_order" in households:
        rank = households.set_index("household_id")["registration_order"]
        key = lab["household_id"].map(rank).fillna(math.inf).to_numpy()
    else:
        key = lab["household_id"].to_numpy()
    return np.lexsort((lab["person_id"].to_numpy(), key))


def match_jobs(
    scenario: Scenario,
    seed: int | None = None,
    solver: str = "cbc",
    population: Population | None = None,
    time_limit: float | None = None,
    *,
    formulation: str = "aggregated",
    write_mps: str | Path | None = None,
) -> MatchResult:
    """The scenario's laborers matched to its employers (see the module docstring)."""
    scenario = scenario.with_seed(seed)
    params = load_jobs_params(scenario)
    if population is None:
        population = generate_population(scenario)
    result = match_population(
        population.people,
        population.households,
        params,
        solver=solver,
        time_limit=time_limit,
        formulation=formulation,
        seed=scenario.seed,
        write_mps=write_mps,
    )
    result.scenario = scenario.name
    return result


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    temp = path.with_name(f".{path.name}.tmp")
    table.to_csv(temp, index=False)
    os.replace(temp, path)


def write_outputs(result: MatchResult, out: str | Path) -> list[Path]:
    """The result tables as CSV files in `out` (created if needed)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "assignments.csv": result.assignments.drop(columns=["employer_index"]),
        "by_county.csv": result.by_county(),
        "by_programme.csv": result.by_programme(),
        "households_without_worker.csv": result.households_without_worker(),
        "unemployed.csv": result.unemployed(),
    }
    paths = []
    for name, table in tables.items():
        _write_csv(table, out / name)
        paths.append(out / name)
    return paths
