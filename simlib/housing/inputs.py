"""Inputs of the housing allocation, loaded once from data/housing/ and validated.

`load_housing_params` is the only place that reads data/housing: the unit types
(unit_types.csv), the 66 standard buildings (buildings.csv) and the rules
(parameters.csv), with the reported totals (66 buildings, 8,866 units, 8,489 planned
households, the 25 m² cap, 71 sub-venues) read from data/reported_figures.csv. Everything
is frozen; a variant is made with a scenario override (`housing: {...}`), never by
mutation. Bad input is a DataError naming the file, the field and the value: a stock that
does not add up to the reported totals, a building whose units disagree with its floor
plan, a unit type no rule serves, a household size no type serves, a flat over the cap.

At a scale below 1 the stock is a subset of the buildings: each design keeps its share
(largest remainder), picked evenly through the site plan, so the mix of designs, types and
positions stays that of the full site.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simlib.provenance import DataError, read_table
from simlib.scenario import Scenario

SHORTFALL_RULES = ("larger_then_smaller", "larger", "smaller", "none")
ACCESS = ("lift", "stairs")
# reported figure -> the key it has in data/reported_figures.csv
REPORTED_KEYS = {
    "buildings": "standard_buildings",
    "units": "housing_units",
    "planned_households": "planned_households",
    "subvenues": "lottery_subvenues",
    "watchers": "lottery_watchers",
    "area_cap": "housing_area_cap_per_person",
    "area_per_person": "housing_area_per_person",
    "unit_types": "housing_unit_types",
    "site_area_km2": "site_area",
}
BUILDING_COLUMNS = {
    "building": "str",
    "block": "str",
    "row": "int",
    "col": "int",
    "x_m": "float",
    "y_m": "float",
    "design": "str",
    "floors": "int",
    "stairwells": "int",
    "units_per_floor": "int",
    "floor_plan": "str",
    "units": "int",
    "access": "str",
    "lifts": "int",
    "unloading_bays": "int",
}
# every row data/housing/parameters.csv must have
PARAMETERS = (
    "shortfall_rule",
    "low_floor_max",
    "low_floor_priority",
    "priority_elderly_age",
    "priority_disabled",
    "priority_ask_share",
    "village_households",
    "lift_required_from_floor",
    "site_width_m",
    "site_depth_m",
    "adjacency_max_m",
    "community_window",
    "community_shared_pool_factor",
    "community_time_limit",
    "fairness_draws",
    "fairness_alpha",
    "lottery_day_replications",
    "day_start",
    "round_households_max",
    "notaries",
    "notary_check_minutes",
    "video_rollcall_minutes",
    "draw_minutes",
    "display_seconds_per_household",
    "seal_minutes",
    "confirm_minutes",
    "confirm_cv",
    "main_venue_share",
    "main_venue_desks",
    "subvenue_desks",
    "allocation_method",
)
ALLOCATION_METHODS = ("lottery", "community")  # the draw alone, or the community model first
SITE_AREA_TOLERANCE = 0.02  # share: width x depth within 2 % of the reported 3.31 km²


@dataclass(frozen=True)
class UnitType:
    """One flat type: the household sizes it is for, and its floor area."""

    unit_type: str
    name: str
    min_size: int  # people
    max_size: int | None  # people; None: and larger ("6+")
    floor_area_m2: float  # m²

    def serves(self, size: int) -> bool:
        return self.min_size <= size and (self.max_size is None or size <= self.max_size)

    @property
    def label(self) -> str:
        if self.max_size is None:
            return f"{self.min_size}+"
        if self.max_size == self.min_size:
            return str(self.min_size)
        return f"{self.min_size}-{self.max_size}"


@dataclass(frozen=True)
class Building:
    """One standard building: its floors, stairwells, flats by type, access and position."""

    building: str
    block: str  # the quarter of the site plan it stands in
    row: int  # row of the site plan (1 = southernmost)
    col: int  # column of the site plan (1 = westernmost)
    x_m: float  # m east of the site's south-west corner
    y_m: float  # m north of it
    design: str
    floors: int
    stairwells: int
    floor_plan: tuple[tuple[str, ...], ...]  # per stairwell: unit types of its flats on a floor
    access: str  # lift | stairs
    lifts: int
    unloading_bays: int

    @property
    def units_per_floor(self) -> int:
        return sum(len(plan) for plan in self.floor_plan)

    @property
    def units(self) -> int:
        return self.floors * self.units_per_floor

    def units_of(self, unit_type: str) -> int:
        return self.floors * sum(plan.count(unit_type) for plan in self.floor_plan)


@dataclass(frozen=True)
class LotteryDayParams:
    """The lottery day's venues, staff and times (minutes unless stated)."""

    replications: int
    day_start: float  # minute of day
    round_households_max: int  # households
    notaries: int
    notary_check: float
    video_rollcall: float
    draw: float
    display_seconds_per_household: float  # seconds
    seal: float
    confirm_mean: float
    confirm_cv: float
    main_venue_share: float  # share of households signing at the main venue
    main_venue_desks: int
    subvenue_desks: int  # per sub-venue
    subvenues: int  # reported: 71


