"""The grid plan: every building in one grid, contiguous grids (checked with a breadth-first
search of our own), no worse than the best simple cut, proven optimal or with its gap, and
no plan at all explained by what gives way."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.community import grids as grids_module
from simlib.community.cuts import linear_partition, numbering_order
from simlib.community.grids import GridsFailed, Solve, connected_groups, plan_grids
from simlib.community.result import prepare
from simlib.community.site import Building, Site
from simlib.inputs import load_inputs, vary


def bfs_connected(members: list[str], xy: dict[str, tuple[float, float]], within: float) -> bool:
    """Our own check, independent of simlib: the buildings reach each other through
    neighbours (centres at most `within` apart) without leaving the grid."""
    left = set(members)
    start = members[0]
    seen, queue = {start}, deque([start])
    while queue:
        a = queue.popleft()
        for b in left - seen:
            if np.hypot(xy[a][0] - xy[b][0], xy[a][1] - xy[b][1]) <= within + 1e-9:
                seen.add(b)
                queue.append(b)
    return seen == left


@pytest.fixture(scope="module")
def full():
    inputs = load_inputs()
    return inputs, prepare(inputs)


def test_every_building_is_in_exactly_one_grid(full):
    inputs, town = full
    b = town.plan.measured.buildings
    assert len(b) == 76 == len(set(b["building"]))
    assert set(b["building"]) == set(inputs.community.site.ids)
    assert (b["grid"] >= 1).all()
    assert b["grid"].nunique() == town.plan.grids == 36
    members = town.plan.measured.grids["members"].str.split()
    assert sorted(m for group in members for m in group) == sorted(b["building"])


def test_grids_are_contiguous_by_our_own_search(full):
    inputs, town = full
    b = town.plan.measured.buildings
    xy = {r.building: (r.x_m, r.y_m) for r in b.itertuples()}
    within = inputs.housing.adjacency_max_m
    for _, group in b.groupby("grid"):
        assert bfs_connected(list(group["building"]), xy, within)
    # and the simple cuts are not (streets split some of their grids), which the search sees
    assert (town.cuts["noncontiguous_grids"] > 0).any()


def test_the_plan_keeps_the_hard_rules_and_beats_or_equals_every_simple_cut(full):
    inputs, town = full
    rules = inputs.community.grid
    g = town.plan.measured.grids
    assert (g["households"] <= rules.households_max).all()
    assert (g["max_walk_m"] <= rules.max_walk_m).all()
    ratio = town.plan.measured.max_to_mean
    assert ratio <= town.cuts["max_to_mean_workload"].min() + 1e-9
    assert town.plan.measured.max_to_min <= town.cuts["max_to_min_workload"].min() + 1e-9


def test_the_plan_is_proven_optimal_or_reports_its_gap(full):
    _, town = full
    plan = town.plan
    assert plan.status in ("optimal", "time_limit_feasible")
    if plan.status == "optimal":
        assert plan.gap == 0
        # the largest workload meets its proven bound: no partition has a lighter heaviest grid
        assert plan.largest_bound == pytest.approx(plan.measured.grids["workload"].max())
    else:
        assert 0 < plan.gap < np.inf


def test_a_stopped_search_reports_a_gap(full, monkeypatch):
    """If the solver stops at the limit on the feasibility steps below the answer, the plan
    is labelled time_limit_feasible with a positive gap, never optimal."""
    inputs, town = full
    real = grids_module.solve_partition

    def slow(site, cands, subset, k, cost, limit):
        answer = real(site, cands, subset, k, cost, limit)
        if not cost and answer.status == "infeasible":
            return Solve("time_limit_no_solution", None)
        return answer

    monkeypatch.setattr(grids_module, "solve_partition", slow)
    plan = plan_grids(inputs.community.site, town.table, inputs.community.grid)
    assert plan.status == "time_limit_feasible" and plan.gap > 0
    assert plan.measured.max_to_mean == pytest.approx(town.plan.measured.max_to_mean)


# --- small cases against brute force ---------------------------------------------------------


def _grid_site(cols: int, rows: int) -> Site:
    buildings = tuple(
        Building(f"B{r * cols + c + 1:02d}", "residential", "x", 100.0 * c, 100.0 * r, r + 1,
                 c + 1, 10, 0.0)
        for r in range(rows)
        for c in range(cols)
    )  # fmt: skip
    return Site(buildings, 100.0)


@settings(max_examples=40, deadline=None)
@given(
    cols=st.integers(2, 4),
    rows=st.integers(1, 3),
    weights=st.lists(st.integers(1, 9), min_size=12, max_size=12),
    cap=st.integers(5, 30),
)
def test_candidate_listing_finds_every_connected_group_once(cols, rows, weights, cap):
    site = _grid_site(cols, rows)
    n = len(site)
    w = np.array(weights[:n], dtype=float)
    households = np.ones(n, dtype=np.int64)
    groups, _ = connected_groups(
        site.neighbours, w, households, (float(cap), n, np.inf), site.walking, 10**6
    )
    assert len(groups) == len(set(groups))
    expected = {
        subset
        for size in range(1, n + 1)
        for subset in itertools.combinations(range(n), size)
        if w[list(subset)].sum() <= cap and site.connected(subset)
    }
    assert set(groups) == expected


def test_a_tiny_plan_reaches_the_brute_force_optimum(full):
    inputs, _ = full
    site = _grid_site(3, 2)
    table = pd.DataFrame(
        {"building": site.ids, "households": [10] * 6, "special_members": [0] * 6,
         "arrivals": [0] * 6, "workload": [5.0, 1.0, 4.0, 2.0, 6.0, 3.0]}
    )  # fmt: skip
    rules = replace(inputs.community.grid, grids=3, households_max=1000, max_walk_m=1000)
    plan = plan_grids(site, table, rules)
    best = np.inf
    for labels in itertools.product(range(3), repeat=6):
        if len(set(labels)) < 3:
            continue
        parts = [[i for i in range(6) if labels[i] == g] for g in range(3)]
        if all(site.connected(p) for p in parts):
            best = min(best, max(table["workload"].to_numpy()[p].sum() for p in parts))
    assert plan.status == "optimal"
    assert plan.measured.grids["workload"].max() == pytest.approx(best)


@settings(max_examples=30, deadline=None)
@given(load=st.lists(st.integers(0, 20), min_size=1, max_size=8), k=st.integers(1, 4))
def test_linear_partition_is_the_best_consecutive_cut(load, k):
    x = np.array(load, dtype=float)
    runs = np.array(linear_partition(x, k))
    assert (np.diff(runs) >= 0).all() and runs[0] == 0
    got = np.bincount(runs, weights=x).max()
    n = len(x)
    best = min(
        max(x[a:b].sum() for a, b in zip((0, *cuts), (*cuts, n), strict=True))
        for parts in range(1, min(k, n) + 1)
        for cuts in itertools.combinations(range(1, n), parts - 1)
    )
    assert got == pytest.approx(best)


def test_each_other_building_is_numbered_after_its_nearest_home(full):
    inputs, _ = full
    order = [inputs.community.site.ids[i] for i in numbering_order(inputs.community.site)]
    assert len(order) == 76 and order[0] == "B01"
    assert sorted(order) == sorted(inputs.community.site.ids)
    # the market's nearest homes are four towers 102.5 m away: the first of them, B10
    assert order.index("C07") == order.index("B10") + 1
    assert order.index("C01") == order.index("B09") + 1  # the kindergarten, 75 m from B09


# --- no plan ---------------------------------------------------------------------------------


def test_fewer_grids_than_parts_of_the_site_gives_way_on_the_count(full):
    inputs, town = full
    rules = replace(inputs.community.grid, grids=2, households_max=10_000)
    with pytest.raises(GridsFailed, match=r"falls into 3 parts.*at least 3"):
        plan_grids(inputs.community.site, town.table, rules)


def test_a_cap_too_small_gives_way_on_the_cap_or_the_count(full):
    inputs, town = full
    rules = replace(inputs.community.grid, households_max=150)
    with pytest.raises(GridsFailed, match=r"building B\d+ alone holds .* over grid_households_max"):
        plan_grids(inputs.community.site, town.table, rules)
    rules = replace(inputs.community.grid, grids=12)
    with pytest.raises(GridsFailed, match=r"at least 17\)"):
        plan_grids(inputs.community.site, town.table, rules)


def test_walks_too_short_for_the_grid_count_are_diagnosed(full):
    inputs, town = full
    rules = replace(inputs.community.grid, max_walk_m=60)
    with pytest.raises(GridsFailed, match=r"what gives way: the number of grids \(at least 76\)"):
        plan_grids(inputs.community.site, town.table, rules)


def test_another_grid_never_makes_the_heaviest_grid_heavier(full):
    from simlib.community.sweep import grid_counts

    inputs, _ = full
    table = grid_counts(inputs, [30, 36, 40])
    assert list(table["grids"]) == [30, 36, 40]
    assert (table["status"] == "optimal").all()
    assert table["largest_workload"].is_monotonic_decreasing
    assert (table["max_to_mean_workload"] <= table["best_cut_max_to_mean"] + 1e-9).all()
    assert vary(inputs, {"community.grids": 40}).community.grid.grids == 40
