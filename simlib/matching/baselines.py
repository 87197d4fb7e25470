"""Rules of thumb a resettlement office could follow without an optimiser, to measure
honestly what the optimiser adds.

Every rule keeps eligibility, the capacities and the care rule by construction (a household
with care duties never loses its last laborer to an away job unless a care place frees
it); whether it also gives every household with labour a worker is its own result. None
looks at the county floors. Each is then checked person by person with the matching's own
check (`check_assignment`): `keeps_rules` says whether the household rule, the care rule,
eligibility and the capacities all hold, and only such a rule can be the *best baseline*,
the one with the highest value of the optimiser's own stage-1 objective.

- **mobility aware**: households none of whose laborers may leave get local places first;
  every other household sends one mobile member away; the local places left go to those
  who must stay, best fit first; the rest go away.
- **county quotas** ("each village's own cadres place their people"): each county gets a
  share of every local employer's places in proportion to its laborers; its cadres give
  each household a worker (registration order, best fit), then place everyone else; the
  shares left over are pooled at the end.
- **export first** (a labour-export drive): everyone who may go is sent to the away job
  they are most likely to keep; the local places go to households still without a worker,
  then to anyone left.
- **household first**: households in registration order; each gets one worker, the member
  and job with the highest success probability still open; then everyone left, in the same
  order, takes the open job with the highest success probability.
- **locals first, the rest exported**: local places go first to those who must stay, then
  to everyone else in registration order (highest success probability first); whoever is
  left and may go is exported.
- **first come**: laborers in registration order, each taking the open job with the
  highest expected income (success probability x net wage).
- **random**: laborers in a random order (seeded), each taking a random open job.

"Best fit" is always the highest success probability, ties to the lower employer index.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simlib.matching.instance import Instance
from simlib.matching.solve import check_assignment, plan_objective
from simlib.population import largest_remainder
from simlib.randomness import stream

LABELS = {
    "mobility_aware": "mobility aware: stuck households first, one mover per other household",
    "county_quotas": "county quotas: each county's cadres place their own people",
    "export_first": "export first: everyone who may go is sent away, local places for the rest",
    "household_first": "household first: one worker per household, then everyone else",
    "locals_first": "locals first, the rest exported",
    "greedy": "first come, best expected income",
    "random": "random",
}
ORDER = tuple(LABELS)
HARD_RULES = ("eligibility", "capacity", "household_has_worker", "care_rule")


@dataclass(frozen=True)
class Baseline:
    """A rule-of-thumb plan and its figures (people, households, yuan/month), checked with
    the matching's own check."""

    name: str
    employer: np.ndarray  # employer index per laborer, -1 none
    employed: int
    households_without_worker: int
    expected_lasting_employed: float
    income: float  # expected net income, yuan/month
    objective: float  # the optimiser's stage-1 objective, scored on this plan
    checks: dict[str, float] = field(default_factory=dict)  # worst breach per rule
    seconds: float = 0.0  # time the rule took to make its plan

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)

    @property
    def keeps_rules(self) -> bool:
        """The household rule, the care rule, eligibility and the capacities all hold."""
        return all(self.checks.get(rule, 0.0) <= 1e-9 for rule in HARD_RULES)

    @property
    def keeps_floors(self) -> bool:
        """The county fairness floor (and any balance floor) holds too."""
        return all(v <= 1e-9 for v in self.checks.values())

    def figures(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "keeps_rules": self.keeps_rules,
            "keeps_floors": self.keeps_floors,
            "rules_broken": {k: round(v, 6) for k, v in self.checks.items() if v > 1e-9},
            "employed": self.employed,
            "households_without_worker": self.households_without_worker,
            "expected_lasting_employed": round(self.expected_lasting_employed, 4),
            "expected_income_yuan_month": round(self.income, 2),
            "objective": round(self.objective, 4),
        }


class _Shared:
    """What every rule reads, computed once per instance as plain Python lists: per class,
    its employers ranked by success probability and by expected income."""

    def __init__(self, inst: Instance):
        self.household = inst.laborers["household_id"].to_numpy().tolist()
        members: dict[int, list[int]] = {}
        for i, h in enumerate(self.household):
            members.setdefault(h, []).append(i)
        self.members = members
        self.class_of = inst.class_of.tolist()
        self.county = inst.laborers["county"].to_numpy().tolist()
        self.probability = inst.class_probability.tolist()
        income = inst.class_probability * inst.net_wage[None, :]
        self.ranked = {
            "probability": _ranked(inst.class_eligible, inst.class_probability),
            "income": _ranked(inst.class_eligible, income),
        }
        self.must_stay = inst.must_stay.tolist()
        self.mobile = inst.mobile.tolist()


