"""Results of the timeline over moving replications: tidy tables and the JSON summary.

One row per replication and policy (`frame`), one row per replication, policy, day (and
programme or county) for the employment curves (`curve`); every figure of `summary` is
computed from them, with a 95 % confidence interval over the moving replications (null
with a single replication, where no spread can be estimated).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simlib.stats import mean_ci
from simlib.timeline.inputs import TimelineParams
from simlib.timeline.openings import Openings
from simlib.timeline.rolling import TimelineRun


def _percentiles(run: TimelineRun) -> tuple[float, float]:
    """P50 and P95 of the days from moving in to the first day of work (people employed)."""
    lab = run.laborers
    hired = lab["start_day"] >= 0
    wait = (lab.loc[hired, "start_day"] - lab.loc[hired, "arrival_day"]).to_numpy()
    if not len(wait):
        return float("nan"), float("nan")
    return float(np.percentile(wait, 50)), float(np.percentile(wait, 95))


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else float("nan")


def _lasting(run: TimelineRun, day: int) -> float:
    """Expected lasting employment of the people at work on `day`: the sum of their
    success probabilities (the matching's stage 1 objective)."""
    lab = run.laborers
    at_work = (lab["start_day"] >= 0) & (lab["start_day"] <= day)
    return float(lab.loc[at_work, "probability"].sum())


def _within(run: TimelineRun, days: int) -> int:
    """People at work within `days` of their own household's arrival."""
    lab = run.laborers
    hired = lab["start_day"] >= 0
    return int((hired & (lab["start_day"] - lab["arrival_day"] <= days)).sum())


def capacity_check(run: TimelineRun, openings: Openings) -> dict[str, int]:
    """Worst breach of each rule, recomputed from the run's tables alone: people at work
    beyond the places open on some day (every day of the run), people matched beyond the
    places open on their match day, riders beyond a bus's seats, work before availability."""
    lab = run.laborers
    names = list(openings.names)
    hired = lab[lab["employer"] != ""]
    e = hired["employer"].map({n: i for i, n in enumerate(names)}).to_numpy()
    worst = {"at_work": 0, "matched": 0, "seats": 0, "before_available": 0, "export": 0}
    days = np.arange(run.first_arrival, run.horizon + 1)
    start = hired["start_day"].to_numpy()
    matched = hired["matched_day"].to_numpy()
    room_by_day = np.array([openings.open_capacity(int(d)) for d in days])
    for k in range(len(names)):
        if openings.export[k]:
            continue
        mine = e == k
        at_work = np.searchsorted(np.sort(start[mine]), days, side="right")
        by_match = np.searchsorted(np.sort(matched[mine]), days, side="right")
        room = room_by_day[:, k]
        worst["at_work"] = max(worst["at_work"], int((at_work - room).max(initial=0)))
        worst["matched"] = max(worst["matched"], int((by_match - room).max(initial=0)))
    if len(run.buses):
        worst["seats"] = int(max(0, (run.buses["riders"] - run.buses["seats"]).max()))
    export = np.flatnonzero(openings.export)
    for k in export.tolist():
        worst["export"] = max(worst["export"], int((e == k).sum() - openings.capacity[k]))
    worst["before_available"] = int((hired["start_day"] < hired["available_day"]).sum())
    return worst


@dataclass(frozen=True)
class TimelineResult:
    """Runs of every policy over the moving replications, and the hindsight optimum."""

    scenario: str
    seed: int
    params: TimelineParams
    day_zero: dt.date  # the moving campaign's first day (day 0)
    runs: tuple[TimelineRun, ...]
    # hindsight optimum per replication: people (two_months, final) and expected lasting
    # employment (lasting_two_months, lasting_final)
    hindsight: tuple[dict[str, float], ...]
    openings: tuple[Openings, ...]  # per replication (the same unless day 0 moves)

    def policy_runs(self, policy: str) -> list[TimelineRun]:
        return [r for r in self.runs if r.policy == policy]

    def two_months_day(self, run: TimelineRun) -> int:
        return run.last_arrival + self.params.two_months_days

    def frame(self) -> pd.DataFrame:
        """One row per replication and policy."""
        rows = []
        for run in self.runs:
            p50, p95 = _percentiles(run)
            best = self.hindsight[run.replication]
            final = int(run.employed_on([run.horizon])[0])
            two = int(run.employed_on([self.two_months_day(run)])[0])
            rows.append(
                {
                    "replication": run.replication,
                    "policy": run.policy,
                    "laborers": len(run.laborers),
                    "first_arrival_day": run.first_arrival,
                    "last_arrival_day": run.last_arrival,
                    "employed_two_months": two,
                    "employed_within_two_months_of_arrival": _within(
                        run, self.params.two_months_days
                    ),
                    "employed_final": final,
                    "expected_lasting_two_months": _lasting(run, self.two_months_day(run)),
                    "expected_lasting_final": _lasting(run, run.horizon),
                    "hindsight_lasting_two_months": best["lasting_two_months"],
                    "percent_of_hindsight_lasting": _percent(
                        _lasting(run, self.two_months_day(run)), best["lasting_two_months"]
                    ),
                    "hindsight_two_months": best["two_months"],
                    "percent_of_hindsight": _percent(two, best["two_months"]),
                    "hindsight_final": best["final"],
                    "percent_of_hindsight_final": _percent(final, best["final"]),
                    "days_to_first_job_p50": p50,
                    "days_to_first_job_p95": p95,
                    "batches": len(run.batches),
                    "batch_seconds": float(run.batches["seconds"].sum()),
                    "bus_riders": int(run.buses["riders"].sum()) if len(run.buses) else 0,
                }
            )
        return pd.DataFrame(rows)

    def days(self) -> np.ndarray:
        """From the first arrival to three months (the reporting window) after the last."""
        first = min(r.first_arrival for r in self.runs)
        last = max(r.horizon for r in self.runs)
        return np.arange(first, last + 1)

    def curve(self, by: str | None = None) -> pd.DataFrame:
        """People at work per day: one row per replication, policy, day (and `by` group:
        programme or county)."""
        days = self.days()
        parts = []
        for run in self.runs:
            groups = [(None, run)] if by is None else _split(run, by)
            for name, sub in groups:
                part = pd.DataFrame(
                    {
                        "replication": run.replication,
                        "policy": run.policy,
                        "day": days,
                        "employed": sub.employed_on(days),
                    }
                )
                if by is not None:
                    part.insert(3, by, name)
                parts.append(part)
        table = pd.concat(parts, ignore_index=True)
        table["date"] = [self.day_zero + dt.timedelta(days=int(d)) for d in table["day"]]
        return table

    def band(self, policy: str = "rolling", by: str | None = None) -> pd.DataFrame:
        """Mean and 95 % CI per day (and group) over the replications."""
        c = self.curve(by)
        c = c[c["policy"] == policy]
        keys = ["day", "date"] + ([by] if by else [])
        rows = []
        for key, g in c.groupby(keys, sort=True):
            ci = mean_ci(g["employed"])
            rows.append(dict(zip(keys, key, strict=True)) | ci)
        return pd.DataFrame(rows)

    def at_two_months(self, by: str, policy: str = "rolling") -> pd.DataFrame:
        """People at work two months after the last arrival, by programme or county (mean
        over replications)."""
        rows = []
        for run in self.policy_runs(policy):
            day = self.two_months_day(run)
            for name, sub in _split(run, by):
                if name:  # programme "" = no job
                    rows.append({by: name, "employed": int(sub.employed_on([day])[0])})
        table = pd.DataFrame(rows).groupby(by)["employed"].mean().rename("employed (mean)")
        return table.reset_index()

    def waits(self) -> pd.DataFrame:
        """Days from moving in to the first day of work: one row per replication, policy
        and person employed."""
        parts = []
        for run in self.runs:
            hired = run.laborers[run.laborers["start_day"] >= 0]
            parts.append(
                pd.DataFrame(
                    {
                        "replication": run.replication,
                        "policy": run.policy,
                        "person_id": hired["person_id"].to_numpy(),
                        "days": (hired["start_day"] - hired["arrival_day"]).to_numpy(),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def two_months_date(self) -> dt.date:
        """The two-month mark of the rolling runs (mean over replications), as a date."""
        days = [self.two_months_day(r) for r in self.policy_runs("rolling")]
        return self.day_zero + dt.timedelta(days=round(float(np.mean(days))))

    def checks(self) -> dict[str, int]:
        """Worst breach of every rule over all runs (0 everywhere when the runs are right)."""
        worst: dict[str, int] = {}
        for run in self.runs:
            for k, v in capacity_check(run, self.openings[run.replication]).items():
                worst[k] = max(worst.get(k, 0), v)
        return worst

    def summary(self) -> dict[str, Any]:
        f = self.frame()
        rolling, greedy = f[f["policy"] == "rolling"], f[f["policy"] == "greedy"]
        band = self.band("rolling")
        p = self.params

        def policy_figures(rows: pd.DataFrame) -> dict[str, Any]:
            return {
                "employed_two_months": mean_ci(rows["employed_two_months"]),
                "employed_final": mean_ci(rows["employed_final"]),
                "percent_of_hindsight": mean_ci(rows["percent_of_hindsight"]),
                "percent_of_hindsight_final": mean_ci(rows["percent_of_hindsight_final"]),
                "expected_lasting_two_months": mean_ci(rows["expected_lasting_two_months"]),
                "percent_of_hindsight_lasting": mean_ci(rows["percent_of_hindsight_lasting"]),
                "days_to_first_job": {
                    "p50": float(rows["days_to_first_job_p50"].mean()),
                    "p95": float(rows["days_to_first_job_p95"].mean()),
                },
            }

        result = {
            "scenario": self.scenario,
            "seed": self.seed,
            "replications": int(len(rolling)),
            "campaign_start": self.day_zero.isoformat(),
            "holdback_policy": p.holdback_policy,
            "batch_interval_days": p.batch_interval_days,
            "settling_days": p.settling_days,
            "allow_reassignment": p.allow_reassignment,
            "employed_at_day": [
                {
                    "day": int(r.day),
                    "date": r.date.isoformat(),
                    "employed": {
                        "mean": r.mean,
                        "ci95_low": _none(r.ci95_low),
                        "ci95_high": _none(r.ci95_high),
                    },
                }
                for r in band.itertuples()
            ],
            "employed_two_months": mean_ci(rolling["employed_two_months"])
            | {
                "days_after_last_arrival": p.two_months_days,
                "reported": p.reported_employed,
                "reported_at_scale": round(p.reported_employed * p.scale),
            },
            "percent_of_hindsight": mean_ci(rolling["percent_of_hindsight"]),
            "days_to_first_job": policy_figures(rolling)["days_to_first_job"],
            # the other reading of "within two months of moving in": each person counted
            # if at work within two months of their own household's arrival
            "employed_within_two_months_of_arrival": mean_ci(
                rolling["employed_within_two_months_of_arrival"]
            ),
            "employed_final": mean_ci(rolling["employed_final"]),
            # the matching's stage 1 objective: people still in their job after the
            # lasting period, expected, of those at work two months after the last arrival
            "expected_lasting": mean_ci(rolling["expected_lasting_two_months"]),
            "expected_lasting_final": mean_ci(rolling["expected_lasting_final"]),
            "hindsight_expected_lasting": mean_ci(rolling["hindsight_lasting_two_months"]),
            "percent_of_hindsight_lasting": mean_ci(rolling["percent_of_hindsight_lasting"]),
            "percent_of_hindsight_final": mean_ci(rolling["percent_of_hindsight_final"]),
            "hindsight_employed": mean_ci(rolling["hindsight_two_months"]),
            "hindsight_final": mean_ci(rolling["hindsight_final"]),
            "laborers": float(rolling["laborers"].mean()),
            "last_arrival_day": mean_ci(rolling["last_arrival_day"]),
            "greedy": policy_figures(greedy) if len(greedy) else None,
            "by_programme_two_months": _mapping(self.at_two_months("programme")),
            "by_county_two_months": _mapping(self.at_two_months("county")),
            "export_buses": {
                "buses": int(len(self.openings[0].bus_day)),
                "seats_per_bus": int(self.openings[0].bus_seats),
                "riders": mean_ci(rolling["bus_riders"]),
                "reported_workers": p.export_workers_reported,
                "reported_workers_at_scale": round(p.export_workers_reported * p.scale),
            },
            "batches": int(rolling["batches"].iloc[0]) if len(rolling) else 0,
            "batch_seconds": mean_ci(rolling["batch_seconds"]),
            "checks": self.checks(),
        }
        return result


def _none(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def _mapping(table: pd.DataFrame) -> dict[str, float]:
    key = table.columns[0]
    return {
        str(k): round(float(v), 3)
        for k, v in zip(table[key], table["employed (mean)"], strict=True)
        if k != ""
    }


def _split(run: TimelineRun, by: str) -> list[tuple[str, TimelineRun]]:
    """The run restricted to each value of `by` (programme: the employed only)."""
    from dataclasses import replace

    lab = run.laborers
    return [(str(name), replace(run, laborers=sub)) for name, sub in lab.groupby(by, sort=True)]
