"""Job matching (PuLP): who must stay, who may go, and who goes to which job.

Local places are few and some laborers cannot leave (carers of young children, the
elderly and the disabled; the special group; those unwilling to migrate); export is
elastic but not free. The plan maximises expected lasting employment (the expected
number still in their job after `lasting_period_months`, from the success-probability
model of `simlib.eligibility`), then expected income net of migration costs, under the
capacities, one worker in every household with labour, the care rule (a household with
care duties keeps one laborer local) and no county left far behind.

- `instance`: laborers, eligibility, probabilities, stay-or-go status, classes and types;
- `formulation`: the aggregated and individual integer programmes, and back to people;
- `solve`: the stages, honest statuses, our own checks, the elastic diagnosis;
- `result`: the tidy tables and the summary.

The baselines (`simlib.baselines`) work on the instance and sit outside this package.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simlib.jobs_inputs import JobsParams
from simlib.matching.formulation import (
    DisaggregationError,
    build_aggregated,
    build_individual,
    disaggregate,
    individual_assignment,
)
from simlib.matching.instance import Instance, build_instance
from simlib.matching.result import (
    REASON_CARE,
    REASON_FLOOR,
    REASON_FULL,
    REASON_HH_NOWHERE,
    REASON_NO_PLACES,
    REASON_NOWHERE,
    MatchResult,
    assignment_table,
    write_outputs,
)
from simlib.matching.solve import (
    SOLVERS,
    MatchFailed,
    SolveLog,
    check_assignment,
    model_residuals,
    resolve_first_stage,
    solve_model,
)

__all__ = [
    "REASON_CARE",
    "REASON_FLOOR",
    "REASON_FULL",
    "REASON_HH_NOWHERE",
    "REASON_NOWHERE",
    "REASON_NO_PLACES",
    "SOLVERS",
    "Instance",
    "MatchFailed",
    "MatchResult",
    "build_instance",
    "check_assignment",
    "marginal_values",
    "match_jobs",
    "match_population",
    "model_residuals",
    "write_outputs",
]

BUILDERS = {"aggregated": build_aggregated, "individual": build_individual}


def _model_size(model, inst: Instance) -> dict[str, int]:
    constraints = model.problem.constraints()
    return {
        "classes": len(inst.classes),
        "household_types": len(inst.types),
        "variables": len(model.variables()),
        "constraints": len(constraints),
        "nonzeros": sum(len(c) for c in constraints),
    }


def _no_places(inst: Instance) -> bool:
    return sum(e.capacity for e in inst.employers) == 0


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
    marginal: bool = False,
    write_mps: str | Path | None = None,
) -> MatchResult:
    """Match the laborers among `people` to the employers in `params`. Raises MatchFailed
    when there is no plan; `marginal` re-solves for the value of one more place."""
    if formulation not in BUILDERS:
        raise ValueError(f"formulation(={formulation!r}) must be aggregated or individual")
    if solver not in SOLVERS:
        raise ValueError(f"solver(={solver!r}) must be one of {SOLVERS}")
    inst = build_instance(people, params)
    build = BUILDERS[formulation]
    with ThreadPoolExecutor(max_workers=1) as pool:
        # the baselines run while the solver (a child process) works
        rules = (
            pool.submit(_baselines, inst, households, seed)
            if baselines and len(inst.laborers)
            else None
        )
        result = _solve_and_check(
            inst, build, households, solver, time_limit, formulation, seed, write_mps
        )
        if rules is not None:
            result.baselines = rules.result()
    if marginal:
        result.marginal = marginal_values(result, time_limit=time_limit)
    return result


def _baselines(inst: Instance, households, seed: int):
    from simlib.baselines import all_baselines

    return all_baselines(inst, _registration_order(inst, households), seed)


def _solve_and_check(
    inst: Instance, build, households, solver, time_limit, formulation, seed, write_mps
) -> MatchResult:
    """Solve and go back to people; a plan that fails our own check raises MatchFailed."""
    if _no_places(inst) or len(inst.laborers) == 0:
        # nothing to decide: say what it is instead of calling it optimal
        log = SolveLog(status="no_places" if _no_places(inst) else "no_laborers")
        employer = np.full(len(inst.laborers), -1)
        size = {"classes": len(inst.classes), "household_types": len(inst.types)}
    else:
        model, log = solve_model(inst, build, solver, time_limit, write_mps)
        try:
            employer = (
                disaggregate(inst, model)
                if formulation == "aggregated"
                else individual_assignment(inst, model)
            )
        except DisaggregationError as error:
            raise MatchFailed("solution_failed_verification", f"job matching: {error}") from None
        size = _model_size(model, inst)
    result = MatchResult(
        assignments=assignment_table(inst, employer),
        instance=inst,
        log=log,
        solver=solver,
        formulation=formulation,
        model_size=size,
        seed=seed,
        households=households,
    )
    if log.status in ("optimal", "time_limit_feasible") and not result.verified:
        raise MatchFailed(
            "solution_failed_verification",
            f"job matching: the plan breaks a rule (largest violation "
            f"{result.max_constraint_violation:g}); no result is reported",
        )
    return result


def _registration_order(inst: Instance, households: pd.DataFrame | None) -> np.ndarray:
    """Laborers in the order their households registered for jobs (then by person id)."""
    lab = inst.laborers
    if households is not None and "registration_order" in households:
        rank = households.set_index("household_id")["registration_order"]
        key = lab["household_id"].map(rank).fillna(math.inf).to_numpy()
    else:
        key = lab["household_id"].to_numpy()
    return np.lexsort((lab["person_id"].to_numpy(), key))


def marginal_values(result: MatchResult, time_limit: float | None = None) -> dict[str, Any] | None:
    """The value of one more place at each employer (one more export seat at an away one)
    and of one more care place, in expected lasting employment, by re-solving stage 1.
    Only from a verified, proven-optimal plan (None otherwise), and each value only if its
    re-solve is proven optimal too."""
    if not result.optimal or result.log.status != "optimal":
        return None
    inst = result.instance
    build = BUILDERS[result.formulation]
    base = result.log.stages[0]["objective"]

    def gain(change) -> float | None:
        value = resolve_first_stage(inst, build, result.solver, time_limit, change)
        return None if value is None else round(value - base, 6) + 0.0  # no -0.0

    def one_more(e: int):
        def change(model) -> None:
            if e in model.capacity:
                model.capacity[e].constant -= 1  # the row is sum x - k <= 0

        return change

    def care(model) -> None:
        if model.care_places is not None:
            model.care_places.constant -= 1

    place = {}
    for e, emp in enumerate(inst.employers):
        place[emp.employer] = gain(one_more(e)) if e in _eligible_employers(inst) else 0.0
    return {
        "unit": "expected lasting jobs",
        "place": place,
        "export_seat": {k: v for k, v in place.items() if _is_away(inst, k)},
        "care_place": gain(care) if len(inst.care_bound) else 0.0,
    }


def _eligible_employers(inst: Instance) -> set[int]:
    return set(np.flatnonzero(inst.eligible.any(axis=0)).tolist())


def _is_away(inst: Instance, name: str) -> bool:
    return any(e.employer == name and e.location != "new_town" for e in inst.employers)


def match_jobs(
    params: JobsParams,
    population,
    *,
    seed: int,
    solver: str = "cbc",
    time_limit: float | None = None,
    formulation: str = "aggregated",
    baselines: bool = True,
    marginal: bool = False,
    write_mps: str | Path | None = None,
    scenario: str | None = None,
) -> MatchResult:
    """The population's laborers matched to the employers in `params` (no file reads)."""
    result = match_population(
        population.people,
        population.households,
        params,
        solver=solver,
        time_limit=time_limit,
        formulation=formulation,
        seed=seed,
        baselines=baselines,
        marginal=marginal,
        write_mps=write_mps,
    )
    result.scenario = scenario if scenario is not None else population.scenario
    return result
