"""The site plan the grids are drawn on: buildings, walking distances and who touches whom.

Walking distance is taken along the street grid (|dx| + |dy|, metres), as the housing
site plan says; two buildings are neighbours when their centres are at most the site
plan's `adjacency_max_m` apart (data/housing/parameters.csv), so a grid is contiguous
when its buildings are connected through neighbours. Shortest walks *through* neighbours
(Dijkstra) decide which part of the site a smaller scenario keeps.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Building:
    """One building a grid covers: a standard residential building (with flats) or another
    one (a school, a market, shops...) whose grid work is a fixed household-equivalent."""

    building: str
    kind: str  # residential | school | health | service | care | market | shops
    name: str
    x_m: float  # m east of the site's south-west corner
    y_m: float  # m north of it
    row: int  # site-plan row (1 = southernmost)
    col: int  # site-plan column (1 = westernmost)
    units: int  # flats (0 for a building without homes)
    workload_equivalent: float  # household-equivalents of grid work (0: from its households)

    @property
    def residential(self) -> bool:
        return self.kind == "residential"


@dataclass(frozen=True)
class Site:
    """Buildings in site order (residential by number, then the others) and their
    neighbourhood on the site plan."""

    buildings: tuple[Building, ...]
    adjacency_max_m: float  # m between centres

    def __len__(self) -> int:
        return len(self.buildings)

    @cached_property
    def ids(self) -> tuple[str, ...]:
        return tuple(b.building for b in self.buildings)

    @cached_property
    def index(self) -> dict[str, int]:
        return {b: i for i, b in enumerate(self.ids)}

    @cached_property
    def xy(self) -> np.ndarray:
        return np.array([(b.x_m, b.y_m) for b in self.buildings], dtype=float).reshape(-1, 2)

    @cached_property
    def walking(self) -> np.ndarray:
        """Walking distance (m) between every two buildings, along the streets."""
        xy = self.xy
        return np.abs(xy[:, None, 0] - xy[None, :, 0]) + np.abs(xy[:, None, 1] - xy[None, :, 1])

    @cached_property
    def neighbours(self) -> tuple[tuple[int, ...], ...]:
        """For each building, the buildings whose centres are within adjacency_max_m."""
        return neighbours_of(self.xy, self.adjacency_max_m)

    @cached_property
    def components(self) -> tuple[tuple[int, ...], ...]:
        """Parts of the site plan that neighbours connect (no grid can span two)."""
        return components_of(self.neighbours)

    def connected(self, members: Iterable[int]) -> bool:
        return is_connected(members, self.neighbours)

    def isolated(self) -> list[int]:
        """Buildings no other touches."""
        return [i for i, near in enumerate(self.neighbours) if not near]


def neighbours_of(xy: np.ndarray, within: float) -> tuple[tuple[int, ...], ...]:
    """Index lists of the points within `within` metres (straight line) of each point."""
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    near = (d <= within + 1e-9) & ~np.eye(len(xy), dtype=bool)
    return tuple(tuple(np.flatnonzero(row).tolist()) for row in near)


def components_of(neighbours: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    seen: set[int] = set()
    parts = []
    for start in range(len(neighbours)):
        if start in seen:
            continue
        part = _reach(start, neighbours, None)
        seen |= part
        parts.append(tuple(sorted(part)))
    return tuple(parts)


def is_connected(members: Iterable[int], neighbours: Sequence[Sequence[int]]) -> bool:
    """Whether `members` are connected through neighbours among themselves (breadth-first)."""
    group = set(members)
    if not group:
        return False
    return _reach(next(iter(group)), neighbours, group) == group


def _reach(start: int, neighbours: Sequence[Sequence[int]], within: set[int] | None) -> set[int]:
    seen = {start}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for v in neighbours[u]:
            if v not in seen and (within is None or v in within):
                seen.add(v)
                queue.append(v)
    return seen


def walk_order(start: int, walking: np.ndarray, neighbours: Sequence[Sequence[int]]) -> list[int]:
    """Buildings in the order of their shortest walk from `start` through neighbours
    (Dijkstra; ties by index); buildings it cannot reach are left out."""
    dist = {start: 0.0}
    done: list[int] = []
    heap = [(0.0, start)]
    while heap:
        d, u = heapq.heappop(heap)
        if u in done or d > dist[u]:
            continue
        done.append(u)
        for v in neighbours[u]:
            nd = d + float(walking[u, v])
            if nd < dist.get(v, np.inf) - 1e-9:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return done


def scaled_site(site: Site, scale: float) -> Site:
    """The part of the site a smaller scenario uses: a connected cluster grown from the
    first residential building along the shortest walks, until its flats reach `scale` of
    all flats (so a small population still fills whole, neighbouring buildings)."""
    if scale >= 1.0:
        return site
    units = np.array([b.units for b in site.buildings])
    target = max(1, round(units.sum() * scale))
    first = next(i for i, b in enumerate(site.buildings) if b.residential)
    kept, total = [], 0
    for i in walk_order(first, site.walking, site.neighbours):
        kept.append(i)
        total += units[i]
        if total >= target:
            break
    return Site(tuple(site.buildings[i] for i in sorted(kept)), site.adjacency_max_m)
