"""Replications of the moving campaign with common random numbers: the `MovingResult`.

`run(inputs, replications=..., workers=..., plan=...)` runs the campaign R times
(replication r draws from the streams keyed r, on any number of processes: the result does
not depend on `workers`) and returns one frozen `MovingResult` of tidy tables, each with a
`replication` column, and a `runs` table with one row per replication. Its `summary()`
(what `simlib simulate --json` prints) is an aggregation of those tables.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simlib.moving.feasibility import Feasibility, check_feasibility
from simlib.moving.generate import make_plan
from simlib.moving.inputs import MovingParams
from simlib.moving.plan import BatchPlan
from simlib.moving.result import CampaignResult, building_table, run_campaign
from simlib.moving.runs import MEANS, RULES, binding_resource
from simlib.stats import mean_ci

DAY_COLUMNS = ("date", "county", "planned", "arrived_as_planned", "late", "left_behind", "binding")


def _one(args) -> tuple[pd.DataFrame, ...]:
    params, households, plan, seed, replication, visits = args
    r = run_campaign(params, households, seed, replication, plan, visits)
    run = pd.DataFrame([r.run_row()])
    steps = r.steps.assign(replication=replication)
    tables = (r.households, r.convoys, r.days)
    return (*(t.assign(replication=replication) for t in tables), steps, run)


def _first(table: pd.DataFrame) -> pd.DataFrame:
    """The `replication` column first."""
    return table[["replication", *[c for c in table.columns if c != "replication"]]]


@dataclass(frozen=True)
class MovingResult:
    """R replications of one campaign: tidy tables, each with a `replication` column.

    households, convoys, days: as `CampaignResult`'s, stacked over replications;
    steps: one row per replication and step (waits, team utilisation);
    runs: one row per replication (see `simlib.moving.runs`).
    """

    params: MovingParams
    plan: BatchPlan
    feasibility: Feasibility | None  # None: not checked (`run_replications(lean=True)`)
    seed: int
    households: pd.DataFrame
    convoys: pd.DataFrame
    days: pd.DataFrame
    steps: pd.DataFrame
    runs: pd.DataFrame

    @property
    def replications(self) -> int:
        return len(self.runs)

    def replication(self, r: int = 0) -> CampaignResult:
        """Replication r's tables as a `CampaignResult` (read from the tables, not re-run)."""

        def part(table: pd.DataFrame) -> pd.DataFrame:
            return table[table["replication"] == r].drop(columns="replication").reset_index(drop=True)  # fmt: skip

        hh = part(self.households)
        times = {
            kind: np.column_stack([hh[f"{s.step}_{kind}"].to_numpy() for s in self.params.steps])
            for kind in ("ready", "start", "end")
        }
        run = self.runs[self.runs["replication"] == r].iloc[0]
        visits = not pd.isna(run["followup_late"])  # a lean run's is NaN
        return CampaignResult(self.params, self.plan, hh, part(self.convoys), part(self.days), times, int(run["events"]), r, visits)  # fmt: skip

    def frame(self) -> pd.DataFrame:
        """The runs table (one row per replication)."""
        return self.runs.copy()

    def days_summary(self) -> pd.DataFrame:
        """One row per county convoy day over the replications: the mean households
        planned, arrived as planned, late and left behind (0 where the day did not run),
        the most common binding resource and reasons, and in how many replications it ran."""
        d = self.days
        r = self.replications
        g = d.groupby(["date", "county"], sort=True)
        table = g[["planned", "arrived_as_planned", "late", "left_behind", "carried_in", "sent"]].sum() / r  # fmt: skip
        for column in ("binding", "late_reason", "left_behind_reason"):
            table[column] = g[column].agg(lambda v: Counter(x for x in v if x).most_common(1)[0][0] if any(v) else "")  # fmt: skip
        table["finish_hour"] = g["finish_hour"].mean()
        table["buildings"] = g["buildings"].mean()
        table["building_wait_mean"] = g["building_wait_mean"].mean()
        table["replications_run"] = g.size()
        table["disrupted"] = g["disruption"].agg(lambda v: int((v != "").sum()))
        return table.reset_index()

    def buildings_summary(self) -> pd.DataFrame:
        """One row per building families moved into, over the replications (see
        `building_table`; `households` per replication); empty when the move-in day is not
        tied to the housing allocation."""
        table = building_table(self.households[self.households["moved_in_day"] >= 0])
        table["households"] = table["households"] / self.replications
        return table

    def building_waits(self) -> dict[str, Any]:
        """The waits at the buildings over the replications: at the unloading bays and at
        the stairwells (minutes: P50, P95, mean over the families that moved in), and the
        busiest building (the longest mean wait)."""
        p = self.params
        hh = self.households[(self.households["moved_in_day"] >= 0) & (self.households["building"] != "")]  # fmt: skip
        if not len(hh):
            return {"tied": False}
        out: dict[str, Any] = {"tied": True, "allocation": p.homes.method if p.homes else None, "call_order": p.call_order}  # fmt: skip
        for facility in ("building_bays", "stairwells"):
            wait = hh[f"{facility}_wait"].to_numpy()
            p50, p95 = np.quantile(wait, [0.5, 0.95])
            out[facility] = {"p50": float(p50), "p95": float(p95), "mean": float(wait.mean())}
        top = self.buildings_summary().iloc[0]
        out["busiest_building"] = {k: _plain(top[k]) for k in ("building", "access", "households", "most_in_one_day", "wait_mean", "wait_p95", "bay_wait_p95", "stairwell_wait_p95")}  # fmt: skip
        return out

    def summary(self) -> dict[str, Any]:
        """What `simlib simulate --json` prints: the runs aggregated (means, 95 % CIs,
        shares), the step waits and team use, the waits at the buildings, what bound the
        days, and `days`."""
        p, runs = self.params, self.runs
        out = self._headline()
        out.update({k: float(runs[k].mean()) for k in MEANS})
        waits = self.steps.groupby("step", sort=False)[["wait_p50", "wait_p95"]].mean()
        util = self.steps.groupby("resource", sort=False)["utilization"].mean()
        binding = {k: v / self.replications for k, v in sorted(Counter(self.days["binding"]).items())}  # fmt: skip
        out.update(
            {
                "step_wait_minutes": {
                    s: {"p50": float(w.wait_p50), "p95": float(w.wait_p95)}
                    for s, w in waits.iterrows()
                },  # fmt: skip
                "utilization": {k: float(v) for k, v in util.items()},
                "building_waits": self.building_waits(),
                "rule_violations": {k: float(runs[k].mean()) for k in RULES},
                "binding_days": binding,
                "binding_resource": binding_resource(binding),
                "feasibility": None if self.feasibility is None else self.feasibility.summary(),
                "plan": self.plan.source,
                "calibrated": list(p.calibrated),
                "ci_note": "95 % confidence intervals over replications"
                if self.replications > 1
                else "one replication: no confidence interval (null)",
                "replications": self.replications,
                "seed": self.seed,
                "days": _records(self.days_summary(), DAY_COLUMNS),
            }
        )
        return out

    def _headline(self) -> dict[str, Any]:
        p, runs = self.params, self.runs

        def date(day) -> str | None:
            return p.date(int(day)).isoformat() if day >= 0 else None

        return {
            "scenario": p.scenario,
            "campaign_days": mean_ci(runs["campaign_days"]),
            "campaign_days_range": [
                int(runs["campaign_days"].min()),
                int(runs["campaign_days"].max()),
            ],  # fmt: skip
            "registered_poor_all_in_day": mean_ci(runs["registered_poor_all_in_day"]),
            "registered_poor_deadline": p.deadline.isoformat(),
            "registered_poor_deadline_day": p.deadline_day + 1,
            "deadline_met_share": float(runs["deadline_met"].mean()),
            "campaign_start": p.campaign_start.isoformat(),
            "first_convoy_date": date(runs["first_convoy_day"].min()),
            "first_move_in_date": date(runs["first_move_in_day"].min()),
            "last_move_in_date": date(runs["last_move_in_day"].max()),
        }


