"""The tables of one simulated campaign: one row per household, per convoy, per county
convoy day and per step, and its row of the `runs` table.

`run_campaign` runs one `Campaign` and returns a `CampaignResult`. Every household of the
plan is one of: kept (in its flat on its planned day), late (its convoy day went, but it
was in its flat later: a late departure, an overnight stop, its flat not ready, or the
reception carried to the next morning) or left behind (it went on a later convoy day, or
never: no vehicles or escort by the cut-off, a pause, the weather), each with its reason.
`days` gives these counts for every county convoy day with what bound it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from simlib.moving.calendar import in_flat_step, team_groups
from simlib.moving.campaign import Campaign, Mode
from simlib.moving.convoys import clock
from simlib.moving.generate import make_plan
from simlib.moving.homes import FACILITIES
from simlib.moving.inputs import DAY, MovingParams
from simlib.moving.plan import BatchPlan
from simlib.moving.rules import binding_of_days, rule_counts, shortfall
from simlib.moving.runs import run_row

HOUSEHOLD_COLUMNS = ("household_id", "county", "registered_poor", "size")
RULES = ("night_departures", "moved_during_pause", "overtime_households")


def _dates(start: dt.date, days: np.ndarray) -> list[dt.date | None]:
    return [start + dt.timedelta(days=int(d)) if d >= 0 else None for d in days]


def _day_of(t: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(t), -1, np.floor(np.nan_to_num(t) / DAY)).astype(np.int64)


@dataclass(frozen=True)
class CampaignResult:
    """One simulated campaign.

    households: one row per household: household_id, county, registered_poor, size,
        planned_day/_date, sent_day (the convoy day that moved it, -1 = none),
        convoy_id, departure, arrival (minutes since campaign_start midnight),
        overnight_stops, flat_ready, <step>_ready/_start/_end, door_reached, moved_in (in
        its flat: end of step 6), moved_in_day/_date (-1/None = not moved), settled (end
        of step 7), followup_day/_date,
        carried_over (reception work carried past a shift end), overtime,
        moved_during_pause, status (kept | late | left_behind) and reason; where it moved
        in (the housing allocation, when the move-in day is tied to it; else "" and -1):
        building, stairwell, floor, unit, access (lift | stairs), carry_minutes, and the
        minutes it waited at its building: building_bays_wait, stairwells_wait.
    convoys: one row per convoy that left, with late_departure, after_dark,
        night_departure, on_road_in_pause.
    days: one row per county convoy day (see `simlib.moving.rules.binding_of_days`).
    """

    params: MovingParams
    plan: BatchPlan
    households: pd.DataFrame
    convoys: pd.DataFrame
    days: pd.DataFrame
    times: dict[str, np.ndarray]  # ready / start / end, households x steps (minutes)
    events: int
    replication: int = 0
    visits: bool = True  # False: the follow-up visits were not simulated (`Mode.visits`)

    def date(self, day: int) -> dt.date:
        return self.params.date(day)

    @property
    def moved(self) -> pd.DataFrame:
        """Households that moved in (one row each)."""
        return self.households[self.households["moved_in_day"] >= 0]

    def campaign_days(self) -> int:
        """Days from the first convoy to the last family in its flat (both counted)."""
        m = self.moved
        if not len(m):
            return 0
        return int(m["moved_in_day"].max() - self.households["sent_day"][self.households["sent_day"] >= 0].min()) + 1  # fmt: skip

    def registered_poor_all_in_day(self) -> int:
        """Day number (1 = campaign_start) by which every registered-poor household is in
        (the horizon + 1 if one never moved in)."""
        poor = self.households[self.households["registered_poor"]]
        if (poor["moved_in_day"] < 0).any():
            return self.params.max_campaign_days + 1
        return int(poor["moved_in_day"].max()) + 1 if len(poor) else 0

    @cached_property
    def steps(self) -> pd.DataFrame:
        """One row per step: wait P50 / P95 (minutes) over moved households, the team and
        its utilisation; for a step with a building facility (the unloading bays, the
        stairwells), the part of that wait spent at the building (P50 / P95); NaN for the
        visit when the visits were not simulated."""
        hh = self.households
        moved = hh["moved_in_day"].to_numpy() >= 0
        util = self.utilization.set_index("resource")["utilization"]
        rows = []
        for k, s in enumerate(self.params.steps):
            wait = (self.times["start"][moved, k] - self.times["ready"][moved, k]).astype(float)
            p50, p95 = _quantiles(wait[~np.isnan(wait)]) if self._simulated(s) else (np.nan, np.nan)  # fmt: skip
            there = hh[f"{s.facility}_wait"].to_numpy()[moved] if s.facility else np.zeros(0)
            at50, at95 = _quantiles(there)
            rows.append((s.order, s.step, s.resource, p50, p95, float(util.get(s.resource, 0.0)), s.facility, at50, at95))  # fmt: skip
        return pd.DataFrame(rows, columns=["order", "step", "resource", "wait_p50", "wait_p95", "utilization", "facility", "facility_wait_p50", "facility_wait_p95"])  # fmt: skip

    def _simulated(self, step) -> bool:
        return self.visits or step.phase != "followup"

    def step_waits(self) -> pd.DataFrame:
        """P50 and P95 wait (minutes) per step, over moved households, and of it the wait
        at the family's building (its unloading bays, its stairwell)."""
        return self.steps[["order", "step", "wait_p50", "wait_p95", "facility", "facility_wait_p50", "facility_wait_p95"]].rename(
            columns={"wait_p50": "p50", "wait_p95": "p95", "facility_wait_p50": "at_building_p50", "facility_wait_p95": "at_building_p95"}
        )  # fmt: skip

    def building_waits(self) -> pd.DataFrame:
        """One row per building families moved into (empty when the move-in day is not
        tied to the housing allocation); see `building_table`."""
        return building_table(self.moved)

    @cached_property
    def utilization(self) -> pd.DataFrame:
        """Busy share of each team over its open time: on each day it worked, from the
        earlier of work_start and its first service to the later of work_end and its last
        service (so work past hours counts as open time, and shares stay in [0, 1]); NaN for
        the visiting teams when the visits were not simulated."""
        p = self.params
        start, end = self.times["start"], self.times["end"]
        rows = []
        for resource, units in p.resources.items():
            cols = [k for k, s in enumerate(p.steps) if s.resource == resource]
            if not any(self._simulated(p.steps[k]) for k in cols):
                rows.append((resource, units, np.nan, np.nan, np.nan))
                continue
            s, e = start[:, cols].ravel(), end[:, cols].ravel()
            ok = ~np.isnan(s)
            s, e = s[ok], e[ok]
            if not len(s):
                rows.append((resource, units, 0.0, 0.0, 0.0))
                continue
            day = np.floor(s / DAY).astype(np.int64)
            first = pd.Series(s - day * DAY).groupby(day).min()
            last = pd.Series(e - day * DAY).groupby(day).max()
            open_minutes = float((np.maximum(p.work_end, last) - np.minimum(p.work_start, first)).sum())  # fmt: skip
            busy = float((e - s).sum())
            rows.append((resource, units, busy, open_minutes * units, busy / (open_minutes * units)))  # fmt: skip
        return pd.DataFrame(rows, columns=["resource", "units", "busy_minutes", "open_minutes", "utilization"])  # fmt: skip

    def move_in_days(self) -> pd.DataFrame:
        """Per arrival day: households arriving, the median and P95 wait over steps 4-7
        (minutes), when the last family was in its flat (clock hour), how many had their
        reception carried over or finished in overtime, and the P95 wait before each of
        steps 4-7 (minutes)."""
        m = self.moved
        arrival_day = np.floor(m["arrival"].to_numpy() / DAY).astype(np.int64)
        after = [s.step for s in self.params.steps if s.phase == "after"]
        wait = sum(m[f"{s}_start"] - m[f"{s}_ready"] for s in after)
        frame = pd.DataFrame(
            {
                "arrival_day": arrival_day,
                "wait": wait.to_numpy(),
                "in_at": clock_hours(m["moved_in"].to_numpy(), arrival_day),
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
        table = (
            self.moved.groupby(["moved_in_date", "county"])
            .agg(
                households=("household_id", "size"),
                people=("size", "sum"),
                registered_poor=("registered_poor", "sum"),
            )  # fmt: skip
            .reset_index()
            .rename(columns={"moved_in_date": "date"})
            .sort_values(["date", "county"])
            .reset_index(drop=True)
        )
        table["cumulative_households"] = table["households"].cumsum()
        table["cumulative_registered_poor"] = table["registered_poor"].cumsum()
        table["deadline"] = self.params.deadline
        return table

    def convoy_timeline(self, day: int | None = None) -> pd.DataFrame:
        """Convoys of one convoy day (default: the first) with clock times in hours."""
        day = int(self.convoys["batch_day"].min()) if day is None else day
        c = self.convoys[self.convoys["batch_day"] == day].copy()
        c["formed"] = day * DAY + self.params.gather_start
        for col in ("formed", "loaded", "departure", "arrival"):
            c[f"{col}_hour"] = (c[col] - day * DAY) / 60.0
        return c.reset_index(drop=True)

    def rule_violations(self) -> dict[str, int]:
        """Time rules broken: night departures, households moving (on the road or at a
        move-in step) on a pause day, households whose move-in ran past the shift's end."""
        return rule_counts(self.params, self.convoys, self.households)

    def binding_days(self) -> dict[str, int]:
        """County convoy days each resource bound (see `days`)."""
        return {k: int(v) for k, v in self.days["binding"].value_counts().items()}

    def run_row(self) -> dict[str, Any]:
        """This campaign's row of the `runs` table (plain numbers)."""
        return run_row(self)

    def summary(self) -> dict[str, Any]:
        """Headline figures of this one campaign (the `runs` row)."""
        return self.run_row()


def _quantiles(values: np.ndarray) -> tuple[float, float]:
    """P50 and P95 (0 for no values)."""
    if not len(values):
        return 0.0, 0.0
    p50, p95 = np.quantile(values, [0.5, 0.95])
    return float(p50), float(p95)


def building_table(moved: pd.DataFrame) -> pd.DataFrame:
    """One row per building of the moved households (stacked replications count each
    family once a replication): access, families, the most on one day, and the mean and
    95th-percentile minutes they waited at its unloading bays, at its stairwells and at
    both, longest mean wait first."""
    moved = moved[moved["building"] != ""]
    wait = moved["building_bays_wait"] + moved["stairwells_wait"]
    frame = moved.assign(wait=wait)
    g = frame.groupby("building")
    keys = ["building", "moved_in_day", *(["replication"] if "replication" in frame else [])]
    busiest = frame.groupby(keys).size().groupby("building").max()

    def p95(x):
        return float(np.quantile(x, 0.95)) if len(x) else 0.0

    table = g.agg(
        access=("access", "first"),
        households=("household_id", "size"),
        bay_wait_mean=("building_bays_wait", "mean"),
        bay_wait_p95=("building_bays_wait", p95),
        stairwell_wait_mean=("stairwells_wait", "mean"),
        stairwell_wait_p95=("stairwells_wait", p95),
        wait_mean=("wait", "mean"),
        wait_p95=("wait", p95),
    )
    table.insert(2, "most_in_one_day", busiest.reindex(table.index).to_numpy())
    return table.sort_values(["wait_mean", "households"], ascending=False).reset_index().round(2)


def clock_hours(t: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Hours after midnight of `day` (above 24 on a later day)."""
    return (t - day * DAY) / 60.0


def _convoys(c: Campaign) -> pd.DataFrame:
    p = c.params
    columns = ["convoy_id", "county", "batch_day", "households", "people", "trucks", "buses", "loaded", "departure", "arrival", "overnight_stops", "breakdowns", "illnesses"]  # fmt: skip
    convoys = pd.DataFrame(c.convoys, columns=columns)
    convoys = convoys.sort_values("convoy_id").reset_index(drop=True)
    dep = convoys["departure"].to_numpy(dtype=float)
    arr = convoys["arrival"].to_numpy(dtype=float)
    convoys["late_departure"] = np.floor(dep / DAY) > convoys["batch_day"].to_numpy()
    convoys["held_overnight"] = convoys["overnight_stops"] > 0
    convoys["after_dark"] = np.array([clock(a) > p.dark or clock(a) < p.gather_start for a in arr], dtype=bool)  # fmt: skip
    convoys["night_departure"] = np.array([clock(d) < p.gather_start or clock(d) >= p.dark for d in dep], dtype=bool)  # fmt: skip
    convoys["on_road_in_pause"] = [
        any(c.cal.paused(d) for d in range(int(a // DAY), int(b // DAY) + 1)) for a, b in zip(dep, arr, strict=True)
    ]  # fmt: skip
    return convoys


def _household_table(c: Campaign, convoys: pd.DataFrame) -> pd.DataFrame:
    p = c.params
    hh = c.households[list(HOUSEHOLD_COLUMNS)].copy()
    hh["registered_poor"] = hh["registered_poor"].astype(bool)
    planned = np.full(len(hh), -1, dtype=np.int64)
    for h, d in c.book.planned_day.items():
        planned[h] = d
    hh["planned_day"], hh["batch_day"] = planned, planned
    hh["planned_date"] = _dates(p.campaign_start, planned)
    hh["sent_day"], hh["convoy_id"] = c.sent_day, c.convoy_of
    cid, has = c.convoy_of, c.convoy_of >= 0
    lookup = convoys.set_index("convoy_id")
    for col in ("departure", "arrival", "overnight_stops"):
        values = np.full(len(hh), np.nan if col != "overnight_stops" else 0.0)
        values[has] = lookup.loc[cid[has], col].to_numpy()
        hh[col] = values
    hh["departure_day"] = _day_of(hh["departure"].to_numpy())
    hh["flat_ready"] = np.asarray(c.flat_ready, dtype=float)
    times = c.times()
    for k, s in enumerate(p.steps):
        for part in ("ready", "start", "end"):
            hh[f"{s.step}_{part}"] = times[part][:, k]
    last = team_groups(p.steps, "after")[-1].steps[-1]
    in_flat = in_flat_step(p.steps)
    hh["door_reached"] = times["end"][:, in_flat]
    hh["moved_in"] = times["end"][:, in_flat]
    hh["settled"] = times["end"][:, last]
    hh["moved_in_day"] = _day_of(hh["moved_in"].to_numpy())
    hh["moved_in_date"] = _dates(p.campaign_start, hh["moved_in_day"].to_numpy())
    hh["followup_day"] = _day_of(times["start"][:, len(p.steps) - 1])
    hh["followup_date"] = _dates(p.campaign_start, hh["followup_day"].to_numpy())
    hh["carried_over"], hh["overtime"] = c.carried, c.overtime
    hh["moved_during_pause"] = c.in_pause
    _home_columns(c, hh)
    hh["left_reason"] = c.left_reason
    hh["status"], hh["reason"] = shortfall(hh)
    hh["slip_days"] = np.where(hh["moved_in_day"] >= 0, hh["moved_in_day"] - planned, -1)
    return hh


def _home_columns(c: Campaign, hh: pd.DataFrame) -> None:
    """Where each household moved in (its flat of the housing allocation) and the minutes
    it waited at its building; "" and -1 when the move-in day is not tied to it."""
    homes, fac = c.params.homes, c.fac
    if fac is None:
        hh["building"], hh["stairwell"], hh["floor"], hh["unit"], hh["access"] = "", -1, -1, "", ""  # fmt: skip
        hh["carry_minutes"] = np.nan
    else:
        has = fac.rows >= 0
        mine = homes.households.iloc[np.maximum(fac.rows, 0)]
        for column, empty in (("building", ""), ("stairwell", -1), ("floor", -1), ("unit", "")):
            hh[column] = np.where(has, mine[column].to_numpy(), empty)
        hh["access"] = np.where(has, np.where(mine["lifts"].to_numpy() > 0, "lift", "stairs"), "")
        hh["carry_minutes"] = fac.carry
    for facility in FACILITIES:
        hh[f"{facility}_wait"] = np.asarray(c.facility_wait[facility], dtype=float)


def tabulate(c: Campaign, replication: int = 0) -> CampaignResult:
    """Turn a finished campaign's logs into tidy tables."""
    convoys = _convoys(c)
    households = _household_table(c, convoys)
    days = binding_of_days(c, households)
    return CampaignResult(c.params, c.plan, households, convoys, days, c.times(), c.env_events, replication, c.mode.visits)  # fmt: skip


def run_campaign(
    params: MovingParams,
    households: pd.DataFrame,
    seed: int,
    replication: int = 0,
    plan: BatchPlan | None = None,
    visits: bool = True,
) -> CampaignResult:
    """One campaign for given parameters and households (no file reads); `visits` False
    leaves the follow-up visits out (`Mode.visits`)."""
    households = households.reset_index(drop=True)
    plan = make_plan(params, households) if plan is None else plan
    mode = Mode(visits=visits)
    campaign = Campaign(params, households, plan, (seed, "moving", replication), mode=mode).run()
    return tabulate(campaign, replication)