def _ranked(eligible: np.ndarray, score: np.ndarray) -> list[list[int]]:
    """Per class, its eligible employers by score, highest first (ties: lower index)."""
    out = []
    for c in range(len(eligible)):
        options = np.flatnonzero(eligible[c])
        out.append(options[np.argsort(-score[c, options], kind="stable")].tolist())
    return out


class _Plan:
    """Open places, who is placed, and the care rule, while a rule fills jobs."""

    def __init__(self, inst: Instance, shared: _Shared):
        self.inst, self.s = inst, shared
        self.left = [e.capacity for e in inst.employers]
        self.employer = [-1] * len(inst.laborers)
        self.covered: set[int] = set()  # households with someone placed
        # laborers of a care-bound household not (yet) sent away
        self.staying = {h: len(shared.members[h]) for h in inst.care_bound.tolist()}
        self.freed = inst.params.care_places
        self.away = inst.away.tolist()
        self._quota: dict[str, list[int]] | None = None  # local places per county, if kept
        # the best job per (class, score, where, held home, county) until a job fills
        self._cache: dict[tuple, int | None] = {}

    @property
    def quota(self) -> dict[str, list[int]] | None:
        return self._quota

    @quota.setter
    def quota(self, value: dict[str, list[int]] | None) -> None:
        self._quota = value
        self._cache.clear()

    def held_home(self, i: int) -> bool:
        """The household's last laborer at home under the care rule: local jobs only."""
        return self.staying.get(self.s.household[i], 2) <= 1 and self.freed <= 0

    def best(self, i: int, key: str = "probability", where: str = "any") -> int | None:
        """The open job `i` may take with the highest score (where: any, local, away).
        Alike laborers share the answer until one of the jobs fills."""
        s = self.s
        home = self.staying.get(s.household[i], 2) <= 1 and self.freed <= 0
        return self._job(s.class_of[i], key, where, home, s.county[i] if self._quota else "")

    def _job(self, c: int, key: str, where: str, home: bool, county: str) -> int | None:
        """`_search`, remembered until a job (or a county's share of it) fills."""
        memo = (c, key, where, home, county)
        try:
            return self._cache[memo]
        except KeyError:
            e = self._cache[memo] = self._search(c, key, where, home, county)
            return e

    def _search(self, c: int, key: str, where: str, home: bool, county: str) -> int | None:
        left, away, quota = self.left, self.away, self._quota
        for e in self.s.ranked[key][c]:
            if left[e] <= 0 or (away[e] and (home or where == "local")):
                continue
            if not away[e] and (where == "away" or (quota and quota[county][e] <= 0)):
                continue
            return e
        return None

    def place(self, i: int, e: int) -> None:
        self.employer[i] = e
        self.left[e] -= 1
        filled = self.left[e] == 0
        if self._quota and not self.away[e]:
            self._quota[self.s.county[i]][e] -= 1
            filled = filled or self._quota[self.s.county[i]][e] == 0
        if filled:
            self._cache.clear()  # a job (or a county's share of it) is full: look again
        h = self.s.household[i]
        self.covered.add(h)
        if self.away[e] and h in self.staying:
            if self.staying[h] <= 1:
                self.freed -= 1  # a care place frees this household
            self.staying[h] -= 1

    def best_member(self, h: int, where: str = "any") -> tuple[int, int] | None:
        """(member, job): the best fit among the household's unplaced members."""
        s, employer, job, quota = self.s, self.employer, self._job, self._quota
        home = self.staying.get(h, 2) <= 1 and self.freed <= 0  # `best`'s, for all of them
        best, value = None, -1.0
        for i in s.members[h]:
            if employer[i] >= 0:
                continue
            c = s.class_of[i]
            e = job(c, "probability", where, home, s.county[i] if quota else "")
            if e is not None and s.probability[c][e] > value:
                best, value = (i, e), s.probability[c][e]
        return best

    def fill(self, order: list[int], key: str = "probability", where: str = "any") -> None:
        """Everyone in `order` not yet placed takes their best open job (`best`, inline:
        this loop runs once per laborer per pass of every rule)."""
        s, employer, job, place, staying = (
            self.s,
            self.employer,
            self._job,
            self.place,
            self.staying,
        )
        household, county, class_of, quota = s.household, s.county, s.class_of, self._quota
        for i in order:
            if employer[i] >= 0:
                continue
            home = staying.get(household[i], 2) <= 1 and self.freed <= 0
            e = job(class_of[i], key, where, home, county[i] if quota else "")
            if e is not None:
                place(i, e)

    def cover(self, households: list[int], where: str = "any") -> None:
        """Each household in turn gets one worker (its best fit), if it has none yet."""
        covered = self.covered
        for h in households:
            if h not in covered and (pick := self.best_member(h, where)) is not None:
                self.place(*pick)


