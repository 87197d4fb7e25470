"""Demand against supply: the households that draw, their villages and priority, and which
unit type each one gets under the data's rule.

Each household's own type is the one that serves its size (unit_types.csv). Where a type
has fewer flats than households, the draw decides who of that type runs short (a random
order, from the seed), and `shortfall_rule` (data/housing/parameters.csv) says what they
get: `larger_then_smaller` first gives every household that ran short the nearest larger
type with flats left (smallest own type first, so no family is crowded while a larger flat
stands empty), then the nearest smaller type (largest own type first); `larger` and
`smaller` do only one of the two passes; `none` leaves them without a flat. Every household
gets at most one flat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.housing.inputs import HousingParams
from simlib.population import Population
from simlib.randomness import stream

FIT = ("own", "larger", "smaller", "none")


def villages(population: Population, params: HousingParams, seed: int) -> np.ndarray:
    """Each household's village. The population names townships only, so each township's
    households are split into villages of about `village_households` households (the
    number of villages rounded, at least one; who is in which drawn from the seed). A
    population that already has a `village` column keeps it."""
    hh = population.households
    if "village" in hh.columns:
        return hh["village"].astype(str).to_numpy()
    rng = stream(seed, "housing", "villages")
    township = hh["township"].astype(str).to_numpy()
    result = np.empty(len(hh), dtype=object)
    for name in sorted(set(township)):
        rows = np.flatnonzero(township == name)
        k = max(1, round(len(rows) / params.village_households))
        index = rng.permutation(len(rows)) % k  # sizes differ by at most one
        result[rows] = [f"{name}-V{i + 1:02d}" for i in index]
    return result.astype(str)


def households_table(population: Population, params: HousingParams, seed: int) -> pd.DataFrame:
    """One row per household that draws: village, size, own unit type, whether it is a
    priority household (a member of `priority_elderly_age` or older, or a disabled member
    when `priority_disabled`) and whether it asks for a low floor (a share
    `priority_ask_share` of priority households, drawn from the seed)."""
    hh = population.households
    people = population.people
    old = people.loc[people["age"] >= params.priority_elderly_age, "household_id"]
    priority = hh["household_id"].isin(old)
    if params.priority_disabled:
        priority |= hh["disabled_members"] > 0
    asks = priority.to_numpy() & (
        stream(seed, "housing", "asks").random(len(hh)) < params.priority_ask_share
    )
    sizes = hh["size"].to_numpy()
    own = {size: params.type_of_size(int(size)) for size in np.unique(sizes)}
    return pd.DataFrame(
        {
            "household": hh["household_id"].to_numpy(),
            "county": hh["county"].astype(str).to_numpy(),
            "township": hh["township"].astype(str).to_numpy(),
            "village": villages(population, params, seed),
            "size": sizes,
            "own_type": [own[s] for s in sizes],
            "priority": priority.to_numpy(),
            "asks_low": asks,
        }
    )


def supply(params: HousingParams) -> pd.Series:
    """Flats by unit type, in the order of the types."""
    return pd.Series(
        {t: sum(b.units_of(t) for b in params.buildings) for t in params.type_names}, dtype=int
    )


def _transfers(short: np.ndarray, left: np.ndarray, rule: str) -> np.ndarray:
    """moves[i, j]: households of own type i that get type j (types by size, ascending)."""
    n = len(short)
    moves = np.zeros((n, n), dtype=int)
    short, left = short.copy(), left.copy()
    passes = {"larger_then_smaller": ("larger", "smaller"), "larger": ("larger",)}
    for direction in passes.get(rule, ("smaller",) if rule == "smaller" else ()):
        own_types = range(n) if direction == "larger" else range(n - 1, -1, -1)
        for i in own_types:
            targets = range(i + 1, n) if direction == "larger" else range(i - 1, -1, -1)
            for j in targets:
                k = min(short[i], left[j])
                moves[i, j] += k
                short[i] -= k
                left[j] -= k
    return moves


def assign_types(households: pd.DataFrame, params: HousingParams, seed: int) -> pd.DataFrame:
    """`households` with `unit_type` (the type drawn for, "" for none) and `fit` (own,
    larger, smaller, none): within each own type a random order decides who runs short."""
    types = list(params.type_names)
    stock = supply(params).to_numpy()
    own = households["own_type"].map({t: i for i, t in enumerate(types)}).to_numpy()
    demand = np.bincount(own, minlength=len(types))
    keep = np.minimum(demand, stock)
    moves = _transfers(demand - keep, stock - keep, params.shortfall_rule)
    order = stream(seed, "housing", "type_draw").permutation(len(households))
    rank = np.empty(len(households), dtype=int)
    for i in range(len(types)):  # each household's place in its own type's draw order
        mine = order[own[order] == i]
        rank[mine] = np.arange(len(mine))
    assigned = np.full(len(households), -1)
    for i in range(len(types)):
        # the first keep[i] in the order keep their type; the rest take the moves in order
        bounds = keep[i] + np.concatenate([[0], np.cumsum(moves[i])])
        mine = own == i
        assigned[mine & (rank < keep[i])] = i
        for j in range(len(types)):
            assigned[mine & (rank >= bounds[j]) & (rank < bounds[j + 1])] = j
    out = households.copy()
    out["unit_type"] = np.where(assigned >= 0, np.array(types)[np.maximum(assigned, 0)], "")
    out["fit"] = np.select(
        [assigned < 0, assigned == own, assigned > own], ["none", "own", "larger"], "smaller"
    )
    return out


def by_type(households: pd.DataFrame, params: HousingParams) -> pd.DataFrame:
    """Demand against supply per unit type: households whose size the type serves, flats,
    shortfall (households more than flats) and surplus, and the households that drew for it
    after the shortfall rule."""
    types = list(params.type_names)
    demand = households["own_type"].value_counts().reindex(types, fill_value=0)
    drawn = households["unit_type"].value_counts().reindex(types, fill_value=0)
    units = supply(params).reindex(types)
    sizes = {t.unit_type: t.label for t in params.unit_types}
    area = {t.unit_type: t.floor_area_m2 for t in params.unit_types}
    return pd.DataFrame(
        {
            "type": types,
            "serves": [sizes[t] for t in types],
            "floor_area_m2": [area[t] for t in types],
            "households": demand.to_numpy(),
            "units": units.to_numpy(),
            "shortfall": np.maximum(demand.to_numpy() - units.to_numpy(), 0),
            "surplus": np.maximum(units.to_numpy() - demand.to_numpy(), 0),
            "households_drawn": drawn.to_numpy(),
            "vacant": units.to_numpy() - drawn.to_numpy(),
        }
    )
