"""The move-in day's buildings: where each family moves in, what it queues at there, and
how far it carries its belongings.

The housing allocation (`simlib.housing.allocation`: the public lottery, or the community
model, by data/housing `allocation_method`) gives each household a flat: building,
stairwell and floor. It is drawn once a run, in the inputs path (`simlib.inputs` calls
`tie`), never per replication. Tied to it (`movein_buildings`), steps 4-6 happen at the
family's building (steps.csv `facility`):

- `building_bays`: the truck stands at one of its building's unloading bays
  (buildings.csv `unloading_bays`, one SimPy resource a building) while a platoon's crew
  unloads it (step 4);
- `stairwells`: the squad carries the belongings up the family's own stairwell (one SimPy
  resource a stairwell): by the stairs of a walk-up, `squads_per_stairwell` squads at
  once, `carry_minutes_per_floor` for each floor above the ground; or by the stairwell's
  lifts (the building's lifts shared out among its stairwells), one squad a lift,
  `lift_minutes` plus `lift_minutes_per_floor` a floor. A family on the ground floor
  carries nothing up and needs no stairwell.

With `move_in_includes_carry` the carrying step's time in steps.csv stays the mean over all
families: each family's time is the drawn time less the allocation's average carry (in
proportion), plus its own carry.

Below full scale the housing stock is a subset of the buildings (simlib.housing.inputs)
that may hold fewer flats than the scaled population has households: a household the
allocation leaves without a flat takes a vacant flat (in site order), and when none is
left shares one (cycling through the stock), so that every family has a building to go to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simlib.moving.flats import HOME_COLUMNS, Homes
from simlib.moving.inputs import CALL_ORDERS
from simlib.moving.tables import FACILITIES

if TYPE_CHECKING:
    from simlib.moving.inputs import MovingParams

__all__ = ["CALL_ORDERS", "FACILITIES", "Facilities", "Homes", "facilities", "make_homes", "tie"]


def _stairwells(buildings: pd.DataFrame) -> pd.DataFrame:
    """One row per stairwell, the building's lifts shared out (the first stairwells get
    one more when they do not divide evenly)."""
    rows = []
    for b in buildings.itertuples(index=False):
        for s in range(b.stairwells):
            lifts = b.lifts // b.stairwells + (1 if s < b.lifts % b.stairwells else 0)
            rows.append((b.building, s + 1, lifts))
    return pd.DataFrame(rows, columns=["building", "stairwell", "lifts"])


def _flats_for_the_rest(table: pd.DataFrame, flats: pd.DataFrame) -> pd.DataFrame:
    """Households without a flat take a vacant one in site order, then share one."""
    left = np.flatnonzero(table["building"].to_numpy() == "")
    if not len(left):
        return table
    vacant = np.flatnonzero(flats["household"].to_numpy() < 0)
    picks = np.r_[vacant, np.resize(np.arange(len(flats)), max(0, len(left) - len(vacant)))]
    chosen = flats.iloc[picks[: len(left)]]
    table = table.copy()
    for column in HOME_COLUMNS:
        table.loc[left, column] = chosen[column].to_numpy()
    table.loc[left, "flat"] = np.where(np.arange(len(left)) < len(vacant), "vacant", "shared")
    return table


def make_homes(method: str, key: tuple, housed: pd.DataFrame, flats: pd.DataFrame, buildings: pd.DataFrame) -> Homes:  # fmt: skip
    """Homes from the housing allocation: `housed` (household, building, stairwell,
    floor, unit; building "" for none), the `flats` with their household (-1: vacant) and
    the stock's `buildings` (simlib.housing.inputs.buildings_table)."""
    table = pd.DataFrame(
        {
            "household_id": housed["household"].to_numpy(dtype=np.int64),
            **{c: housed[c].to_numpy() for c in HOME_COLUMNS},
            "flat": "allocated",
        }
    )
    table = _flats_for_the_rest(table, flats)
    table["stairwell"] = table["stairwell"].astype(np.int64)
    table["floor"] = table["floor"].astype(np.int64)
    buildings = buildings[["building", "floors", "stairwells", "access", "lifts", "unloading_bays"]].reset_index(drop=True)  # fmt: skip
    stairwells = _stairwells(buildings)
    bay = pd.Index(buildings["building"]).get_indexer(table["building"])
    keys = pd.MultiIndex.from_frame(stairwells[["building", "stairwell"]])
    stair = keys.get_indexer(pd.MultiIndex.from_frame(table[["building", "stairwell"]]))
    table["bay"], table["stair"] = bay, stair
    table["lifts"] = stairwells["lifts"].to_numpy()[stair]
    return Homes(method, key, table, buildings, stairwells)


