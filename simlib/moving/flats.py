"""The allocation the move-in day goes to, as the moving parameters hold it.

A leaf of the moving package: `simlib.moving.inputs` keeps a `Homes` in its parameters and
`simlib.moving.homes` (which reads those parameters) makes one, so the class lives here,
below both, and neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

HOME_COLUMNS = ("building", "stairwell", "floor", "unit")


@dataclass(frozen=True, eq=False)
class Homes:
    """The allocation the move-in day goes to, and the buildings' facilities.

    households: one row per household: household_id, building, stairwell, floor, unit,
        flat ("allocated", "vacant" or "shared", see `simlib.moving.homes`), `bay` (its
        building's row in `buildings`), `stair` (its stairwell's row in `stairwells`) and
        `lifts` (the lifts of its stairwell);
    buildings: building, floors, access, lifts, unloading_bays, in site order;
    stairwells: building, stairwell, lifts (the building's lifts shared out);
    method: the allocation method; key: what it was drawn for (see `homes_key`).
    """

    method: str
    key: tuple
    households: pd.DataFrame
    buildings: pd.DataFrame
    stairwells: pd.DataFrame

    def __eq__(self, other: object) -> bool:
        """The same allocation when drawn from the same inputs (`key`, which names the
        method too): a copy read back from the answer cache, or drawn again by another
        process, is equal."""
        return isinstance(other, Homes) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @cached_property
    def index(self) -> pd.Index:
        return pd.Index(self.households["household_id"].to_numpy())

    def rows(self, household_ids: Any) -> np.ndarray:
        """Each household's row of `households` (-1: a household with no home here)."""
        return self.index.get_indexer(np.asarray(household_ids))
