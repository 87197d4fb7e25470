"""Inputs of the community model, loaded once from data/community/ and validated.

`load_community_params` is the only reader of data/community: the scalar rules
(parameters.csv), the ten buildings the grids cover besides the standard residential ones
(other_buildings.csv) and the epidemic checkpoints (checkpoints.csv), with the reported
figures read from data/reported_figures.csv. The residential buildings and the site plan's
neighbour distance come from the housing inputs (never re-read here).

The source reports 36 grids over 76 buildings, and 66 standard buildings: the loader
checks that the 66 residential plus the other buildings make the reported 76. Bad input is
a DataError naming the file, the field and the value: more grids than buildings, a
building no other touches, a negative weight, shares that do not sum to 1.

At a scale below 1 the grids, party members, checkpoints and the response team scale (at
least 1 each), and the site is a connected part of the plan with about `scale` of the
flats (`site.scaled_site`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from simlib.community.site import Building, Site, scaled_site
from simlib.housing.inputs import HousingParams
from simlib.provenance import DataError, read_table
from simlib.scenario import Scenario

PLACEMENT_RULES = ("housing_lottery", "arrival_order", "random")
PRIORITIES = ("due_first", "special_first", "followup_first")
# reported figure -> its key in data/reported_figures.csv
REPORTED_KEYS = {
    "grid_buildings": "grid_buildings",
    "grids": "grids",
    "epidemic_grids": "epidemic_grids",
    "returnees_followed": "epidemic_returnees_followed",
    "special_group_people": "special_group_people",
    "party_branches_community": "party_branches_community",
    "party_branches": "party_branches",
    "party_members": "party_members",
    "checkpoints": "epidemic_checkpoints",
    "team": "epidemic_team",
}
OTHER_COLUMNS = {
    "building": "str",
    "kind": "str",
    "name": "str",
    "x_m": "float",
    "y_m": "float",
    "row": "int",
    "col": "int",
    "workload_equivalent": "float",
    "low": "float",
    "high": "float",
}
SAME_SPOT_M = 1.0  # two buildings closer than this stand on the same spot
# every row data/community/parameters.csv must have
PARAMETERS = (
    "grids", "placement_rule", "weight_household", "weight_special_member",
    "weight_new_arrival", "grid_households_max", "grid_max_walk_m", "balance_tolerance",
    "grid_time_limit", "grid_candidates_max", "grid_leaders_per_grid", "grid_members_per_grid",
    "party_members", "party_member_active_share", "volunteer_turnout", "staff_duty_share",
    "staff_hours", "volunteer_hours", "work_start", "special_visit_base_minutes",
    "special_visit_member_minutes", "followup_visit_minutes", "returnee_visit_minutes",
    "visit_cv", "building_access_minutes", "walking_speed", "followup_priority", "tail_days",
    "checkpoints", "epidemic_team", "away_share", "festival_return_share",
    "window_return_share", "return_peak_position", "arrival_start", "arrival_end",
    "checkpoint_team_share", "shifts_per_day", "health_check_minutes", "registration_minutes",
    "checkpoint_cv", "returnee_followup_hours",
)  # fmt: skip


@dataclass(frozen=True)
class Reported:
    """The reported figures the community model uses or is compared with (full scale)."""

    grid_buildings: int
    grids: int
    epidemic_grids: int
    returnees_followed: int
    special_group_people: int
    party_branches_community: int
    party_branches: int
    party_members: int
    checkpoints: int
    team: int


@dataclass(frozen=True)
class GridRules:
    """How grids are cut: workload weights and the hard rules of the plan."""

    grids: int  # at the scenario's scale
    weight_household: float  # workload per household
    weight_special_member: float  # per special-group member
    weight_new_arrival: float  # per household moving in during the campaign
    households_max: int  # households in one grid (scaled)
    max_walk_m: float  # m from the grid's base building
    balance_tolerance: float  # share
    time_limit: float  # s per solve
    candidates_max: int


@dataclass(frozen=True)
class Staffing:
    """Grid workers: counts per grid, party volunteers, duty and hours."""

    leaders_per_grid: int
    members_per_grid: int
    party_members: int  # at the scenario's scale
    active_share: float
    volunteer_turnout: float  # share of active volunteers out on a day
    staff_duty_share: float  # share of days a leader or member is on duty
    staff_hours: float  # h
    volunteer_hours: float  # h
    work_start: float  # minute of day


@dataclass(frozen=True)
class VisitTimes:
    """Minutes of each kind of visit, walking, and the order of a grid's day."""

    special_base: float  # min per household
    special_member: float  # min per special-group member
    followup: float  # min, the step-8 visit
    returnee: float  # min, the epidemic follow-up at home
    cv: float
    access: float  # min inside a building per visit
    walking_speed: float  # m/min
    priority: str  # due_first | special_first | followup_first
    tail_days: int


