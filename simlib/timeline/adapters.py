"""The only places where the timeline calls the moving and job-matching models.

Each adapter is a few lines, so that a change in those models' entry points is met here
and nowhere else:
- `arrival_table`: one moving replication -> one row per household that moved in
  (household_id, county, arrival_day = the day it moved in, arrival_date);
- `match_batch`: one matching batch, solved with the static matching's own instance,
  formulation (stay-or-go, household and care rules, aggregated by class and household
  type) and solve, for the laborers given and the places still open;
- `eligible_jobs`: the matching's eligibility rules and success probabilities, per laborer
  and employer (expected income for the greedy first-come policy);
- `care_bound_households`: the households the care rule binds (for the greedy policy).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from simlib.jobs_inputs import JobsParams
from simlib.moving import MovingParams


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


@dataclass(frozen=True)
class Batch:
    """One batch's answer: employer index per laborer (caller's order, -1 none), the
    solver status, care places used by this batch's plan and its expected lasting jobs."""

    employer: np.ndarray
    status: str
    care_places_used: int = 0
    expected_lasting: float = 0.0


def match_batch(
    laborers: pd.DataFrame,
    jobs: JobsParams,
    capacity: np.ndarray,
    covered: np.ndarray,
    *,
    local: np.ndarray | None = None,
    care_places: int | None = None,
    history: tuple[dict[str, int], dict[str, int]] | None = None,
    solver: str = "cbc",
    time_limit: float | None = None,
) -> Batch:
    """The static matching for these laborers against the places still open.

    Every employer's capacity is replaced by `capacity`; households in `covered` already
    have a worker (the household rule holds for them), and those in `local` have one at
    work in the new town (their care rule holds too). A covered household whose care rule
    still binds keeps it, without the household rule. `care_places` are the care places
    not yet used by earlier batches. With `history` (people employed so far and laborers
    available so far, by county) the fairness floor holds across batches: each county's
    employment *so far* at least the floor times its share of the laborers available so
    far times everyone employed so far. No plan (`MatchFailed`) matches nobody and says so
    in the status.
    """
    from simlib.matching import MatchFailed
    from simlib.matching.formulation import build_aggregated, disaggregate
    from simlib.matching.instance import build_instance
    from simlib.matching.solve import solve_model

    local = covered if local is None else local
    employers = tuple(
        replace(e, capacity=int(c)) for e, c in zip(jobs.employers, capacity, strict=True)
    )
    params = replace(jobs, employers=employers)
    if care_places is not None:
        params = replace(params, care_places=int(care_places))
    inst = build_instance(laborers, params)
    none = np.full(len(laborers), -1)
    if len(inst.laborers) == 0 or capacity.sum() == 0:
        return Batch(none, "no one to match" if len(inst.laborers) == 0 else "no place open")

    # households already covered: out of the household rule; out of the care rule too
    # when one of them is at work locally
    types, type_households, waived = [], [], []
    for key, hh in zip(inst.types, inst.type_households, strict=True):
        done = np.isin(hh, covered)
        care_left = done & ~np.isin(hh, local) if key.care else np.zeros(len(hh), bool)
        for members, waive in ((hh[~done], False), (hh[care_left], True)):
            if len(members):
                types.append(key)
                type_households.append(members)
                waived.append(waive)
    inst = replace(
        inst,
        types=types,
        type_households=type_households,
        required=np.setdiff1d(inst.required, covered),
        care_bound=np.setdiff1d(inst.care_bound, local),
    )

    def solve(hard: bool, fair_slack: float = 0.0):
        # covered households need no worker: the model may leave them "uncovered" at no
        # cost, while every other household keeps the rule (hard, or soft with the penalty)
        soft = replace(inst, params=replace(inst.params, household_floor_hard=False))

        def build(inst, elastic=False):
            if history is not None:
                inst = replace(inst, params=replace(inst.params, fairness_floor=0.0))
            model = build_aggregated(inst, elastic)
            if any(waived):
                _waive_household_rule(model, inst, waived, hard and not elastic)
            if history is not None:
                _fairness_so_far(
                    model, inst, jobs.fairness_floor, *history, elastic=elastic, penalty=fair_slack
                )
            return model

        return solve_model(soft if any(waived) or not hard else inst, build, solver, time_limit)

    note = ""
    try:
        model, log = solve(inst.params.household_floor_hard)
    except MatchFailed as failed:
        if not inst.params.household_floor_hard:
            return Batch(none, f"no plan: {failed.status}")
        # a household whose laborers fit no place open yet gets its worker in a later
        # batch: this batch keeps the household rule soft (the scenario's penalty)
        try:
            model, log = solve(False)
            note = " (household rule soft in this batch)"
        except MatchFailed:
            if history is None:
                return Batch(none, f"no plan: {failed.status}")
            # a county whose laborers fit none of the places open now cannot be kept up:
            # the cumulative floor gives way as little as it can (each person short
            # outweighs all employment, as in the matching's elastic diagnosis)
            try:
                model, log = solve(False, fair_slack=10.0 * (len(inst.laborers) + 1))
            except MatchFailed as again:
                return Batch(none, f"no plan: {again.status}")
            short = sum(v.varValue or 0.0 for v in model.slacks.get("fairness_so_far", {}).values())
            note = f" (household rule soft, fairness floor short by {short:.1f} in this batch)"
    employer = disaggregate(inst, model)
    # the instance sorts laborers by person_id: return them in the caller's order
    order = pd.Series(np.arange(len(inst.laborers)), index=inst.laborers["person_id"].to_numpy())
    back = order.loc[laborers.loc[laborers["laborer"], "person_id"].to_numpy()].to_numpy()
    result = none.copy()
    result[np.flatnonzero(laborers["laborer"].to_numpy())] = employer[back]
    hired = employer >= 0
    lasting = float(inst.probability[np.flatnonzero(hired), employer[hired]].sum())
    return Batch(result, log.status + note, _care_places_used(inst, employer), lasting)


