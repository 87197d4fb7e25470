"""Each building's grid work: its households, special-group members and new arrivals,
weighted (data/community/parameters.csv), or a fixed household-equivalent for a building
without homes (other_buildings.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.community.inputs import GridRules
from simlib.community.site import Site


def building_table(
    site: Site,
    placement: pd.DataFrame,
    households: pd.DataFrame,
    moves: pd.DataFrame,
    rules: GridRules,
) -> pd.DataFrame:
    """One row per building of `site` (site order): households living there (`placement`:
    household_id -> building), their special-group members (`households`:
    special_group_people), the households that move in during the campaign (`moves`:
    moved_in_day >= 0) and the weighted workload."""
    hh = placement.merge(
        households[["household_id", "special_group_people"]], on="household_id", how="left"
    ).merge(moves[["household_id", "moved_in_day"]], on="household_id", how="left")
    hh["arrived"] = hh["moved_in_day"].fillna(-1).to_numpy() >= 0
    per = hh.groupby("building").agg(
        households=("household_id", "size"),
        special_members=("special_group_people", "sum"),
        arrivals=("arrived", "sum"),
    )
    table = pd.DataFrame(
        {
            "building": site.ids,
            "kind": [b.kind for b in site.buildings],
            "name": [b.name for b in site.buildings],
            "x_m": [b.x_m for b in site.buildings],
            "y_m": [b.y_m for b in site.buildings],
            "row": [b.row for b in site.buildings],
            "col": [b.col for b in site.buildings],
            "units": [b.units for b in site.buildings],
        }
    )
    table = table.join(per, on="building")
    for column in ("households", "special_members", "arrivals"):
        table[column] = table[column].fillna(0).astype(np.int64)
    equivalent = np.array([b.workload_equivalent for b in site.buildings])
    table["workload"] = (
        rules.weight_household * table["households"]
        + rules.weight_special_member * table["special_members"]
        + rules.weight_new_arrival * table["arrivals"]
        + equivalent
    ).astype(float)
    return table
