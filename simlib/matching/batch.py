"""One batch of a rolling plan (the employment timeline), and the bound every such plan
keeps, both through the matching's own formulation and options.

A batch matches the laborers available now against the places still open. What earlier
batches decided enters as the formulation's options (`BatchState`): households that
already have a worker are out of the household rule (`covered`), those with one at work in
the new town out of the care rule too (`local`), the care places used are gone, and the
fairness floor counts everyone employed and available so far (`FairnessSoFar`).

A batch may find no plan under the hard rules: a household whose laborers fit no place
open yet gets its worker in a later batch, so the batch keeps the household rule soft (the
scenario's penalty); if a county none of whose laborers fits a place open now still holds
it back, the cumulative fairness floor gives way as little as it can (at the elastic
penalty per person short). `Batch.softened` says which rule gave way.

`bound` is what no rolling or greedy plan can beat on a given day: the static matching of
everyone available by then against the places that can have someone at work that day,
keeping only what every policy keeps by construction (eligibility, the capacities, the care
rule and its care places) and relaxing what a batch may soften (the household rule, the
floors). It is a relaxation of every such plan, so a policy's share of it is at most 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import pandas as pd

from simlib.jobs_inputs import JobsParams
from simlib.matching.formulation import FairnessSoFar, build_aggregated, disaggregate
from simlib.matching.instance import Instance, build_instance
from simlib.matching.solve import MatchFailed, collector_paused, solve_model


@dataclass(frozen=True)
class BatchState:
    """What earlier batches decided, as the formulation reads it."""

    covered: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    local: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    care_places: int | None = None  # care places left (None: the scenario's)
    employed_so_far: dict[str, int] | None = None  # by county; None: per-batch fairness
    available_so_far: dict[str, int] | None = None  # by county, this batch's laborers too


@dataclass(frozen=True)
class Batch:
    """One batch's answer: employer index per laborer (caller's order, -1 none), the
    solver status, the rule that gave way ('' none, 'household', 'household, fairness'),
    the care places its plan used and its expected lasting employment."""

    employer: np.ndarray
    status: str
    softened: str = ""
    care_places_used: int = 0
    expected_lasting: float = 0.0


def _params(jobs: JobsParams, capacity: np.ndarray, care_places: int | None) -> JobsParams:
    employers = tuple(
        replace(e, capacity=int(c)) for e, c in zip(jobs.employers, capacity, strict=True)
    )
    params = replace(jobs, employers=employers)
    return params if care_places is None else replace(params, care_places=int(care_places))


def _attempts(inst: Instance, state: BatchState):
    """(instance, build, softened) in the order a batch tries them."""
    hard = inst.params.household_floor_hard
    soft = replace(inst, params=replace(inst.params, household_floor_hard=False))
    if state.employed_so_far is None:
        so_far = None
    else:
        so_far = FairnessSoFar(state.employed_so_far, state.available_so_far or {})
    yield inst, partial(build_aggregated, so_far=so_far), ""
    if hard:
        yield soft, partial(build_aggregated, so_far=so_far), "household"
    if so_far is not None:
        yield (
            soft,
            partial(build_aggregated, so_far=replace(so_far, soft=True)),
            ("household, fairness" if hard else "fairness"),
        )


def _solve(inst: Instance, state: BatchState, solver: str, time_limit: float | None):
    """(instance, model, log, softened) of the first attempt that finds a plan. A failed
    attempt is not diagnosed: only the status of a failure is kept (`match_batch`)."""
    failure = None
    for attempt, build, softened in _attempts(inst, state):
        try:
            model, log = solve_model(attempt, build, solver, time_limit, diagnose=False)
            return attempt, model, log, softened
        except MatchFailed as error:
            failure = failure or error
    raise failure


@collector_paused()  # hundreds of batches: the collector would walk each model again
def match_batch(
    laborers: pd.DataFrame,
    jobs: JobsParams,
    capacity: np.ndarray,
    state: BatchState | None = None,
    *,
    solver: str = "cbc",
    time_limit: float | None = None,
) -> Batch:
    """The static matching for these laborers against the places still open (`capacity`
    per employer), with what earlier batches decided (`state`). No plan under any attempt
    matches nobody and says so in the status."""
    state = state or BatchState()
    params = _params(jobs, capacity, state.care_places)
    inst = build_instance(laborers, params, covered=state.covered, local=state.local)
    none = np.full(len(laborers), -1)
    if len(inst.laborers) == 0 or capacity.sum() == 0:
        return Batch(none, "no one to match" if len(inst.laborers) == 0 else "no place open")
    try:
        inst, model, log, softened = _solve(inst, state, solver, time_limit)
    except MatchFailed as failed:
        return Batch(none, f"no plan: {failed.status}")
    employer = disaggregate(inst, model)
    note = {"": "", "household": " (household rule soft in this batch)"}.get(softened)
    if note is None:
        short = sum(v.varValue or 0.0 for v in model.slacks.get("fairness", {}).values())
        note = f" (household rule soft, fairness floor short by {short:.1f} in this batch)"
    hired = employer >= 0
    lasting = float(inst.probability[np.flatnonzero(hired), employer[hired]].sum())
    return Batch(
        _in_callers_order(laborers, inst, employer),
        log.status + note,
        softened,
        care_places_used(inst, employer),
        lasting,
    )


def _in_callers_order(laborers: pd.DataFrame, inst: Instance, employer: np.ndarray):
    """The instance sorts laborers by person_id: give them back in the caller's order."""
    order = pd.Series(np.arange(len(inst.laborers)), index=inst.laborers["person_id"].to_numpy())
    back = order.loc[laborers.loc[laborers["laborer"], "person_id"].to_numpy()].to_numpy()
    result = np.full(len(laborers), -1)
    result[np.flatnonzero(laborers["laborer"].to_numpy())] = employer[back]
    return result


def care_places_used(inst: Instance, employer: np.ndarray) -> int:
    """Care-bound households whose laborers in this plan all go away: each takes a care
    place."""
    if len(inst.care_bound) == 0:
        return 0
    household = inst.laborers["household_id"].to_numpy()
    hired = employer >= 0
    away = np.zeros(len(employer), dtype=bool)
    away[hired] = inst.away[employer[hired]]
    stays = set(household[~away].tolist())
    return sum(h not in stays for h in inst.care_bound.tolist())


@collector_paused()
def bound(
    laborers: pd.DataFrame,
    jobs: JobsParams,
    capacity: np.ndarray,
    maximise: str = "lasting",
    *,
    solver: str = "cbc",
    time_limit: float | None = None,
) -> tuple[int, float]:
    """(people employed, expected lasting employment) of the plan that maximises
    `maximise` (employed or lasting) keeping eligibility, the capacities and the care rule
    only: the bound of any rolling or greedy plan over these laborers and places."""
    params = replace(
        _params(jobs, capacity, None),
        household_floor_hard=False,
        household_uncovered_penalty=0.0,
        fairness_floor=0.0,
        sex_balance_floor=0.0,
        age_balance_floor=0.0,
        objective_mode="lexicographic",
    )
    inst = build_instance(laborers, params)
    if len(inst.laborers) == 0 or capacity.sum() == 0:
        return 0, 0.0
    model, _ = solve_model(inst, build_aggregated, solver, time_limit, maximise=maximise)
    employer = disaggregate(inst, model)
    hired = employer >= 0
    lasting = float(inst.probability[np.flatnonzero(hired), employer[hired]].sum())
    return int(hired.sum()), lasting
