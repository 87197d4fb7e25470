"""The community model in sweeps: what another grid changes, and the community
assumptions over their ranges.

- `grid_counts(inputs, counts)`: the grid plan (and, with `replications`, the visits) for
  each number of grids, one row each: the answer to "what would a 30th or a 40th grid
  change?";
- `evaluate_point(inputs, replications, seed)`: the flat outputs of one point of a sweep
  specification (data/sweeps/community.yaml), for the sweep runner's `evaluate` argument.
  The shared evaluator (simlib/sweep/evaluate.py, moving and matching) is not extended:
  a community point costs a grid plan and a visits simulation (a few seconds at full
  scale), which every point of the report's sweeps would then pay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pandas as pd

from simlib.community.grids import GridsFailed, plan_grids
from simlib.community.result import prepare, run, simple_cuts
from simlib.inputs import Inputs, vary

# name -> (unit, what it means): the outputs `evaluate_point` records
OUTPUTS = {
    "grids": ("grids", "number of grids"),
    "grid_optimal": ("flag", "the grid plan is proven optimal"),
    "max_to_mean_workload": ("ratio", "largest grid workload / mean"),
    "max_to_min_workload": ("ratio", "largest grid workload / smallest"),
    "best_cut_max_to_mean": ("ratio", "the best simple cut's largest workload / mean"),
    "mean_walk_to_base_m": ("m", "workload-weighted walk from a building to its grid's base"),
    "coverage_mean": ("share", "special-group members visited, mean day"),
    "coverage_lowest": ("share", "special-group members visited, lowest day"),
    "days_to_first_visit_p95": ("days", "P95 days from moving in to the step-8 visit"),
    "step8_on_time_share": ("share", "step-8 visits within the target days"),
    "utilisation_mean": ("share", "grid workers' busy share of their hours"),
    "returning_people_followed_up": ("people", "returning people followed up (reported 972)"),
    "checkpoint_wait_p95": ("min", "P95 wait at a checkpoint"),
    "followups_on_time_share": ("share", "epidemic follow-ups within the target hours"),
    "epidemic_grids_with_residents": ("grids", "grids with residents when the pause began (29)"),
}


def grid_counts(inputs: Inputs, counts: Iterable[int], replications: int = 0) -> pd.DataFrame:
    """One row per number of grids: the optimised plan beside the best simple cut, and with
    `replications` > 0 the visits' mean figures. The households are placed once (the
    placement does not depend on the grids). A count with no plan is kept, with its
    reason in `failed`."""
    base = prepare(inputs) if not replications else None
    rows = []
    for k in counts:
        varied = vary(inputs, {"community.grids": int(k)})
        row: dict[str, Any] = {"grids": varied.community.grid.grids}
        try:
            if replications:
                result = run(varied, replications=replications)
                row.update(_plan_row(result.plan, result.simple_cuts))
                row.update(result.runs.drop(columns="replication").mean().to_dict())
            else:
                params = varied.community
                plan = plan_grids(params.site, base.table, params.grid)
                row.update(_plan_row(plan, simple_cuts(params, base.table, params.grid.grids)))
        except GridsFailed as error:
            row["failed"] = str(error)
        rows.append(row)
    return pd.DataFrame(rows)


def _plan_row(plan, cuts: pd.DataFrame) -> dict[str, Any]:
    figures = plan.figures()
    keep = ("status", "gap", "max_to_mean_workload", "max_to_min_workload", "largest_workload",
            "mean_workload", "mean_walk_to_base_m", "max_walk_to_base_m", "largest_households",
            "seconds")  # fmt: skip
    row = {k: figures[k] for k in keep}
    row["best_cut_max_to_mean"] = float(cuts["max_to_mean_workload"].min())
    row["best_cut"] = str(cuts.loc[cuts["max_to_mean_workload"].idxmin(), "cut"])
    return row


def evaluate_point(inputs: Inputs, replications: int, seed: int) -> dict[str, Any]:
    """The community outputs (OUTPUTS) of one sweep point; a point whose grid plan has no
    solution is kept with NaN outputs (and grid_optimal false)."""
    inputs = replace(inputs, seed=seed)
    try:
        result = run(inputs, replications=replications)
    except GridsFailed:
        return {name: (False if name == "grid_optimal" else math.nan) for name in OUTPUTS}
    s = result.summary()
    means = result.runs.mean(numeric_only=True)
    return {
        "grids": s["grids"],
        "grid_optimal": s["grid_status"] == "optimal",
        "max_to_mean_workload": s["max_to_mean_workload"],
        "max_to_min_workload": s["max_to_min_workload"],
        "best_cut_max_to_mean": s["best_simple_cut"]["max_to_mean_workload"],
        "mean_walk_to_base_m": s["walk_to_base_m"]["mean"],
        **{
            name: float(means[name])
            for name in (
                "coverage_mean",
                "coverage_lowest",
                "days_to_first_visit_p95",
                "step8_on_time_share",
                "utilisation_mean",
                "returning_people_followed_up",
                "checkpoint_wait_p95",
                "followups_on_time_share",
                "epidemic_grids_with_residents",
            )
        },
    }


def run_spec(spec, *, out=None, workers: int | None = None, progress: bool = True):
    """Run a sweep specification over the community assumptions (resumable, as `simlib
    sweep` does) with this module's evaluator."""
    from simlib.sweep import run_sweep

    return run_sweep(spec, out=out, workers=workers, progress=progress, evaluate=evaluate_point)


def sweep_on_scenario(scenario, *, seed: int | None = None, workers: int | None = None, root=None):
    """data/sweeps/community.yaml around a report's scenario and seed, kept under
    results/sweeps/community-<scenario>/ and re-read while the specification and the code
    are the same (recomputed otherwise)."""
    from simlib.files import child_folder
    from simlib.sweep import load_spec
    from simlib.sweep.runner import DEFAULT_ROOT
    from simlib.sweep.store import StaleSweep

    spec = load_spec("community.yaml").on_scenario(scenario, seed=seed)
    out = child_folder(root or DEFAULT_ROOT, f"community-{scenario.name}")  # never outside
    try:
        return run_spec(spec, out=out, workers=workers, progress=False)
    except StaleSweep:
        from simlib.sweep import run_sweep

        return run_sweep(spec, out=out, workers=workers, progress=False, restart=True,
                         evaluate=evaluate_point)  # fmt: skip
