"""Results of the timeline over moving replications: tidy tables and the JSON summary.

`TimelineResult` holds one table per grain: `runs` (one row per replication and policy:
every headline figure of that run, with the hindsight bounds of its replication),
`laborers` (one row per replication, policy and laborer), `batches`, `buses`. Every figure
of `summary` is an aggregation of `runs` (mean and 95 % confidence interval over the moving
replications, null with a single replication, where no spread can be estimated); the
curves are computed from `laborers`.

"Within two months of moving in" is read two ways, both beside the reported count employed (data/reported_figures.csv):
`employed_two_months_after_last_arrival` counts everyone at work two months after the
last household arrived (when every family has been in for at least two months), and
`employed_within_two_months_of_own_arrival` counts each person at work within two months
of their own household's arrival.
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


def _percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else float("nan")


def _at_work(lab: pd.DataFrame, day: int) -> pd.Series:
    return (lab["start_day"] >= 0) & (lab["start_day"] <= day)


def run_row(run: TimelineRun, bounds: dict[str, float], params: TimelineParams) -> dict:
    """The headline figures of one run, computed from its tables, with its replication's
    hindsight bounds (people and expected lasting employment)."""
    lab = run.laborers
    two = run.last_arrival + params.two_months_days
    at_two, at_end = _at_work(lab, two), _at_work(lab, run.horizon)
    hired = lab["start_day"] >= 0
    wait = (lab.loc[hired, "start_day"] - lab.loc[hired, "arrival_day"]).to_numpy()
    lasting_two = float(lab.loc[at_two, "probability"].sum())
    covered = lab.loc[at_two, "household_id"].unique()
    row = {
        "replication": run.replication,
        "policy": run.policy,
        "laborers": len(lab),
        "first_arrival_day": run.first_arrival,
        "last_arrival_day": run.last_arrival,
        "two_months_day": two,
        "horizon_day": run.horizon,
        "employed_two_months_after_last_arrival": int(at_two.sum()),
        "employed_within_two_months_of_own_arrival": int(
            (hired & (lab["start_day"] - lab["arrival_day"] <= params.two_months_days)).sum()
        ),
        "employed_final": int(at_end.sum()),
        "expected_lasting_two_months": lasting_two,
        "expected_lasting_final": float(lab.loc[at_end, "probability"].sum()),
        "households_without_worker_two_months": int(lab["household_id"].nunique() - len(covered)),
        "days_to_first_job_p50": float(np.percentile(wait, 50)) if len(wait) else np.nan,
        "days_to_first_job_p95": float(np.percentile(wait, 95)) if len(wait) else np.nan,
        "batches": len(run.batches),
        "batches_softened": int((run.batches["softened"] != "").sum()),
        "batch_seconds": float(run.batches["seconds"].sum()),
        "bus_riders": int(run.buses["riders"].sum()) if len(run.buses) else 0,
    }
    row.update({f"hindsight_{k}": v for k, v in bounds.items()})
    row["percent_of_hindsight"] = _percent(
        row["employed_two_months_after_last_arrival"], bounds["two_months"]
    )
    row["percent_of_hindsight_lasting"] = _percent(lasting_two, bounds["lasting_two_months"])
    row["percent_of_hindsight_final"] = _percent(row["employed_final"], bounds["final"])
    row["percent_of_hindsight_lasting_final"] = _percent(
        row["expected_lasting_final"], bounds["lasting_final"]
    )
    return row


def capacity_check(lab: pd.DataFrame, buses: pd.DataFrame, openings: Openings, days) -> dict:
    """Worst breach of each rule, recomputed from one run's tables alone: people at work
    beyond the places open on some day (every day of the run), people matched beyond the
    places open on their match day, riders beyond a bus's seats, work before availability."""
    names = list(openings.names)
    hired = lab[lab["employer"] != ""]
    e = hired["employer"].map({n: i for i, n in enumerate(names)}).to_numpy()
    worst = {"at_work": 0, "matched": 0, "seats": 0, "before_available": 0, "export": 0}
    start = hired["start_day"].to_numpy()
    matched = hired["matched_day"].to_numpy()
    room_by_day = np.array([openings.open_capacity(int(d)) for d in days])
    for k in range(len(names)):
        if openings.export[k]:
            worst["export"] = max(worst["export"], int((e == k).sum() - openings.capacity[k]))
            continue
        mine = e == k
        at_work = np.searchsorted(np.sort(start[mine]), days, side="right")
        by_match = np.searchsorted(np.sort(matched[mine]), days, side="right")
        room = room_by_day[:, k]
        worst["at_work"] = max(worst["at_work"], int((at_work - room).max(initial=0)))
        worst["matched"] = max(worst["matched"], int((by_match - room).max(initial=0)))
    if len(buses):
        worst["seats"] = int(max(0, (buses["riders"] - buses["seats"]).max()))
    worst["before_available"] = int((hired["start_day"] < hired["available_day"]).sum())
    return worst