def _records(table: pd.DataFrame, first: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts, the named columns first."""
    columns = [*first, *[c for c in table.columns if c not in first]]
    rows = []
    for row in table[columns].to_dict("records"):
        rows.append({k: _plain(v) for k, v in row.items()})
    return rows


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def run_replications(
    params: MovingParams,
    population,
    *,
    seed: int,
    replications: int = 10,
    workers: int | None = None,
    plan: BatchPlan | None = None,
    lean: bool = False,
) -> MovingResult:
    """R replications with common random numbers on `workers` processes (default: the CPUs,
    at most R; 1 = serial). The result does not depend on `workers`. `population` is a
    `Population` (or its households table); it is never rebuilt here. `lean`: a sweep
    point, which reads neither the plan's feasibility at mean times nor the follow-up
    visits: neither is computed (`feasibility` None, the visits' times and figures NaN; the
    visits are 7 % of a replication); every other figure is the same."""
    if replications < 1:
        raise ValueError(f"replications (={replications}) must be >= 1")
    households = getattr(population, "households", population).reset_index(drop=True)
    plan = make_plan(params, households) if plan is None else plan  # a bad plan fails here, once
    full = not lean  # the plan's check and the visits
    jobs = [(params, households, plan, seed, r, full) for r in range(replications)]
    workers = min(replications, os.cpu_count() or 1) if workers is None else max(1, workers)
    if workers == 1:
        feasibility = check_feasibility(params, plan, households) if full else None
        parts = [_one(j) for j in jobs]
    else:
        pool = ProcessPoolExecutor(max_workers=min(workers, replications))
        try:
            # the check runs on its own copies beside the replications: pool.map pickles the
            # jobs in a feeder thread, and pandas fills a frame's column cache as it is read
            mine = copy.deepcopy((params, plan, households)) if full else None
            running = pool.map(_one, jobs)
            feasibility = check_feasibility(*mine) if full else None
            parts = list(running)
        finally:
            # on Ctrl-C or SIGTERM, drop the queued replications instead of running them
            pool.shutdown(wait=True, cancel_futures=True)
    tables = [_first(pd.concat([p[i] for p in parts], ignore_index=True)) for i in range(5)]
    return MovingResult(params, plan, feasibility, seed, *tables)


def run(inputs, replications: int = 10, workers: int | None = None, plan: BatchPlan | None = None) -> MovingResult:  # fmt: skip
    """The moving campaign on loaded `Inputs` (simlib.inputs): R replications of the plan
    (default: the scenario's, read or generated) with the scenario's seed."""
    return run_replications(
        inputs.moving,
        inputs.population,
        seed=inputs.seed,
        replications=replications,
        workers=workers,
        plan=plan,  # fmt: skip
    )
