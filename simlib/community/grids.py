"""Cutting the town into grids (PuLP, HiGHS): balanced, compact and contiguous.

Formulation (set partitioning over candidate grids):
- data: buildings i with a workload w_i (households, special-group members and new
  arrivals weighted, data/community/parameters.csv) and households h_i; candidate grids
  s = every group of buildings that is *connected* on the site plan (neighbours within
  adjacency_max_m), holds at most `grid_households_max` households, and has a base
  building within `grid_max_walk_m` of all its members. Listing them (`candidates`) makes
  contiguity exact: a grid that is not connected is never a candidate.
- variables: grid[s] in {0, 1}, the candidate is one of the grids.
- constraints: one_grid[i]: sum of grid[s] over the candidates holding i = 1 (every
  building in exactly one grid); grid_count: sum of grid[s] = K.
- objectives, one after another:
  1. balance: the smallest largest workload W*: the least level W at which the candidates
     of workload <= W still admit a partition, found by bisection over the candidates'
     workloads, each step a feasibility solve (a proven optimum when every step is proven);
  2. the largest smallest workload L* with every grid <= W* (by bisection the same way),
     so that no grid is far lighter than the others;
  3. compactness: the least workload-weighted walk from each building to its grid's base,
     over grids with workloads in [L*(1 - tol), W*(1 + tol)].
The chosen plan is checked from the variable values (`partition.measure`): every building
in exactly one grid, K grids, every grid connected, households and walks within the rules.
No plan (the hard rules cannot all hold) raises GridsFailed with what gives way: the
fewest grids that can hold the site within the rules, or the building no grid may hold.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

from simlib.community.inputs import GridRules
from simlib.community.partition import Measured, measure
from simlib.community.site import Site
from simlib.provenance import RunFailed

FIRST_LOAD_FACTOR = 1.6  # candidates are first listed up to 1.6 x the mean workload
GROW_LOAD_FACTOR = 1.5  # and the limit grows by half while no partition fits under it
TOL = 1e-6


class GridsFailed(RunFailed):
    """The grid plan has no solution within the hard rules: the message says what gives
    way (the number of grids needed, or the building no grid may hold)."""


# --- candidates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """Connected groups of buildings that may be grids, with their workload, households,
    base building and workload-weighted walk to it."""

    members: tuple[tuple[int, ...], ...]
    workload: np.ndarray
    households: np.ndarray
    base: np.ndarray
    walk: np.ndarray  # sum of workload x walking metres to the base
    complete: bool  # no group was left out for its workload (only for the hard rules)

    def __len__(self) -> int:
        return len(self.members)


def connected_groups(
    neighbours,
    weight: np.ndarray,
    households: np.ndarray,
    limits: tuple[float, int, float],
    walking: np.ndarray,
    most: int,
) -> tuple[list[tuple[int, ...]], bool]:
    """Every connected group of buildings with workload <= limits[0], households <=
    limits[1] and no two members more than limits[2] metres apart, each listed once
    (extension from its lowest-numbered member, as in Wernicke's ESU). Returns the groups
    and whether a group was left out for its workload alone."""
    max_load, max_households, max_span = limits
    groups: list[tuple[int, ...]] = []
    cut_by_load = False

    def extend(group: list[int], extension: list[int], load: float, people: int, root: int):
        nonlocal cut_by_load
        groups.append(tuple(sorted(group)))
        if len(groups) > most:
            raise GridsFailed(
                f"more than {most:,} candidate grids: lower grid_households_max or "
                "grid_max_walk_m, or raise grid_candidates_max"
            )
        extension = list(extension)
        while extension:
            w = extension.pop()
            if people + households[w] > max_households:
                continue
            if walking[w, group].max() > max_span:
                continue
            if load + weight[w] > max_load + TOL:
                cut_by_load = True
                continue
            inside = set(group)
            near = {v for u in group for v in neighbours[u]}
            new = [
                u
                for u in neighbours[w]
                if u > root and u not in inside and u not in near and u not in extension
            ]
            extend(group + [w], extension + new, load + weight[w], people + households[w], root)

    for root in range(len(weight)):
        if households[root] <= max_households and weight[root] <= max_load + TOL:
            extend(
                [root],
                [u for u in neighbours[root] if u > root],
                weight[root],
                households[root],
                root,
            )
        elif weight[root] > max_load + TOL:
            cut_by_load = True
    return groups, cut_by_load


def candidates(site: Site, table: pd.DataFrame, rules: GridRules, max_load: float) -> Candidates:
    """The candidate grids up to `max_load`, each with a base building within
    `rules.max_walk_m` of every member (groups with none are dropped)."""
    weight = table["workload"].to_numpy(dtype=float)
    households = table["households"].to_numpy(dtype=np.int64)
    walking = site.walking
    groups, cut = connected_groups(
        site.neighbours,
        weight,
        households,
        (max_load, rules.households_max, 2 * rules.max_walk_m),
        walking,
        rules.candidates_max,
    )
    kept, base, walk = [], [], []
    for group in groups:
        members = np.array(group)
        sub = walking[np.ix_(members, members)]
        cost = weight[members] @ sub  # walk to each possible base, workload-weighted
        cost = np.where(sub.max(axis=0) <= rules.max_walk_m + TOL, cost, np.inf)
        if np.isfinite(cost).any():
            best = int(np.argmin(cost))
            kept.append(group)
            base.append(int(members[best]))
            walk.append(float(cost[best]))
    return Candidates(
        members=tuple(kept),
        workload=np.array([weight[list(g)].sum() for g in kept]),
        households=np.array([households[list(g)].sum() for g in kept], dtype=np.int64),
        base=np.array(base, dtype=int),
        walk=np.array(walk),
        complete=not cut,
    )


# --- solving ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_stdout():
    """Drop what HiGHS prints from C++ (its banner; the solves run with msg=False and their
    status is read and checked here), so that `--json` leaves nothing but JSON on stdout
    and a report shows no solver banner."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        sink = os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no real stdout (e.g. inside a notebook)
        yield
        return
    try:
        os.dup2(sink, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(sink)


@dataclass(frozen=True)
class Solve:
    """One solve: its status (optimal, infeasible, time_limit_feasible,
    time_limit_no_solution, solution_failed_verification), the chosen candidates, the
    objective, the relative gap to the solver's bound, and seconds."""

    status: str
    chosen: np.ndarray | None
    objective: float | None = None
    gap: float = 0.0
    seconds: float = 0.0

    @property
    def found(self) -> bool:
        return self.status in ("optimal", "time_limit_feasible")


def solve_partition(
    site: Site, cands: Candidates, subset: np.ndarray, k: int, cost: bool, time_limit: float
) -> Solve:
    """Choose k of the candidates in `subset` that hold every building exactly once (and,
    with `cost`, the least walking). The answer is checked from the variable values."""
    start = time.perf_counter()
    holders: list[list[int]] = [[] for _ in range(len(site))]
    for position, s in enumerate(subset):
        for i in cands.members[s]:
            holders[i].append(position)
    if any(not h for h in holders) or len(subset) < k:
        return Solve("infeasible", None, seconds=time.perf_counter() - start)
    problem = pulp.LpProblem("grids", pulp.LpMinimize)
    grid = [problem.add_variable(f"grid_{s}", 0, 1, pulp.LpBinary) for s in subset]
    for i, h in enumerate(holders):
        problem += pulp.lpSum(grid[p] for p in h) == 1, f"one_grid[{site.ids[i]}]"
    problem += pulp.lpSum(grid) == k, "grid_count"
    walk = cands.walk[subset]
    problem.setObjective(
        pulp.lpSum(float(w) * g for w, g in zip(walk, grid, strict=True))
        if cost
        else pulp.LpAffineExpression()
    )
    with _quiet_stdout():
        problem.solve(pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=0, gapAbs=0))
    status, gap = _status(problem)
    seconds = time.perf_counter() - start
    if status not in ("optimal", "time_limit_feasible"):
        return Solve(status, None, seconds=seconds)
    values = np.array([g.varValue or 0.0 for g in grid])
    if np.abs(values - np.round(values)).max() > TOL or _violation(problem) > TOL:
        return Solve("solution_failed_verification", None, seconds=seconds)
    chosen = subset[values > 0.5]
    objective = float(walk[values > 0.5].sum())
    return Solve(status, chosen, objective, gap, seconds)


def _status(problem: pulp.LpProblem) -> tuple[str, float]:
    """An honest status (optimal only when the solver proved it) and the relative gap."""
    if problem.status == pulp.LpStatusInfeasible:
        return "infeasible", math.inf
    gap = 0.0
    with contextlib.suppress(Exception):  # the HiGHS model behind PuLP, if any
        gap = float(problem.solverModel.getInfo().mip_gap)
    if problem.sol_status == pulp.LpSolutionOptimal:
        return "optimal", 0.0
    if problem.sol_status == pulp.LpSolutionIntegerFeasible:
        return "time_limit_feasible", gap if math.isfinite(gap) else math.inf
    if problem.status == pulp.LpStatusNotSolved:
        return "time_limit_no_solution", math.inf
    return "not_solved", math.inf


def _violation(problem: pulp.LpProblem) -> float:
    """The largest constraint violation, computed from the variable values."""
    worst = 0.0
    for row in problem.constraints():
        value = sum((v.varValue or 0.0) * a for v, a in row.items()) + row.constant
        if row.sense == pulp.LpConstraintEQ:
            worst = max(worst, abs(value))
        elif row.sense == pulp.LpConstraintLE:
            worst = max(worst, value)
        else:
            worst = max(worst, -value)
    return worst


# --- the three stages ------------------------------------------------------------------------


@dataclass
class Search:
    """A bisection over sorted levels for the first level at which a partition exists
    (levels ordered so that feasibility is monotone). Records every step."""

    levels: np.ndarray
    steps: list[dict[str, Any]] = field(default_factory=list)
    best: Solve | None = None
    proven_below: int = 0  # every level before this index is proven infeasible

    def run(self, feasible, stage: str) -> int | None:
        """Index of the first feasible level (its Solve in `best`), or None."""
        lo, hi = 0, len(self.levels)  # hi: first index known feasible (len = none yet)
        while lo < hi:
            mid = (lo + hi) // 2 if self.best is not None else len(self.levels) - 1
            answer = feasible(self.levels[mid])
            self.steps.append(
                {
                    "stage": stage,
                    "level": float(self.levels[mid]),
                    "status": answer.status,
                    "seconds": round(answer.seconds, 4),
                }
            )
            if answer.found:
                hi, self.best = mid, answer
            elif answer.status == "infeasible":
                lo = mid + 1
                self.proven_below = max(self.proven_below, lo)
            else:  # unknown (stopped by the time limit): search above it, not proven
                lo = mid + 1
        return hi if self.best is not None else None


def _largest_workload(site, cands, k, rules, floor) -> tuple[float, Search]:
    """Stage 1: the least level W with a partition into grids of workload <= W."""
    levels = np.unique(cands.workload[cands.workload >= floor - TOL])
    search = Search(levels)

    def feasible(level: float) -> Solve:
        subset = np.flatnonzero(cands.workload <= level + TOL)
        return solve_partition(site, cands, subset, k, False, rules.time_limit)

    found = search.run(feasible, "largest_workload")
    if found is None:
        raise GridsFailed("no grid plan under the candidate workloads")  # caught by plan()
    return float(levels[found]), search


def _smallest_workload(site, cands, k, rules, largest) -> tuple[float, Search]:
    """Stage 2: the largest level L with a partition into grids of workload in [L, W*]."""
    usable = cands.workload <= largest + TOL
    levels = np.unique(cands.workload[usable])[::-1]  # high to low: feasible from some on
    search = Search(levels)

    def feasible(level: float) -> Solve:
        subset = np.flatnonzero(usable & (cands.workload >= level - TOL))
        return solve_partition(site, cands, subset, k, False, rules.time_limit)

    found = search.run(feasible, "smallest_workload")
    return (float(levels[found]) if found is not None else 0.0), search


def _compact(site, cands, k, rules, band) -> Solve:
    """Stage 3: the least workload-weighted walk to the bases, workloads within `band`."""
    low, high = band
    tol = rules.balance_tolerance
    subset = np.flatnonzero(
        (cands.workload >= low * (1 - tol) - TOL) & (cands.workload <= high * (1 + tol) + TOL)
    )
    return solve_partition(site, cands, subset, k, True, rules.time_limit)


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridPlan:
    """The optimised grids, measured from the chosen variables, and how they were found.

    `measured.buildings`: one row per building (households, special members, arrivals,
    workload, grid, base, walk to the base); `measured.grids`: one row per grid.
    `status` is "optimal" when every stage was proven, else "time_limit_feasible" with
    `gap`: the largest relative gap of a stage to its proven bound.
    """

    measured: Measured
    status: str
    gap: float
    stages: tuple[dict[str, Any], ...]
    candidates: int
    largest_bound: float  # proven lower bound on the largest grid workload
    seconds: float

    @property
    def grids(self) -> int:
        return self.measured.count

    def figures(self) -> dict[str, Any]:
        out = self.measured.figures()
        out.update(
            status=self.status,
            gap=self.gap,
            candidates=self.candidates,
            largest_workload_bound=self.largest_bound,
            seconds=self.seconds,
        )
        return out


def _listed(site: Site, table: pd.DataFrame, rules: GridRules, k: int) -> Candidates:
    """Candidates up to a workload limit that grows until a partition fits under it (or
    nothing is left out for its workload: then there is no plan)."""
    weight = table["workload"].to_numpy(dtype=float)
    limit = max(FIRST_LOAD_FACTOR * weight.sum() / k, weight.max())
    while True:
        cands = candidates(site, table, rules, limit)
        every = np.arange(len(cands))
        if solve_partition(site, cands, every, k, False, rules.time_limit).found:
            return cands
        if cands.complete:
            raise GridsFailed(diagnose(site, table, rules, k))
        limit *= GROW_LOAD_FACTOR


def plan_grids(site: Site, table: pd.DataFrame, rules: GridRules) -> GridPlan:
    """The three stages (module docstring) for `rules.grids` grids; `table` has one row per
    building of `site` with households, special_members, arrivals and workload."""
    start = time.perf_counter()
    k = rules.grids
    weight = table["workload"].to_numpy(dtype=float)
    _precheck(site, table, rules, k)
    cands = _listed(site, table, rules, k)
    floor = max(weight.sum() / k, weight.max())
    largest, first = _largest_workload(site, cands, k, rules, floor)
    smallest, second = _smallest_workload(site, cands, k, rules, largest)
    final = _compact(site, cands, k, rules, (smallest, largest))
    stages = [*first.steps, *second.steps]
    stages.append(
        {
            "stage": "compact",
            "status": final.status,
            "seconds": round(final.seconds, 4),
            "objective": final.objective,
        }
    )
    if not final.found:  # keep the balanced plan of stage 2 (or 1)
        final = second.best or first.best
    lower = (
        float(first.levels[first.proven_below])
        if first.proven_below < len(first.levels)
        else largest
    )
    gaps = [final.gap, (largest - min(lower, largest)) / largest if largest > 0 else 0.0]
    gaps += [
        0.0 if s["status"] in ("optimal", "infeasible") else math.inf
        for s in stages
        if s["stage"] == "smallest_workload"
    ]
    gap = max(gaps)
    grid_of = _assignment(site, cands, final.chosen)
    measured = measure(site, table, grid_of, rules.max_walk_m)
    verify(site, measured, rules, k)
    return GridPlan(
        measured=measured,
        status="optimal" if gap <= TOL else "time_limit_feasible",
        gap=0.0 if gap <= TOL else gap,
        stages=tuple(stages),
        candidates=len(cands),
        largest_bound=min(lower, largest),
        seconds=time.perf_counter() - start,
    )


def _assignment(site: Site, cands: Candidates, chosen: np.ndarray) -> np.ndarray:
    """Grid number of each building from the chosen candidates, checked: every building
    held by exactly one chosen grid."""
    held = np.bincount([i for s in chosen for i in cands.members[s]], minlength=len(site))
    if (held != 1).any():
        bad = [site.ids[i] for i in np.flatnonzero(held != 1)]
        raise GridsFailed(f"the grid plan failed its own check: buildings {bad} are in no "
                          "chosen grid or in two")  # fmt: skip
    grid_of = np.zeros(len(site), dtype=int)
    for number, s in enumerate(sorted(chosen, key=lambda s: cands.members[s]), start=1):
        grid_of[list(cands.members[s])] = number
    return grid_of


def verify(site: Site, measured: Measured, rules: GridRules, k: int) -> None:
    """The plan checked from its assignment alone: every building in exactly one grid, k
    grids, each connected, within the household cap and the walk from its base."""
    b = measured.buildings
    problems = []
    if len(b) != len(site) or b["building"].duplicated().any() or (b["grid"] < 1).any():
        problems.append("a building is in no grid or in two")
    if measured.count != k:
        problems.append(f"{measured.count} grids instead of {k}")
    g = measured.grids
    if not g["contiguous"].all():
        problems.append(f"grids {g.loc[~g['contiguous'], 'grid'].tolist()} are not contiguous")
    if (g["households"] > rules.households_max).any():
        problems.append("a grid holds more households than grid_households_max")
    if (g["max_walk_m"] > rules.max_walk_m + TOL).any():
        problems.append("a building is farther from its base than grid_max_walk_m")
    if problems:
        raise GridsFailed("the grid plan failed its own check: " + "; ".join(problems))


# --- no plan: what gives way -----------------------------------------------------------------


def _precheck(site: Site, table: pd.DataFrame, rules: GridRules, k: int) -> None:
    """No plan by arithmetic alone: the message says what gives way."""
    households = table["households"].to_numpy(dtype=np.int64)
    cap = rules.households_max
    head = f"no grid plan for {k} grids"
    if (households > cap).any():
        i = int(np.argmax(households))
        raise GridsFailed(
            f"{head}: building {site.ids[i]} alone holds {households[i]:,} households, over "
            f"grid_households_max = {cap:,}; what gives way: the cap (at least {households[i]:,})"
        )
    total = int(households.sum())
    if total > k * cap:
        raise GridsFailed(
            f"{head}: {k} grids of at most {cap:,} households hold {k * cap:,} of the "
            f"{total:,} households; what gives way: the number of grids (at least "
            f"{math.ceil(total / cap)}) or the cap (at least {math.ceil(total / k):,})"
        )
    parts = len(site.components)
    if parts > k:
        raise GridsFailed(
            f"{head}: the site plan falls into {parts} parts that no contiguous grid can join "
            f"(no building of one within adjacency_max_m of another); what gives way: the "
            f"number of grids (at least {parts})"
        )


def diagnose(site: Site, table: pd.DataFrame, rules: GridRules, k: int) -> str:
    """Why no partition into k grids exists: the elastic re-solve lets the number of grids
    give way (penalised) over every candidate, and says how many grids would fit."""
    cands = candidates(site, table, rules, math.inf)
    problem = pulp.LpProblem("grids_elastic", pulp.LpMinimize)
    grid = [problem.add_variable(f"grid_{s}", 0, 1, pulp.LpBinary) for s in range(len(cands))]
    more = problem.add_variable("more_grids", lowBound=0, cat=pulp.LpInteger)
    fewer = problem.add_variable("fewer_grids", lowBound=0, cat=pulp.LpInteger)
    holders: list[list[int]] = [[] for _ in range(len(site))]
    for s, members in enumerate(cands.members):
        for i in members:
            holders[i].append(s)
    head = (
        f"no grid plan for {k} grids within the rules (contiguous, at most "
        f"{rules.households_max:,} households, every building within {rules.max_walk_m:g} m "
        "of its grid's base)"
    )
    alone = [site.ids[i] for i, h in enumerate(holders) if not h]
    if alone:
        return f"{head}: no grid may hold building(s) {', '.join(alone)}"
    for i, h in enumerate(holders):
        problem += pulp.lpSum(grid[s] for s in h) == 1, f"one_grid[{site.ids[i]}]"
    problem += pulp.lpSum(grid) - more + fewer == k, "grid_count"
    problem.setObjective(more + fewer)
    with _quiet_stdout():
        problem.solve(pulp.HiGHS(msg=False, timeLimit=rules.time_limit))
    status, _ = _status(problem)
    if status not in ("optimal", "time_limit_feasible"):
        return f"{head}: the elastic re-solve found no plan either ({status})"
    up, down = round(more.varValue or 0), round(fewer.varValue or 0)
    if up:
        return f"{head}; what gives way: the number of grids (at least {k + up})"
    if down:
        return f"{head}; what gives way: the number of grids (at most {k - down})"
    return f"{head}: the elastic re-solve needs no change: raise grid_time_limit"