@dataclass(frozen=True)
class Checkpoint:
    checkpoint: str
    road: str
    arrival_share: float


@dataclass(frozen=True)
class EpidemicParams:
    """Returning people, the checkpoints and the 24-hour team."""

    checkpoints: tuple[Checkpoint, ...]  # at the scenario's scale
    team: int  # at the scenario's scale
    away_share: float
    festival_return_share: float
    window_return_share: float
    return_peak_position: float  # share of a window's length
    arrival_start: float  # minute of day
    arrival_end: float  # minute of day
    team_share: float  # share of the team at the checkpoints
    shifts_per_day: int
    health_check: float  # min
    registration: float  # min
    service_cv: float
    followup_hours: float  # h
    return_share_range: tuple[float, float] = (0.0, 1.0)  # the product of the shares' ranges

    @property
    def return_share(self) -> float:
        """Share of willing migrants who pass a checkpoint: away x home x in a window."""
        return self.away_share * self.festival_return_share * self.window_return_share


@dataclass(frozen=True)
class CommunityParams:
    """Every input of the community model (see data/community/ for sources and ranges)."""

    scenario: str
    scale: float
    site: Site  # the buildings the grids cover, at the scenario's scale
    placement_rule: str
    grid: GridRules
    staff: Staffing
    visits: VisitTimes
    epidemic: EpidemicParams
    reported: Reported


# --- reading -------------------------------------------------------------------------------


def _reported(scenario: Scenario) -> Reported:
    path = scenario.data_dir / "reported_figures.csv"
    table = read_table(path, {"key": "str", "value": "str"}, key="key").set_index("key")
    values = {}
    for field, key in REPORTED_KEYS.items():
        if key not in table.index:
            raise DataError(path, key, None, "is missing: the community model needs this figure")
        text = table.at[key, "value"]
        try:
            number = float(text)
        except ValueError:
            raise DataError(path, key, text, "must be a number") from None
        if not math.isfinite(number) or number < 0 or not number.is_integer():
            raise DataError(path, key, text, "must be a whole number >= 0")
        values[field] = int(number)
    return Reported(**values)


def _other_buildings(scenario: Scenario) -> tuple[Building, ...]:
    path = scenario.table("community", "other_buildings")
    table = read_table(path, OTHER_COLUMNS, key="building")
    buildings = []
    for row in table.itertuples():
        if not row.low <= row.workload_equivalent <= row.high:
            raise DataError(
                path,
                f"workload_equivalent[{row.building}]",
                row.workload_equivalent,
                f"lies outside its range [{row.low}, {row.high}]",
            )
        if row.kind == "residential":
            raise DataError(
                path, f"kind[{row.building}]", row.kind, "residential buildings are in housing/"
            )
        buildings.append(
            Building(
                str(row.building),
                str(row.kind),
                str(row.name),
                float(row.x_m),
                float(row.y_m),
                int(row.row),
                int(row.col),
                0,
                float(row.workload_equivalent),
            )
        )
    return tuple(buildings)


def _residential(scenario: Scenario, housing: HousingParams) -> tuple[Building, ...]:
    """All the standard buildings of the housing stock. The housing inputs keep only their
    own scaled subset below scale 1, so the full stock is then loaded again through the
    housing loader (the only reader of data/housing)."""
    if housing.scale < 1:
        from simlib.housing.inputs import load_housing_params

        housing = load_housing_params(replace(scenario, scale=1.0))
    return tuple(
        Building(b.building, "residential", b.design, b.x_m, b.y_m, b.row, b.col, b.units, 0.0)
        for b in housing.buildings
    )


