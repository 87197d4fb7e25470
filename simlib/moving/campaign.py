"""One moving campaign in SimPy: county convoy days, the move-in day, the follow-up visits.

`Campaign` holds the environment, the teams of the new town, the planned route of each
county and the logs; each process is one short method:

- `county`: on each of its convoy days a county sends the households due (planned for
  the day, plus any left over) as far as its day limits allow (leased vehicles, the
  route's traffic police, cadres and doctors); the rest slip to its next convoy day.
- `convoy`: gathering from `gather_start` (no departure before), loading, a gap behind the
  county's previous convoy, the road in daylight only (an overnight stop when it cannot
  arrive before dark).
- `household`: steps 1-3 on the flat from `flats_ready_days_before` moving days before
  the convoy day (before a pause, for the first convoy days after it), steps 4-7 once its convoy is in, step 8 (the follow-up visit) from the next working morning.
- `serve`: one step at one team, keeping the shift: work that would run past `work_end`
  is carried to the next working morning (or, with `shift_end_rule: overtime`, finished
  and counted); nothing moves on a pause day.

Random inputs are drawn up front, one stream per input (`stream(seed, "moving",
replication, ...)`), so the same seed gives the same campaign.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import simpy

from simlib.moving.convoys import drive, fit_day, form_convoys, travel_factors
from simlib.moving.inputs import DAY, MovingParams
from simlib.moving.plan import BatchPlan, county_queues
from simlib.randomness import stream

CONVOY_COLUMNS = (
    "convoy_id",
    "county",
    "batch_day",
    "households",
    "people",
    "trucks",
    "buses",
    "formed",
    "loaded",
    "departure",
    "arrival",
    "overnight_stops",
)
COUNTY_DAY_COLUMNS = ("day", "county", "planned", "due", "sent", "vehicles", "cut_by")


def service_times(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """n service times (minutes): gamma with this mean and coefficient of variation."""
    if cv == 0:
        return np.full(n, float(mean))
    shape = 1.0 / cv**2
    return rng.gamma(shape, mean / shape, n)


class Campaign:
    """The SimPy model of one campaign; `run()` fills the logs that `result` tabulates."""

    def __init__(
        self,
        params: MovingParams,
        households: pd.DataFrame,
        plan: BatchPlan,
        seed: int,
        replication: int = 0,
    ) -> None:
        self.params = params
        self.households = households.reset_index(drop=True)
        self.plan = plan
        self.env = simpy.Environment()
        n = len(self.households)
        self.sizes = self.households["size"].to_numpy(dtype=np.int64)
        self.queues = county_queues(self.households, params)
        p = params
        self.steps = p.steps
        self.teams = {r: simpy.Resource(self.env, units) for r, units in p.resources.items()}
        self.step_team = [self.teams[s.resource] for s in self.steps]
        self.before = _team_groups(self.steps, "before")
        self.after = _team_groups(self.steps, "after")
        self.visit = (len(self.steps) - 1,)
        self.route_free = dict.fromkeys(self.queues, 0.0)  # when the next convoy may leave
        self.county_convoys = dict.fromkeys(self.queues, 0)  # convoys of each county so far
        horizon = p.max_campaign_days + 366
        self.paused = [p.paused(d) for d in range(horizon)]
        self.next_moving = self._next_moving_days(horizon)
        # random inputs, one stream each
        self.service = [
            service_times(
                stream(seed, "moving", replication, "service", s.step),
                s.service_mean,
                s.service_cv,
                n,
            ).tolist()
            for s in self.steps
        ]
        self.group_minutes = {  # minutes a team holds a household, per group of steps
            g: np.sum([self.service[k] for k in g], axis=0).tolist()
            for g in (*self.before, *self.after, self.visit)
        }
        self.loading = service_times(
            stream(seed, "moving", replication, "loading"), p.loading_mean, p.loading_cv, n
        )
        self.factors = {
            c: travel_factors(
                stream(seed, "moving", replication, "delay", c),
                stream(seed, "moving", replication, "breakdown", c),
                p,
                p.roads[c].travel_time,
                len(q) + 1,
            )
            for c, q in self.queues.items()
        }
        # logs
        k = len(self.steps)
        nan = float("nan")  # plain lists: cheaper to write one cell at a time than arrays
        self.ready = [[nan] * k for _ in range(n)]
        self.start = [[nan] * k for _ in range(n)]
        self.end = [[nan] * k for _ in range(n)]
        self.batch_day = np.full(n, -1, dtype=np.int64)  # planned convoy day
        self.convoy_of = np.full(n, -1, dtype=np.int64)
        self.cut_by = np.full(n, "", dtype=object)  # day limit that made it slip
        self.carried_at = np.full(n, -1, dtype=np.int64)  # first step carried over
        self.convoys: list[tuple] = []
        self.convoys_formed = 0
        self.county_days: list[tuple] = []
        for c, q in self.queues.items():
            self._assign_plan(c, q)

    def _next_moving_days(self, horizon: int) -> list[int]:
        """For each day, the first day from it on that is not paused."""
        nxt = [horizon] * (horizon + 1)
        for d in range(horizon - 1, -1, -1):
            nxt[d] = nxt[d + 1] if self.paused[d] else d
        return nxt

    def prepare_day(self, day: int) -> int:
        """The moving day, `flats_ready_days_before` moving days before `day`, on which the
        flats of its convoy day are made ready (steps 1-3); never before day 0."""
        for _ in range(self.params.flats_ready_days_before):
            day -= 1
            while day > 0 and self.paused[day]:
                day -= 1
        return max(0, day)

    def _assign_plan(self, county: str, queue: np.ndarray) -> None:
        rows = self.plan.rows[self.plan.rows["county"] == county]
        head = 0
        for day, n in zip(rows["day"], rows["households"], strict=True):
            self.batch_day[queue[head : head + n]] = day
            head += n

    def run(self) -> Campaign:
        """Run to the end; counts the events processed (`env_events`)."""
        for c in self.queues:
            self.env.process(self.county(c))
        step, events = self.env.step, 0
        try:
            while True:
                step()
                events += 1
        except simpy.core.EmptySchedule:
            pass
        self.env_events = events
        return self

    def times(self) -> dict[str, np.ndarray]:
        """Ready, start and end of every household at every step (minutes; NaN = never),
        as arrays of households x steps."""
        return {
            "ready": np.array(self.ready),
            "start": np.array(self.start),
            "end": np.array(self.end),
        }

    # --- processes ----------------------------------------------------------------------

    def county(self, county: str):
        """The county's convoy days: send what is due, within the day limits."""
        env, p = self.env, self.params
        queue = self.queues[county]
        rows = self.plan.rows[self.plan.rows["county"] == county]
        days = list(zip(rows["day"].tolist(), rows["households"].tolist(), strict=True))
        head, left_over, i, day = 0, 0, 0, -1
        while head < len(queue):
            if i < len(days):
                day, planned = days[i]
                i += 1
            elif left_over:  # households left over after the last planned day: next day
                day, planned = self.next_moving[day + 1], 0
                if day >= p.max_campaign_days:
                    return
            else:  # the plan leaves the rest of the county's queue unplanned
                return
            prepare = self.prepare_day(day) * DAY  # the flats are made ready
            if prepare > env.now:
                yield env.timeout(prepare - env.now)
            due = queue[head : head + planned + left_over]
            sent, limit = fit_day(self.sizes[due].tolist(), p)
            self.cut_by[due[sent:]] = np.where(
                self.cut_by[due[sent:]] == "", limit or "", self.cut_by[due[sent:]]
            )
            vehicles = 0
            for first, stop, trucks, buses in form_convoys(self.sizes[due[:sent]].tolist(), p):
                members = due[first:stop]
                arrived = env.event()
                env.process(self.convoy(county, day, members, trucks, buses, arrived))
                for h in members:
                    env.process(self.household(int(h), day, arrived))
                vehicles += trucks + buses
            self.county_days.append(
                (day, county, planned, len(due), sent, vehicles, limit if sent < len(due) else "")
            )
            head += sent
            left_over = len(due) - sent

    def convoy(self, county, day, members, trucks, buses, arrived):
        """Gather, load, leave behind the county's previous convoy, drive in daylight."""
        env, p = self.env, self.params
        cid = self.convoys_formed
        self.convoys_formed += 1
        self.convoy_of[members] = cid
        formed = day * DAY + p.gather_start
        yield env.timeout(formed - env.now)
        per_truck = [
            float(self.loading[members[i : i + p.households_per_truck]].sum())
            for i in range(0, len(members), p.households_per_truck)
        ]
        yield env.timeout(max(per_truck))
        loaded = env.now
        depart = max(loaded, self.route_free[county])
        if depart - math.floor(depart / DAY) * DAY >= p.dark:  # no departure at night
            depart = (math.floor(depart / DAY) + 1) * DAY + p.gather_start
        self.route_free[county] = depart + p.convoy_headway
        self.county_convoys[county] += 1
        factor = self.factors[county][self.county_convoys[county] % len(self.factors[county])]
        travel = p.roads[county].travel_time * factor
        arrive, nights = drive(depart, travel, p)
        yield env.timeout(arrive - env.now)
        riders = int(self.sizes[members].sum())
        self.convoys.append(
            (
                cid,
                county,
                day,
                len(members),
                riders,
                trucks,
                buses,
                formed,
                loaded,
                depart,
                arrive,
                nights,
            )
        )
        arrived.succeed()

    def household(self, h: int, day: int, arrived: simpy.Event):
        """Steps 1-3 on the flat, the family's arrival, steps 4-7, then the visit."""
        env, p = self.env, self.params
        ready = self.prepare_day(day) * DAY + p.work_start
        if ready > env.now:
            yield env.timeout(ready - env.now)
        for steps in self.before:
            yield from self.serve(h, steps)
        yield arrived
        for steps in self.after:
            yield from self.serve(h, steps)
        yield env.timeout((math.floor(env.now / DAY) + 1) * DAY + p.work_start - env.now)
        yield from self.serve(h, self.visit)

    def serve(self, h: int, steps: tuple[int, ...]):
        """Consecutive steps of one team (the squad that guides a family also carries its
        belongings up), held as one unit, within the shift (see the module docstring)."""
        env = self.env
        team = self.step_team[steps[0]]
        total = self.group_minutes[steps][h]
        visit = steps is self.visit
        ready, start, end = self.ready[h], self.start[h], self.end[h]
        ready[steps[0]] = env.now
        while True:
            with team.request() as request:
                yield request
                t = env.now
                later = self._shift(t, total, visit)
                if later is None:
                    for k in steps:
                        ready[k] = min(ready[k], t) if k == steps[0] else t
                        start[k] = t
                        t += self.service[k][h]
                        end[k] = t
                    yield env.timeout(total)
                    return
            if self.carried_at[h] < 0 and not visit and self.steps[steps[0]].phase == "after":
                self.carried_at[h] = steps[0]
            yield env.timeout(later - env.now)

    def _shift(self, now: float, minutes: float, visit: bool) -> float | None:
        """None if the step may start now, else when it can: the next working morning."""
        p = self.params
        day = int(now // DAY)
        clock = now - day * DAY
        closed = self.paused[day] and not visit  # visits are not moving
        if not closed and clock >= p.work_start:
            if clock + minutes <= p.work_end:
                return None
            if p.shift_end_rule == "overtime" and not visit:
                return None
        if not closed and clock < p.work_start:
            return day * DAY + p.work_start
        nxt = day + 1 if visit else self.next_moving[day + 1]
        return nxt * DAY + p.work_start


def _team_groups(steps, phase: str) -> list[tuple[int, ...]]:
    """Step indices of one phase, consecutive steps of the same team grouped together."""
    groups: list[list[int]] = []
    for k, s in enumerate(steps):
        if s.phase != phase:
            continue
        if groups and groups[-1][-1] == k - 1 and steps[k - 1].resource == s.resource:
            groups[-1].append(k)
        else:
            groups.append([k])
    return [tuple(g) for g in groups]
