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
- `baselines`: the rules of thumb a resettlement office would use, checked by the same rules;
- `batch`: one batch of a rolling plan (the employment timeline), through the formulation's
  own options;
- `result`: the tidy tables and the summary.

`run(inputs)` is the entry point: the scenario's population and jobs inputs, matched.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from simlib.jobs_inputs import SOLVERS, JobsParams
from simlib.matching.baselines import all_baselines, registration_order
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
    marginals_table,
    write_outputs,
)
from simlib.matching.solve import (
    MatchFailed,
    SolveLog,
    check_assignment,
    collector_paused,
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
    "Options",
    "MatchResult",
    "build_instance",
    "check_assignment",
    "marginal_values",
    "match_jobs",
    "match_population",
    "model_residuals",
    "registration_order",
    "run",
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


@dataclass(frozen=True)
class Options:
    """How to solve: the MIP solver, its time limit per solve (None: the scenario's), the
    formulation, whether to run the rules of thumb and the marginal re-solves, and where to
    write the final model (MPS)."""

    solver: str = "cbc"
    time_limit: float | None = None
    formulation: str = "aggregated"
    baselines: bool = True
    marginal: bool = False
    write_mps: str | Path | None = None

    def __post_init__(self):
        if self.formulation not in BUILDERS:
            raise ValueError(f"formulation(={self.formulation!r}) must be aggregated or individual")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver(={self.solver!r}) must be one of {SOLVERS}")


def run(inputs, **options) -> MatchResult:
    """The job matching on loaded inputs (`simlib.inputs.Inputs`): its population's
    laborers matched to its jobs inputs, seeded by its seed (no file read). `options`:
    the fields of `Options`."""
    return match_jobs(inputs.jobs, inputs.population, seed=inputs.seed, **options,
                      scenario=inputs.scenario.name)  # fmt: skip


def match_population(
    people: pd.DataFrame,
    households: pd.DataFrame | None,
    params: JobsParams,
    *,
    seed: int = 0,
    scenario: str = "",
    **options,
) -> MatchResult:
    """Match the laborers among `people` to the employers in `params` (`options`: the
    fields of `Options`). Raises MatchFailed when there is no plan; `marginal` re-solves
    for the value of one more place."""
    o = Options(**options)
    with collector_paused():
        inst = build_instance(people, params)
        rules = _rules(inst, households, seed) if o.baselines and len(inst.laborers) else dict
        employer, log, size = _solve_and_check(inst, o)
    result = MatchResult.build(
        assignment_table(inst, employer),
        inst,
        log,
        size,
        rules(),
        solver=o.solver,
        formulation=o.formulation,
        scenario=scenario,
        seed=seed,
        households=households,
    )
    _verify(result)
    if o.marginal:
        result = replace(result, marginals=marginal_values(result, time_limit=o.time_limit))
    return result


def _rules(inst: Instance, households, seed: int):
    """Start the rules of thumb beside the solve, in a thread (HiGHS's simplex frees the
    interpreter while it works); returns a function that waits for them."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(all_baselines, inst, registration_order(inst, households), seed)
    pool.shutdown(wait=False)
    return future.result


def _solve_and_check(inst: Instance, o: Options):
    """(employer per laborer, log, model size); a plan that cannot go back to people
    raises MatchFailed."""
    if _no_places(inst) or len(inst.laborers) == 0:
        # nothing to decide: say what it is instead of calling it optimal
        log = SolveLog(status="no_places" if _no_places(inst) else "no_laborers")
        size = {"classes": len(inst.classes), "household_types": len(inst.types)}
        return np.full(len(inst.laborers), -1), log, size
    model, log = solve_model(inst, BUILDERS[o.formulation], o.solver, o.time_limit, o.write_mps)
    try:
        employer = (
            disaggregate(inst, model)
            if o.formulation == "aggregated"
            else individual_assignment(inst, model)
        )
    except DisaggregationError as error:
        raise MatchFailed("solution_failed_verification", f"job matching: {error}") from None
    return employer, log, _model_size(model, inst)


def _verify(result: MatchResult) -> None:
    """Only a plan that passes our own check, person by person, is a result."""
    if result.log.status in ("optimal", "time_limit_feasible") and not result.verified:
        raise MatchFailed(
            "solution_failed_verification",
            f"job matching: the plan breaks a rule (largest violation "
            f"{result.max_constraint_violation:g}); no result is reported",
        )


def marginal_values(result: MatchResult, time_limit: float | None = None) -> pd.DataFrame | None:
    """The value of one more place at each employer (one more export seat at an away one)
    and of one more care place, in expected lasting employment, by re-solving stage 1.
    Only from a verified, proven-optimal plan (None otherwise), and each value only if its
    re-solve is proven optimal too; one row per re-solve (`marginals_table`)."""
    if not result.optimal or result.log.status != "optimal":
        return None
    inst = result.instance
    base = result.log.stages[0]["objective"]

    def one_more(e: int):
        def change(model) -> None:
            if e in model.capacity:
                model.capacity[e].constant -= 1  # the row is sum x - k <= 0

        return change

    def care(model) -> None:
        if model.care_places is not None:
            model.care_places.constant -= 1

    eligible = set(np.flatnonzero(inst.eligible.any(axis=0)).tolist())
    changes = {("place", e): one_more(e) for e in range(len(inst.employers)) if e in eligible}
    if len(inst.care_bound):
        changes["care"] = care
    build = BUILDERS[result.formulation]
    values = resolve_first_stage(inst, build, result.solver, time_limit, changes)

    def gain(key) -> float | None:
        if key not in values:
            return 0.0  # no one eligible (or no care-bound household): nothing to gain
        value = values[key]
        return None if value is None else round(value - base, 6) + 0.0  # no -0.0

    place = {emp.employer: gain(("place", e)) for e, emp in enumerate(inst.employers)}
    away = {e.employer for e in inst.employers if e.location != "new_town"}
    return marginals_table(place, away, gain("care"))


def match_jobs(
    params: JobsParams, population, *, seed: int, scenario: str | None = None, **options
) -> MatchResult:
    """The population's laborers matched to the employers in `params` (no file reads;
    `options`: the fields of `Options`)."""
    name = scenario if scenario is not None else population.scenario
    return match_population(
        population.people, population.households, params, seed=seed, scenario=name, **options
    )
