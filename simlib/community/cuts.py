"""The simple cuts a community office would draw, each at its best.

- `numbering`: runs of consecutive building numbers (each other building numbered after
  its nearest residential building);
- `rows`: runs along each row of the site plan, west to east, with the grids shared
  between the rows.

Each is the best cut of its kind by the same measure as the optimisation: the largest
grid workload is as small as the kind allows (an exact linear partition), so the
comparison is with a strong rule, not a careless one. Neither knows about contiguity, the
household cap or walking: `partition.measure` says where they break them.
"""

from __future__ import annotations

import numpy as np

from simlib.community.site import Site

CUTS = ("numbering", "rows")


def linear_partition(load: np.ndarray, k: int) -> list[int]:
    """Split a sequence into k consecutive runs with the smallest largest sum (dynamic
    programme); returns the run number of each item."""
    n = len(load)
    k = max(1, min(k, n))
    prefix = np.concatenate([[0.0], np.cumsum(load)])
    best = np.full((k + 1, n + 1), np.inf)
    cut = np.zeros((k + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for parts in range(1, k + 1):
        for end in range(parts, n + 1):
            starts = np.arange(parts - 1, end)
            cost = np.maximum(best[parts - 1, starts], prefix[end] - prefix[starts])
            i = int(np.argmin(cost))
            best[parts, end], cut[parts, end] = cost[i], starts[i]
    runs = np.zeros(n, dtype=int)
    end = n
    for parts in range(k, 0, -1):
        start = cut[parts, end]
        runs[start:end] = parts - 1
        end = start
    return runs.tolist()


def numbering_order(site: Site) -> list[int]:
    """Residential buildings by number; each other building right after its nearest
    residential building (walking; ties by number)."""
    residential = [i for i, b in enumerate(site.buildings) if b.residential]
    after: dict[int, list[int]] = {i: [] for i in residential}
    for i, b in enumerate(site.buildings):
        if not b.residential:
            nearest = min(residential, key=lambda r: (site.walking[i, r], r))
            after[nearest].append(i)
    return [j for i in residential for j in (i, *after[i])]


def numbering(site: Site, load: np.ndarray, k: int) -> np.ndarray:
    order = numbering_order(site)
    grid_of = np.zeros(len(site), dtype=int)
    grid_of[order] = np.array(linear_partition(load[order], k)) + 1
    return grid_of


def rows(site: Site, load: np.ndarray, k: int) -> np.ndarray:
    """Each site-plan row cut into runs (west to east); grids go one by one to the row
    whose largest run is heaviest (optimal for the largest workload). With fewer grids
    than rows, the rows are read one after another as one line."""
    row_of = np.array([b.row for b in site.buildings])
    x = np.array([b.x_m for b in site.buildings])
    lines = [
        np.flatnonzero(row_of == r)[np.argsort(x[row_of == r], kind="stable")]
        for r in sorted(set(row_of.tolist()))
    ]
    if k < len(lines):
        line = np.concatenate(lines)
        grid_of = np.zeros(len(site), dtype=int)
        grid_of[line] = np.array(linear_partition(load[line], k)) + 1
        return grid_of
    grids = [1] * len(lines)

    def heaviest(line: np.ndarray, g: int) -> float:
        runs = np.array(linear_partition(load[line], g))
        return float(np.bincount(runs, weights=load[line]).max())

    worst = [heaviest(line, 1) for line in lines]
    for _ in range(k - len(lines)):
        open_rows = [r for r in range(len(lines)) if grids[r] < len(lines[r])]
        if not open_rows:
            break
        r = max(open_rows, key=lambda r: (worst[r], -r))
        grids[r] += 1
        worst[r] = heaviest(lines[r], grids[r])
    grid_of = np.zeros(len(site), dtype=int)
    first = 1
    for line, g in zip(lines, grids, strict=True):
        grid_of[line] = np.array(linear_partition(load[line], g)) + first
        first += g
    return grid_of


def simple_cut(name: str, site: Site, load: np.ndarray, k: int) -> np.ndarray:
    """One grid number per building by the named simple cut."""
    if name == "numbering":
        return numbering(site, load, k)
    if name == "rows":
        return rows(site, load, k)
    raise ValueError(f"cut(={name!r}) must be one of {CUTS}")