def _waive_household_rule(model, inst, waived: list[bool], hard: bool) -> None:
    """Covered households' types may go without a designated worker at no cost; the other
    types keep the household rule (hard: no "uncovered" option; soft: the penalty)."""
    import pulp

    from simlib.matching.formulation import NONE

    uncovered = []
    for (t, w, _), var in model.roles.items():
        if w != NONE or waived[t]:
            continue
        if hard:
            var.upBound = 0
        else:
            uncovered.append(var)
    model.uncovered = pulp.LpAffineExpression([(v, 1) for v in uncovered])


def _care_places_used(inst, employer: np.ndarray) -> int:
    """Care-bound households whose laborers in this batch all go away: each takes a care
    place."""
    if len(inst.care_bound) == 0:
        return 0
    lab = inst.laborers
    away = np.zeros(len(lab), dtype=bool)
    hired = employer >= 0
    away[hired] = inst.away[employer[hired]]
    household = lab["household_id"].to_numpy()
    stays = set(household[~away].tolist())
    return sum(h not in stays for h in inst.care_bound.tolist())


def _fairness_so_far(
    model,
    inst,
    floor: float,
    employed: dict[str, int],
    available: dict[str, int],
    elastic: bool,
    penalty: float = 0.0,
) -> None:
    """The fairness rows in cumulative form, with the matching's names and slacks:
    E_g(batch) - f s_g E(batch) >= f s_g E(before) - E_g(before), s_g = L_g / L so far.
    With a `penalty`, each row may give way at that cost per person in stage 1."""
    import pulp

    total = sum(available.values())
    if floor <= 0 or total == 0:
        return
    before = sum(employed.values())
    county_of = inst.classes["county"].to_numpy()
    for g in sorted(set(inst.laborers["county"])):
        share = available.get(g, 0) / total
        expr = pulp.LpAffineExpression(
            [(v, float(county_of[c] == g) - floor * share) for (c, _), v in model.assign.items()]
        )
        if elastic:
            slack = model.problem.add_variable(f"short_fairness_{g}", lowBound=0)
            model.slacks.setdefault("fairness", {})[f"fairness of {g}"] = slack
            expr = expr + slack
        elif penalty > 0:
            slack = model.problem.add_variable(f"short_fairness_so_far_{g}", lowBound=0)
            model.slacks.setdefault("fairness_so_far", {})[g] = slack
            model.lasting = model.lasting - penalty * slack
            expr = expr + slack
        rhs = floor * share * before - employed.get(g, 0)
        model.problem += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"fairness[{g}]", rhs)


def eligible_jobs(laborers: pd.DataFrame, jobs: JobsParams) -> tuple[np.ndarray, np.ndarray]:
    """(success probability, expected monthly income if hired: probability x net wage,
    0 where not eligible), each laborers x employers."""
    from simlib.eligibility import eligibility, net_wages

    eligible, probability = eligibility(laborers, jobs)
    probability = np.where(eligible, probability, 0.0)
    return probability, probability * np.maximum(net_wages(jobs), 0.0)


def care_bound_households(laborers: pd.DataFrame, jobs: JobsParams) -> np.ndarray:
    """Households the matching's care rule binds (care duties, every laborer could be sent
    away): one of their laborers must stay in the new town unless a care place frees them."""
    from simlib.matching.instance import build_instance

    return build_instance(laborers, jobs).care_bound