@dataclass(frozen=True)
class Reported:
    """The reported figures the housing model uses (full scale)."""

    buildings: int
    units: int
    planned_households: int
    subvenues: int
    watchers: int
    area_cap: float  # m² per person
    area_per_person: float  # m² per person
    unit_types: int
    site_area_km2: float


@dataclass(frozen=True)
class HousingParams:
    """Every input of the housing model (see data/housing/ for sources and ranges)."""

    scenario: str
    scale: float
    unit_types: tuple[UnitType, ...]
    buildings: tuple[Building, ...]  # at the scenario's scale
    reported: Reported
    shortfall_rule: str
    low_floor_max: int  # floors 1..low_floor_max are low floors
    low_floor_priority: bool  # households that asked draw first for low floors
    priority_elderly_age: int  # years
    priority_disabled: bool
    priority_ask_share: float  # share
    village_households: int  # households per village
    site_width_m: float
    site_depth_m: float
    adjacency_max_m: float
    community_window: int  # buildings per village and type in the community model
    community_shared_pool_factor: float  # x the longest walk: cost of the shared pool
    community_time_limit: float  # seconds
    fairness_draws: int
    fairness_alpha: float
    day: LotteryDayParams
    allocation_method: str = "lottery"  # the allocation the moving campaign's move-in day uses

    @property
    def type_names(self) -> tuple[str, ...]:
        return tuple(t.unit_type for t in self.unit_types)

    def type_of_size(self, size: int) -> str:
        """The unit type that serves a household of `size` people (the loader checked that
        exactly one does)."""
        for t in self.unit_types:
            if t.serves(size):
                return t.unit_type
        raise ValueError(f"size(={size}) is served by no unit type")

    @property
    def units(self) -> int:
        return sum(b.units for b in self.buildings)


# --- reading -------------------------------------------------------------------------------


def _reported(scenario: Scenario) -> Reported:
    path = scenario.data_dir / "reported_figures.csv"
    table = read_table(path, {"key": "str", "value": "str"}, key="key").set_index("key")
    values: dict[str, Any] = {}
    for field, key in REPORTED_KEYS.items():
        if key not in table.index:
            raise DataError(path, key, None, "is missing: the housing model needs this figure")
        text = table.at[key, "value"]
        try:
            number = float(text)
        except ValueError:
            raise DataError(path, key, text, "must be a number") from None
        if not math.isfinite(number) or number <= 0:
            raise DataError(path, key, text, "must be a positive number")
        values[field] = number
    ints = ("buildings", "units", "planned_households", "subvenues", "watchers", "unit_types")
    return Reported(**{k: int(v) if k in ints else v for k, v in values.items()})


_SERVES = re.compile(r"^\s*(\d+)\s*(?:(\+)|-\s*(\d+))?\s*$")


def _serves(text: str, path: Path, where: str) -> tuple[int, int | None]:
    """The sizes a serves cell names: 3 -> (3, 3); 6+ -> (6, None); 2-3 -> (2, 3)."""
    match = _SERVES.match(text or "")
    if not match:
        raise DataError(
            path,
            f"serves[{where}]",
            text,
            "no rule says which households this type serves; write a size (3), a range "
            "(2-3) or an open range (6+)",
        )
    low = int(match.group(1))
    high = None if match.group(2) else int(match.group(3) or low)
    if low < 1 or (high is not None and high < low):
        raise DataError(path, f"serves[{where}]", text, "must be sizes of at least 1, low to high")
    return low, high


