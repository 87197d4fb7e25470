"""A division of the site into grids, measured the same way whoever drew it.

`measure` takes one grid number per building (from the optimisation's variable values, or
from a simple cut) and computes, from that alone, each grid's workload, households,
special-group members, its base building (the member with the least workload-weighted
walk to the others) and walks, whether it is contiguous, and whether it keeps the hard
rules. The optimised plan is verified by this function, never by the solver's word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simlib.community.site import Site


@dataclass(frozen=True)
class Measured:
    """A division measured: one row per building (with its grid, base and walk) and one
    per grid, and the headline figures."""

    buildings: pd.DataFrame
    grids: pd.DataFrame

    @property
    def count(self) -> int:
        return int(len(self.grids))

    @property
    def max_to_mean(self) -> float:
        load = self.grids["workload"]
        return float(load.max() / load.mean()) if load.mean() > 0 else float("nan")

    @property
    def max_to_min(self) -> float:
        load = self.grids["workload"]
        return float(load.max() / load.min()) if load.min() > 0 else float("inf")

    @property
    def noncontiguous(self) -> int:
        return int((~self.grids["contiguous"]).sum())

    def figures(self) -> dict[str, float]:
        """Headline figures (walks in metres, weighted by workload)."""
        b = self.buildings
        weight = b["workload"].to_numpy()
        walk = b["walk_to_base_m"].to_numpy()
        return {
            "grids": self.count,
            "max_to_mean_workload": self.max_to_mean,
            "max_to_min_workload": self.max_to_min,
            "largest_workload": float(self.grids["workload"].max()),
            "mean_workload": float(self.grids["workload"].mean()),
            "smallest_workload": float(self.grids["workload"].min()),
            "mean_walk_to_base_m": float(np.average(walk, weights=weight))
            if weight.sum() > 0
            else float(walk.mean()),
            "max_walk_to_base_m": float(walk.max()),
            "noncontiguous_grids": self.noncontiguous,
            "largest_households": int(self.grids["households"].max()),
        }


def base_of(
    members: np.ndarray, load: np.ndarray, walking: np.ndarray, max_walk: float = np.inf
) -> int:
    """The member from which the workload-weighted walk to the others is least (ties: the
    first), i.e. where a grid keeps its office; among the members within `max_walk` of
    every other member if there are any."""
    sub = walking[np.ix_(members, members)]
    cost = load[members] @ sub
    within = sub.max(axis=0) <= max_walk + 1e-6
    if within.any():
        cost = np.where(within, cost, np.inf)
    return int(members[int(np.argmin(cost))])


def measure(
    site: Site, table: pd.DataFrame, grid_of: np.ndarray, max_walk: float = np.inf
) -> Measured:
    """Measure a division: `table` has one row per building of `site` (in site order) with
    households, special_members and workload; `grid_of` a grid number per building; a
    grid's base is preferably within `max_walk` of all its members."""
    grid_of = np.asarray(grid_of)
    load = table["workload"].to_numpy(dtype=float)
    walking = site.walking
    base = np.zeros(len(site), dtype=int)
    rows = []
    for grid in np.unique(grid_of):
        members = np.flatnonzero(grid_of == grid)
        b = base_of(members, load, walking, max_walk)
        base[members] = b
        rows.append(
            {
                "grid": int(grid),
                "base": site.ids[b],
                "buildings": len(members),
                "members": " ".join(site.ids[m] for m in members),
                "households": int(table["households"].to_numpy()[members].sum()),
                "special_members": int(table["special_members"].to_numpy()[members].sum()),
                "workload": float(load[members].sum()),
                "max_walk_m": float(walking[members, b].max()),
                "contiguous": site.connected(members.tolist()),
            }
        )
    buildings = table.copy()
    buildings["grid"] = grid_of
    buildings["base"] = [site.ids[b] for b in base]
    buildings["walk_to_base_m"] = walking[np.arange(len(site)), base]
    return Measured(buildings, pd.DataFrame(rows))