def registration_order(inst: Instance, households: pd.DataFrame | None) -> np.ndarray:
    """Laborers in the order their households registered for jobs (then by person id)."""
    lab = inst.laborers
    if households is not None and "registration_order" in households:
        rank = households.set_index("household_id")["registration_order"]
        key = lab["household_id"].map(rank).fillna(math.inf).to_numpy()
    else:
        key = lab["household_id"].to_numpy()
    return np.lexsort((lab["person_id"].to_numpy(), key))


def _households_in_order(shared: _Shared, order: list[int]) -> list[int]:
    seen: dict[int, None] = {}
    for i in order:
        seen.setdefault(shared.household[i], None)
    return list(seen)


def _baseline(name: str, inst: Instance, employer: list[int], seconds: float = 0.0) -> Baseline:
    employer_ = np.array(employer, dtype=int)
    hired = employer_ >= 0
    rows = np.flatnonzero(hired)
    household = inst.laborers["household_id"].to_numpy()
    p = inst.probability[rows, employer_[rows]]
    return Baseline(
        name=name,
        employer=employer_,
        employed=int(hired.sum()),
        households_without_worker=len(np.setdiff1d(household, household[hired])),
        expected_lasting_employed=float(p.sum()),
        income=float((p * inst.net_wage[employer_[rows]]).sum()),
        objective=plan_objective(inst, employer_),
        checks=check_assignment(inst, employer_),
        seconds=seconds,
    )


def household_first(plan: _Plan, order: list[int]) -> None:
    """One worker per household first (the best member and job), then everyone else."""
    plan.cover(_households_in_order(plan.s, order))
    plan.fill(order)


def locals_first(plan: _Plan, order: list[int]) -> None:
    """Local places to those who must stay, then to the rest; the rest exported."""
    must = plan.s.must_stay
    plan.fill([i for i in order if must[i]], where="local")
    plan.fill(order, where="local")
    plan.fill(order)


def greedy_first_come(plan: _Plan, order: list[int]) -> None:
    """First come, first served, each taking the open job with the best expected income."""
    plan.fill(order, key="income")


def where_it_matters_most(plan: _Plan, people: list[int], where: str = "local") -> None:
    """Best fit first, where a wrong choice costs most (Vogel's rule, the hand method for
    transport problems): of the groups of alike laborers still to place, the one whose best
    open job beats its second best by the most takes its best job, as many as fit; again
    until no one fits. (A group with a single option goes first.)"""
    s = plan.s
    members: dict[int, list[int]] = {}
    for i in people:
        if plan.employer[i] < 0:
            members.setdefault(s.class_of[i], []).append(i)
    classes = sorted(members)
    jobs = [e for e in range(len(plan.left)) if plan.away[e] == (where == "away")]
    if not classes or not jobs:
        return
    score = np.array(s.probability)[np.ix_(classes, jobs)]
    score[~plan.inst.class_eligible[np.ix_(classes, jobs)]] = -np.inf
    open_ = np.array([plan.left[e] > 0 for e in jobs])
    active = np.array([bool(members[c]) for c in classes])
    while True:
        q = np.where(active[:, None] & open_[None, :], score, -np.inf)
        top = np.sort(q, axis=1)[:, ::-1]
        if not np.isfinite(top[:, 0]).any():
            return
        second = np.where(np.isfinite(top[:, 1]), top[:, 1], 0.0) if len(jobs) > 1 else 0.0
        regret = np.where(np.isfinite(top[:, 0]), top[:, 0] - second, -np.inf)
        k = int(np.lexsort((-top[:, 0], -regret))[0])
        j = int(np.argmax(q[k]))
        e, c = jobs[j], classes[k]
        while members[c] and plan.left[e] > 0:
            plan.place(members[c].pop(0), e)
        # only this group and this job changed
        active[k], open_[j] = bool(members[c]), plan.left[e] > 0


