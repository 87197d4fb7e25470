"""One run of the community model: the grids, then replications of the visits and the
epidemic checkpoints, as tidy tables.

`run(inputs, replications=R)` places the households (adapters.household_buildings, from the
first moving replication), cuts the grids (grids.plan_grids) and the simple cuts beside
them, and then, for each replication r (moving replication r: its move-in days and who is
home for the epidemic), runs the checkpoints and the daily visits. The result is frozen:
one table per grain (building, grid, day, grid-day, household, person) and `runs`, one
row per replication, from which `summary()` computes means with 95 % CIs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simlib.community import adapters, epidemic, figures
from simlib.community.cuts import CUTS, simple_cut
from simlib.community.grids import GridPlan, plan_grids
from simlib.community.inputs import CommunityParams
from simlib.community.memo import remembered
from simlib.community.partition import measure
from simlib.community.visits import Setup, make_town, simulate_visits
from simlib.community.workload import building_table
from simlib.files import write_atomic

if TYPE_CHECKING:
    from simlib.inputs import Inputs


@dataclass(frozen=True)
class TownPlan:
    """What every replication shares: the placement (household -> building), the buildings'
    workloads, the grid plan and the simple cuts."""

    placement: pd.DataFrame
    table: pd.DataFrame
    plan: GridPlan
    cuts: pd.DataFrame
    first_moves: pd.DataFrame  # moving replication 0 (placement and the first replication)
    moving: Any = None  # the answer "moving" (a MovingResult) the move-in days are read from


def simple_cuts(params: CommunityParams, table: pd.DataFrame, k: int) -> pd.DataFrame:
    """One row per simple cut, measured like the optimised plan."""
    load = table["workload"].to_numpy(dtype=float)
    rows = []
    for name in CUTS:
        grid_of = simple_cut(name, params.site, load, k)
        measured = measure(params.site, table, grid_of, params.grid.max_walk_m)
        figures = measured.figures()
        figures["over_household_cap"] = int(
            (measured.grids["households"] > params.grid.households_max).sum()
        )
        figures["over_walk_limit"] = int(
            (measured.grids["max_walk_m"] > params.grid.max_walk_m + 1e-6).sum()
        )
        rows.append({"cut": name, **figures})
    return pd.DataFrame(rows)


def prepare(inputs: Inputs, moving: Any = None) -> TownPlan:
    """Place the households, weigh the buildings, cut the grids (optimised and simple); the
    move-in days are read from `moving` (a MovingResult of these inputs) where it can."""
    params = inputs.community
    moves = adapters.move_in_days(inputs, 0, moving)
    placement = adapters.household_buildings(inputs, params.site, moves)
    table = building_table(params.site, placement, inputs.population.households, moves, params.grid)
    plan, cuts = remembered(  # what the plans read: the site, the buildings' table, the rules
        "grid_plans",
        {"site": params.site, "table": table, "rules": params.grid},
        lambda: (plan_grids(params.site, table, params.grid),
                 simple_cuts(params, table, params.grid.grids)),
    )  # fmt: skip
    return TownPlan(placement, table, plan, cuts, moves, moving)


# --- one replication ---------------------------------------------------------------------------


def _households(inputs: Inputs, town: TownPlan, moves: pd.DataFrame) -> pd.DataFrame:
    """One row per household: building (index on the site), special-group members, day of
    moving in in this replication."""
    site = inputs.community.site
    hh = town.placement.merge(
        inputs.population.households[["household_id", "special_group_people"]], on="household_id"
    ).merge(moves, on="household_id", how="left")
    hh = hh.sort_values("household_id").reset_index(drop=True)
    hh["building_index"] = hh["building"].map(site.index).astype(int)
    hh["special_members"] = hh["special_group_people"].astype(int)
    hh["moved_in_day"] = hh["moved_in_day"].fillna(-1).astype(np.int64)
    people = inputs.population.people
    willing = people.loc[people["willing_to_migrate"], "household_id"].value_counts()
    hh["willing_migrants"] = hh["household_id"].map(willing).fillna(0).astype(int)
    columns = ["household_id", "building", "building_index", "special_members", "moved_in_day"]
    return hh[[*columns, "willing_migrants"]]


def _checkpoints(inputs: Inputs, hh: pd.DataFrame, replication: int) -> pd.DataFrame:
    """Who comes back over the pauses, and their checkpoint queue."""
    params = inputs.community.epidemic
    windows = adapters.pause_windows(inputs)
    moved = hh.set_index("household_id")["moved_in_day"]
    key = (inputs.seed, replication)
    people = epidemic.returning_people(inputs.population.people, moved, windows, params, key)
    queue = epidemic.run_checkpoints(people, params, key)
    where = hh.set_index("household_id")
    queue["building"] = where["building"].reindex(queue["household_id"]).to_numpy()
    queue["building_index"] = where["building_index"].reindex(queue["household_id"]).to_numpy()
    return queue


def replicate(inputs: Inputs, town: TownPlan, replication: int) -> dict[str, pd.DataFrame]:
    """One replication's tables: households (step-8 visits), checkpoint queue (with the
    epidemic visits), grid-days."""
    params = inputs.community
    if replication == 0:
        moves = town.first_moves
    else:
        moves = adapters.move_in_days(inputs, replication, town.moving)
    hh = _households(inputs, town, moves)
    queue = _checkpoints(inputs, hh, replication)
    windows = adapters.pause_windows(inputs)
    last = max([int(hh["moved_in_day"].max())] + [b for _, b in windows])
    days = last + params.visits.tail_days + 1
    setup = Setup(
        staff=params.staff,
        times=params.visits,
        target_days=adapters.followup_target_days(inputs),
        days=days,
        returnee_hours=params.epidemic.followup_hours,
        seed=inputs.seed,
        replication=replication,
    )
    layout = make_town(params.site, town.plan.measured.buildings, params.staff)
    visits = simulate_visits(layout, hh, queue, setup)
    visit_day, returnee_day = visits.followups()
    hh["grid"] = layout.grid_of[hh["building_index"].to_numpy()]
    hh["first_visit_day"] = visit_day
    queue["grid"] = (
        layout.grid_of[queue["building_index"].to_numpy(dtype=int)] if len(queue) else []
    )
    queue["followup"] = visits.r_visited
    queue["followup_day"] = returnee_day
    grid_days = visits.grid_days_table()
    for table in (hh, queue, grid_days):
        table.insert(0, "replication", replication)
    return {"households": hh, "checkpoint": queue, "grid_days": grid_days}


# --- the result ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommunityResult:
    """A run of the community model as tidy tables.

    buildings: one row per building (households, special-group members, arrivals, workload,
        grid, base, walk to the base); grids: one row per grid; simple_cuts: one row per
        simple cut; grid_stages: one row per solve of the grid plan;
    coverage: one row per replication and day (special-group members present and visited);
    grid_days: one row per replication, grid and day (workers, minutes, utilisation);
    visits: one row per replication and household (moved in, step-8 visit, days, on time);
    checkpoint: one row per replication and returning person (checkpoint, arrival, wait,
        service, handover, epidemic visit, on time);
    runs: one row per replication, the figures the summary averages.
    """

    scenario: str
    seed: int
    scale: float
    campaign_start: dt.date
    windows: tuple[tuple[int, int], ...]
    target_days: int
    placement: str  # the placement rule applied (adapters.placement_used)
    params: CommunityParams
    plan: GridPlan
    buildings: pd.DataFrame
    grids: pd.DataFrame
    simple_cuts: pd.DataFrame
    grid_stages: pd.DataFrame
    coverage: pd.DataFrame
    grid_days: pd.DataFrame
    visits: pd.DataFrame
    checkpoint: pd.DataFrame
    runs: pd.DataFrame

    @property
    def replications(self) -> int:
        return int(len(self.runs))

    def date(self, day: int) -> dt.date:
        return self.campaign_start + dt.timedelta(days=int(day))

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table, by the file name `write` gives it."""
        names = ("buildings", "grids", "simple_cuts", "grid_stages", "coverage", "grid_days",
                 "visits", "checkpoint", "runs")  # fmt: skip
        return {name: getattr(self, name) for name in names}

    def write(self, folder: str | Path) -> list[Path]:
        """Write every table as CSV into `folder` (made if needed), each file atomically
        (written beside it, then renamed over it)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, table in self.tables().items():
            path = folder / f"{name}.csv"
            write_atomic(path, table.to_csv(index=False))
            written.append(path)
        return written

    def summary(self) -> dict[str, Any]:
        """The headline figures (what `simlib community --json` prints)."""
        r = self.params.reported
        out: dict[str, Any] = {"scenario": self.scenario, "seed": self.seed, "scale": self.scale}
        out["placement"] = self.placement
        out.update(figures.grid_summary(self.plan.figures(), self.simple_cuts))
        out["grid_buildings"] = len(self.buildings)
        out["reported"] = {"grids": r.grids, "grid_buildings": r.grid_buildings}
        out.update(figures.run_summary(self.runs, self.coverage, self.date))
        followed = out["returning_people_followed_up"]
        low, high = self.params.epidemic.return_share_range
        home = out["migrants_at_home"]
        followed.update(
            reported=r.returnees_followed,
            reported_at_scale=round(r.returnees_followed * self.scale),
            basis="derived from the population's willing migrants and three assumed shares, "
            "not calibrated to the reported figure",
            assumption_range={
                "low": None if home is None else home * low,
                "high": None if home is None else home * high,
            },
        )
        out["epidemic_grids_with_residents"] = {
            "mean": out["epidemic_grids_with_residents"],
            "reported": r.epidemic_grids,
        }
        out.update(
            replications=self.replications,
            step8_target_days=self.target_days,
            ci_note="95 % confidence intervals over replications"
            if self.replications > 1
            else "one replication: no confidence interval (null)",
        )
        return out


def run(inputs: Inputs, replications: int = 5, moving: Any = None) -> CommunityResult:
    """The grids, then `replications` replications of the visits and the checkpoints. The
    households' days of moving in are read from `moving` (the answer "moving": a
    MovingResult) where it holds the same campaign, else the campaign is run here."""
    if replications < 1:
        raise ValueError(f"replications (={replications}) must be >= 1")
    params = inputs.community
    town = prepare(inputs, moving)
    windows = adapters.pause_windows(inputs)
    target = adapters.followup_target_days(inputs)
    staff_hours = epidemic.staff_hours(params.epidemic, windows)
    parts: dict[str, list[pd.DataFrame]] = {"households": [], "checkpoint": [], "grid_days": []}
    rows = []
    for r in range(replications):
        tables = replicate(inputs, town, r)
        tables["coverage"] = figures.coverage_table(tables["grid_days"])
        tables["visits"] = figures.visit_table(tables["households"], target)
        context = {
            "replication": r,
            "returnee_hours": params.epidemic.followup_hours,
            "staff_hours": staff_hours,
            "window_start": min(a for a, _ in windows) if windows else None,
            "grid_of": town.plan.measured.buildings["grid"].to_numpy(),
        }
        rows.append(figures.replication_row(tables, context))
        for name in parts:
            parts[name].append(tables[name])
    return _result(inputs, town, parts, rows, (windows, target))


def _result(inputs: Inputs, town: TownPlan, parts, rows, calendar) -> CommunityResult:
    windows, target = calendar
    grid_days = pd.concat(parts["grid_days"], ignore_index=True)
    households = pd.concat(parts["households"], ignore_index=True)
    checkpoint = pd.concat(parts["checkpoint"], ignore_index=True)
    returnee_minutes = 60 * inputs.community.epidemic.followup_hours
    checkpoint["on_time"] = (checkpoint["followup"] - checkpoint["handover"]) <= returnee_minutes
    visits = figures.visit_table(households, target)
    return CommunityResult(
        scenario=inputs.scenario.name,
        seed=inputs.seed,
        scale=inputs.scenario.scale,
        campaign_start=adapters.campaign_start(inputs),
        windows=tuple(windows),
        target_days=target,
        placement=adapters.placement_used(inputs),
        params=inputs.community,
        plan=town.plan,
        buildings=town.plan.measured.buildings,
        grids=town.plan.measured.grids,
        simple_cuts=town.cuts,
        grid_stages=pd.DataFrame(list(town.plan.stages)),
        coverage=figures.coverage_table(grid_days),
        grid_days=grid_days,
        visits=visits.drop(columns=["building_index"]),
        checkpoint=checkpoint.drop(columns=["building_index"]),
        runs=pd.DataFrame(rows),
    )
