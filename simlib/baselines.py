"""Plans a planner could make without an optimiser, to measure what the optimiser adds.

Every baseline keeps the rules a planner would keep by hand: eligibility, capacities and
the care rule (a household with care duties never loses its last laborer to an away job).
None looks at the county floors.

- **household first**: households in registration order; each gets one worker, the member
  and job with the highest success probability still open; then everyone left, in the same
  order, takes the open job with the highest success probability.
- **locals first, the rest exported**: local places go first to those who must stay, then
  to everyone else in registration order (highest success probability first); whoever is
  left and may go is exported.
- **first come**: laborers in registration order, each taking the open job with the
  highest expected income (success probability x net wage).
- **random**: laborers in a random order (seeded), each taking a random open job.

Works on the matching instance's arrays only (no import of the matching package).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simlib.randomness import stream

if TYPE_CHECKING:
    from simlib.matching.instance import Instance

ORDER = ("household_first", "locals_first", "greedy", "random")


@dataclass
class Baseline:
    """A heuristic plan and its figures (people, households, yuan/month)."""

    name: str
    employer: np.ndarray  # employer index per laborer, -1 none
    employed: int
    households_without_worker: int
    expected_lasting_employed: float
    income: float  # expected net income, yuan/month

    def figures(self) -> dict:
        return {
            "name": self.name,
            "employed": self.employed,
            "households_without_worker": self.households_without_worker,
            "expected_lasting_employed": round(self.expected_lasting_employed, 4),
            "expected_income_yuan_month": round(self.income, 2),
        }

    def rank(self) -> tuple:
        """Better first: the household rule, then expected lasting employment, then income
        (the optimised plan's own order of priorities)."""
        return (self.households_without_worker, -self.expected_lasting_employed, -self.income)


class _Shared:
    """What every baseline reads, computed once per instance as plain Python lists."""

    def __init__(self, inst: Instance):
        self.household = inst.laborers["household_id"].to_numpy().tolist()
        members: dict[int, list[int]] = {}
        for i, h in enumerate(self.household):
            members.setdefault(h, []).append(i)
        self.members = members
        eligible: list[list[int]] = [[] for _ in self.household]
        rows, cols = np.nonzero(inst.eligible)
        for i, e in zip(rows.tolist(), cols.tolist(), strict=True):
            eligible[i].append(e)
        self.eligible = eligible
        self.probability = inst.probability.tolist()
        self.income = (inst.probability * inst.net_wage[None, :]).tolist()


class _Plan:
    """Open places, who is placed, and the care rule, while a baseline fills jobs."""

    def __init__(self, inst: Instance, shared: _Shared | None = None):
        shared = shared or _Shared(inst)
        self.inst = inst
        self.left = [e.capacity for e in inst.employers]
        self.employer = np.full(len(inst.laborers), -1)
        self.household = shared.household
        self.members = shared.members
        # laborers of a care-bound household not (yet) sent away
        self.staying = {h: len(shared.members[h]) for h in inst.care_bound.tolist()}
        self.freed = inst.params.care_places
        self.eligible = shared.eligible
        self.away = inst.away.tolist()
        self.probability = shared.probability
        self.income = shared.income

    def options(self, i: int) -> list[int]:
        left = self.left
        if self.staying.get(self.household[i], 2) <= 1 and self.freed <= 0:
            away = self.away  # the household's last laborer at home: local jobs only
            return [e for e in self.eligible[i] if left[e] > 0 and not away[e]]
        return [e for e in self.eligible[i] if left[e] > 0]

    def place(self, i: int, e: int) -> None:
        self.employer[i] = e
        self.left[e] -= 1
        h = self.household[i]
        if self.away[e] and h in self.staying:
            if self.staying[h] <= 1:
                self.freed -= 1  # a care place frees this household
            self.staying[h] -= 1

    def best(self, i: int, score: list[list[float]]) -> int | None:
        """The open option with the highest score (the lowest index among equals)."""
        row = score[i]
        best, value = None, -1.0
        for e in self.options(i):
            if row[e] > value:
                best, value = e, row[e]
        return best


def _figures(name: str, inst: Instance, employer: np.ndarray) -> Baseline:
    hired = employer >= 0
    rows = np.flatnonzero(hired)
    household = inst.laborers["household_id"].to_numpy()
    p = inst.probability[rows, employer[rows]]
    return Baseline(
        name=name,
        employer=employer,
        employed=int(hired.sum()),
        households_without_worker=len(np.setdiff1d(np.unique(household), household[hired])),
        expected_lasting_employed=float(p.sum()),
        income=float((p * inst.net_wage[employer[rows]]).sum()),
    )


def household_first(inst: Instance, order: np.ndarray, shared: _Shared | None = None) -> Baseline:
    """One worker per household first (the best member and job), then everyone else."""
    plan = _Plan(inst, shared)
    rank = {i: k for k, i in enumerate(order.tolist())}
    households = sorted(plan.members, key=lambda h: min(rank[i] for i in plan.members[h]))
    prob = plan.probability
    for h in households:
        picks = [(i, plan.best(i, prob)) for i in plan.members[h]]
        picks = [(prob[i][e], -rank[i], i, e) for i, e in picks if e is not None]
        if picks:
            _, _, i, e = max(picks)
            plan.place(i, e)
    for i in order.tolist():
        if plan.employer[i] < 0 and (e := plan.best(i, prob)) is not None:
            plan.place(i, e)
    return _figures("household_first", inst, plan.employer)


def locals_first(
    inst: Instance, order: np.ndarray, must_stay: np.ndarray, shared: _Shared | None = None
) -> Baseline:
    """Local places to those who must stay, then to the rest; the rest exported."""
    plan = _Plan(inst, shared)
    prob = plan.probability
    staying_first = sorted(order.tolist(), key=lambda i: not must_stay[i])
    for i in staying_first:
        options = [e for e in plan.options(i) if not plan.away[e]]
        if options:
            plan.place(i, max(options, key=lambda e: (prob[i][e], -e)))
    for i in order.tolist():
        if plan.employer[i] < 0 and (e := plan.best(i, prob)) is not None:
            plan.place(i, e)
    return _figures("locals_first", inst, plan.employer)


def greedy_first_come(inst: Instance, order: np.ndarray, shared: _Shared | None = None) -> Baseline:
    """First come, first served, each taking the open job with the best expected income."""
    plan = _Plan(inst, shared)
    for i in order.tolist():
        if (e := plan.best(i, plan.income)) is not None:
            plan.place(i, e)
    return _figures("greedy", inst, plan.employer)


def random_assignment(inst: Instance, seed: int, shared: _Shared | None = None) -> Baseline:
    """Random order, random open job: what matching by chance achieves."""
    rng = stream(seed, "jobs", "random_baseline")
    plan = _Plan(inst, shared)
    draws = rng.random(len(inst.laborers)).tolist()
    for i in rng.permutation(len(inst.laborers)).tolist():
        options = plan.options(i)
        if options:
            plan.place(i, options[int(draws[i] * len(options))])
    return _figures("random", inst, plan.employer)


def all_baselines(inst: Instance, order: np.ndarray, seed: int) -> dict[str, Baseline]:
    """Every baseline, by name, in ORDER."""
    shared = _Shared(inst)
    return {
        "household_first": household_first(inst, order, shared),
        "locals_first": locals_first(inst, order, inst.must_stay, shared),
        "greedy": greedy_first_come(inst, order, shared),
        "random": random_assignment(inst, seed, shared),
    }


def best_baseline(baselines: dict[str, Baseline]) -> Baseline | None:
    """The best by the household rule, then expected lasting employment, then income."""
    return min(baselines.values(), key=Baseline.rank, default=None)
