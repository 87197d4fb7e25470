"""One simulated moving campaign, replications with common random numbers, and the summary.

`simulate_campaign` runs the calendar (simlib.batches), the convoys (simlib.convoys) and the
move-in day (simlib.move_in) in one SimPy environment and returns tidy tables: one row per
household, per convoy, and per household and step. `run_replications` repeats it with one
random stream per random input and replication, optionally on several processes (results
are identical to a serial run), and `Replications.summary()` is what `simlib simulate
--json` prints.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import simpy

from simlib.batches import moving_days, schedule
from simlib.convoys import ConvoyLog, CountyFleet, convoy, form_convoys, travel_factors
from simlib.move_in import (
    StepLog,
    after_arrival,
    before_arrival,
    followup_visits,
    service_times,
    step_columns,
)
from simlib.moving_inputs import DAY, MovingParams, load_moving_params
from simlib.population import generate_population
from simlib.randomness import stream
from simlib.scenario import Scenario
from simlib.stats import mean_ci

HOUSEHOLD_COLUMNS = ("household_id", "county", "registered_poor", "size")


@dataclass(frozen=True)
class CampaignResult:
    """Tables of one simulated campaign.

    households: one row per household: household_id, county, registered_poor, size,
        batch_day (day index from campaign_start, -1 = not moved), batch_date, departure,
        arrival (minutes since campaign_start midnight), <step>_start / <step>_end for
        steps 1-7, door_reached (end of `move_in`), moved_in (end of the last step before
        follow-up), moved_in_day, moved_in_date, followup_day, followup_date.
    convoys: one row per convoy: convoy_id, county, batch_day, households, people, trucks,
        buses, formed, loaded, departure, arrival (minutes), held_overnight, after_dark.
    steps: one row per household and step: household_id, county, step, order, resource,
        ready, start, end, wait (minutes).
    utilization: one row per resource: resource, units, busy_minutes, open_minutes,
        utilization.
    """

    params: MovingParams
    households: pd.DataFrame
    convoys: pd.DataFrame
    steps: pd.DataFrame
    utilization: pd.DataFrame
    events: int

    def date(self, day: int) -> dt.date:
        return self.params.campaign_start + dt.timedelta(days=int(day))

    @property
    def moved(self) -> pd.DataFrame:
        return self.households[self.households["batch_day"] >= 0]

    def campaign_days(self) -> int:
        """Calendar days from campaign_start to the day the last household moved in."""
        return int(self.moved["moved_in_day"].max()) + 1

    def registered_poor_all_in_day(self) -> int:
        poor = self.moved[self.moved["registered_poor"]]
        return int(poor["moved_in_day"].max()) + 1 if len(poor) else 0

    def daily_progress(self) -> pd.DataFrame:
        """Households and people moved in per day and county, with cumulative totals and
        the registered-poor deadline (for the progress figure)."""
        m = self.moved
        table = (
            m.groupby(["moved_in_date", "county"])
            .agg(
                households=("household_id", "size"),
                people=("size", "sum"),
                registered_poor=("registered_poor", "sum"),
            )
            .reset_index()
            .rename(columns={"moved_in_date": "date"})
        )
        table = table.sort_values(["date", "county"]).reset_index(drop=True)
        table["cumulative_households"] = table["households"].cumsum()
        table["cumulative_registered_poor"] = table["registered_poor"].cumsum()
        table["deadline"] = self.params.deadline
        return table

    def convoy_timeline(self, day: int | None = None) -> pd.DataFrame:
        """Convoys of one batch day (default: the first) with clock times in hours."""
        day = int(self.convoys["batch_day"].min()) if day is None else day
        c = self.convoys[self.convoys["batch_day"] == day].copy()
        for col in ("formed", "loaded", "departure", "arrival"):
            c[f"{col}_hour"] = (c[col] - day * DAY) / 60.0
        return c.reset_index(drop=True)

    def step_waits(self) -> pd.DataFrame:
        """P50 and P95 wait (minutes) per step."""
        g = self.steps.groupby(["order", "step"])["wait"]
        return (
            g.quantile(0.5)
            .rename("p50")
            .to_frame()
            .join(g.quantile(0.95).rename("p95"))
            .reset_index()
        )

    def summary(self) -> dict[str, Any]:
        """Headline figures of this one campaign (plain numbers)."""
        m = self.moved
        poor_day = self.registered_poor_all_in_day()
        return {
            "campaign_days": self.campaign_days(),
            "households_moved": int(len(m)),
            "people_moved": int(m["size"].sum()),
            "households_not_moved": int((self.households["batch_day"] < 0).sum()),
            "registered_poor_all_in_day": poor_day,
            "registered_poor_all_in_date": self.date(poor_day - 1).isoformat()
            if poor_day
            else None,
            "registered_poor_deadline": self.params.deadline.isoformat(),
            "last_move_in_date": self.date(self.campaign_days() - 1).isoformat(),
            "step_wait_minutes": {
                r.step: {"p50": float(r.p50), "p95": float(r.p95)}
                for r in self.step_waits().itertuples()
            },
            "utilization": dict(
                zip(
                    self.utilization["resource"],
                    self.utilization["utilization"].astype(float),
                    strict=True,
                )
            ),
            "vehicle_trips": int(self.convoys["trucks"].sum() + self.convoys["buses"].sum()),
            "truck_trips": int(self.convoys["trucks"].sum()),
            "convoys": int(len(self.convoys)),
            "convoys_after_dark": int(self.convoys["after_dark"].sum()),
            "convoys_held_overnight": int(self.convoys["held_overnight"].sum()),
            # days by which the road (fleet, escorts, daylight) made families move in later
            # than their planned batch day
            "max_slip_days": int((m["moved_in_day"] - m["batch_day"]).max()) if len(m) else 0,
            "followup_late": int(
                (m["followup_day"] - m["moved_in_day"] > self.params.followup_days_target).sum()
            ),
        }


def _household_arrays(households: pd.DataFrame):
    counties = households["county"].to_numpy()
    sizes = households["size"].to_numpy(dtype=np.int64)
    return counties, sizes


def simulate_campaign(
    scenario: Scenario,
    seed: int | None = None,
    replication: int = 0,
    households: pd.DataFrame | None = None,
    params: MovingParams | None = None,
) -> CampaignResult:
    """Simulate one whole moving campaign.

    `households` defaults to the scenario's synthetic population (generated with the
    scenario's seed, so every replication moves the same families); the moving randomness
    comes from `stream(seed, "moving", replication, <input>)`, one stream per random input.
    """
    seed = scenario.seed if seed is None else seed
    params = load_moving_params(scenario) if params is None else params
    if households is None:
        households = generate_population(scenario).households
    return run_campaign(params, households, seed, replication)


def run_campaign(
    params: MovingParams, households: pd.DataFrame, seed: int, replication: int = 0
) -> CampaignResult:
    """The campaign for given parameters and households (what `simulate_campaign` runs)."""
    households = households.reset_index(drop=True)
    n = len(households)
    counties = [c for c in params.roads if c in set(households["county"])]
    county_of, sizes = _household_arrays(households)

    batch_day = schedule(households, params, counties)
    steps = params.steps
    queue_steps = [s for s in steps if s.phase != "followup"]
    n_steps = len(queue_steps)
    service = (
        np.vstack(
            [
                service_times(
                    stream(seed, "moving", replication, "service", s.step),
                    s.service_mean,
                    s.service_cv,
                    n,
                )
                for s in queue_steps
            ]
        )
        if n_steps
        else np.zeros((0, n))
    )
    loading = service_times(
        stream(seed, "moving", replication, "loading"), params.loading_mean, params.loading_cv, n
    )

    env = simpy.Environment()
    resources = {name: simpy.Resource(env, units) for name, units in params.resources.items()}
    before_cols = step_columns(queue_steps, "before")
    after_cols = step_columns(queue_steps, "after")
    before_res = [resources[queue_steps[c].resource] for c in before_cols]
    after_res = [resources[queue_steps[c].resource] for c in after_cols]
    log = StepLog.empty(n, n_steps)
    departure = np.full(n, np.nan)
    arrival = np.full(n, np.nan)
    convoy_log = ConvoyLog()

    max_convoys = n + 1
    fleets = {}
    for c in counties:
        factors = travel_factors(
            stream(seed, "moving", replication, "delay", c),
            stream(seed, "moving", replication, "breakdown", c),
            params,
            params.roads[c].travel_time,
            max_convoys,
        )
        fleets[c] = CountyFleet.create(env, params, factors)

    convoy_id = 0
    days = sorted(set(batch_day[batch_day >= 0].tolist()))
    for day in days:
        on_day = np.flatnonzero(batch_day == day)
        for c in counties:
            members = [int(h) for h in on_day if county_of[h] == c]
            if not members:
                continue
            for group in form_convoys(members, sizes, params):
                arrived = env.event()
                env.process(
                    convoy(
                        env,
                        convoy_id,
                        c,
                        day,
                        group,
                        sizes,
                        loading,
                        fleets[c],
                        params,
                        arrived,
                        convoy_log,
                        departure,
                        arrival,
                    )
                )
                convoy_id += 1
                for h in group:
                    ready = env.event()
                    env.process(
                        before_arrival(
                            env,
                            h,
                            day * DAY + params.work_start,
                            before_cols,
                            before_res,
                            service,
                            log,
                            ready,
                        )
                    )
                    env.process(
                        after_arrival(env, h, arrived, ready, after_cols, after_res, service, log)
                    )
    env.run()
    events = next(env._eid)  # events scheduled so far (SimPy's own counter)

    return _tables(
        households,
        params,
        queue_steps,
        batch_day,
        departure,
        arrival,
        log,
        convoy_log,
        resources,
        events,
    )


def _tables(
    households,
    params,
    queue_steps,
    batch_day,
    departure,
    arrival,
    log,
    convoy_log,
    resources,
    events,
) -> CampaignResult:
    n = len(households)
    moved = batch_day >= 0
    last = len(queue_steps) - 1
    move_in_col = next((i for i, s in enumerate(queue_steps) if s.step == "move_in"), last)
    hh = households[list(HOUSEHOLD_COLUMNS)].copy()
    hh["registered_poor"] = hh["registered_poor"].astype(bool)
    hh["batch_day"] = batch_day
    start = params.campaign_start
    hh["batch_date"] = [start + dt.timedelta(days=int(d)) if d >= 0 else None for d in batch_day]
    hh["departure"] = departure
    hh["arrival"] = arrival
    for i, s in enumerate(queue_steps):
        hh[f"{s.step}_start"] = log.start[:, i]
        hh[f"{s.step}_end"] = log.end[:, i]
    hh["door_reached"] = log.end[:, move_in_col]
    moved_in = log.end[:, last] if last >= 0 else arrival
    hh["moved_in"] = moved_in
    moved_in_day = np.where(moved, np.floor(np.nan_to_num(moved_in) / DAY), -1).astype(np.int64)
    hh["moved_in_day"] = moved_in_day
    hh["moved_in_date"] = [
        start + dt.timedelta(days=int(d)) if d >= 0 else None for d in moved_in_day
    ]
    follow = next(s for s in params.steps if s.phase == "followup")
    visit_day = np.full(n, -1, dtype=np.int64)
    if moved.any():
        vd, _ = followup_visits(
            moved_in[moved],
            params.followup_cadres,
            params.visits_per_cadre_day,
            params.work_start,
            follow.service_mean,
        )
        visit_day[moved] = vd
    hh["followup_day"] = visit_day
    hh["followup_date"] = [start + dt.timedelta(days=int(d)) if d >= 0 else None for d in visit_day]

    # long table of the queued steps of moved households
    idx = np.flatnonzero(moved)
    k = len(queue_steps)
    steps = pd.DataFrame(
        {
            "household_id": np.repeat(hh["household_id"].to_numpy()[idx], k),
            "county": np.repeat(hh["county"].to_numpy()[idx], k),
            "step": np.tile([s.step for s in queue_steps], len(idx)),
            "order": np.tile([s.order for s in queue_steps], len(idx)),
            "resource": np.tile([s.resource for s in queue_steps], len(idx)),
            "ready": log.ready[idx].ravel(),
            "start": log.start[idx].ravel(),
            "end": log.end[idx].ravel(),
        }
    )
    steps["wait"] = steps["start"] - steps["ready"]
    # follow-up wait as minutes from moving in to the visit, for the same wait summary
    if moved.any():
        _, visit_time = followup_visits(
            moved_in[moved],
            params.followup_cadres,
            params.visits_per_cadre_day,
            params.work_start,
            follow.service_mean,
        )
        fu = pd.DataFrame(
            {
                "household_id": hh["household_id"].to_numpy()[idx],
                "county": hh["county"].to_numpy()[idx],
                "step": follow.step,
                "order": follow.order,
                "resource": follow.resource,
                "ready": moved_in[moved],
                "start": visit_time,
                "end": visit_time + follow.service_mean,
            }
        )
        fu["wait"] = fu["start"] - fu["ready"]
        steps = pd.concat([steps, fu], ignore_index=True)

    convoys = pd.DataFrame(convoy_log.rows, columns=list(ConvoyLog.COLUMNS))
    utilization = _utilization(steps, params, resources, batch_day)
    return CampaignResult(params, hh, convoys, steps, utilization, events)


def _utilization(steps, params, resources, batch_day) -> pd.DataFrame:
    """Busy share of each resource over its open hours: on every moving day up to the end of
    the campaign, from the earlier of work_start and its first service to the later of
    work_end and its last service (so work past hours counts as open time, and utilisation
    stays in [0, 1])."""
    rows = []
    if not (batch_day >= 0).any():
        return pd.DataFrame(
            columns=["resource", "units", "busy_minutes", "open_minutes", "utilization"]
        )
    last_day = int(np.nanmax(steps["end"]) // DAY) if len(steps) else 0
    days = [d for d in moving_days(params) if d <= last_day]
    queued = steps[steps["resource"].isin(list(resources))]
    day_index = np.floor(queued["start"].to_numpy() / DAY).astype(np.int64)
    for name, res in resources.items():
        mask = (queued["resource"] == name).to_numpy()
        starts = queued["start"].to_numpy()[mask]
        ends = queued["end"].to_numpy()[mask]
        dmask = day_index[mask]
        open_minutes = 0.0
        first = pd.Series(starts - dmask * DAY).groupby(dmask).min()
        lastend = pd.Series(ends - dmask * DAY).groupby(dmask).max()
        active = set(first.index.tolist())
        for d in set(days) | active:
            lo = min(params.work_start, first.get(d, params.work_start))
            hi = max(params.work_end, lastend.get(d, params.work_end))
            open_minutes += hi - lo
        busy = float((ends - starts).sum())
        units = res.capacity
        rows.append((name, units, busy, open_minutes * units, busy / (open_minutes * units)))
    # the follow-up cadres: visits made over visit-days from the first to the last visit
    fu = steps[steps["step"] == next(s.step for s in params.steps if s.phase == "followup")]
    if len(fu):
        vdays = np.floor(fu["start"].to_numpy() / DAY)
        span = vdays.max() - vdays.min() + 1
        capacity = span * params.followup_cadres * params.visits_per_cadre_day
        rows.append(
            ("cadres", params.followup_cadres, float(len(fu)), float(capacity), len(fu) / capacity)
        )
    return pd.DataFrame(
        rows, columns=["resource", "units", "busy_minutes", "open_minutes", "utilization"]
    )


# --- replications ---------------------------------------------------------------------


def _one(args) -> dict[str, Any]:
    params, seed, replication, households = args
    result = run_campaign(params, households, seed, replication)
    s = result.summary()
    s["events"] = result.events
    return s


@dataclass(frozen=True)
class Replications:
    """Summaries of R replications of one scenario (replication r uses stream keys r)."""

    scenario: Scenario
    seed: int
    runs: tuple[dict[str, Any], ...]

    def frame(self) -> pd.DataFrame:
        """One row per replication with the scalar headline figures."""
        return pd.DataFrame(
            [{k: v for k, v in r.items() if not isinstance(v, dict)} for r in self.runs]
        )

    def summary(self) -> dict[str, Any]:
        """Means and 95 % confidence intervals over replications (the `simulate --json`)."""
        runs = self.runs

        def ci(key):
            return mean_ci([r[key] for r in runs])

        steps = list(runs[0]["step_wait_minutes"])
        resources = list(runs[0]["utilization"])
        poor_days = [r["registered_poor_all_in_day"] for r in runs]
        start = dt.date.fromisoformat(runs[0]["last_move_in_date"]) - dt.timedelta(
            days=runs[0]["campaign_days"] - 1
        )
        deadline = dt.date.fromisoformat(runs[0]["registered_poor_deadline"])
        deadline_day = (deadline - start).days + 1
        return {
            "scenario": self.scenario.name,
            "campaign_days": ci("campaign_days"),
            "households_moved": float(np.mean([r["households_moved"] for r in runs])),
            "people_moved": float(np.mean([r["people_moved"] for r in runs])),
            "households_not_moved": float(np.mean([r["households_not_moved"] for r in runs])),
            "registered_poor_all_in_day": ci("registered_poor_all_in_day"),
            "registered_poor_deadline": deadline.isoformat(),
            "registered_poor_deadline_day": deadline_day,
            "registered_poor_in_by_deadline_share": float(
                np.mean([d <= deadline_day for d in poor_days])
            ),
            "campaign_start": start.isoformat(),
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
            "vehicle_trips": float(np.mean([r["vehicle_trips"] for r in runs])),
            "convoys": float(np.mean([r["convoys"] for r in runs])),
            "convoys_after_dark": float(np.mean([r["convoys_after_dark"] for r in runs])),
            "convoys_held_overnight": float(np.mean([r["convoys_held_overnight"] for r in runs])),
            "followup_late": float(np.mean([r["followup_late"] for r in runs])),
            "max_slip_days": float(np.mean([r["max_slip_days"] for r in runs])),
            "replications": len(runs),
            "seed": self.seed,
        }


def run_replications(
    scenario: Scenario, replications: int = 10, seed: int | None = None, workers: int | None = None
) -> Replications:
    """R replications with common random numbers; `workers` processes (default: the CPUs,
    at most R; 1 = serial). The result does not depend on `workers`."""
    if replications < 1:
        raise ValueError(f"replications (={replications}) must be >= 1")
    seed = scenario.seed if seed is None else seed
    params = load_moving_params(scenario)  # fails early on bad input, in this process
    households = generate_population(scenario).households
    jobs = [(params, seed, r, households) for r in range(replications)]
    workers = min(replications, os.cpu_count() or 1) if workers is None else max(1, workers)
    if workers == 1:
        runs = [_one(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            runs = list(pool.map(_one, jobs))
    return Replications(scenario, seed, tuple(runs))
