"""The community method: a PuLP model that keeps each village together and puts the
households that asked on low floors, then leaves the rest to the draw.

Formulation (one min-cost flow per unit type, solved together; HiGHS through PuLP):

- Each village has an *anchor* building: villages are laid along the site order
  (simlib.housing.site) county by county, township by township, each taking room in
  proportion to its households, and its anchor is the building its midpoint falls in. A
  planner does the same with a site plan and a list of villages.
- Data: d[v,t] households of village v drawing for type t, a[v,t] of them asked for a low
  floor; cap[b,t] flats of type t in building b, low[b,t] of them on low floors; dist[v,b]
  metres along the streets from v's anchor to b.
- Variables (households, integers): x[v,b,t] to any flat of b; xl[v,b,t] asked, to a low
  flat of b (b among the `community_window` buildings nearest the anchor that have the
  type); e[v,t], el[v,t] to the shared pool of the type (any flat, or a low one) wherever
  flats are left; r[b,t], rl[b,t] the shared pool's flats in b; u[b,t], w[b,t] flats of b
  taken by x and r on low and on upper floors; q[v,t] asked but not on a low floor.
- Rows: `households[v,t]`: sum_b x + e = d - a + q; `asked[v,t]`: sum_b xl + el + q = a;
  `shared[t]`, `shared_low[t]`: the shared pool's flats equal its households;
  `building[b,t]`: sum_v x + r = u + w; `low_floors[b,t]`: sum_v xl + rl + u <= low
  (= low with u = 0 when the type has fewer low flats than households that asked: every
  low flat then goes to one of them); `upper_floors[b,t]`: w <= cap - low. Where the
  type's low flats suffice, q = 0: every household that asked gets one.
- Objective: the metres between each household's building and its village's anchor, the
  shared pool counted at `community_shared_pool_factor` (2) times the longest walk on the
  site. Households of a village
  therefore fill their anchor building, then the nearest buildings with their type.

With the household and asked rows as they stand and the building, low-floor and
upper-floor rows negated, every column has one +1 and one -1 (x: households and building;
xl: asked and low floors; e, el: households or asked and the shared pool; q: households
and asked; r, rl: the shared pool and a building or its low floors; u, w: a building and
its low or upper floors): the matrix is a network matrix, so every vertex of the LP is
integral and HiGHS proves the optimum at the root. The answer is checked from the variable values (row residuals and integrality, as
simlib.matching does) before the draw runs within it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

from simlib.housing.draw import Reservations
from simlib.housing.inputs import HousingParams
from simlib.housing.site import site_order, walking_distances
from simlib.provenance import RunFailed

TOL = 1e-6


class CommunityFailed(RunFailed):
    """The community model ended without a verified plan."""


@dataclass
class CommunityLog:
    """What the solve did, for the summary (as simlib.matching's SolveLog)."""

    status: str = "not_solved"
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    max_violation: float = 0.0
    max_fraction: float = 0.0
    variables: int = 0
    constraints: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def anchors(households: pd.DataFrame, params: HousingParams) -> pd.Series:
    """Each village's anchor building: villages in county, township order laid along the
    site order, each taking room in proportion to its households."""
    drawing = households[households["unit_type"] != ""]
    sizes = drawing.groupby(["county", "township", "village"]).size().reset_index(name="n")
    sizes = sizes.sort_values(["county", "township", "village"], kind="stable")
    order = site_order(params)
    room = np.array([next(b.units for b in params.buildings if b.building == o) for o in order])
    edges = np.cumsum(room) / room.sum()
    middle = (np.cumsum(sizes["n"]) - sizes["n"] / 2) / sizes["n"].sum()
    where = np.minimum(np.searchsorted(edges, middle.to_numpy(), side="right"), len(order) - 1)
    return pd.Series(np.array(order)[where], index=sizes["village"].to_numpy(), name="anchor")


def _data(households: pd.DataFrame, flats: pd.DataFrame) -> dict[str, pd.Series]:
    drawing = households[households["unit_type"] != ""]
    return {
        "d": drawing.groupby(["village", "unit_type"]).size(),
        "a": drawing[drawing["asks_low"]].groupby(["village", "unit_type"]).size(),
        "cap": flats.groupby(["building", "unit_type"]).size(),
        "low": flats[flats["low_floor"]].groupby(["building", "unit_type"]).size(),
    }


@dataclass
class _Model:
    problem: pulp.LpProblem
    x: dict
    xl: dict
    e: dict
    el: dict
    r: dict
    rl: dict
    q: dict

    def variables(self) -> list[pulp.LpVariable]:
        return self.problem.variables()


def _window(anchor: str, dist: pd.DataFrame, have: list[str], size: int) -> list[str]:
    """The `size` buildings with the type nearest the anchor (walking)."""
    row = dist.loc[anchor, have].sort_values(kind="stable")
    return row.index[:size].tolist()


def _arcs(data, anchor_of, dist, params) -> tuple[dict, dict]:
    """Which (v, b, t) get an x and an xl variable, with their cost in metres."""
    by_type = defaultdict(list)
    for (b, t), n in data["cap"].items():
        if n > 0:
            by_type[t].append(b)
    low_by_type = defaultdict(list)
    for (b, t), n in data["low"].items():
        if n > 0:
            low_by_type[t].append(b)
    x_arcs, xl_arcs = {}, {}
    for v, t in data["d"].index:
        anchor = anchor_of[v]
        for b in _window(anchor, dist, by_type[t], params.community_window):
            x_arcs[v, b, t] = float(dist.at[anchor, b])
        if data["a"].get((v, t), 0) > 0:
            for b in _window(anchor, dist, low_by_type[t], params.community_window):
                xl_arcs[v, b, t] = float(dist.at[anchor, b])
    return x_arcs, xl_arcs


def build_model(households: pd.DataFrame, flats: pd.DataFrame, params: HousingParams) -> _Model:
    """The formulation of the module docstring, rows named after what they mean."""
    data = _data(households, flats)
    anchor_of = anchors(households, params)
    dist = walking_distances(params)
    shared_cost = params.community_shared_pool_factor * float(dist.to_numpy().max()) + 1.0
    x_arcs, xl_arcs = _arcs(data, anchor_of, dist, params)
    types = params.type_names
    cells = [(b, t) for (b, t), n in data["cap"].items() if n > 0]
    asked = data["a"].groupby(level=1).sum().reindex(types, fill_value=0)
    low_total = data["low"].groupby(level=1).sum().reindex(types, fill_value=0)
    short = {t: asked[t] > low_total[t] for t in types}  # more asked than low flats

    problem = pulp.LpProblem("community", pulp.LpMinimize)

    def var(name: str, key: tuple) -> pulp.LpVariable:
        label = f"{name}[{','.join(map(str, key))}]"
        return problem.add_variable(label, lowBound=0, cat=pulp.LpInteger)

    x = {k: var("x", k) for k in x_arcs}
    xl = {k: var("xl", k) for k in xl_arcs}
    e = {k: var("e", k) for k in data["d"].index}
    el = {k: var("el", k) for k in data["a"].index}
    q = {k: var("q", k) for k in data["a"].index if short[k[1]]}
    r = {k: var("r", k) for k in cells}
    rl = {k: var("rl", k) for k in cells if data["low"].get(k, 0) > 0}
    u = {k: var("u", k) for k in cells if data["low"].get(k, 0) > 0 and not short[k[1]]}
    w = {k: var("w", k) for k in cells}
    problem += (
        pulp.lpSum(c * x[k] for k, c in x_arcs.items())
        + pulp.lpSum(c * xl[k] for k, c in xl_arcs.items())
        + shared_cost * (pulp.lpSum(e.values()) + pulp.lpSum(el.values()))
    )
    _rows(problem, data, (x, xl, e, el, q, r, rl, u, w), short, cells)
    return _Model(problem, x, xl, e, el, r, rl, q)


def _rows(problem, data, columns, short, cells) -> None:
    """The rows of the formulation (see the module docstring)."""
    x, xl, e, el, q, r, rl, u, w = columns
    by_vt, by_bt = defaultdict(list), defaultdict(list)
    for (vil, b, t), var in x.items():
        by_vt["x", vil, t].append(var)
        by_bt["x", b, t].append(var)
    for (vil, b, t), var in xl.items():
        by_vt["xl", vil, t].append(var)
        by_bt["xl", b, t].append(var)
    for (vil, t), n in data["d"].items():
        a = int(data["a"].get((vil, t), 0))
        problem += (
            pulp.lpSum(by_vt["x", vil, t]) + e[vil, t] - q.get((vil, t), 0) == int(n) - a,
            f"households[{vil},{t}]",
        )
        if a:
            problem += (
                pulp.lpSum(by_vt["xl", vil, t]) + el[vil, t] + q.get((vil, t), 0) == a,
                f"asked[{vil},{t}]",
            )
    for t in sorted({t for _, t in cells}):
        problem += (
            pulp.lpSum(r[k] for k in cells if k[1] == t)
            == pulp.lpSum(var for (vil, tt), var in e.items() if tt == t),
            f"shared[{t}]",
        )
        problem += (
            pulp.lpSum(var for k, var in rl.items() if k[1] == t)
            == pulp.lpSum(var for (vil, tt), var in el.items() if tt == t),
            f"shared_low[{t}]",
        )
    for b, t in cells:
        low, cap = int(data["low"].get((b, t), 0)), int(data["cap"][b, t])
        problem += (
            pulp.lpSum(by_bt["x", b, t]) + r[b, t] == u.get((b, t), 0) + w[b, t],
            f"building[{b},{t}]",
        )
        if low:
            on_low = pulp.lpSum(by_bt["xl", b, t]) + rl[b, t] + u.get((b, t), 0)
            if short[t]:
                problem += on_low == low, f"low_floors[{b},{t}]"
            else:
                problem += on_low <= low, f"low_floors[{b},{t}]"
        problem += w[b, t] <= cap - low, f"upper_floors[{b},{t}]"


def solve(households: pd.DataFrame, flats: pd.DataFrame, params: HousingParams):
    """Build, solve with HiGHS, and verify. Returns (Reservations, CommunityLog); raises
    CommunityFailed when there is no verified plan."""
    from simlib.matching.solve import _status, make_solver, model_residuals

    log = CommunityLog()
    start = time.perf_counter()
    model = build_model(households, flats, params)
    log.build_seconds = time.perf_counter() - start
    log.variables, log.constraints = len(model.variables()), len(model.problem.constraints())
    start = time.perf_counter()
    with _silent_stdout():
        model.problem.solve(make_solver("highs", params.community_time_limit))
    log.solve_seconds = time.perf_counter() - start
    log.status = _status(model.problem)
    if log.status not in ("optimal", "time_limit_feasible"):
        raise CommunityFailed(f"the community model found no plan: {log.status}")
    log.objective = float(pulp.value(model.problem.objective) or 0.0)
    log.bound = _bound(model.problem, log)
    log.max_violation, log.max_fraction = model_residuals(model.problem, model.variables())
    if log.max_violation > TOL or log.max_fraction > TOL:
        log.status = "solution_failed_verification"
        raise CommunityFailed(
            f"the community model's answer failed our own check: largest row violation "
            f"{log.max_violation:.3g}, largest distance from an integer {log.max_fraction:.3g}"
        )
    return reservations_of(model), log


@contextlib.contextmanager
def _silent_stdout():
    """HiGHS prints a banner from C++ on the first solve of a process: send it nowhere, so
    that `--json` leaves only JSON on stdout and a notebook shows no solver chatter."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _bound(problem: pulp.LpProblem, log: CommunityLog) -> float | None:
    """The proven bound: the objective itself when optimal (gap 0); else unknown here."""
    if log.status == "optimal":
        log.gap = 0.0
        return log.objective
    return None


def _count(var: pulp.LpVariable) -> int:
    return int(round(var.varValue or 0.0))


def reservations_of(model: _Model) -> Reservations:
    """The model's counts as the draw's reservations (slots and pool members)."""
    slots, members = [], []
    for kind, arcs in (("any", model.x), ("low", model.xl)):
        for (v, b, t), var in arcs.items():
            if _count(var):
                slots.append((v, t, kind, b, _count(var)))
    for kind, arcs in (("any", model.r), ("low", model.rl)):
        for (b, t), var in arcs.items():
            if _count(var):
                slots.append(("*", t, kind, b, _count(var)))
    own = defaultdict(int)
    for kind, arcs in (("any", model.x), ("low", model.xl)):
        for (v, _b, t), var in arcs.items():
            own[v, t, kind] += _count(var)
    for (v, t, kind), n in own.items():
        if n:
            members.append((v, t, kind, v, n))
    for kind, arcs in (("any", model.e), ("low", model.el)):
        for (v, t), var in arcs.items():
            if _count(var):
                members.append((v, t, kind, "*", _count(var)))
    return Reservations(
        slots=pd.DataFrame(slots, columns=["pool", "unit_type", "kind", "building", "flats"]),
        members=pd.DataFrame(
            members, columns=["village", "unit_type", "kind", "pool", "households"]
        ),
    )
