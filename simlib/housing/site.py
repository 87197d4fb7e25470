"""The site plan: walking distances between buildings, neighbours, and an order that walks
the site building by building.

Walking is along the street grid, so a distance is |dx| + |dy| between building centres
(metres). Two buildings are neighbours when their centres are at most `adjacency_max_m`
apart (data/housing/parameters.csv). The site order runs quarter by quarter (Q1 to Q6),
row by row from the south, alternating direction in each row, so consecutive buildings
always stand close together: the community model lays counties, townships and villages
along it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.housing.inputs import HousingParams, buildings_table


def walking_distances(params: HousingParams) -> pd.DataFrame:
    """Metres along the street grid between every pair of buildings (building x building)."""
    table = buildings_table(params)
    x, y = table["x_m"].to_numpy(), table["y_m"].to_numpy()
    d = np.abs(x[:, None] - x[None, :]) + np.abs(y[:, None] - y[None, :])
    names = table["building"].to_numpy()
    return pd.DataFrame(d, index=pd.Index(names, name="building"), columns=names)


def neighbours(params: HousingParams) -> pd.DataFrame:
    """Pairs of neighbouring buildings (each pair once): building_a, building_b, metres
    between centres in a straight line and along the streets."""
    table = buildings_table(params)
    x, y = table["x_m"].to_numpy(), table["y_m"].to_numpy()
    straight = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    a, b = np.nonzero(np.triu(straight <= params.adjacency_max_m, k=1))
    names = table["building"].to_numpy()
    return pd.DataFrame(
        {
            "building_a": names[a],
            "building_b": names[b],
            "straight_m": straight[a, b],
            "walking_m": np.abs(x[a] - x[b]) + np.abs(y[a] - y[b]),
        }
    )


def site_order(params: HousingParams) -> list[str]:
    """Buildings in the order of a walk through the site: quarter by quarter, rows from
    the south, each row in alternate directions."""
    table = buildings_table(params)
    snake = np.where(table["row"] % 2 == 1, table["col"], -table["col"])
    table = table.assign(_snake=snake).sort_values(["block", "row", "_snake"], kind="stable")
    return table["building"].tolist()
