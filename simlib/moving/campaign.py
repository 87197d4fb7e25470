"""One moving campaign in SimPy: the plan run as given, the road as resources, the move-in
teams, the follow-up visits, with disruptions.

`Campaign` holds the environment, the teams and the logs; each process is one method:

- `dispatch`: date by date from the `Book`, at the gathering time: a county day may be
  called off by the weather (re-planned by the book's rule) or held; the vehicles and
  drivers leased for the date's county days form one pool, the route passes, police,
  cadres, doctors and loading crews are each county's own; every convoy starts; once each
  has left, been held to the next morning, or been left behind, the households left
  behind go to the county's next convoy day.
- `convoy`: asks for its resources in turn (`convoys.REQUESTS`, first come first served);
  one still waiting at the cut-off (`latest_departure`) gives them back and leaves its
  households behind. Its trucks are loaded by the county's crews; it leaves in its
  county's order, a headway after the one before, by the departure rules (and not at all
  if it would be on the road in a pause); it drives its segments with their spread,
  breakdowns and illness, stopping overnight before a segment it cannot finish before
  dark; at the new town its families go to the move-in teams while the vehicles and
  escorts drive back and are released.
- `prepare`: steps 1-3 on the flat on its preparation day (`Calendar.prepare_day`).
- `receive`: steps 4-7 once the family is there and its flat ready, then the visit from
  the next morning.
- `serve`: one team's steps for one household, within the shift (`Calendar.later_start`);
  tied to the housing allocation (`simlib.moving.homes`), a step's building facility too:
  the truck waits for one of its building's unloading bays before the unloading crew and
  holds it through step 4 (`serve`), the squad waits at the family's stairwell (its lifts
  or its stairs) and holds it while it carries the belongings up to the family's floor
  (`_work`).

Random inputs come from one stream per input (`stream(seed, *keys, ...)`), so the same
seed gives the same campaign and two scenarios see the same draws.
"""

from __future__ import annotations

import gc
import heapq
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from simlib.moving.book import Book, CountyDay
from simlib.moving.calendar import Calendar, Group, in_flat_step, team_groups
from simlib.moving.convoys import (
    CENTRAL,
    REQUESTS,
    convoy_needs,
    cutoff_minute,
    depart_time,
    drive_mean,
    form_convoys,
    morning_after,
    on_road_in_pause,
    return_minutes,
    stop_before,
)
from simlib.moving.homes import FACILITIES, carrying_step, facilities
from simlib.moving.inputs import DAY, MovingParams
from simlib.moving.plan import BatchPlan, county_queues
from simlib.moving.road import RoadDraws, weather_draw
from simlib.randomness import stream


def service_times(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """n service times (minutes): gamma with this mean and coefficient of variation."""
    if cv == 0:
        return np.full(n, float(mean))
    shape = 1.0 / cv**2
    return rng.gamma(shape, mean / shape, n)


@dataclass(frozen=True)
class Mode:
    """How much of the campaign to simulate: all of it (the default); one convoy day
    (`day_only`: its flats ready, no visits, the weather letting it go); only its road
    (`road_only`: up to the families' arrival); only its reception (`arrivals`: each
    family's arrival time, in minutes); all of it but the follow-up visits (`visits`
    False: a sweep point, which reads none of them; the visiting teams serve nothing else,
    so every other time is the same)."""

    day_only: bool = False
    road_only: bool = False
    arrivals: tuple[float, ...] | None = None
    in_flat_only: bool = False  # the reception stops once the family is in its flat
    visits: bool = True


class _OnDemand(dict):
    """A dict whose value for a key is made (by `make(key)`) the first time it is asked."""

    def __init__(self, make) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key):
        value = self[key] = self.make(key)
        return value