def _unit_types(scenario: Scenario, reported: Reported) -> tuple[UnitType, ...]:
    path = scenario.table("housing", "unit_types")
    table = read_table(
        path,
        {"unit_type": "str", "name": "str", "serves": "str"}
        | {c: "float" for c in ("floor_area_m2", "area_low", "area_high")},
        key="unit_type",
    )
    if table.empty:
        raise DataError(path, "unit_type", None, "no unit types")
    types = []
    for row in table.itertuples():
        where = row.unit_type
        if not re.fullmatch(r"[A-Za-z0-9_]+", where):
            raise DataError(path, "unit_type", where, "must be letters, digits or _")
        low, high = _serves(row.serves, path, where)
        if not row.area_low <= row.floor_area_m2 <= row.area_high:
            raise DataError(
                path,
                f"floor_area_m2[{where}]",
                row.floor_area_m2,
                f"lies outside its range [{row.area_low}, {row.area_high}]",
            )
        if row.floor_area_m2 / low > reported.area_cap + 1e-9:
            raise DataError(
                path,
                f"floor_area_m2[{where}]",
                row.floor_area_m2,
                f"gives a household of {low} {row.floor_area_m2 / low:.1f} m² a person, over "
                f"the national cap of {reported.area_cap:g} m² a person",
            )
        types.append(UnitType(where, row.name, low, high, float(row.floor_area_m2)))
    types.sort(key=lambda t: t.min_size)
    _check_sizes_covered(types, path)
    return tuple(types)


def _check_sizes_covered(types: list[UnitType], path: Path) -> None:
    """Every household size from 1 up is served by exactly one type (no gap, no overlap,
    the largest type open-ended)."""
    expected = 1
    for t in types:
        if t.min_size != expected:
            what = "overlaps the type before" if t.min_size < expected else "leaves a gap"
            raise DataError(
                path,
                f"serves[{t.unit_type}]",
                t.label,
                f"{what}: households of {expected} people need exactly one type",
            )
        if t.max_size is None:
            if t is not types[-1]:
                raise DataError(
                    path, f"serves[{t.unit_type}]", t.label, "only the largest type is open (n+)"
                )
            return
        expected = t.max_size + 1
    raise DataError(
        path,
        f"serves[{types[-1].unit_type}]",
        types[-1].label,
        f"households of {expected} or more people are served by no type; make the largest "
        "type open, e.g. 6+",
    )


def _building(row: Any, types: tuple[str, ...], path: Path) -> Building:
    """One row of buildings.csv, checked against its own floor plan."""
    where = row["building"]

    def bad(field: str, value: Any, problem: str) -> DataError:
        return DataError(path, f"{field}[{where}]", value, problem)

    for field in ("floors", "stairwells", "unloading_bays"):
        if row[field] < 1:
            raise bad(field, row[field], "must be at least 1")
    plan = tuple(tuple(part.split()) for part in row["floor_plan"].split("/"))
    if len(plan) == 1:  # one plan for every stairwell
        plan = plan * int(row["stairwells"])
    if len(plan) != row["stairwells"] or not all(plan):
        raise bad(
            "floor_plan",
            row["floor_plan"],
            f"must list the unit types of each of the {row['stairwells']} stairwells' flats on "
            "one floor, stairwells separated by /",
        )
    for t in (t for part in plan for t in part):
        if t not in types:
            raise bad("floor_plan", t, f"unit type served by no rule: unit_types.csv has {types}")
    building = Building(
        building=str(where),
        block=str(row["block"]),
        row=int(row["row"]),
        col=int(row["col"]),
        x_m=float(row["x_m"]),
        y_m=float(row["y_m"]),
        design=str(row["design"]),
        floors=int(row["floors"]),
        stairwells=int(row["stairwells"]),
        floor_plan=plan,
        access=str(row["access"]),
        lifts=int(row["lifts"]),
        unloading_bays=int(row["unloading_bays"]),
    )
    if row["units_per_floor"] != building.units_per_floor:
        raise bad(
            "units_per_floor",
            row["units_per_floor"],
            f"disagrees with the floor plan's {building.units_per_floor} units a floor",
        )
    for t in types:
        if row[f"units_{t}"] != building.units_of(t):
            raise bad(f"units_{t}", row[f"units_{t}"], f"the plan gives {building.units_of(t)}")
    if row["units"] != building.units:
        raise bad("units", row["units"], f"the floors and the plan give {building.units}")
    if building.access not in ACCESS:
        raise bad("access", building.access, f"must be one of {ACCESS}")
    if (building.access == "stairs") != (building.lifts == 0):
        raise bad("lifts", building.lifts, f"does not agree with access {building.access!r}")
    return building


