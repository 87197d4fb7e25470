"""Replications of the moving campaign with common random numbers, and their summary.

`run_replications` repeats `run_campaign` with one random stream per input and
replication (replication r uses stream keys r), optionally on several processes (results
equal a serial run); `Replications.frame()` has one row per replication and
`Replications.summary()` is what `simlib simulate --json` prints.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simlib.moving.inputs import MovingParams
from simlib.moving.plan import BatchPlan, make_plan
from simlib.moving.result import RULES, binding_resource, run_campaign
from simlib.stats import mean_ci


def _one(args) -> dict[str, Any]:
    params, households, plan, seed, replication = args
    result = run_campaign(params, households, seed, replication, plan)
    s = result.summary()
    s["events"] = result.events
    return s


SCALAR_MEANS = (
    "households_moved",
    "people_moved",
    "households_not_moved",
    "vehicle_trips",
    "vehicles_per_household",
    "convoys",
    "convoy_days",
    "largest_day_households",
    "convoys_after_dark",
    "convoys_held_overnight",
    "carried_over_households",
    "followup_late",
    "max_slip_days",
)


@dataclass(frozen=True)
class Replications:
    """Summaries of R replications of one campaign (replication r uses stream keys r)."""

    params: MovingParams
    plan: BatchPlan
    seed: int
    runs: tuple[dict[str, Any], ...]

    def frame(self) -> pd.DataFrame:
        """One row per replication with the scalar figures (rule violations flattened)."""
        rows = []
        for r, run in enumerate(self.runs):
            row = {"replication": r}
            row.update({k: v for k, v in run.items() if not isinstance(v, dict)})
            row.update(run["rule_violations"])
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        """Means and 95 % confidence intervals over replications (the `simulate --json`)."""
        runs = self.runs
        p = self.params
        frame = self.frame()
        steps = list(runs[0]["step_wait_minutes"])
        resources = list(runs[0]["utilization"])
        deadline_day = p.deadline_day + 1
        met = float(np.mean([r["registered_poor_all_in_day"] <= deadline_day for r in runs]))
        binding: Counter[str] = Counter()
        for r in runs:
            binding.update(r["binding_days"])
        binding_mean = {k: v / len(runs) for k, v in sorted(binding.items())}
        first = sorted(r["first_move_in_date"] for r in runs if r["first_move_in_date"])
        last = sorted(r["last_move_in_date"] for r in runs if r["last_move_in_date"])
        out: dict[str, Any] = {
            "scenario": p.scenario,
            "campaign_days": mean_ci(frame["campaign_days"]),
            "registered_poor_all_in_day": mean_ci(frame["registered_poor_all_in_day"]),
            "registered_poor_deadline": p.deadline.isoformat(),
            "registered_poor_deadline_day": deadline_day,
            "registered_poor_in_by_deadline_share": met,
            "deadline_met_share": met,
            "campaign_start": p.campaign_start.isoformat(),
            "first_move_in_date": first[0] if first else None,
            "last_move_in_date": last[-1] if last else None,
        }
        out.update({k: float(frame[k].mean()) for k in SCALAR_MEANS})
        out.update(
            {
                "step_wait_minutes": {
                    s: {
                        q: float(np.mean([r["step_wait_minutes"][s][q] for r in runs]))
                        for q in ("p50", "p95")
                    }
                    for s in steps
                },
                "utilization": {
                    k: float(np.mean([r["utilization"][k] for r in runs])) for k in resources
                },
                "rule_violations": {k: float(frame[k].mean()) for k in RULES},
                "binding_days": binding_mean,
                "binding_resource": binding_resource(binding_mean),
                "feasibility": runs[0]["feasibility"],
                "plan": self.plan.source,
                "calibrated": list(p.calibrated),
                "ci_note": "95 % confidence intervals over replications"
                if len(runs) > 1
                else "one replication: no confidence interval (null)",
                "replications": len(runs),
                "seed": self.seed,
            }
        )
        return out


def run_replications(
    params: MovingParams,
    population,
    *,
    seed: int,
    replications: int = 10,
    workers: int | None = None,
) -> Replications:
    """R replications with common random numbers on `workers` processes (default: the CPUs,
    at most R; 1 = serial). The result does not depend on `workers`. `population` is a
    `Population` (or its households table); it is never rebuilt here."""
    if replications < 1:
        raise ValueError(f"replications (={replications}) must be >= 1")
    households = getattr(population, "households", population).reset_index(drop=True)
    plan = make_plan(params, households)  # a bad plan fails here, once, in this process
    jobs = [(params, households, plan, seed, r) for r in range(replications)]
    workers = min(replications, os.cpu_count() or 1) if workers is None else max(1, workers)
    if workers == 1:
        runs = [_one(j) for j in jobs]
    else:
        pool = ProcessPoolExecutor(max_workers=min(workers, replications))
        try:
            runs = list(pool.map(_one, jobs))
        finally:
            # on Ctrl-C or SIGTERM, drop the queued replications instead of running them
            pool.shutdown(wait=True, cancel_futures=True)
    return Replications(params, plan, seed, tuple(runs))
