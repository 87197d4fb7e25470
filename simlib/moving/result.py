"""The tables and summary of one simulated campaign.

`run_campaign` runs one `Campaign` and returns a `CampaignResult`: tidy tables, one row
per household, per convoy, per county convoy day, per day (planned, moved, slipped and
what bound it), per arrival day, per household and step; `summary()` is its headline
figures (what `simlib.moving.replications` averages over replications).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from simlib.moving.campaign import CONVOY_COLUMNS, COUNTY_DAY_COLUMNS, Campaign
from simlib.moving.convoys import LIMITS
from simlib.moving.feasibility import Feasibility, check_feasibility
from simlib.moving.inputs import DAY, MovingParams
from simlib.moving.plan import BatchPlan, make_plan, reception_capacity

HOUSEHOLD_COLUMNS = ("household_id", "county", "registered_poor", "size")
RULES = ("night_departures", "moved_during_pause", "overtime_households")
NO_CONVOY = "no convoy day"  # a day on which families only finish moving in


def _dates(start: dt.date, days: np.ndarray) -> list[dt.date | None]:
    return [start + dt.timedelta(days=int(d)) if d >= 0 else None for d in days]


def _clock(t: np.ndarray) -> np.ndarray:
    """Minutes after midnight of the day of each time."""
    return t - np.floor(t / DAY) * DAY


@dataclass(frozen=True)
class CampaignResult:
    """One simulated campaign.

    households: one row per household: household_id, county, registered_poor, size,
        batch_day (planned convoy day, -1 = none), batch_date, departure_day, convoy_id,
        departure, arrival (minutes since campaign_start midnight), <step>_start/_end,
        door_reached, moved_in (end of step 7), moved_in_day/_date (-1/None = not moved),
        followup_day/_date, carried_over (a step was carried to the next morning),
        overtime, slip_days, slip_reason.
    convoys: one row per convoy (see `CONVOY_COLUMNS`) with held_overnight, after_dark,
        night_departure, on_road_in_pause.
    """

    params: MovingParams
    plan: BatchPlan
    feasibility: Feasibility
    households: pd.DataFrame
    convoys: pd.DataFrame
    county_days_log: pd.DataFrame
    times: dict[str, np.ndarray]  # ready / start / end, households x steps (minutes)
    events: int

    def date(self, day: int) -> dt.date:
        return self.params.date(day)

    @property
    def moved(self) -> pd.DataFrame:
        """Households that moved in (one row each)."""
        return self.households[self.households["moved_in_day"] >= 0]

    def campaign_days(self) -> int:
        """Calendar days from campaign_start to the day the last household moved in."""
        return int(self.moved["moved_in_day"].max()) + 1 if len(self.moved) else 0

    def registered_poor_all_in_day(self) -> int:
        """Day number (1 = campaign_start) by which every registered-poor household is in
        (0 if none moved; never, if one did not move: then the horizon + 1)."""
        poor = self.households[self.households["registered_poor"]]
        if (poor["moved_in_day"] < 0).any():
            return self.params.max_campaign_days + 1
        return int(poor["moved_in_day"].max()) + 1 if len(poor) else 0

    # --- tables ---------------------------------------------------------------------------

    @cached_property
    def steps(self) -> pd.DataFrame:
        """One row per moved household and step: ready, start, end, wait (minutes)."""
        idx = np.flatnonzero(self.households["moved_in_day"].to_numpy() >= 0)
        steps = self.params.steps
        k = len(steps)
        table = pd.DataFrame(
            {
                "household_id": np.repeat(self.households["household_id"].to_numpy()[idx], k),
                "county": np.repeat(self.households["county"].to_numpy()[idx], k),
                "step": np.tile([s.step for s in steps], len(idx)),
                "order": np.tile([s.order for s in steps], len(idx)),
                "resource": np.tile([s.resource for s in steps], len(idx)),
                "ready": self.times["ready"][idx].ravel(),
                "start": self.times["start"][idx].ravel(),
                "end": self.times["end"][idx].ravel(),
            }
        )
        table["wait"] = table["start"] - table["ready"]
        return table

    def step_waits(self) -> pd.DataFrame:
        """P50 and P95 wait (minutes) per step, over moved households."""
        rows = []
        moved = self.households["moved_in_day"].to_numpy() >= 0
        for k, s in enumerate(self.params.steps):
            wait = (self.times["start"][moved, k] - self.times["ready"][moved, k]).astype(float)
            wait = wait[~np.isnan(wait)]
            p50, p95 = np.quantile(wait, [0.5, 0.95]) if len(wait) else (0.0, 0.0)
            rows.append((s.order, s.step, float(p50), float(p95)))
        return pd.DataFrame(rows, columns=["order", "step", "p50", "p95"])

    @cached_property
    def utilization(self) -> pd.DataFrame:
        """Busy share of each team over its open time: on each day it worked, from the
        earlier of work_start and its first service to the later of work_end and its last
        service (so work past hours counts as open time, and shares stay in [0, 1])."""
        p = self.params
        start, end = self.times["start"], self.times["end"]
        rows = []
        for resource, units in p.resources.items():
            cols = [k for k, s in enumerate(p.steps) if s.resource == resource]
            s = start[:, cols].ravel()
            e = end[:, cols].ravel()
            ok = ~np.isnan(s)
            s, e = s[ok], e[ok]
            if not len(s):
                rows.append((resource, units, 0.0, 0.0, 0.0))
                continue
            day = np.floor(s / DAY).astype(np.int64)
            first = pd.Series(s - day * DAY).groupby(day).min()
            last = pd.Series(e - day * DAY).groupby(day).max()
            open_minutes = float(
                (np.maximum(p.work_end, last) - np.minimum(p.work_start, first)).sum()
            )
            busy = float((e - s).sum())
            rows.append(
                (resource, units, busy, open_minutes * units, busy / (open_minutes * units))
            )
        return pd.DataFrame(
            rows, columns=["resource", "units", "busy_minutes", "open_minutes", "utilization"]
        )

    def county_days(self) -> pd.DataFrame:
        """One row per county convoy day: planned, due (planned + left over), sent, vehicles,
        the load on each day limit (vehicles / limit) and the limit that cut it, if any."""
        table = self.county_days_log.copy()
        limits = self.params.day_limits()
        for name in LIMITS:
            table[f"{name}_load"] = table["vehicles"] / limits[name]
        table.insert(0, "date", [self.date(d) for d in table["day"]])
        return table

    def days(self) -> pd.DataFrame:
        """One row per day with planned or moved households: planned, departed, moved (in),
        slipped (planned that day, in later or never) and what bound the day: when more
        than 1 - `binding_load_share` of its planned households slipped, the cause most of
        them share (a day limit, daylight, a move-in step); else the resource loaded to at
        least `binding_load_share` of its capacity; else the plan itself. A day with no
        convoy planned (families carried over finish moving in) says so and binds nothing."""
        p = self.params
        hh = self.households
        batch = hh["batch_day"].to_numpy()
        moved_day = hh["moved_in_day"].to_numpy()
        dep = hh["departure_day"].to_numpy()
        span = int(max(batch.max(), moved_day.max(), dep.max(), 0)) + 1

        def count(days: np.ndarray) -> np.ndarray:
            return np.bincount(days[days >= 0], minlength=span)[:span]

        slipped_mask = (batch >= 0) & ((moved_day > batch) | (moved_day < 0))
        table = pd.DataFrame(
            {
                "day": np.arange(span),
                "planned": count(batch),
                "departed": count(dep),
                "moved": count(moved_day),
                "slipped": count(np.where(slipped_mask, batch, -1)),
            }
        )
        table = table[(table[["planned", "departed", "moved"]] > 0).any(axis=1)]
        reasons = hh.loc[slipped_mask, ["batch_day", "slip_reason"]]
        by_day = reasons.groupby("batch_day")["slip_reason"].agg(
            lambda r: Counter(r).most_common(1)[0][0]
        )
        cd = self.county_days()
        loads = cd.groupby("day")[[f"{n}_load" for n in LIMITS]].max()
        reception, team = reception_capacity(p)
        arrivals = count(np.floor(hh["arrival"].fillna(-1).to_numpy() / DAY).astype(np.int64))
        bound = []
        for d in table["day"]:
            row = table.loc[table["day"] == d].iloc[0]
            if row.planned == 0:
                bound.append(NO_CONVOY)
                continue
            if d in by_day.index and row.slipped > (1 - p.binding_load_share) * row.planned:
                bound.append(by_day[d])
                continue
            candidates = (
                {n: float(loads.loc[d, f"{n}_load"]) for n in LIMITS} if (d in loads.index) else {}
            )
            candidates[f"reception: {team}"] = arrivals[d] / reception
            name = max(candidates, key=candidates.get)
            bound.append(name if candidates[name] >= p.binding_load_share else "plan")
        table["bound_by"] = bound
        table.insert(1, "date", [self.date(d) for d in table["day"]])
        return table.reset_index(drop=True)

    def move_in_days(self) -> pd.DataFrame:
        """Per arrival day: households arriving, the median and P95 wait over steps 4-7
        (minutes), when the last family was in its flat (clock hour), how many were
        carried over to the next morning or finished in overtime, and the P95 wait before
        each of steps 4-7 (minutes)."""
        m = self.moved
        arrival_day = np.floor(m["arrival"].to_numpy() / DAY).astype(np.int64)
        after = [s.step for s in self.params.steps if s.phase == "after"]
        wait = sum(m[f"{s}_start"] - m[f"{s}_ready"] for s in after)
        frame = pd.DataFrame(
            {
                "arrival_day": arrival_day,
                "wait": wait.to_numpy(),
                "in_at": _clock(m["moved_in"].to_numpy()) / 60.0
                + 24 * (np.floor(m["moved_in"].to_numpy() / DAY) - arrival_day),
                "carried_over": m["carried_over"].to_numpy(),
                "overtime": m["overtime"].to_numpy(),
            }
        )
        for step in after:
            frame[f"{step}_wait_p95"] = (m[f"{step}_start"] - m[f"{step}_ready"]).to_numpy()
        g = frame.groupby("arrival_day")
        per_step = g[[f"{step}_wait_p95" for step in after]].quantile(0.95).reset_index(drop=True)
        table = g.agg(
            households=("wait", "size"),
            wait_p50=("wait", "median"),
            wait_p95=("wait", lambda w: float(np.quantile(w, 0.95))),
            last_in_hour=("in_at", "max"),
            carried_over=("carried_over", "sum"),
            overtime=("overtime", "sum"),
        ).reset_index()
        table = pd.concat([table, per_step], axis=1)
        table.insert(1, "date", [self.date(d) for d in table["arrival_day"]])
        return table.round(2)

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
        """Convoys of one convoy day (default: the first) with clock times in hours."""
        day = int(self.convoys["batch_day"].min()) if day is None else day
        c = self.convoys[self.convoys["batch_day"] == day].copy()
        for col in ("formed", "loaded", "departure", "arrival"):
            c[f"{col}_hour"] = (c[col] - day * DAY) / 60.0
        return c.reset_index(drop=True)

    def rule_violations(self) -> dict[str, int]:
        """Time rules broken: convoys leaving before gathering or after dark, households
        moving (on the road or at a move-in step) on a pause day, households whose move-in
        ran past the end of the shift."""
        return rule_violations(self.params, self.convoys, self.households, self.times)

    def binding_days(self) -> dict[str, int]:
        """Planned convoy days each resource bound (see `days`)."""
        bound = self.days()["bound_by"]
        return {k: int(v) for k, v in bound[bound != NO_CONVOY].value_counts().items()}

    def summary(self) -> dict[str, Any]:
        """Headline figures of this one campaign (plain numbers)."""
        m = self.moved
        poor_day = self.registered_poor_all_in_day()
        trips = int(self.convoys["trucks"].sum() + self.convoys["buses"].sum())
        binding = self.binding_days()
        cd = self.county_days_log
        return {
            "campaign_days": self.campaign_days(),
            "households_moved": int(len(m)),
            "people_moved": int(m["size"].sum()),
            "households_not_moved": int(len(self.households) - len(m)),
            "registered_poor_all_in_day": poor_day,
            "registered_poor_all_in_date": self.date(poor_day - 1).isoformat()
            if poor_day
            else None,
            "registered_poor_deadline": self.params.deadline.isoformat(),
            "registered_poor_by_deadline": bool(poor_day <= self.params.deadline_day + 1),
            "first_move_in_date": self.date(int(m["moved_in_day"].min())).isoformat()
            if len(m)
            else None,
            "last_move_in_date": self.date(self.campaign_days() - 1).isoformat()
            if len(m)
            else None,
            "convoy_days": int((cd["sent"] > 0).sum()),
            "largest_day_households": int(cd["sent"].max()) if len(cd) else 0,
            "step_wait_minutes": {
                r.step: {"p50": r.p50, "p95": r.p95} for r in self.step_waits().itertuples()
            },
            "utilization": dict(
                zip(
                    self.utilization["resource"],
                    self.utilization["utilization"].astype(float),
                    strict=True,
                )
            ),
            "vehicle_trips": trips,
            "truck_trips": int(self.convoys["trucks"].sum()),
            "vehicles_per_household": trips / len(m) if len(m) else 0.0,
            "convoys": int(len(self.convoys)),
            "convoys_after_dark": int(self.convoys["after_dark"].sum()),
            "convoys_held_overnight": int(self.convoys["held_overnight"].sum()),
            "carried_over_households": int(m["carried_over"].sum()),
            "rule_violations": self.rule_violations(),
            "binding_days": binding,
            "binding_resource": binding_resource(binding),
            "max_slip_days": int(m["slip_days"].max()) if len(m) else 0,
            "followup_late": int(
                (m["followup_day"] - m["moved_in_day"] > self.params.followup_days_target).sum()
            ),
            "feasibility": self.feasibility.summary(),
            "plan": self.plan.source,
        }


def binding_resource(binding_days: dict[str, int]) -> str:
    """The resource that bound the most days; "plan" when none bound any day."""
    resources = {k: v for k, v in binding_days.items() if k != "plan"}
    if not resources:
        return "plan"
    return max(sorted(resources), key=resources.get)


def rule_violations(
    params: MovingParams,
    convoys: pd.DataFrame,
    households: pd.DataFrame,
    times: dict[str, np.ndarray],
) -> dict[str, int]:
    """Count the broken time rules in a campaign's logs (see `CampaignResult.rule_violations`)."""
    p = params
    dep = convoys["departure"].to_numpy(dtype=float)
    clock = _clock(dep)
    night = int(((clock < p.gather_start) | (clock >= p.dark)).sum())
    paused = np.array([p.paused(d) for d in range(p.max_campaign_days + 366)])
    on_road = np.zeros(len(convoys), dtype=bool)
    for i, (a, b) in enumerate(zip(dep, convoys["arrival"].to_numpy(dtype=float), strict=True)):
        on_road[i] = paused[int(a // DAY) : int(b // DAY) + 1].any()
    road_hh = set(convoys.loc[on_road, "convoy_id"])
    cols = [k for k, s in enumerate(p.steps) if s.phase != "followup"]
    start = times["start"][:, cols]
    end = times["end"][:, cols]
    ok = ~np.isnan(start)
    sday = np.where(ok, np.floor(np.nan_to_num(start) / DAY), 0).astype(np.int64)
    step_in_pause = (paused[sday] & ok).any(axis=1)
    in_pause = step_in_pause | households["convoy_id"].isin(road_hh).to_numpy()
    over = (ok & (np.nan_to_num(end) - sday * DAY > p.work_end + 1e-9)).any(axis=1)
    return {
        "night_departures": night,
        "moved_during_pause": int(in_pause.sum()),
        "overtime_households": int(over.sum()),
    }


def _tables(c: Campaign, feasibility: Feasibility) -> CampaignResult:
    """Turn a finished campaign's logs into tidy tables."""
    p = c.params
    hh = c.households[list(HOUSEHOLD_COLUMNS)].copy()
    hh["registered_poor"] = hh["registered_poor"].astype(bool)
    convoys = pd.DataFrame(c.convoys, columns=list(CONVOY_COLUMNS)).sort_values("convoy_id")
    convoys = convoys.reset_index(drop=True)
    arr_clock = _clock(convoys["arrival"].to_numpy(dtype=float))
    dep_clock = _clock(convoys["departure"].to_numpy(dtype=float))
    convoys["held_overnight"] = convoys["overnight_stops"] > 0
    convoys["after_dark"] = (arr_clock > p.dark) | (arr_clock < p.gather_start)
    convoys["night_departure"] = (dep_clock < p.gather_start) | (dep_clock >= p.dark)

    n = len(hh)
    cid = c.convoy_of
    has = cid >= 0
    lookup = convoys.set_index("convoy_id")
    departure = np.full(n, np.nan)
    arrival = np.full(n, np.nan)
    nights = np.zeros(n, dtype=np.int64)
    departure[has] = lookup.loc[cid[has], "departure"].to_numpy()
    arrival[has] = lookup.loc[cid[has], "arrival"].to_numpy()
    nights[has] = lookup.loc[cid[has], "overnight_stops"].to_numpy()
    hh["batch_day"] = c.batch_day
    hh["batch_date"] = _dates(p.campaign_start, c.batch_day)
    hh["convoy_id"] = cid
    hh["departure_day"] = np.where(has, np.floor(np.nan_to_num(departure) / DAY), -1).astype(
        np.int64
    )
    hh["departure"] = departure
    hh["arrival"] = arrival
    hh["overnight_stops"] = nights
    steps = p.steps
    times = c.times()
    for k, s in enumerate(steps):
        hh[f"{s.step}_ready"] = times["ready"][:, k]
        hh[f"{s.step}_start"] = times["start"][:, k]
        hh[f"{s.step}_end"] = times["end"][:, k]
    last = max(k for k, s in enumerate(steps) if s.phase == "after")
    move_in = next((k for k, s in enumerate(steps) if s.step == "move_in"), last)
    hh["door_reached"] = times["end"][:, move_in]
    moved_in = times["end"][:, last]
    moved = ~np.isnan(moved_in)
    hh["moved_in"] = moved_in
    moved_in_day = np.where(moved, np.floor(np.nan_to_num(moved_in) / DAY), -1).astype(np.int64)
    hh["moved_in_day"] = moved_in_day
    hh["moved_in_date"] = _dates(p.campaign_start, moved_in_day)
    visit = times["start"][:, len(steps) - 1]
    visit_day = np.where(~np.isnan(visit), np.floor(np.nan_to_num(visit) / DAY), -1)
    hh["followup_day"] = visit_day.astype(np.int64)
    hh["followup_date"] = _dates(p.campaign_start, hh["followup_day"].to_numpy())
    hh["carried_over"] = c.carried_at >= 0
    reception = [k for k, s in enumerate(steps) if s.phase != "followup"]
    e = times["end"][:, reception]
    s0 = times["start"][:, reception]
    ok = ~np.isnan(s0)
    sday = np.where(ok, np.floor(np.nan_to_num(s0) / DAY), 0)
    hh["overtime"] = (ok & (np.nan_to_num(e) - sday * DAY > p.work_end + 1e-9)).any(axis=1)
    hh["slip_days"] = np.where(moved, moved_in_day - c.batch_day, -1)
    hh["slip_reason"] = _slip_reasons(c, hh)

    county_days = pd.DataFrame(c.county_days, columns=list(COUNTY_DAY_COLUMNS))
    county_days = county_days.sort_values(["day", "county"]).reset_index(drop=True)
    events = c.env_events
    return CampaignResult(p, c.plan, feasibility, hh, convoys, county_days, times, events)


def _slip_reasons(c: Campaign, hh: pd.DataFrame) -> np.ndarray:
    """Why a household moved in after its planned day: the day limit that cut it from its
    convoy day, daylight (an overnight stop), or the move-in step carried to the next
    morning; "" if it did not slip."""
    steps = c.params.steps
    reason = np.full(len(hh), "", dtype=object)
    batch = hh["batch_day"].to_numpy()
    dep = hh["departure_day"].to_numpy()
    arr = np.where(
        hh["arrival"].notna(), np.floor(hh["arrival"].fillna(0).to_numpy() / DAY), -1
    ).astype(np.int64)
    moved_day = hh["moved_in_day"].to_numpy()
    slipped = (batch >= 0) & ((moved_day > batch) | (moved_day < 0))
    carried = np.array(
        ["" if k < 0 else f"reception: {steps[k].resource}" for k in c.carried_at], dtype=object
    )
    reason[slipped & (moved_day > arr) & (arr >= 0)] = carried[
        slipped & (moved_day > arr) & (arr >= 0)
    ]
    reason[slipped & (arr > dep) & (dep >= 0)] = "daylight"
    cut = slipped & ((dep > batch) | (dep < 0))
    reason[cut] = np.where(c.cut_by[cut] == "", "plan", c.cut_by[cut])
    reason[slipped & (reason == "")] = "reception"
    return reason


def run_campaign(
    params: MovingParams,
    households: pd.DataFrame,
    seed: int,
    replication: int = 0,
    plan: BatchPlan | None = None,
) -> CampaignResult:
    """One campaign for given parameters and households (no file reads)."""
    households = households.reset_index(drop=True)
    plan = make_plan(params, households) if plan is None else plan
    feasibility = check_feasibility(params, plan, households)
    campaign = Campaign(params, households, plan, seed, replication).run()
    return _tables(campaign, feasibility)