class Campaign:
    """The SimPy model of one campaign (or part of one, see `Mode`); `run()` fills the logs
    that `result` tabulates."""

    def __init__(
        self,
        params: MovingParams,
        households: pd.DataFrame,
        plan: BatchPlan | None,
        keys: tuple,
        *,
        pools: dict[str, int] | None = None,
        mode: Mode = Mode(),
        calendar: Calendar | None = None,
    ) -> None:
        p = params
        self.params, self.plan, self.mode = p, plan, mode
        self.day_only = mode.day_only
        self.households = households.reset_index(drop=True)
        self.sizes = self.households["size"].to_numpy(dtype=np.int64)
        n = len(self.sizes)
        self.pools = p.pools() if pools is None else dict(pools)
        self.cal = Calendar(p) if calendar is None else calendar
        rows, queues = (plan.rows, county_queues(self.households, p)) if plan is not None else (pd.DataFrame(columns=["day", "county", "households"]), {})  # fmt: skip
        self.book = Book(rows, queues, self.cal)  # no plan: families arriving at given times
        first = min(self.book.planned_day.values(), default=0)
        self.env = simpy.Environment(initial_time=min(0.0, self.cal.prepare_day(first) * DAY))
        self.teams = {r: simpy.Resource(self.env, u) for r, u in self.teams_of(p).items()}
        self.fac = facilities(p, self.households)  # None: the move-in day is not tied
        self.site_of = self._sites() if self.fac is not None else {}
        self.before = team_groups(p.steps, "before")
        self.after = team_groups(p.steps, "after")
        self.visit = team_groups(p.steps, "followup")[0]
        self.in_flat = in_flat_step(p.steps)
        self.facility_of = [s.facility for s in p.steps]  # each step's building facility
        self._draw(keys, n)
        self._logs(n)

    def _sites(self) -> dict[str, list[simpy.Resource | None]]:
        """Facility -> each household's own unit (None: none) as a SimPy resource, one per
        bay group or stairwell its households use (a convoy day sized by `simlib needs`
        uses a few of the hundreds there are), shared by the households that use it."""
        site_of = {}
        for facility, capacity in self.fac.capacity.items():
            made: dict[int, simpy.Resource] = {}
            for u in self.fac.unit[facility].tolist():
                if u >= 0 and u not in made:
                    made[u] = simpy.Resource(self.env, int(capacity[u]))
            site_of[facility] = [made.get(u) for u in self.fac.unit[facility].tolist()]
        return site_of

    def teams_of(self, p: MovingParams) -> dict[str, int]:
        teams = dict(p.resources)
        teams.update({k: v for k, v in self.pools.items() if k in teams})
        return teams

    def _draw(self, keys: tuple, n: int) -> None:
        p = self.params
        self.service = [
            service_times(stream(*keys, "service", s.step), s.service_mean, s.service_cv, n)
            for s in p.steps
        ]
        carrying = carrying_step(p)
        if self.fac is not None and carrying is not None:  # the family's own carry
            self.service[carrying] = self.service[carrying] * self.fac.door_share + self.fac.carry
        self.carry = self.fac.carry.tolist() if self.fac is not None else []
        self.group_minutes = {
            g: np.sum([self.service[k] for k in g.steps], axis=0).tolist()
            for g in (*self.before, *self.after, self.visit)
        }
        self.service = [s.tolist() for s in self.service]
        # the groups whose steps use a building facility (timed step by step in `_work`)
        self.at_building = {g for g in self.group_minutes if any(p.steps[k].facility for k in g.steps)} if self.fac is not None else set()  # fmt: skip
        self.loading = service_times(stream(*keys, "loading"), p.loading_mean, p.loading_cv, n)
        # made for the counties that move (the streams are keyed, so not in any order)
        self.road_draws = _OnDemand(lambda c: RoadDraws(stream(*keys, "road", c), p))
        self.weather_rng = _OnDemand(lambda c: stream(*keys, "weather", c))

    def _logs(self, n: int) -> None:
        k = len(self.params.steps)
        nan = float("nan")  # plain lists: cheaper to write one cell at a time than arrays
        self.ready = [[nan] * k for _ in range(n)]
        self.start = [[nan] * k for _ in range(n)]
        self.end = [[nan] * k for _ in range(n)]
        self._times: dict[str, np.ndarray] | None = None
        self.flat_ready = [-math.inf if self.day_only else nan] * n
        self.flat_event: dict[int, simpy.Event] = {}
        self.sent_day = np.full(n, -1, dtype=np.int64)
        self.arrival = np.full(n, np.nan)
        self.convoy_of = np.full(n, -1, dtype=np.int64)
        self.left_reason = np.full(n, "", dtype=object)  # why first left behind
        self.left_on: dict[int, int] = {}  # household -> the last day it was left behind
        self.left_reason_now: dict[int, str] = {}  # ... and why that time
        self.carried = np.zeros(n, dtype=bool)
        self.overtime = np.zeros(n, dtype=bool)
        self.in_pause = np.zeros(n, dtype=bool)
        self.facility_wait = {f: [0.0] * n for f in FACILITIES}  # minutes at the building
        self.convoys: list[dict] = []
        self.county_days: list[dict] = []
        # (day, county or "" for the new town, resource) -> peak share of the day's capacity
        self.peak: dict[tuple[int, str, str], float] = {}

    def run(self) -> Campaign:
        """Run to the end; counts the events processed (`env_events`). The cyclic garbage
        collector is paused meanwhile: the run allocates hundreds of thousands of events,
        and its collections (which find little: events are freed by reference counting)
        cost a fifth of the run; it resumes, as it was, when the run ends."""
        if self.mode.arrivals is not None:
            self._arrive_all(self.mode.arrivals)
        else:
            self._start()
        step, events = self.env.step, 0
        collecting = gc.isenabled()
        gc.disable()
        try:
            while True:
                step()
                events += 1
        except simpy.core.EmptySchedule:
            pass
        finally:
            if collecting:
                gc.enable()
        self.env_events = events
        return self

    def _start(self) -> None:
        if not self.day_only:
            starts = {
                h: self.cal.prepare_day(d) * DAY + self.params.work_start
                for h, d in self.book.planned_day.items()
            }
            for h in sorted(starts, key=lambda h: (starts[h], h)):
                self.flat_event[h] = self.env.event()
                self.env.process(self.prepare(h, starts[h]))
        self.env.process(self.dispatch())

    def _arrive_all(self, arrivals) -> None:
        """Families arriving at given times (in order of arrival, then of call)."""
        for h in sorted(range(len(arrivals)), key=lambda h: (arrivals[h], h)):
            if not math.isnan(arrivals[h]):
                self.env.process(self._arrive(h, arrivals[h]))

    def _arrive(self, h: int, t: float):
        if t > self.env.now:
            yield self.env.timeout(t - self.env.now)
        yield from self.receive(h)

    def times(self) -> dict[str, np.ndarray]:
        """Ready, start and end of every household at every step (minutes; NaN = never),
        as arrays of households x steps (made once, after the run: the tables read them
        three times; read-only)."""
        if self._times is None or not hasattr(self, "env_events"):
            self._times = {k: np.array(v) for k, v in (("ready", self.ready), ("start", self.start), ("end", self.end))}  # fmt: skip
            for array in self._times.values():
                array.flags.writeable = False
        return self._times

    # --- the road -----------------------------------------------------------------------

    def dispatch(self):
        """Start each date's county days at the gathering time (see the module docstring)."""
        env, p = self.env, self.params
        while (day := self.book.next_date()) is not None:
            gather = day * DAY + p.gather_start
            if gather > env.now:
                yield env.timeout(gather - env.now)
            running = [cd for cd in self.book.pop_date(day) if self._weather(cd)]
            if not running:
                continue
            central = {
                k: simpy.Container(env, self.pools[k] * len(running), init=self.pools[k] * len(running))
                for k in CENTRAL
            }  # fmt: skip
            cutoff = day * DAY + cutoff_minute(p)
            cut = env.timeout(cutoff - env.now)
            decided: list[simpy.Event] = []
            for cd in running:
                decided += self._start_day(cd, central, cut, cutoff)
            yield env.all_of(decided)
            for cd in running:  # those left behind at the cut-off (a pause: at departure)
                left = [h for h in cd.due if self.left_on.get(h) == cd.day and self.sent_day[h] < 0 and self.left_reason_now.get(h) != "pause"]  # fmt: skip
                if not self.book.leave_behind(cd.county, cd.day, left):
                    self._never(left)

    def _never(self, households) -> None:
        for h in households:
            if not self.left_reason[h]:
                self.left_reason[h] = "horizon"

    def _weather(self, cd: CountyDay) -> bool:
        """Draw the county day's weather: False if it is called off (and re-planned)."""
        w = self.params.weather_on(cd.county, cd.day)
        cancel, hold = weather_draw(self.weather_rng[cd.county], w)
        if self.day_only:  # the day is sized as the weather lets it go
            cancel, hold = False, 0.0
        cd.log = {"day": cd.day, "county": cd.county, "due": len(cd.due), "replanned": cd.replanned,
                  "disruption": "called off" if cancel else ("held" if hold else ""), "hold": hold}  # fmt: skip
        self.county_days.append(cd.log)
        cd.hold = hold
        if not cancel:
            return True
        for h in cd.due:
            self._leave(h, cd.day, "weather")
        if not self.book.call_off(cd):
            self._never(cd.due)
        return False

    def _leave(self, h: int, day: int, reason: str) -> None:
        self.left_on[h] = day
        self.left_reason_now[h] = reason
        if not self.left_reason[h]:
            self.left_reason[h] = reason

    def _start_day(self, cd: CountyDay, central, cut, cutoff) -> list[simpy.Event]:
        """Start one county day's convoys; their `decided` events (each fires, by the
        cut-off, once the convoy has its resources or has left its families behind)."""
        env, p = self.env, self.params
        own = {k: simpy.Container(env, self.pools[k], init=self.pools[k]) for k in REQUESTS if k not in CENTRAL}  # fmt: skip
        state = {
            "pools": {**central, **own},
            "crews": [-math.inf] * self.pools["loading_crews"],  # each crew's next free time
            "cut": cut,
            "cutoff": cutoff,
            "free": -math.inf,
            "waits": dict.fromkeys((*REQUESTS, "loading_crews"), 0.0),
        }
        cd.log["waits"] = state["waits"]
        due = np.asarray(cd.due, dtype=np.int64)
        decided = []
        previous = None  # the county's convoy before: convoys leave in order
        for first, stop, trucks, coaches in form_convoys(self.sizes[due].tolist(), p, self.pools):
            events = (previous, env.event(), env.event())  # before's departure, ours, decided
            env.process(self.convoy(cd, due[first:stop], (trucks, coaches), state, events))
            previous = events[1]
            decided.append(events[2])
        return decided

    def _take(self, cd, members, need, state):
        """Ask for each resource in turn; the name of the one still missing at the cut-off
        (after giving back what was granted), or None when all were granted."""
        env = self.env
        held = []
        for name in REQUESTS:
            amount = need[name]
            if amount == 0:
                continue
            pool, asked = state["pools"][name], env.now
            get = pool.get(amount)
            yield get | state["cut"]
            if not get.triggered or env.now >= state["cutoff"]:
                if get.triggered:
                    pool.put(amount)
                else:
                    get.cancel()
                for other, taken in held:
                    other.put(taken)
                return name
            held.append((pool, amount))
            state["waits"][name] += (env.now - asked) * len(members)
            self._peak((cd.day, cd.county, name), 1.0 - pool.level / pool.capacity)
        return None

    def _peak(self, key: tuple[int, str, str], share: float) -> None:
        if share > self.peak.get(key, 0.0):
            self.peak[key] = share

    def convoy(self, cd: CountyDay, members, vehicles, state, events):
        """One convoy, from its first request to its return (see the module docstring);
        `events`: the departure (or calling off) of the county's convoy before, its own,
        and the event telling the day's dispatch that it has its resources or was left
        behind."""
        env, p = self.env, self.params
        need = convoy_needs(*vehicles, p)
        previous, departed, decided = events
        missing = yield from self._take(cd, members, need, state)
        decided.succeed()
        if missing:
            for h in members:
                self._leave(int(h), cd.day, missing)
            departed.succeed()
            return
        loaded = yield from self._load(cd, members, state)
        if previous is not None and not previous.triggered:
            yield previous
        road = p.roads[cd.county]
        hold = cd.day * DAY + p.gather_start + cd.hold
        depart = depart_time(max(env.now, state["free"], hold), road, p)
        if p.dark_rule == "stop" and on_road_in_pause(depart, drive_mean(depart, road, p)[0], p):
            self._call_off_convoy(cd, members, need, state)
            departed.succeed()
            return
        state["free"] = depart + p.convoy_headway
        yield env.timeout(depart - env.now)
        departed.succeed()
        yield from self._drive(cd, members, vehicles, loaded, depart)
        yield env.timeout(return_minutes(road, p))
        for name in REQUESTS:
            if name != "route_vehicles":
                state["pools"][name].put(need[name])

    def _call_off_convoy(self, cd: CountyDay, members, need, state) -> None:
        """A convoy that would be on the road in a pause does not leave: its resources go
        back and its families are left behind for the county's next convoy day."""
        for name in REQUESTS:
            state["pools"][name].put(need[name])
        left = [int(h) for h in members]
        for h in left:
            self._leave(h, cd.day, "pause")
        after = max(cd.day, math.floor(self.env.now / DAY))
        if not self.book.leave_behind(cd.county, after, left):
            self._never(left)

    def _load(self, cd, members, state):
        """Load the convoy's trucks at the gathering point: each truck, in turn, by the
        first crew free (the county day's crews serve the trucks first come, first served,
        as a SimPy resource would: their free times are kept in `state["crews"]`, so a
        convoy's loading is one timeout); when all are loaded."""
        env, p = self.env, self.params
        per = p.households_per_truck
        crews, start, done = state["crews"], env.now, env.now
        for i in range(0, len(members), per):
            minutes = float(self.loading[members[i : i + per]].sum())
            begin = max(start, heapq.heappop(crews))
            state["waits"]["loading_crews"] += (begin - start) * len(members[i : i + per])
            heapq.heappush(crews, begin + minutes)
            done = max(done, begin + minutes)
        yield env.timeout(done - start)
        return env.now

    def _drive(self, cd, members, vehicles, loaded, depart):
        """Drive the segments; at the new town the families go to the move-in teams."""
        env, p = self.env, self.params
        road = p.roads[cd.county]
        draw = self.road_draws[cd.county].convoy(len(road.segments), len(members))
        nights = 0
        for k, segment in enumerate(road.segments):
            if k and stop_before(env.now, segment.minutes, p):
                nights += 1
                yield env.timeout(morning_after(env.now, p) - env.now)
            yield env.timeout(segment.minutes * draw.factors[k] + draw.stops[k])
        cid = len(self.convoys)
        self.sent_day[members], self.convoy_of[members] = cd.day, cid
        self.arrival[members] = env.now
        self.in_pause[members] = on_road_in_pause(depart, env.now, p)
        self.convoys.append(
            {"convoy_id": cid, "county": cd.county, "batch_day": cd.day, "households": len(members),
             "people": int(self.sizes[members].sum()), "trucks": vehicles[0], "buses": vehicles[1],
             "loaded": loaded, "departure": depart, "arrival": env.now, "overnight_stops": nights,
             "breakdowns": draw.breakdowns, "illnesses": draw.illnesses}
        )  # fmt: skip
        if not self.mode.road_only:
            for h in members:
                env.process(self.receive(int(h)))

    # --- the move-in day ------------------------------------------------------------------

    def prepare(self, h: int, ready: float):
        """Steps 1-3 on the flat from its preparation day."""
        env = self.env
        if ready > env.now:
            yield env.timeout(ready - env.now)
        for group in self.before:
            yield from self.serve(h, group)
        self.flat_ready[h] = env.now
        self.flat_event[h].succeed()

    def receive(self, h: int):
        """Steps 4-7 once the family is there and its flat ready; the visit next morning."""
        env, p = self.env, self.params
        if math.isnan(self.flat_ready[h]):
            yield self.flat_event[h]
        for group in self.after:
            yield from self.serve(h, group)
            if self.mode.in_flat_only and self.in_flat in group.steps:
                return
        if self.day_only or not self.mode.visits:
            return
        yield env.timeout((math.floor(env.now / DAY) + 1) * DAY + p.work_start - env.now)
        yield from self.serve(h, self.visit)

    def serve(self, h: int, group: Group):
        """One team's consecutive steps for one household, within the shift; the building
        facility of the group's first step (the unloading bay) is waited for before the
        team, and given back with it when the work has to wait for the next shift."""
        env, later_start = self.env, self.cal.later_start
        team = self.teams[group.resource]
        total = self.group_minutes[group][h]
        first = group.steps[0]
        self.ready[h][first] = env.now
        site = self._site(first, h)
        while True:
            held = None
            if site is not None:
                held = yield from self._wait_at(site, h, first)
            request = team.request()  # released by hand: cheaper than `with`, same events
            yield request
            t = env.now
            later = later_start(t, total, group.kind)
            if later is None:
                if group not in self.at_building:
                    self._served(h, group, t, total)
                    yield env.timeout(total)
                else:
                    yield from self._work(h, group, t, (site, held))
                team.release(request)
                return
            team.release(request)
            if held is not None:
                site.release(held)
            if group.kind == "after" and self.cal.within_shift(t):
                self.carried[h] = True
            yield env.timeout(later - env.now)

    def _site(self, k: int, h: int) -> simpy.Resource | None:
        """The building facility household h uses at step k (None: none)."""
        facility = self.facility_of[k]
        if not facility or self.fac is None:
            return None
        return self.site_of[facility][h]

    def _wait_at(self, site: simpy.Resource, h: int, k: int):
        """Wait for a building facility; the request, granted."""
        asked = self.env.now
        request = site.request()
        yield request
        self.facility_wait[self.params.steps[k].facility][h] += self.env.now - asked
        return request

    def _work(self, h: int, group: Group, t: float, first):
        """The group's steps in turn at the family's building (from t, the team granted):
        the facility of the first step, `first` = (resource, request), held through that
        step; a later step's facility waited for at its start and held through it, or,
        the stairwell, while the belongings are carried up."""
        env = self.env
        ready, start, end = self.ready[h], self.start[h], self.end[h]
        clock = t
        for i, k in enumerate(group.steps):
            site = self._site(k, h) if i else None
            if i:
                ready[k] = clock
            if site is None:
                start[k] = clock
            else:
                if clock > env.now:
                    yield env.timeout(clock - env.now)
                request = yield from self._wait_at(site, h, k)
                start[k] = env.now
                carrying = self.params.steps[k].facility == "stairwells"
                yield env.timeout(self.carry[h] if carrying else self.service[k][h])
                site.release(request)
            clock = start[k] + self.service[k][h]
            end[k] = clock
            if i == 0 and first[1] is not None:
                yield env.timeout(clock - env.now)
                first[0].release(first[1])
        if clock > env.now:
            yield env.timeout(clock - env.now)
        self._flags(h, group)

    def _served(self, h: int, group: Group, t: float, total: float) -> None:
        ready, start, end = self.ready[h], self.start[h], self.end[h]
        for k in group.steps:
            if k != group.steps[0]:
                ready[k] = t
            start[k] = t
            t += self.service[k][h]
            end[k] = t
        self._flags(h, group)

    def _flags(self, h: int, group: Group) -> None:
        """Overtime, a pause day and the team's load, from the group's recorded times."""
        if group.kind != "after":
            return
        p = self.params
        day = math.floor(self.start[h][group.steps[0]] / DAY)
        if self.end[h][group.steps[-1]] - day * DAY > p.work_end + 1e-9:
            self.overtime[h] = True
        if self.cal.paused(day):
            self.in_pause[h] = True
        team = self.teams[group.resource]
        self._peak((day, "", group.resource), team.count / team.capacity)