def _buildings(
    scenario: Scenario, types: tuple[str, ...], values: dict[str, Any]
) -> tuple[Building, ...]:
    path = scenario.table("housing", "buildings")
    columns = BUILDING_COLUMNS | {f"units_{t}": "int" for t in types}
    table = read_table(path, columns, key="building")
    extra = [c for c in table.columns if c.startswith("units_") and c != "units_per_floor"]
    for column in extra:
        if column.removeprefix("units_") not in types:
            raise DataError(
                path,
                "(columns)",
                column,
                f"unit type {column.removeprefix('units_')!r} is served by no rule: "
                f"unit_types.csv has {types}",
            )
    buildings = tuple(_building(row, types, path) for _, row in table.iterrows())
    for b in buildings:
        if b.floors >= values["lift_required_from_floor"] and b.lifts == 0:
            raise DataError(
                path,
                f"lifts[{b.building}]",
                b.lifts,
                f"a building of {b.floors} floors needs lifts (from "
                f"{values['lift_required_from_floor']} floors)",
            )
        if not (0 <= b.x_m <= values["site_width_m"] and 0 <= b.y_m <= values["site_depth_m"]):
            raise DataError(
                path,
                f"x_m, y_m[{b.building}]",
                (b.x_m, b.y_m),
                f"lies outside the site ({values['site_width_m']:g} m x "
                f"{values['site_depth_m']:g} m)",
            )
    return buildings


def _check_totals(
    buildings: tuple[Building, ...], types: tuple[UnitType, ...], reported: Reported, path: Path
) -> None:
    """The stock adds up to the reported 66 buildings and 8,866 units, of the six types."""
    if len(buildings) != reported.buildings:
        raise DataError(
            path,
            "building",
            len(buildings),
            f"buildings listed; the source reports {reported.buildings} standard buildings",
        )
    units = sum(b.units for b in buildings)
    if units != reported.units:
        raise DataError(
            path, "units", units, f"units in total; the source reports {reported.units:,}"
        )
    if len(types) != reported.unit_types:
        raise DataError(
            path.parent / "unit_types.csv",
            "unit_type",
            len(types),
            f"unit types; the source reports {reported.unit_types}",
        )


def scaled_buildings(buildings: tuple[Building, ...], scale: float) -> tuple[Building, ...]:
    """The stock at a smaller scale: round(n x scale) buildings (at least 1), each design
    keeping its share by largest remainder, picked evenly through the site (by id)."""
    if scale >= 1.0:
        return buildings
    from simlib.population import largest_remainder

    designs = sorted({b.design for b in buildings})
    by_design = {d: [b for b in buildings if b.design == d] for d in designs}
    keep = largest_remainder(
        np.array([len(by_design[d]) for d in designs], dtype=float),
        max(1, round(len(buildings) * scale)),
    )
    chosen = []
    for design, k in zip(designs, keep, strict=True):
        group = by_design[design]
        if k:
            picks = np.round(np.linspace(0, len(group) - 1, int(k) + 2)[1:-1]).astype(int)
            chosen += [group[i] for i in sorted(set(picks.tolist()))]
    order = {b.building: i for i, b in enumerate(buildings)}
    return tuple(sorted(chosen, key=lambda b: order[b.building]))


def _check_values(values: dict[str, Any], reported: Reported, file_of) -> None:
    """Choices and ranges of the scalar rules; `file_of(name)` is the file that set it."""
    for name, choices in (("allocation_method", ALLOCATION_METHODS), ("shortfall_rule", SHORTFALL_RULES)):  # fmt: skip
        if values[name] not in choices:
            raise DataError(file_of(name), name, values[name], f"must be one of {choices}")
    positive = (
        "low_floor_max",
        "village_households",
        "fairness_draws",
        "lottery_day_replications",
        "round_households_max",
        "notaries",
        "main_venue_desks",
        "subvenue_desks",
        "confirm_minutes",
        "community_time_limit",
        "community_window",
        "community_shared_pool_factor",
        "adjacency_max_m",
        "site_width_m",
        "site_depth_m",
    )
    for name in positive:
        if values[name] <= 0:
            raise DataError(file_of(name), name, values[name], "must be > 0")
    alpha = values["fairness_alpha"]
    if not 0 < alpha < 1:
        raise DataError(file_of("fairness_alpha"), "fairness_alpha", alpha, "must lie in (0, 1)")
    if values["day_start"] >= 24 * 60:
        raise DataError(
            file_of("day_start"), "day_start", values["day_start"], "must be a minute of the day"
        )
    area = values["site_width_m"] * values["site_depth_m"] / 1e6
    if abs(area - reported.site_area_km2) > SITE_AREA_TOLERANCE * reported.site_area_km2:
        raise DataError(
            file_of("site_width_m"),
            "site_width_m",
            values["site_width_m"],
            f"x site_depth_m gives {area:.2f} km²; the site is {reported.site_area_km2:g} km² "
            "(reported)",
        )