def mobility_aware(plan: _Plan, order: list[int]) -> None:
    """Stuck households first, one mover per other household, the local places left to
    those who must stay (where a fit matters most first), the rest away."""
    s = plan.s
    households = _households_in_order(s, order)
    stuck = [h for h in households if all(s.must_stay[i] for i in s.members[h])]
    stuck_set = set(stuck)
    others = [h for h in households if h not in stuck_set]
    plan.cover(stuck, where="local")
    plan.cover(others, where="away")
    plan.cover(others, where="local")  # no away job left for it: a local one instead
    staying = [i for i in order if plan.employer[i] < 0 and (s.must_stay[i] or plan.held_home(i))]
    where_it_matters_most(plan, staying, where="local")
    plan.fill(order, where="away")
    plan.fill(order)


def county_quotas(plan: _Plan, order: list[int]) -> None:
    """County shares of the local places, each county's people placed household first;
    the shares left over pooled at the end."""
    inst, s = plan.inst, plan.s
    counties = sorted(set(s.county))
    laborers = np.array([s.county.count(c) for c in counties], dtype=float)
    plan.quota = {c: [0] * len(plan.left) for c in counties}
    for e, emp in enumerate(inst.employers):
        if not plan.away[e] and emp.capacity > 0 and laborers.sum() > 0:
            shares = largest_remainder(laborers, emp.capacity)
            for c, k in zip(counties, shares.tolist(), strict=True):
                plan.quota[c][e] = int(k)
    household_first(plan, order)
    plan.quota = None
    plan.fill(order)


def export_first(plan: _Plan, order: list[int]) -> None:
    """Everyone who may go sent away first; local places to households without a worker,
    then to anyone left."""
    plan.fill([i for i in order if plan.s.mobile[i]], where="away")
    household_first(plan, order)


def random_assignment(plan: _Plan, order: list[int], seed: int) -> None:
    """Random order, random open job: what matching by chance achieves."""
    rng = stream(seed, "jobs", "random_baseline")
    n = len(plan.employer)
    draws = rng.random(n).tolist()
    # each class's eligible employers by index (the order the draw picks from)
    eligible = [sorted(r) for r in plan.s.ranked["probability"]]
    class_of, left, away, cache = plan.s.class_of, plan.left, plan.away, plan._cache
    for i in rng.permutation(n).tolist():
        home, c = plan.held_home(i), class_of[i]
        # the open jobs, remembered like `best`'s until a job fills (`place` forgets them)
        options = cache.get(("random", c, home))
        if options is None:
            options = [e for e in eligible[c] if left[e] > 0 and not (home and away[e])]
            cache["random", c, home] = options
        if options:
            plan.place(i, options[int(draws[i] * len(options))])


RULES = {
    "mobility_aware": mobility_aware,
    "county_quotas": county_quotas,
    "export_first": export_first,
    "household_first": household_first,
    "locals_first": locals_first,
    "greedy": greedy_first_come,
}


def all_baselines(inst: Instance, order: np.ndarray, seed: int) -> dict[str, Baseline]:
    """Every rule, by name, in ORDER."""
    shared = _Shared(inst)
    return {name: _run(inst, shared, name, order.tolist(), seed) for name in ORDER}


def run_rule(inst: Instance, name: str, order: np.ndarray, seed: int = 0) -> Baseline:
    """One rule's plan (for tests and what-ifs)."""
    return _run(inst, _Shared(inst), name, order.tolist(), seed)


def _run(inst: Instance, shared: _Shared, name: str, order: list[int], seed: int) -> Baseline:
    """One rule's plan, scored and checked, with the time it took."""
    start = time.perf_counter()
    plan = _Plan(inst, shared)
    if name == "random":
        random_assignment(plan, order, seed)
    else:
        RULES[name](plan, order)
    return _baseline(name, inst, plan.employer, time.perf_counter() - start)


def best_baseline(baselines: dict[str, Baseline], floors: bool = False) -> Baseline | None:
    """The rule that keeps every hard rule (with `floors`, the county floors too) with the
    highest value of the optimiser's own objective (then expected lasting employment, then
    income); None if no rule keeps them."""
    keeping = [b for b in baselines.values() if (b.keeps_floors if floors else b.keeps_rules)]
    return max(
        keeping,
        key=lambda b: (b.objective, b.expected_lasting_employed, b.income),
        default=None,
    )