def _full_site(scenario: Scenario, housing: HousingParams, reported: Reported) -> Site:
    """The 66 residential and the other buildings on one site plan, checked: the reported
    76, no id twice, no two on one spot, all on the site, none that no other touches."""
    others_file = scenario.table("community", "other_buildings")
    housing_file = scenario.table("housing", "buildings")
    residential = _residential(scenario, housing)
    others = _other_buildings(scenario)
    site = Site(residential + others, housing.adjacency_max_m)
    if len(site) != reported.grid_buildings:
        raise DataError(
            others_file,
            "building",
            len(others),
            f"other buildings; with the {len(residential)} residential buildings they make "
            f"{len(site)}, but the source reports grids over {reported.grid_buildings} buildings",
        )
    file_of = {b.building: housing_file if b.residential else others_file for b in site.buildings}
    seen = {b.building for b in residential}
    for b in others:
        if b.building in seen:
            raise DataError(others_file, "building", b.building, "is also a residential building")
        seen.add(b.building)
    d = site.walking + np.eye(len(site)) * 1e9
    i, j = np.unravel_index(int(np.argmin(d)), d.shape)
    if d[i, j] < SAME_SPOT_M:
        late = site.buildings[max(i, j)]
        raise DataError(
            file_of[late.building],
            f"x_m, y_m[{late.building}]",
            (late.x_m, late.y_m),
            f"stands on the same spot as {site.buildings[min(i, j)].building}",
        )
    for b in others:
        if not (0 <= b.x_m <= housing.site_width_m and 0 <= b.y_m <= housing.site_depth_m):
            raise DataError(
                others_file,
                f"x_m, y_m[{b.building}]",
                (b.x_m, b.y_m),
                f"lies outside the site ({housing.site_width_m:g} m x {housing.site_depth_m:g} m)",
            )
    for k in site.isolated():
        b = site.buildings[k]
        raise DataError(
            file_of[b.building],
            f"x_m, y_m[{b.building}]",
            (b.x_m, b.y_m),
            f"no other building stands within adjacency_max_m = {housing.adjacency_max_m:g} m: "
            "a building no other touches cannot be part of a contiguous grid",
        )
    return site


def load_community_params(scenario: Scenario, housing: HousingParams) -> CommunityParams:
    """Read and validate data/community/ under the scenario's overrides and scale."""
    values = scenario.values("community")
    params_file = scenario.data_dir / "community" / "parameters.csv"
    overridden = scenario.overrides.get("community", {})

    def file_of(name: str) -> Path:
        return scenario.path if name in overridden else params_file

    missing = [name for name in PARAMETERS if name not in values]
    if missing:
        raise DataError(params_file, missing[0], None, "is missing; the community model needs it")
    reported = _reported(scenario)
    _check_values(values, file_of)
    site = _full_site(scenario, housing, reported)
    site = scaled_site(site, scenario.scale)
    scale = scenario.scale
    grids = max(1, round(values["grids"] * scale))
    if grids > len(site):
        raise DataError(
            file_of("grids"),
            "grids",
            values["grids"],
            f"gives {grids} grids for {len(site)} buildings at scale {scale:g}: a grid needs at "
            "least one building",
        )
    return CommunityParams(
        scenario=scenario.name,
        scale=scale,
        site=site,
        placement_rule=values["placement_rule"],
        grid=_grid_rules(values, grids),
        staff=_staffing(values, scale),
        visits=_visit_times(values),
        epidemic=_epidemic(scenario, values, scale, file_of),
        reported=reported,
    )


POSITIVE = (
    "grids",
    "grid_households_max",
    "grid_max_walk_m",
    "grid_time_limit",
    "grid_candidates_max",
    "staff_hours",
    "volunteer_hours",
    "special_visit_base_minutes",
    "special_visit_member_minutes",
    "followup_visit_minutes",
    "returnee_visit_minutes",
    "walking_speed",
    "tail_days",
    "checkpoints",
    "epidemic_team",
    "shifts_per_day",
    "health_check_minutes",
    "returnee_followup_hours",
)
DAY_MINUTES = 24 * 60


TEXT = ("placement_rule", "followup_priority")
COUNTS = (
    "grids", "grid_households_max", "grid_candidates_max", "grid_leaders_per_grid",
    "grid_members_per_grid", "party_members", "tail_days", "checkpoints", "epidemic_team",
    "shifts_per_day",
)  # fmt: skip


def _check_values(values: dict[str, Any], file_of) -> None:
    """Types, choices, signs and clock times of the scalar rules; `file_of(name)` is the
    file that set it (negative numbers and shares outside [0, 1] are refused by the
    reader)."""

    def bad(name: str, problem: str) -> DataError:
        return DataError(file_of(name), name, values[name], problem)

    for name in PARAMETERS:
        value = values[name]
        if name in TEXT:
            ok = isinstance(value, str)
        elif name in COUNTS:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            kind = "text" if name in TEXT else "a whole number" if name in COUNTS else "a number"
            raise bad(name, f"must be {kind} (type in parameters.csv)")

    for name, choices in (("placement_rule", PLACEMENT_RULES), ("followup_priority", PRIORITIES)):
        if values[name] not in choices:
            raise bad(name, f"must be one of {choices}")
    for name in POSITIVE:
        if values[name] <= 0:
            raise bad(name, "must be > 0")
    weights = ("weight_household", "weight_special_member", "weight_new_arrival")
    if sum(values[w] for w in weights) <= 0:
        raise bad("weight_household", "the three workload weights are all 0: no grid has work")
    if not values["arrival_start"] < values["arrival_end"] <= DAY_MINUTES:
        raise bad(
            "arrival_end",
            f"must lie after arrival_start ({values['arrival_start']:g}) "
            f"and by midnight ({DAY_MINUTES})",
        )
    for hours in ("staff_hours", "volunteer_hours"):
        if values["work_start"] + 60 * values[hours] > DAY_MINUTES:
            raise bad(hours, f"from work_start ({values['work_start']:g}) runs past midnight")


