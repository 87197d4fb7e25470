"""The only places where the community model reads the moving and housing models.

Each adapter is a few lines, so that a change in those models meets the community model
here and nowhere else:
- `move_in_days`: one moving replication -> each household's day of moving in (read from
  the moving answer where it holds that run);
- `pause_windows`, `campaign_start`, `followup_target_days`: from the moving inputs;
- `household_buildings`: which building each household lives in: by default the housing
  lottery's allocation (simlib.housing, the public draw), or an assumed placement
  (data/community/parameters.csv `placement_rule`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simlib.community.memo import remembered
from simlib.community.site import Site
from simlib.population import largest_remainder
from simlib.randomness import stream

if TYPE_CHECKING:  # simlib.inputs imports this package for Inputs.community
    from simlib.inputs import Inputs


def move_in_days(inputs: Inputs, replication: int, moving: Any = None) -> pd.DataFrame:
    """One moving replication: household_id and moved_in_day (days from the campaign's
    first day; -1 = not moved within the horizon), read from `moving` (the answer "moving",
    a MovingResult) where it holds that very run, else run here."""
    from simlib.moving import make_plan, run_campaign
    from simlib.moving.recorded import recorded_households

    params, households = inputs.moving, inputs.population.households
    rows = recorded_households(
        moving, params, households, seed=inputs.seed, replication=replication
    )
    if rows is not None:
        return _moves(rows)
    # what run_campaign reads: the moving inputs, the households, the seed, the replication
    reads = {"moving": params, "population_households": households}

    def compute() -> pd.DataFrame:
        # the batch plan reads no seed: made once for every replication, as the moving
        # model's own replications do (simlib/moving/replications.py)
        plan = remembered("batch_plan", reads, lambda: make_plan(params, households))
        return _moves(run_campaign(params, households, inputs.seed, replication, plan).households)

    return remembered("move_in_days", {**reads, "seed": inputs.seed, "replication": replication},
                      compute)  # fmt: skip


def _moves(households: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": households["household_id"].to_numpy(dtype=np.int64),
            "moved_in_day": households["moved_in_day"].to_numpy(dtype=np.int64),
        }
    )


def campaign_start(inputs: Inputs) -> dt.date:
    return inputs.moving.campaign_start


def pause_windows(inputs: Inputs) -> list[tuple[int, int]]:
    """The moving pauses as (first day, last day), inclusive, counted from the campaign's
    first day (the epidemic's returning people arrive over them)."""
    start = campaign_start(inputs)
    return [((a - start).days, (b - start).days) for a, b in inputs.moving.pauses]


def followup_target_days(inputs: Inputs) -> int:
    """Days after moving in by which the step-8 follow-up visit is due."""
    return int(inputs.moving.followup_days_target)


def placement_used(inputs: Inputs) -> str:
    """The placement rule a run applies: `placement_rule`, except that below full scale
    the housing lottery's flats lie in buildings spread over the whole site (the housing
    model keeps an evenly spread subset), which are not neighbours; the community model
    then keeps its compact part of the site and places households at random instead."""
    rule = inputs.community.placement_rule
    if rule == "housing_lottery" and inputs.scenario.scale < 1:
        return "random"
    return rule


def household_buildings(inputs: Inputs, site: Site, moves: pd.DataFrame) -> pd.DataFrame:
    """household_id -> building, by `placement_used`.

    housing_lottery: the building of the flat the housing lottery's public draw gives
    (a household the draw leaves without a flat, if any, takes a spare flat in site
    order). The assumed rules give every residential building the same occupancy
    (households in proportion to its flats, largest remainder); `arrival_order` fills
    them in site order with households in the order they moved in (`moves`, ties and
    households not moved last, by id), `random` with a permutation drawn from the seed.
    """
    rule = placement_used(inputs)
    if rule == "housing_lottery":
        return _lottery_buildings(inputs, site)
    residential = [b for b in site.buildings if b.residential]
    ids = inputs.population.households["household_id"].to_numpy(dtype=np.int64)
    slots = largest_remainder(np.array([b.units for b in residential], dtype=float), len(ids))
    if rule == "random":
        order = stream(inputs.seed, "community", "placement").permutation(ids)
    else:
        day = moves.set_index("household_id")["moved_in_day"].reindex(ids).to_numpy()
        day = np.where(day < 0, np.iinfo(np.int64).max, day)
        order = ids[np.lexsort((ids, day))]
    building = np.repeat([b.building for b in residential], slots)
    return pd.DataFrame({"household_id": order, "building": building})


def _lottery_buildings(inputs: Inputs, site: Site) -> pd.DataFrame:
    # what the draw reads (housing.prepare and allocate): the population, the housing
    # inputs and the seed; and the site, for the spare flats
    reads = {"population": inputs.population, "housing": inputs.housing, "seed": inputs.seed,
             "site": site}  # fmt: skip
    return remembered("lottery_buildings", reads, lambda: _draw_buildings(inputs, site))


def _draw_buildings(inputs: Inputs, site: Site) -> pd.DataFrame:
    from simlib import housing

    households, flats, _ = housing.prepare(inputs, "lottery")
    index, _, _ = housing.allocate(inputs, "lottery", households, flats)
    housed, _ = housing.joined(households, flats, index)
    table = pd.DataFrame(
        {"household_id": housed["household"].to_numpy(dtype=np.int64),
         "building": housed["building"].to_numpy()}
    )  # fmt: skip
    left = table["building"] == ""
    if left.any():  # spare flats, building by building in site order
        used = table.loc[~left, "building"].value_counts()
        spare = [b.building for b in site.buildings if b.residential
                 for _ in range(b.units - int(used.get(b.building, 0)))]  # fmt: skip
        table.loc[left, "building"] = spare[: int(left.sum())]
    return table