def _day(values: dict[str, Any], reported: Reported) -> LotteryDayParams:
    return LotteryDayParams(
        replications=values["lottery_day_replications"],
        day_start=values["day_start"],
        round_households_max=values["round_households_max"],
        notaries=values["notaries"],
        notary_check=values["notary_check_minutes"],
        video_rollcall=values["video_rollcall_minutes"],
        draw=values["draw_minutes"],
        display_seconds_per_household=values["display_seconds_per_household"],
        seal=values["seal_minutes"],
        confirm_mean=values["confirm_minutes"],
        confirm_cv=values["confirm_cv"],
        main_venue_share=values["main_venue_share"],
        main_venue_desks=values["main_venue_desks"],
        subvenue_desks=values["subvenue_desks"],
        subvenues=reported.subvenues,
    )


def load_housing_params(scenario: Scenario) -> HousingParams:
    """Read and validate data/housing/ under the scenario's overrides and scale."""
    values = scenario.values("housing")
    params_file = scenario.data_dir / "housing" / "parameters.csv"
    overridden = scenario.overrides.get("housing", {})

    def file_of(name: str) -> Path:
        return scenario.path if name in overridden else params_file

    missing = [name for name in PARAMETERS if name not in values]
    if missing:
        raise DataError(params_file, missing[0], None, "is missing; the housing model needs it")
    reported = _reported(scenario)
    _check_values(values, reported, file_of)
    types = _unit_types(scenario, reported)
    names = tuple(t.unit_type for t in types)
    buildings = _buildings(scenario, names, values)
    _check_totals(buildings, types, reported, scenario.table("housing", "buildings"))
    return HousingParams(
        scenario=scenario.name,
        scale=scenario.scale,
        unit_types=types,
        buildings=scaled_buildings(buildings, scenario.scale),
        reported=reported,
        shortfall_rule=values["shortfall_rule"],
        low_floor_max=values["low_floor_max"],
        low_floor_priority=values["low_floor_priority"],
        priority_elderly_age=values["priority_elderly_age"],
        priority_disabled=values["priority_disabled"],
        priority_ask_share=values["priority_ask_share"],
        village_households=values["village_households"],
        site_width_m=values["site_width_m"],
        site_depth_m=values["site_depth_m"],
        adjacency_max_m=values["adjacency_max_m"],
        community_window=values["community_window"],
        community_shared_pool_factor=values["community_shared_pool_factor"],
        community_time_limit=values["community_time_limit"],
        fairness_draws=values["fairness_draws"],
        fairness_alpha=values["fairness_alpha"],
        day=_day(values, reported),
        allocation_method=values["allocation_method"],
    )


# --- the stock as tables -------------------------------------------------------------------


def buildings_table(params: HousingParams) -> pd.DataFrame:
    """One row per building: position, floors, flats by type and the resources a move-in
    day queues at (stairwells, lifts, unloading bays)."""
    rows = []
    for b in params.buildings:
        rows.append(
            {
                "building": b.building,
                "block": b.block,
                "row": b.row,
                "col": b.col,
                "x_m": b.x_m,
                "y_m": b.y_m,
                "design": b.design,
                "floors": b.floors,
                "stairwells": b.stairwells,
                "units_per_floor": b.units_per_floor,
                "units": b.units,
                **{f"units_{t}": b.units_of(t) for t in params.type_names},
                "access": b.access,
                "lifts": b.lifts,
                "unloading_bays": b.unloading_bays,
            }
        )
    return pd.DataFrame(rows)


def flats_table(params: HousingParams) -> pd.DataFrame:
    """One row per flat: unit id (building-stairwell-floor-position), building, stairwell,
    floor, unit type and whether it is on a low floor."""
    parts = []
    for b in params.buildings:
        one_floor = [
            (s + 1, p + 1, t) for s, plan in enumerate(b.floor_plan) for p, t in enumerate(plan)
        ]
        stair, position, kind = (np.array(c) for c in zip(*one_floor, strict=True))
        floor = np.repeat(np.arange(1, b.floors + 1), len(one_floor))
        stair, position = np.tile(stair, b.floors), np.tile(position, b.floors)
        parts.append(
            pd.DataFrame(
                {
                    "unit": [
                        f"{b.building}-{s}-{f:02d}{p:02d}"
                        for s, f, p in zip(stair, floor, position, strict=True)
                    ],
                    "building": b.building,
                    "stairwell": stair,
                    "floor": floor,
                    "unit_type": np.tile(kind, b.floors),
                }
            )
        )
    flats = pd.concat(parts, ignore_index=True)
    flats["low_floor"] = flats["floor"] <= params.low_floor_max
    return flats
