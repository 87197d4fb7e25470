"""Figures computed from the community model's tables: one row of `runs` per replication,
and the summary over replications (means with 95 % CIs, simlib.stats.mean_ci)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from simlib.stats import mean_ci


def coverage_table(grid_days: pd.DataFrame) -> pd.DataFrame:
    """One row per replication and day with special-group members present: present,
    visited and the share visited (the day's coverage)."""
    per = (
        grid_days.groupby(["replication", "day"])[["special_present", "special_visited"]]
        .sum()
        .reset_index()
    )
    per = per[per["special_present"] > 0].reset_index(drop=True)
    per["coverage"] = per["special_visited"] / per["special_present"]
    return per


def visit_table(households: pd.DataFrame, target_days: int) -> pd.DataFrame:
    """The households that moved in, with the days from moving in to the step-8 visit
    (NaN: not visited within the simulated days) and whether it was on time."""
    moved = households[households["moved_in_day"] >= 0].copy()
    visited = moved["first_visit_day"] >= 0
    moved["days_to_first_visit"] = (moved["first_visit_day"] - moved["moved_in_day"]).where(visited)
    moved["on_time"] = visited & (moved["days_to_first_visit"] <= target_days)
    return moved.reset_index(drop=True)


def quantile(values: pd.Series, q: float) -> float | None:
    """A quantile counting missing values (never done) as infinitely late; None when it
    falls on them (or there are no values)."""
    x = np.sort(values.fillna(math.inf).to_numpy(dtype=float))
    if not len(x):
        return None
    value = float(np.quantile(x, q, method="higher"))
    return value if math.isfinite(value) else None


def _none_nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def replication_row(tables: dict[str, pd.DataFrame], context: dict[str, Any]) -> dict[str, Any]:
    """One replication's figures (a row of `runs`) from its tables. `context`: replication,
    target_days, returnee_hours, staff_hours, return_share, window_start, grid_of."""
    coverage = tables["coverage"]
    visits = tables["visits"]
    queue = tables["checkpoint"]
    grid_days = tables["grid_days"]
    worst = coverage.loc[coverage["coverage"].idxmin()] if len(coverage) else None
    followed = queue["followup"].notna()
    late = (queue["followup"] - queue["handover"]) > 60 * context["returnee_hours"] + 1e-9
    used = grid_days[grid_days["available_minutes"] > 0]
    return {
        "replication": context["replication"],
        "coverage_mean": float(coverage["coverage"].mean()) if len(coverage) else math.nan,
        "coverage_lowest": float(worst["coverage"]) if worst is not None else math.nan,
        "coverage_lowest_day": int(worst["day"]) if worst is not None else -1,
        "days_to_first_visit_p50": _none_nan(quantile(visits["days_to_first_visit"], 0.5)),
        "days_to_first_visit_p95": _none_nan(quantile(visits["days_to_first_visit"], 0.95)),
        "step8_on_time_share": float(visits["on_time"].mean()) if len(visits) else math.nan,
        "step8_not_visited": int(visits["days_to_first_visit"].isna().sum()),
        "utilisation_mean": float(used["utilisation"].mean()) if len(used) else math.nan,
        "utilisation_busiest_grid": float(used.groupby("grid")["utilisation"].mean().max())
        if len(used)
        else math.nan,
        "overtime_hours": float(grid_days["overtime_minutes"].sum() / 60),
        "returning_people": int(len(queue)),
        "returning_people_followed_up": int(followed.sum()),
        "followups_on_time_share": float((followed & ~late).mean()) if len(queue) else math.nan,
        "checkpoint_wait_p50": float(queue["wait"].quantile(0.5)) if len(queue) else math.nan,
        "checkpoint_wait_p95": float(queue["wait"].quantile(0.95)) if len(queue) else math.nan,
        "checkpoint_wait_max": float(queue["wait"].max()) if len(queue) else math.nan,
        "checkpoint_staff_hours": context["staff_hours"],
        "checkpoint_busy_hours": float(queue["service"].sum() / 60),
        **_epidemic_context(tables["households"], context),
    }


def _epidemic_context(households: pd.DataFrame, context: dict[str, Any]) -> dict[str, Any]:
    """Grids with residents when the first pause began (the epidemic response's grids),
    and the willing migrants at home then (whom the return shares apply to)."""
    start = context["window_start"]
    if start is None:
        return {"epidemic_grids_with_residents": math.nan, "migrants_at_home": math.nan}
    home = households[(households["moved_in_day"] >= 0) & (households["moved_in_day"] < start)]
    grids = int(np.unique(context["grid_of"][home["building_index"].to_numpy()]).size)
    migrants = int(home["willing_migrants"].sum())
    return {"epidemic_grids_with_residents": grids, "migrants_at_home": migrants}


def _ci(runs: pd.DataFrame, column: str) -> dict[str, float | None]:
    values = runs[column].dropna()
    if not len(values):
        return {"mean": None, "ci95_low": None, "ci95_high": None}
    return mean_ci(values.to_numpy())


def grid_summary(plan_figures: dict[str, Any], cuts: pd.DataFrame) -> dict[str, Any]:
    """The grid plan next to the best simple cut (the one with the smallest largest
    workload; ties: the fewer non-contiguous grids)."""
    best = cuts.sort_values(["max_to_mean_workload", "noncontiguous_grids"]).iloc[0]
    keep = ("max_to_mean_workload", "max_to_min_workload", "noncontiguous_grids",
            "mean_walk_to_base_m", "max_walk_to_base_m", "over_household_cap", "over_walk_limit")  # fmt: skip
    return {
        "grids": int(plan_figures["grids"]),
        "grid_status": plan_figures["status"],
        "grid_gap": float(plan_figures["gap"]),
        "max_to_mean_workload": float(plan_figures["max_to_mean_workload"]),
        "max_to_min_workload": float(plan_figures["max_to_min_workload"]),
        "largest_workload_bound": float(plan_figures["largest_workload_bound"]),
        "walk_to_base_m": {
            "mean": float(plan_figures["mean_walk_to_base_m"]),
            "max": float(plan_figures["max_walk_to_base_m"]),
        },
        "grid_candidates": int(plan_figures["candidates"]),
        "grid_seconds": float(plan_figures["seconds"]),
        "best_simple_cut": {
            "name": str(best["cut"]),
            **{k: _plain(best[k]) for k in keep},
        },
        "simple_cuts": [
            {"name": str(r["cut"]), **{k: _plain(r[k]) for k in keep}} for _, r in cuts.iterrows()
        ],
    }


def _plain(value: Any) -> Any:
    """A NumPy number as a plain Python number (for JSON)."""
    return value.item() if hasattr(value, "item") else value


def run_summary(runs: pd.DataFrame, coverage: pd.DataFrame, dates) -> dict[str, Any]:
    """The visits and the epidemic over replications: means, with 95 % CIs where the
    figure is a mean over replications. `dates(day)` gives a day's date."""
    curve = coverage.groupby("day")["coverage"].mean()
    lowest = int(curve.idxmin()) if len(curve) else None
    wait = _ci(runs, "checkpoint_wait_p95")
    followed = _ci(runs, "returning_people_followed_up")
    return {
        "special_visit_coverage": {
            **_ci(runs, "coverage_mean"),
            "lowest_day": _mean(runs, "coverage_lowest"),
            "lowest_date": dates(lowest).isoformat() if lowest is not None else None,
        },
        "days_to_first_visit": {
            "p50": _mean(runs, "days_to_first_visit_p50"),
            "p95": _mean(runs, "days_to_first_visit_p95"),
            "not_visited": _mean(runs, "step8_not_visited"),
        },
        "step8_on_time_share": _mean(runs, "step8_on_time_share"),
        "utilisation": {
            "mean": _mean(runs, "utilisation_mean"),
            "busiest_grid": _mean(runs, "utilisation_busiest_grid"),
        },
        "overtime_hours": _mean(runs, "overtime_hours"),
        "checkpoint_wait_minutes": {
            "p95": wait["mean"],
            "ci95_low": wait["ci95_low"],
            "ci95_high": wait["ci95_high"],
            "p50": _mean(runs, "checkpoint_wait_p50"),
            "max": _mean(runs, "checkpoint_wait_max"),
        },  # fmt: skip
        "checkpoint_staff_hours": _mean(runs, "checkpoint_staff_hours"),
        "checkpoint_busy_hours": _mean(runs, "checkpoint_busy_hours"),
        "followups_on_time_share": _mean(runs, "followups_on_time_share"),
        "returning_people_followed_up": followed,
        "returning_people": _mean(runs, "returning_people"),
        "migrants_at_home": _mean(runs, "migrants_at_home"),
        "epidemic_grids_with_residents": _mean(runs, "epidemic_grids_with_residents"),
    }


def _mean(runs: pd.DataFrame, column: str) -> float | None:
    values = runs[column].dropna()
    return float(values.mean()) if len(values) else None