def _tagged(run: TimelineRun, table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(replication=run.replication, policy=run.policy)


@dataclass(frozen=True)
class TimelineResult:
    """The runs of every policy over the moving replications, as tidy tables."""

    scenario: str
    seed: int
    params: TimelineParams
    day_zero: dt.date  # the moving campaign's first day (day 0)
    runs: pd.DataFrame  # one row per replication and policy
    laborers: pd.DataFrame  # one row per replication, policy and laborer
    batches: pd.DataFrame  # one row per replication, policy and batch
    buses: pd.DataFrame  # one row per replication, policy and bus
    openings: tuple[Openings, ...]  # per replication (the same unless day 0 moves)

    @classmethod
    def from_runs(cls, scenario: str, seed: int, params: TimelineParams, done) -> TimelineResult:
        """From each replication's (runs, bounds, openings, day 0)."""
        rows, lab, batches, buses = [], [], [], []
        for runs, bounds, _, _ in done:
            for run in runs:
                rows.append(run_row(run, bounds, params))
                lab.append(_tagged(run, run.laborers))
                batches.append(_tagged(run, run.batches))
                buses.append(_tagged(run, run.buses))
        return cls(
            scenario=scenario,
            seed=seed,
            params=params,
            day_zero=done[-1][3],
            runs=pd.DataFrame(rows),
            laborers=pd.concat(lab, ignore_index=True),
            batches=pd.concat(batches, ignore_index=True),
            buses=pd.concat(buses, ignore_index=True),
            openings=tuple(o for _, _, o, _ in done),
        )

    def frame(self) -> pd.DataFrame:
        """One row per replication and policy (the `runs` table)."""
        return self.runs.copy()

    def _groups(self, policy: str | None = None):
        lab = self.laborers if policy is None else self.laborers[self.laborers["policy"] == policy]
        return lab.groupby(["replication", "policy"], sort=True)

    def days(self) -> np.ndarray:
        """From the first arrival to the end of the reporting window after the last."""
        return np.arange(
            int(self.runs["first_arrival_day"].min()), int(self.runs["horizon_day"].max()) + 1
        )

    def curve(self, by: str | None = None) -> pd.DataFrame:
        """People at work per day: one row per replication, policy, day (and `by` group:
        programme or county)."""
        days = self.days()
        parts = []
        for (r, policy), lab in self._groups():
            groups = [(None, lab)] if by is None else lab.groupby(by, sort=True)
            for name, sub in groups:
                start = np.sort(sub["start_day"].to_numpy()[sub["start_day"].to_numpy() >= 0])
                part = pd.DataFrame(
                    {"replication": r, "policy": policy, "day": days,
                     "employed": np.searchsorted(start, days, side="right")}
                )  # fmt: skip
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
        rows = [
            dict(zip(keys, key, strict=True)) | mean_ci(g["employed"])
            for key, g in c.groupby(keys, sort=True)
        ]
        return pd.DataFrame(rows)

    def at_two_months(self, by: str, policy: str = "rolling") -> pd.DataFrame:
        """People at work two months after the last arrival, by programme or county (mean
        over replications; a group with nobody at work counts 0)."""
        runs = self.runs[self.runs["policy"] == policy].set_index("replication")
        counts = []
        for (r, _), lab in self._groups(policy):
            at = lab[_at_work(lab, int(runs.loc[r, "two_months_day"])) & (lab["employer"] != "")]
            counts.append(at.groupby(by).size().rename(r))
        table = pd.concat(counts, axis=1).fillna(0) if counts else pd.DataFrame()
        mean = table.mean(axis=1) if len(table.columns) else pd.Series(dtype=float)
        return mean.rename("employed (mean)").rename_axis(by).reset_index()

    def waits(self) -> pd.DataFrame:
        """Days from moving in to the first day of work: one row per replication, policy
        and person employed."""
        hired = self.laborers[self.laborers["start_day"] >= 0]
        return pd.DataFrame(
            {
                "replication": hired["replication"].to_numpy(),
                "policy": hired["policy"].to_numpy(),
                "person_id": hired["person_id"].to_numpy(),
                "days": (hired["start_day"] - hired["arrival_day"]).to_numpy(),
            }
        )

    def by_arrival_month(self, policy: str = "rolling") -> pd.DataFrame:
        """Per month of arrival: laborers, those at work within two months of their own
        household's arrival, and those at work two months after the last arrival (means
        over replications): why the two readings of the reported figure differ."""
        lab = self.laborers[self.laborers["policy"] == policy]
        two = self.runs.set_index(["replication", "policy"])["two_months_day"]
        day = lab.set_index(["replication", "policy"]).index.map(two).to_numpy()
        start, arrival = lab["start_day"].to_numpy(), lab["arrival_day"].to_numpy()
        dates = pd.to_datetime([self.day_zero + dt.timedelta(days=int(d)) for d in arrival])
        table = pd.DataFrame(
            {
                "arrived": dates.strftime("%Y-%m"),
                "replication": lab["replication"].to_numpy(),
                "laborers": 1,
                "within two months of own arrival": (start >= 0)
                & (start - arrival <= self.params.two_months_days),
                "at work two months after the last arrival": (start >= 0) & (start <= day),
            }
        )
        per = table.groupby(["arrived", "replication"]).sum(numeric_only=True)
        out = per.groupby("arrived").mean().round(1)
        out["share within two months (%)"] = (
            100 * out["within two months of own arrival"] / out["laborers"]
        ).round(1)
        return out

    def two_months_date(self) -> dt.date:
        """The two-month mark of the rolling runs (mean over replications), as a date."""
        days = self.runs.loc[self.runs["policy"] == "rolling", "two_months_day"]
        return self.day_zero + dt.timedelta(days=round(float(days.mean())))

    def checks(self) -> dict[str, int]:
        """Worst breach of every rule over all runs (0 everywhere when the runs are right)."""
        worst: dict[str, int] = {}
        runs = self.runs.set_index(["replication", "policy"])
        for (r, policy), lab in self._groups():
            row = runs.loc[(r, policy)]
            days = np.arange(int(row["first_arrival_day"]), int(row["horizon_day"]) + 1)
            buses = self.buses[(self.buses["replication"] == r) & (self.buses["policy"] == policy)]
            for k, v in capacity_check(lab, buses, self.openings[r], days).items():
                worst[k] = max(worst.get(k, 0), v)
        return worst

    def summary(self) -> dict[str, Any]:
        return _no_nan(summarise(self))


def _policy_figures(rows: pd.DataFrame) -> dict[str, Any]:
    return {
        "employed_two_months": mean_ci(rows["employed_two_months_after_last_arrival"]),
        "employed_two_months_after_last_arrival": mean_ci(rows["employed_two_months_after_last_arrival"]),
        "employed_within_two_months_of_own_arrival": mean_ci(rows["employed_within_two_months_of_own_arrival"]),
        "employed_final": mean_ci(rows["employed_final"]),
        "percent_of_hindsight": mean_ci(rows["percent_of_hindsight"]),
        "percent_of_hindsight_final": mean_ci(rows["percent_of_hindsight_final"]),
        "expected_lasting_two_months": mean_ci(rows["expected_lasting_two_months"]),
        "percent_of_hindsight_lasting": mean_ci(rows["percent_of_hindsight_lasting"]),
        "households_without_worker_two_months": mean_ci(rows["households_without_worker_two_months"]),
        "bus_riders": mean_ci(rows["bus_riders"]),
        "days_to_first_job": {
            "p50": float(rows["days_to_first_job_p50"].mean()),
            "p95": float(rows["days_to_first_job_p95"].mean()),
        },
    }  # fmt: skip


def _reported(p: TimelineParams) -> dict[str, Any]:
    return {
        "reported": p.reported_employed,
        "reported_at_scale": round(p.reported_employed * p.scale),
    }


def _curve_keys(result: TimelineResult) -> list[dict[str, Any]]:
    return [
        {
            "day": int(r.day),
            "date": r.date.isoformat(),
            "employed": {"mean": r.mean, "ci95_low": _none(r.ci95_low), "ci95_high": _none(r.ci95_high)},
        }
        for r in result.band("rolling").itertuples()
    ]  # fmt: skip


def summarise(result: TimelineResult) -> dict[str, Any]:
    """The JSON summary: every figure an aggregation of the `runs` table."""
    f, p = result.runs, result.params
    rolling, greedy = f[f["policy"] == "rolling"], f[f["policy"] == "greedy"]
    mine = _policy_figures(rolling)
    after_last = (
        mine["employed_two_months"] | {"days_after_last_arrival": p.two_months_days} | _reported(p)
    )
    own = (
        mine["employed_within_two_months_of_own_arrival"]
        | {"days_after_own_arrival": p.two_months_days}
        | _reported(p)
    )
    return {
        "scenario": result.scenario,
        "seed": result.seed,
        "replications": int(len(rolling)),
        "campaign_start": result.day_zero.isoformat(),
        "holdback_policy": p.holdback_policy,
        "batch_interval_days": p.batch_interval_days,
        "settling_days": p.settling_days,
        "allow_reassignment": p.allow_reassignment,
        "employed_at_day": _curve_keys(result),
        "employed_two_months": after_last,
        "employed_two_months_after_last_arrival": after_last,
        "employed_within_two_months_of_own_arrival": own,
        "employed_within_two_months_of_arrival": own,  # the same, by its earlier name
        "percent_of_hindsight": mine["percent_of_hindsight"],
        "days_to_first_job": mine["days_to_first_job"],
        "employed_final": mine["employed_final"],
        # the matching's stage 1 objective: people still in their job after the
        # lasting period, expected, of those at work two months after the last arrival
        "expected_lasting": mine["expected_lasting_two_months"],
        "expected_lasting_final": mean_ci(rolling["expected_lasting_final"]),
        "hindsight_expected_lasting": mean_ci(rolling["hindsight_lasting_two_months"]),
        "percent_of_hindsight_lasting": mine["percent_of_hindsight_lasting"],
        "percent_of_hindsight_final": mine["percent_of_hindsight_final"],
        "hindsight_employed": mean_ci(rolling["hindsight_two_months"]),
        "hindsight_final": mean_ci(rolling["hindsight_final"]),
        "hindsight_bound": "the static matching of everyone available by the day against the "
        "places that can have someone at work that day, keeping eligibility, the capacities "
        "and the care rule and relaxing the household rule and the floors (which a batch may "
        "soften): a bound on any rolling or greedy plan",
        "households_without_worker_two_months": mine["households_without_worker_two_months"],
        "batches_softened": mean_ci(rolling["batches_softened"]),
        "laborers": float(rolling["laborers"].mean()),
        "last_arrival_day": mean_ci(rolling["last_arrival_day"]),
        "greedy": _policy_figures(greedy) if len(greedy) else None,
        "by_programme_two_months": _mapping(result.at_two_months("programme")),
        "by_county_two_months": _mapping(result.at_two_months("county")),
        "export_buses": _buses(result, rolling),
        "batches": int(rolling["batches"].iloc[0]) if len(rolling) else 0,
        "batch_seconds": mean_ci(rolling["batch_seconds"]),
        "checks": result.checks(),
    }


def _no_nan(value: Any) -> Any:
    """NaN (a share of nothing, a percentile of nobody) as null: JSON has no NaN."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _buses(result: TimelineResult, rolling: pd.DataFrame) -> dict[str, Any]:
    p = result.params
    return {
        "buses": int(len(result.openings[0].bus_day)),
        "seats_per_bus": int(result.openings[0].bus_seats),
        "riders": mean_ci(rolling["bus_riders"]),
        "reported_workers": p.export_workers_reported,
        "reported_workers_at_scale": round(p.export_workers_reported * p.scale),
    }


def _none(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def _mapping(table: pd.DataFrame) -> dict[str, float]:
    if table.empty:
        return {}
    key = table.columns[0]
    return {
        str(k): round(float(v), 3)
        for k, v in zip(table[key], table["employed (mean)"], strict=True)
        if k != ""
    }
