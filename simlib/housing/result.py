"""The result of a housing run: tidy tables, and every figure computed from them.

`HousingResult.households` has one row per household (its village, size, own and drawn
unit type, request, building, stairwell, floor and flat); `flats` one row per flat with
the household it went to; `buildings` one row per building with the resources a move-in
day queues at; `runs` one row per replication of the lottery day, `rounds` one row per
replication and round; `chances` each class's chance of each building. `summary()` (the
JSON of `simlib lottery --json`) is computed from these tables alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simlib.housing.inputs import HousingParams
from simlib.stats import mean_ci

ALLOCATION_COLUMNS = ("household", "village", "size", "unit_type", "building", "floor", "unit")


def village_cohesion(households: pd.DataFrame) -> pd.Series:
    """Per housed household: the share of its building neighbours (the other households
    of its building) from its own village; NaN for a household alone in its building."""
    housed = households[households["building"] != ""]
    in_building = housed.groupby("building")["household"].transform("size")
    same = housed.groupby(["building", "village"])["household"].transform("size")
    share = (same - 1) / (in_building - 1).where(in_building > 1)
    return share.reindex(households.index)


def rule_check(households: pd.DataFrame, flats: pd.DataFrame, params: HousingParams) -> dict:
    """Every rule, recomputed from the tables (not from the draw): households with more
    than one flat, flats given twice, flats whose type does not fit the household by the
    shortfall rule, and households that asked but are not on a low floor although the
    stock of their type still had one."""
    housed = households[households["unit"] != ""]
    order = {t: i for i, t in enumerate(params.type_names)}
    given = flats.set_index("unit").loc[housed["unit"]]
    own = housed["own_type"].map(order).to_numpy()
    got = given["unit_type"].map(order).to_numpy()
    left = flats[flats["household"] < 0].groupby("unit_type").size()
    own_left = housed["own_type"].map(left).fillna(0).to_numpy()
    direction = np.sign(got - own)
    allowed = {
        "larger_then_smaller": (1, -1),
        "larger": (1,),
        "smaller": (-1,),
        "none": (),
    }[params.shortfall_rule]
    fits = (direction == 0) | (np.isin(direction, allowed) & (own_left == 0))
    asked = households[households["asks_low"] & (households["unit_type"] != "")]
    on_low = asked["floor"].between(1, params.low_floor_max)
    low_left = flats[flats["low_floor"] & (flats["household"] < 0)].groupby("unit_type").size()
    missed = asked.loc[~on_low, "unit_type"].map(low_left).fillna(0) > 0
    return {
        "households_with_two_flats": int(housed["household"].duplicated().sum()),
        "flats_given_twice": int(housed["unit"].duplicated().sum()),
        "type_does_not_fit": int(
            (~fits).sum() + (given["unit_type"].to_numpy() != housed["unit_type"].to_numpy()).sum()
        ),  # fmt: skip
        "asked_not_low_with_low_flat_left": int(missed.sum()) if params.low_floor_priority else 0,
    }


@dataclass(frozen=True)
class HousingResult:
    """One allocation (a method on one set of inputs) and its lottery day."""

    scenario: str
    seed: int
    method: str
    params: HousingParams
    households: pd.DataFrame  # one row per household
    flats: pd.DataFrame  # one row per flat, with the household it went to (-1: vacant)
    buildings: pd.DataFrame  # one row per building: position, flats, stairwells, lifts, bays
    by_type: pd.DataFrame  # one row per unit type: demand against supply
    chances: pd.DataFrame  # per class and building: the chance (how random the draw is)
    runs: pd.DataFrame  # one row per lottery-day replication
    rounds: pd.DataFrame  # one row per lottery-day replication and round
    digests: dict[str, str]  # commitment and the digests of the stock, households, rules
    solve: dict[str, Any] | None = None  # the community model's status, gap, times
    checks: dict[str, int] = field(default_factory=dict)

    @property
    def commitment(self) -> str:
        return self.digests["commitment"]

    @property
    def allocation(self) -> pd.DataFrame:
        """The published list: household, village, size, unit_type, building, floor, unit."""
        return self.households[list(ALLOCATION_COLUMNS)]

    def meta(self) -> dict[str, Any]:
        """The header of the published list and of commitment.txt."""
        from simlib.housing.verify import VERSION

        return {
            "format": VERSION,
            "scenario": self.scenario,
            "seed": self.seed,
            "method": self.method,
            "scale": self.params.scale,
            "households": len(self.households),
            "units": len(self.flats),
            **self.digests,
        }

    def randomness(self) -> pd.DataFrame:
        from simlib.housing.chances import randomness

        return randomness(self.chances)

    def summary(self) -> dict[str, Any]:
        """The figures of `simlib lottery --json`, computed from the tables."""
        hh, rep = self.households, self.params.reported
        housed = hh["unit"] != ""
        asked = hh["asks_low"] & (hh["unit_type"] != "")
        low = hh["floor"].between(1, self.params.low_floor_max)
        rand = self.randomness()
        weights = rand["households"].to_numpy(float)
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "method": self.method,
            "households": int(len(hh)),
            "units": int(len(self.flats)),
            "planned_households": rep.planned_households,
            "reported_units": rep.units,
            "reported_buildings": rep.buildings,
            "buildings": int(len(self.buildings)),
            "scale": self.params.scale,
            "housed": int(housed.sum()),
            "without_flat": int((~housed).sum()),
            "vacant_units": int((self.flats["household"] < 0).sum()),
            "shortfall_rule": self.params.shortfall_rule,
            "by_type": self.by_type.to_dict(orient="records"),
            "fit": {k: int((hh["fit"] == k).sum()) for k in ("own", "larger", "smaller", "none")},
            "area_m2_per_person": _area(hh, self.params),
            "priority_households": int(hh["priority"].sum()),
            "asked_low_floor": int(asked.sum()),
            "priority_low_floor_share": _share((asked & low).sum(), asked.sum()),
            "priority_low_floor_possible_share": _possible(hh, self.flats, self.params),
            "low_floor_share_not_asked": _share(
                (~asked & housed & low).sum(), (~asked & housed).sum()
            ),  # fmt: skip
            "village_cohesion": float(village_cohesion(hh).mean()),
            "draw_randomness": {
                "building_entropy_bits": float(
                    np.average(rand["building_entropy_bits"], weights=weights)
                ),  # fmt: skip
                "equally_likely_buildings": float(
                    np.average(rand["equally_likely_buildings"], weights=weights)
                ),  # fmt: skip
                "classes": int(len(rand)),
            },
            "lottery_day": self.lottery_day(),
            "commitment": self.commitment,
            "digests": {k: v for k, v in self.digests.items() if k != "commitment"},
            "community": self.solve,
            "rule_check": self.checks,
        }

    def lottery_day(self) -> dict[str, Any]:
        """The day's length, rounds, households per round and waits, with 95 % CIs over
        the replications."""
        if self.runs.empty:
            return {"replications": 0}
        out: dict[str, Any] = {"replications": int(len(self.runs))}
        for key in ("hours", "rounds", "households_per_round", "wait_mean_minutes", "wait_p95_minutes"):  # fmt: skip
            out[key] = mean_ci(self.runs[key].to_numpy(float))
        out["notaries"] = self.params.day.notaries
        out["desks"] = self.params.day.main_venue_desks + self.params.day.subvenues * self.params.day.subvenue_desks  # fmt: skip
        out["subvenues"] = self.params.day.subvenues
        return out


def _share(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole else None


def _possible(hh: pd.DataFrame, flats: pd.DataFrame, params: HousingParams) -> float | None:
    """The largest share of the households that asked the stock allows on low floors:
    per unit type, min(asked, low-floor flats)."""
    asked = hh[hh["asks_low"] & (hh["unit_type"] != "")].groupby("unit_type").size()
    low = flats[flats["low_floor"]].groupby("unit_type").size()
    fit = np.minimum(asked, low.reindex(asked.index, fill_value=0)).sum()
    return _share(fit, asked.sum())


def _area(hh: pd.DataFrame, params: HousingParams) -> dict[str, Any]:
    area = {t.unit_type: t.floor_area_m2 for t in params.unit_types}
    housed = hh[hh["unit"] != ""]
    per_person = housed["unit_type"].map(area) / housed["size"]
    return {
        "mean": float(per_person.mean()) if len(per_person) else None,
        "over_cap": int((per_person > params.reported.area_cap + 1e-9).sum()),
        "under_15": int((per_person < 15).sum()),
        "cap": params.reported.area_cap,
    }
