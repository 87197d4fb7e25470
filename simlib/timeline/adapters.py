"""The only places where the timeline calls the moving and job-matching models.

Each adapter is a few lines, so that a change in those models' entry points is met here
and nowhere else:
- `arrival_table`: one moving replication -> one row per household that moved in
  (household_id, county, arrival_day = the day it moved in, arrival_date);
- `match_batch`: one matching batch, solved with the static matching's own instance,
  formulation and solve, for the laborers given and the places still open;
- `eligible_jobs`: the matching's eligibility rules and expected retention, per laborer
  and employer (for the greedy first-come policy).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from simlib.jobs_inputs import JobsParams
from simlib.moving_inputs import MovingParams


def arrival_table(
    params: MovingParams, households: pd.DataFrame, *, seed: int, replication: int
) -> pd.DataFrame:
    """Households that moved in during one moving replication, with their day of moving
    in (days from the campaign's first day) and its date."""
    from simlib.moving import run_campaign

    moved = run_campaign(params, households, seed, replication).moved
    return pd.DataFrame(
        {
            "household_id": moved["household_id"].to_numpy(),
            "county": moved["county"].to_numpy(),
            "arrival_day": moved["moved_in_day"].to_numpy(dtype=np.int64),
            "arrival_date": moved["moved_in_date"].to_numpy(),
        }
    )


def match_batch(
    laborers: pd.DataFrame,
    jobs: JobsParams,
    capacity: np.ndarray,
    covered: np.ndarray,
    *,
    history: tuple[dict[str, int], dict[str, int]] | None = None,
    solver: str = "cbc",
    time_limit: float | None = None,
) -> tuple[np.ndarray, str]:
    """(employer index per laborer in `laborers` order, -1 for none; solver status).

    The static matching's instance for these laborers with every employer's capacity
    replaced by `capacity` (places still open), and the households in `covered` (which
    already have a worker) taken out of the household rule; then its own solve. With
    `history` (people employed so far and laborers available so far, by county) the
    fairness floor holds across batches: each county's employment *so far* at least the
    floor times its share of the laborers available so far times everyone employed so far.
    """
    from simlib.matching import (
        _disaggregate,
        _has_solution,
        build_aggregated,
        build_instance,
        solve_model,
    )

    def build(inst, elastic=False):
        if history is None:
            return build_aggregated(inst, elastic)
        # the batch's own fairness rows are left out and written in their cumulative form
        unfair = replace(inst, params=replace(inst.params, fairness_floor=0.0))
        model = build_aggregated(unfair, elastic)
        _fairness_so_far(model, inst, *history, elastic=elastic)
        return model

    employers = tuple(
        replace(e, capacity=int(c)) for e, c in zip(jobs.employers, capacity, strict=True)
    )
    inst = build_instance(laborers, replace(jobs, employers=employers))
    keep = [np.setdiff1d(h, covered, assume_unique=True) for h in inst.type_households]
    inst = replace(
        inst,
        types=[t for t, h in zip(inst.types, keep, strict=True) if len(h)],
        type_households=[h for h in keep if len(h)],
        required=np.setdiff1d(inst.required, covered),
    )
    model, log = solve_model(inst, build, solver, time_limit, duals=False)
    found = _has_solution(log) and len(inst.laborers)
    employer = _disaggregate(inst, model) if found else np.full(len(inst.laborers), -1)
    # the instance sorts laborers by person_id: return them in the caller's order
    order = pd.Series(np.arange(len(inst.laborers)), index=inst.laborers["person_id"].to_numpy())
    return employer[order.loc[laborers["person_id"].to_numpy()].to_numpy()], log.status


def _fairness_so_far(
    model, inst, employed: dict[str, int], available: dict[str, int], elastic: bool
) -> None:
    """The fairness rows in cumulative form, with the matching's names and slacks:
    E_g(batch) - f s_g E(batch) >= f s_g E(before) - E_g(before), s_g = L_g / L so far."""
    import pulp

    f = inst.params.fairness_floor
    total = sum(available.values())
    if f <= 0 or total == 0:
        return
    before = sum(employed.values())
    county_of = inst.classes["county"].to_numpy()
    for g in sorted(set(inst.laborers["county"])):
        share = available.get(g, 0) / total
        expr = pulp.LpAffineExpression(
            [(v, (county_of[c] == g) - f * share) for (c, _), v in model.assign.items()]
        )
        if elastic:
            slack = model.problem.add_variable(f"short_fairness_{g}", lowBound=0)
            model.slacks.setdefault("fairness", {})[g] = slack
            expr = expr + slack
        rhs = f * share * before - employed.get(g, 0)
        model.problem += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"fairness[{g}]", rhs)


def eligible_jobs(laborers: pd.DataFrame, jobs: JobsParams) -> tuple[np.ndarray, np.ndarray]:
    """(eligible, expected monthly income if hired), each laborers x employers."""
    from simlib.eligibility import eligibility

    eligible, suitability = eligibility(laborers, jobs)
    wage = np.array([e.wage for e in jobs.employers])
    return eligible, suitability * wage