def carry_minutes(params: MovingParams, floor: np.ndarray, lifts: np.ndarray) -> np.ndarray:
    """Minutes a squad carries a family's belongings up: nothing on the ground floor; by
    the stairwell's lifts if it has any, else by the stairs."""
    up = np.maximum(np.asarray(floor) - 1, 0)
    by_lift = params.lift_minutes + params.lift_minutes_per_floor * up
    by_stairs = params.carry_minutes_per_floor * up
    return np.where(up == 0, 0.0, np.where(np.asarray(lifts) > 0, by_lift, by_stairs))


@dataclass(frozen=True)
class Facilities:
    """The buildings' facilities of one campaign, lined up with its households (positions).

    capacity: facility -> the units of each (bays of each building; squads a stairwell
        takes at once: its lifts, or `squads_per_stairwell` on the stairs);
    unit: facility -> each household's own (its building's or stairwell's row; -1: none,
        a family on the ground floor needs no stairwell);
    carry: minutes each household carries up (the average for one with no home);
    door_share: the share of the carrying step's drawn time that is not carrying.
    """

    capacity: dict[str, np.ndarray]
    unit: dict[str, np.ndarray]
    carry: np.ndarray
    door_share: float
    rows: np.ndarray  # each household's row of `Homes.households` (-1: none)


def carrying_step(params: MovingParams) -> int | None:
    """The step whose team carries the belongings up (facility `stairwells`), if any."""
    return next((k for k, s in enumerate(params.steps) if s.facility == "stairwells"), None)


def facilities(params: MovingParams, households: pd.DataFrame) -> Facilities | None:
    """The facilities of these households (None when the move-in day is not tied)."""
    homes = params.homes
    if homes is None:
        return None
    rows = homes.rows(households["household_id"])
    has = rows >= 0
    mine = np.maximum(rows, 0)  # plain arrays: the plan generator asks this for every day it tries
    table = homes.households
    everyone = carry_minutes(params, table["floor"].to_numpy(), table["lifts"].to_numpy())
    average = float(everyone.mean()) if len(everyone) else 0.0
    carry = np.where(has, everyone[mine], average) if len(everyone) else np.full(len(rows), average)
    k = carrying_step(params)
    mean = params.steps[k].service_mean if k is not None else 0.0
    share = max(0.0, mean - average) / mean if params.move_in_includes_carry and mean > 0 else 1.0
    stairs = homes.stairwells["lifts"].to_numpy()
    return Facilities(
        capacity={
            "building_bays": homes.buildings["unloading_bays"].to_numpy(dtype=np.int64),
            "stairwells": np.where(stairs > 0, stairs, params.squads_per_stairwell),
        },
        unit={
            "building_bays": np.where(has, table["bay"].to_numpy()[mine], -1),
            "stairwells": np.where(has & (carry > 0), table["stair"].to_numpy()[mine], -1),
        },
        carry=carry,
        door_share=share,
        rows=rows,
    )


def building_rank(params: MovingParams, households: pd.DataFrame) -> np.ndarray | None:
    """Each household's building in site order (households without a home last), when
    the plan calls households building by building; else None."""
    homes = params.homes
    if params.call_order != "building" or homes is None:
        return None
    rows = homes.rows(households["household_id"])
    bay = homes.households["bay"].to_numpy()[np.maximum(rows, 0)]
    return np.where(rows >= 0, bay, len(homes.buildings))


def homes_key(population: Any, seed: int, housing: Any) -> tuple:
    """What an allocation is drawn from: the seed, the method, the households and people
    of the population, and the housing inputs (so that homes drawn for other inputs are
    never reused)."""
    hh = population.households
    columns = [c for c in ("household_id", "county", "township", "size") if c in hh]
    digest = hashlib.sha256(pd.util.hash_pandas_object(hh[columns], index=False).to_numpy().tobytes())  # fmt: skip
    digest.update(str(len(population.people)).encode())
    digest.update(repr(housing).encode())
    return (seed, housing.allocation_method, digest.hexdigest())


def tie(inputs, moving: MovingParams | None = None) -> MovingParams:
    """`inputs.moving` with the homes of `inputs.population`: the housing allocation, drawn
    here once (reused while it was drawn for the same inputs); without homes when the
    tie-in is off or there is no population yet (a sweep builds it on its workers)."""
    moving = inputs.moving if moving is None else moving
    if not moving.movein_buildings or inputs.population is None:
        return moving if moving.homes is None else replace(moving, homes=None)
    key = homes_key(inputs.population, inputs.seed, inputs.housing)
    if moving.homes is not None and moving.homes.key == key:
        return moving
    from simlib.housing import allocation
    from simlib.housing.inputs import buildings_table

    housed, flats = allocation(inputs)
    homes = make_homes(inputs.housing.allocation_method, key, housed, flats, buildings_table(inputs.housing))  # fmt: skip
    return replace(moving, homes=homes)