def _grid_rules(values: dict[str, Any], grids: int) -> GridRules:
    return GridRules(
        grids=grids,
        weight_household=values["weight_household"],
        weight_special_member=values["weight_special_member"],
        weight_new_arrival=values["weight_new_arrival"],
        households_max=values["grid_households_max"],
        max_walk_m=values["grid_max_walk_m"],
        balance_tolerance=values["balance_tolerance"],
        time_limit=values["grid_time_limit"],
        candidates_max=values["grid_candidates_max"],
    )


def _staffing(values: dict[str, Any], scale: float) -> Staffing:
    return Staffing(
        leaders_per_grid=values["grid_leaders_per_grid"],
        members_per_grid=values["grid_members_per_grid"],
        party_members=round(values["party_members"] * scale),
        active_share=values["party_member_active_share"],
        volunteer_turnout=values["volunteer_turnout"],
        staff_duty_share=values["staff_duty_share"],
        staff_hours=values["staff_hours"],
        volunteer_hours=values["volunteer_hours"],
        work_start=values["work_start"],
    )


def _visit_times(values: dict[str, Any]) -> VisitTimes:
    return VisitTimes(
        special_base=values["special_visit_base_minutes"],
        special_member=values["special_visit_member_minutes"],
        followup=values["followup_visit_minutes"],
        returnee=values["returnee_visit_minutes"],
        cv=values["visit_cv"],
        access=values["building_access_minutes"],
        walking_speed=values["walking_speed"],
        priority=values["followup_priority"],
        tail_days=values["tail_days"],
    )


def _checkpoints(scenario: Scenario, values: dict[str, Any], file_of) -> tuple[Checkpoint, ...]:
    """checkpoints.csv: as many rows as the `checkpoints` parameter, shares summing to 1."""
    path = scenario.table("community", "checkpoints")
    table = read_table(
        path,
        {"checkpoint": "str", "road": "str", "arrival_share": "float"},
        key="checkpoint",
        shares=["arrival_share"],
    )
    if len(table) != values["checkpoints"]:
        raise DataError(
            file_of("checkpoints"),
            "checkpoints",
            values["checkpoints"],
            f"but {path.name} lists {len(table)} checkpoints; give each one a row",
        )
    total = float(table["arrival_share"].sum())
    if abs(total - 1.0) > 1e-6:
        raise DataError(path, "arrival_share", total, "shares must sum to 1")
    return tuple(
        Checkpoint(str(r.checkpoint), str(r.road), float(r.arrival_share))
        for r in table.itertuples()
    )


def _epidemic(scenario: Scenario, values: dict[str, Any], scale: float, file_of) -> EpidemicParams:
    checkpoints = _checkpoints(scenario, values, file_of)
    keep = checkpoints[: max(1, round(len(checkpoints) * scale))]
    total = sum(c.arrival_share for c in keep)
    if total <= 0:
        raise DataError(
            scenario.table("community", "checkpoints"),
            "arrival_share",
            total,
            "the checkpoints kept at this scale take no arrivals",
        )
    keep = tuple(Checkpoint(c.checkpoint, c.road, c.arrival_share / total) for c in keep)
    return EpidemicParams(
        checkpoints=keep,
        team=max(1, round(values["epidemic_team"] * scale)),
        away_share=values["away_share"],
        festival_return_share=values["festival_return_share"],
        window_return_share=values["window_return_share"],
        return_peak_position=values["return_peak_position"],
        arrival_start=values["arrival_start"],
        arrival_end=values["arrival_end"],
        team_share=values["checkpoint_team_share"],
        shifts_per_day=values["shifts_per_day"],
        health_check=values["health_check_minutes"],
        registration=values["registration_minutes"],
        service_cv=values["checkpoint_cv"],
        followup_hours=values["returnee_followup_hours"],
        return_share_range=_return_share_range(scenario),
    )


RETURN_SHARES = ("away_share", "festival_return_share", "window_return_share")


def _return_share_range(scenario: Scenario) -> tuple[float, float]:
    """The share of willing migrants who pass a checkpoint at the low and at the high ends
    of the three shares' recorded ranges (the assumptions' range, not noise)."""
    records = scenario.parameters("community")
    low = high = 1.0
    for name in RETURN_SHARES:
        record = records[name]
        low *= record.value if record.low is None else record.low
        high *= record.value if record.high is None else record.high
    return low, high
