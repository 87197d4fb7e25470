"""The plan at mean times, by arithmetic: what the feasibility check, the plan generator
and the optimiser use instead of a simulation.

It follows the rules of the SimPy campaign (`simlib.moving.campaign`) with every time at
its mean and no disruptions, and computes the same outcome without events:

- road, date by date from the `Book`: each convoy takes its resources first come, first
  served from pools that empty as convoys leave and fill as they come back
  (`_Pool.grant`); its trucks are loaded by the county's crews in turn (earliest free crew
  first); it leaves in its county's order, `convoy_headway` after the one before, by the
  departure rules, and drives its segments, stopping overnight before a segment it cannot
  finish before dark; one still without its resources at the cut-off, or that would be on
  the road in a pause, leaves its households behind for the county's next day;
- move-in teams, for the whole campaign: every team serves households in the order they
  are ready, each at the earliest free desk, under the shift rule (`_serve_in_turn`).
  Tied to the housing allocation (`simlib.moving.homes`), a family holds two resources at
  once (its building's bay and the unloading crew; its squad and its stairwell), which one
  queue at a time cannot follow: the steps after arrival are then timed by the campaign's
  own SimPy reception at mean times (`_received`), on the arrivals computed here.

A property test checks that this arithmetic and the SimPy model at mean times agree.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

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
    on_road_in_pause,
    return_minutes,
)
from simlib.moving.homes import carrying_step, facilities
from simlib.moving.inputs import DAY, MovingParams

INF = math.inf


class _Pool:
    """A counted resource granted first come, first served (head of the line first), with
    the amounts coming back at known times."""

    def __init__(self, capacity: int) -> None:
        self.level = capacity
        self.returns: list[tuple[float, int]] = []
        self.last = -INF

    def grant(self, t: float, amount: int) -> float:
        """When `amount` asked for at `t` is granted (after every earlier request); INF if
        never. The amount is taken."""
        t = max(t, self.last)
        while self.returns and self.returns[0][0] <= t:
            self.level += heapq.heappop(self.returns)[1]
        while self.level < amount:
            if not self.returns:
                self.last = INF  # the head of the line waits for ever: so does everyone behind
                return INF
            t = self.returns[0][0]
            while self.returns and self.returns[0][0] <= t:
                self.level += heapq.heappop(self.returns)[1]
        self.level -= amount
        self.last = t
        return t

    def give_back(self, t: float, amount: int) -> None:
        heapq.heappush(self.returns, (t, amount))


@dataclass
class _Road:
    """The road part of the check, filled date by date."""

    n: int
    sent_day: np.ndarray = field(init=False)
    arrival: np.ndarray = field(init=False)
    departure: np.ndarray = field(init=False)
    left_reason: np.ndarray = field(init=False)
    in_pause: np.ndarray = field(init=False)
    rank: np.ndarray = field(init=False)  # order in which convoys set their families down
    convoys: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sent_day = np.full(self.n, -1, dtype=np.int64)
        self.arrival = np.full(self.n, np.nan)
        self.departure = np.full(self.n, np.nan)
        self.left_reason = np.full(self.n, "", dtype=object)
        self.in_pause = np.zeros(self.n, dtype=bool)
        self.rank = np.arange(self.n, dtype=np.int64) + self.n
        self.ranked = 0


def _grant_all(need, pools, t, cutoff) -> tuple[float, str | None, dict[str, float]]:
    """Ask for each resource in turn; (time all granted, None, waits) or (t, the resource
    still missing at the cut-off, waits)."""
    waits = {}
    for name in REQUESTS:
        if need[name] == 0:
            continue
        g = pools[name].grant(t, need[name])
        if g >= cutoff:
            return t, name, waits
        waits[name], t = g - t, g
    return t, None, waits


def _load(crews: list[float], start: float, trucks: list[float]) -> tuple[float, float]:
    """Trucks loaded one each by the earliest free crew; (all loaded, crew wait minutes)."""
    done, wait = start, 0.0
    for minutes in trucks:
        free = heapq.heappop(crews)
        begin = max(start, free)
        wait += begin - start
        heapq.heappush(crews, begin + minutes)
        done = max(done, begin + minutes)
    return done, wait


def _county_day(ctx: _Context, cd: CountyDay, central: dict[str, _Pool], road: _Road) -> list[tuple[float, int, list[int]]]:  # fmt: skip
    """Time one county day's convoys; returns its households left behind, as (minute, day,
    households) in the order they were left: each convoy called off for a pause when it
    would have left (on the day it was called off), those without their resources at the
    cut-off. The order matters: each group goes to the head of the county's next day."""
    p = ctx.params
    pools = {**central, **{k: _Pool(ctx.pools[k]) for k in REQUESTS if k not in CENTRAL}}
    crews = [-INF] * ctx.pools["loading_crews"]
    start = cd.day * DAY + p.gather_start
    cutoff = cd.day * DAY + cutoff_minute(p)
    route, left, paused = ctx.roads[cd.county], [], []
    free = -INF  # when the county's next convoy may leave (headway)
    decided = -INF  # when the county's previous convoy left (or was called off)
    due = np.asarray(cd.due, dtype=np.int64)
    for first, stop, trucks, coaches in form_convoys(ctx.sizes[due].tolist(), p, ctx.pools):
        members = due[first:stop]
        need = convoy_needs(trucks, coaches, p)
        granted, missing, waits = _grant_all(need, pools, start, cutoff)
        if missing:
            road.left_reason[members] = np.where(road.left_reason[members] == "", missing, road.left_reason[members])  # fmt: skip
            left += members.tolist()
            continue
        loads = [ctx.loading * len(members[i : i + p.households_per_truck]) for i in range(0, len(members), p.households_per_truck)]  # fmt: skip
        loaded, waits["loading_crews"] = _load(crews, granted, loads)
        decided = max(loaded, decided)
        depart = depart_time(max(decided, free), route, p)
        arrive, nights = drive_mean(depart, route, p)
        if p.dark_rule == "stop" and on_road_in_pause(depart, arrive, p):
            for k in REQUESTS:
                pools[k].give_back(decided, need[k])
            road.left_reason[members] = np.where(road.left_reason[members] == "", "pause", road.left_reason[members])  # fmt: skip
            paused.append((decided, max(cd.day, math.floor(decided / DAY)), members.tolist()))
            continue
        decided, free = depart, depart + p.convoy_headway
        for k in REQUESTS:
            if k != "route_vehicles":
                pools[k].give_back(arrive + return_minutes(route, p), need[k])
        road.sent_day[members], road.departure[members] = cd.day, depart
        road.rank[members] = np.arange(road.ranked, road.ranked + len(members))
        road.ranked += len(members)
        road.arrival[members] = arrive
        road.in_pause[members] = on_road_in_pause(depart, arrive, p)
        road.convoys.append(
            {"county": cd.county, "day": cd.day, "households": len(members), "trucks": trucks,
             "coaches": coaches, "granted": granted, "loaded": loaded, "departure": depart,
             "arrival": arrive, "overnight_stops": nights, "waits": waits}
        )  # fmt: skip
    return sorted([*paused, (cutoff, cd.day, left)], key=lambda leaving: leaving[0])


@dataclass
class _Context:
    params: MovingParams
    sizes: np.ndarray
    roads: dict
    pools: dict[str, int]
    loading: float


def time_road(params: MovingParams, sizes: np.ndarray, book: Book, pools=None) -> _Road:
    """The road part of every date in the book, at mean times (see the module docstring);
    `sizes`: each household's people (int64, positions as in the households)."""
    ctx = _Context(params, sizes, params.roads, params.pools() if pools is None else pools, params.loading_mean)  # fmt: skip
    road = _Road(len(sizes))
    while (day := book.next_date()) is not None:
        county_days = book.pop_date(day)
        central = {k: _Pool(ctx.pools[k] * len(county_days)) for k in CENTRAL}
        for cd in county_days:
            for _, after, members in _county_day(ctx, cd, central, road):
                if not book.leave_behind(cd.county, after, members):
                    road.left_reason[members] = np.where(road.left_reason[members] == "", "horizon", road.left_reason[members])  # fmt: skip
    return road


def _serve_in_turn(
    ready: np.ndarray,
    order: np.ndarray,
    servers: int,
    minutes: np.ndarray,
    kind: str,
    cal: Calendar,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One team serving households `order` (ready times `ready`, NaN = never; `minutes`
    each) first come, first served at the earliest free desk, under the shift rule.
    Returns start, end and whether the work was carried past the end of a shift."""
    n = len(ready)
    each = minutes.tolist()
    start, end = [math.nan] * n, [math.nan] * n  # plain lists: written one at a time
    carried = [False] * n
    valid = ~np.isnan(ready[order])
    queue = list(zip(ready[order][valid].tolist(), np.flatnonzero(valid).tolist(), order[valid].tolist(), strict=True))  # fmt: skip
    heapq.heapify(queue)
    seq = len(queue)
    free = [-INF] * servers
    opens, closes, paused = cal.params.work_start, cal.params.work_end, cal.paused
    before = kind == "before"
    while queue:
        r, _, h = heapq.heappop(queue)
        t, m = max(r, free[0]), each[h]
        c = t - math.floor(t / DAY) * DAY
        # inside the shift with time to finish: what `later_start` says first, asked inline
        if opens <= c and c + m <= closes and not (before and paused(math.floor(t / DAY))):
            later = None
        else:
            later = cal.later_start(t, m, kind)
        if later is None:
            heapq.heapreplace(free, t + m)
            start[h], end[h] = t, t + m
            continue
        if not before and cal.within_shift(t):
            carried[h] = True
        heapq.heappush(queue, (later, seq, h))
        seq += 1
    return np.array(start, dtype=float), np.array(end, dtype=float), np.array(carried, dtype=bool)


def _groups_in_turn(params, groups: tuple[Group, ...], ready, order, cal, minutes=None) -> dict[str, np.ndarray]:  # fmt: skip
    """Households through consecutive team groups; each group is ready when the one
    before is done (`minutes`: step -> each household's minutes; default the means).
    Returns each step's end, the last end, carried and overtime flags."""
    carried = np.zeros(len(ready), dtype=bool)
    overtime = np.zeros(len(ready), dtype=bool)
    paused_days = np.zeros(len(ready), dtype=bool)
    minutes = minutes or {}
    ends = {}
    for g in groups:
        each = [minutes.get(k, np.full(len(ready), params.steps[k].service_mean)) for k in g.steps]
        start, ready, c = _serve_in_turn(
            ready, order, params.resources[g.resource], np.sum(each, axis=0), g.kind, cal
        )
        carried |= c
        sday = np.floor(np.nan_to_num(start) / DAY)
        overtime |= ~np.isnan(start) & (ready - sday * DAY > params.work_end + 1e-9)
        paused_days |= cal.paused_many(sday) & ~np.isnan(start)
        order = order[np.argsort(ready[order], kind="stable")]
        ends.update(zip(g.steps, start + np.cumsum(each, axis=0), strict=True))
    return {"ends": ends, "end": ready, "carried": carried, "overtime": overtime, "paused": paused_days}  # fmt: skip


def _received(params: MovingParams, households: pd.DataFrame, ready: np.ndarray, rank: np.ndarray, cal: Calendar) -> dict:  # fmt: skip
    """The steps after arrival at mean times by the campaign's SimPy reception (families
    arriving at `ready`, in that order, then in `rank`), as `_groups_in_turn` returns them."""
    from simlib.moving.campaign import Campaign, Mode

    n = len(ready)
    order = np.lexsort((rank, ready))
    order = order[~np.isnan(ready[order])]
    calm = replace(params, steps=tuple(replace(s, service_cv=0.0) for s in params.steps))
    mode = Mode(day_only=True, arrivals=tuple(ready[order].tolist()))
    c = Campaign(
        calm, households.iloc[order], None, (0, "mean times"), mode=mode, calendar=cal
    ).run()
    start, end = np.full((n, len(params.steps)), np.nan), np.full((n, len(params.steps)), np.nan)
    start[order], end[order] = np.array(c.start).reshape(-1, len(params.steps)), np.array(c.end).reshape(-1, len(params.steps))  # fmt: skip
    flags = {}
    for name, values in (("carried", c.carried), ("overtime", c.overtime), ("paused", c.in_pause)):
        flags[name] = np.zeros(n, dtype=bool)
        flags[name][order] = values
    groups = team_groups(params.steps, "after")
    ends = {k: end[:, k] for g in groups for k in g.steps}
    return {"ends": ends, "end": end[:, groups[-1].steps[-1]], **flags}


def _carry_minutes(params: MovingParams, households: pd.DataFrame) -> dict[int, np.ndarray]:
    """The carrying step's minutes of each household (its own carry up to its floor) when
    the move-in day is tied to the buildings; else {} (the step's mean)."""
    fac = facilities(params, households) if "household_id" in households else None
    k = carrying_step(params)
    if fac is None or k is None:
        return {}
    return {k: params.steps[k].service_mean * fac.door_share + fac.carry}


def _after_by_arithmetic(params, ready, rank, cal, minutes: dict[int, np.ndarray]) -> dict:
    """The steps after arrival at mean times by arithmetic (`minutes`: the carrying
    step's minutes of each household, or {} for its mean)."""
    order = np.lexsort((rank, ready))
    return _groups_in_turn(params, team_groups(params.steps, "after"), ready, order, cal, minutes)


def _after_phase(params, households, ready, rank, cal, at_buildings: bool) -> dict:
    """The steps after arrival at mean times: by arithmetic, each family's own carry
    included; tied to the buildings and counting their queues, by the SimPy reception
    instead (see the module docstring)."""
    if at_buildings and params.homes is not None and "household_id" in households:
        return _received(params, households.reset_index(drop=True), ready, rank, cal)
    return _after_by_arithmetic(params, ready, rank, cal, _carry_minutes(params, households))


def _planned(book: Book, n: int) -> np.ndarray:
    """Each household's planned day in the book (-1: not planned)."""
    planned = np.full(n, -1, dtype=np.int64)
    for h, d in book.planned_day.items():
        planned[h] = d
    return planned


def _prep_phase(params: MovingParams, planned: np.ndarray, cal: Calendar) -> dict:
    """The steps before arrival (the flats made ready) at mean times, as `_groups_in_turn`
    returns them: each household's flat from the morning of its day's preparation day."""
    morning = {d: cal.prepare_day(d) * DAY + params.work_start for d in set(planned.tolist()) if d >= 0}  # fmt: skip
    prep_ready = np.array([morning[d] if d >= 0 else np.nan for d in planned.tolist()])
    order = np.lexsort((np.arange(len(planned)), prep_ready))
    return _groups_in_turn(params, team_groups(params.steps, "before"), prep_ready, order, cal)


def _ready(road: _Road, prep: dict) -> np.ndarray:
    """When each household may start the steps after arrival (NaN: it never arrives)."""
    ready = np.fmax(road.arrival, prep["end"])
    ready[np.isnan(road.arrival)] = np.nan
    return ready


def _columns(planned: np.ndarray, road: _Road, prep: dict, after: dict, params: MovingParams) -> dict:  # fmt: skip
    """The columns of `time_plan`'s households table."""
    moved_in = after["ends"][in_flat_step(params.steps)]
    return {
        "planned_day": planned,
        "sent_day": road.sent_day,
        "departure": road.departure,
        "arrival": road.arrival,
        "flat_ready": prep["end"],
        "moved_in": moved_in,
        "settled": after["end"],
        "moved_in_day": np.where(
            np.isnan(moved_in), -1, np.floor(np.nan_to_num(moved_in) / DAY)
        ).astype(np.int64),  # fmt: skip
        "carried_over": after["carried"],
        "overtime": after["overtime"],
        "moved_during_pause": road.in_pause | after["paused"],
        "left_reason": road.left_reason,
    }


@dataclass(frozen=True)
class Timed:
    """A plan at mean times: one row per household (positions as in the population's
    households) and one per convoy."""

    households: pd.DataFrame
    convoys: pd.DataFrame


def time_plan(
    params: MovingParams,
    households: pd.DataFrame,
    plan: pd.DataFrame,
    queues: dict[str, np.ndarray],
    pools: dict[str, int] | None = None,
    calendar: Calendar | None = None,
    at_buildings: bool = True,
) -> Timed:
    """Every household's day at mean times, one row per household (positions as in
    `households`): planned_day, sent_day, departure, arrival, flat_ready, moved_in (in
    its flat), moved_in_day, settled (the arrival day's last step done), carried_over,
    overtime, moved_during_pause, left_reason. With `at_buildings=False` each family's
    carry up to its floor counts but not the queues at its building (a quick sizing, for
    the plan generator and the first guess of `simlib needs`; the check and the
    simulation count them)."""
    cal = Calendar(params) if calendar is None else calendar
    book = Book(plan, queues, cal)
    planned = _planned(book, len(households))
    road = time_road(params, households["size"].to_numpy(dtype=np.int64), book, pools)
    prep = _prep_phase(params, planned, cal)
    after = _after_phase(params, households, _ready(road, prep), road.rank, cal, at_buildings)
    table = pd.DataFrame(_columns(planned, road, prep, after, params))
    return Timed(table, pd.DataFrame(road.convoys))


def _night(departure: np.ndarray, params: MovingParams) -> np.ndarray:
    """Departures before the gathering starts or after dark (NaN: no departure)."""
    c = departure - np.floor(departure / DAY) * DAY
    return ((c < params.gather_start) | (c >= params.dark)) & ~np.isnan(departure)


def kept(table: pd.DataFrame | Mapping[str, np.ndarray], params: MovingParams) -> np.ndarray:
    """Households in their flat on their planned day, the flat made ready before that day,
    their arrival day's reception work done within the shift, with no rule broken on the
    way (night departure, a pause, overtime). `table`: `time_plan`'s, or its columns."""
    planned = np.asarray(table["planned_day"])
    return (
        (np.asarray(table["moved_in_day"]) == planned)
        & (np.asarray(table["flat_ready"]) <= planned * DAY)
        & ~np.asarray(table["overtime"])
        & ~np.asarray(table["carried_over"])
        & ~np.asarray(table["moved_during_pause"])
        & ~_night(np.asarray(table["departure"]), params)
    )


class DayTimer:
    """`kept(time_plan(..., at_buildings=False)).all()` for the plan generator, which asks
    it for ~200 trial days of one plan: the households' sizes and carry minutes looked up
    once, no tables built, and the arithmetic stopped at the first phase that already
    breaks the plan (a household not on the road or not arrived on its day, a night
    departure, a pause, a flat not ready), since `kept` is then False whatever follows
    (a family is in its flat no earlier than it arrives)."""

    def __init__(self, params: MovingParams, households: pd.DataFrame, calendar: Calendar) -> None:  # fmt: skip
        self.params, self.calendar, self.pools = params, calendar, params.pools()
        self.sizes = households["size"].to_numpy(dtype=np.int64)
        self.minutes = _carry_minutes(params, households)

    def road(self, rows: list, queues: dict[str, np.ndarray], members: np.ndarray) -> tuple:
        """(planned day, road) of the households `members` (positions in the households)
        booked by `rows` (county, day, households) from `queues` (positions in `members`)."""
        book = Book(rows, queues, self.calendar)
        planned = _planned(book, len(members))
        return planned, time_road(self.params, self.sizes[members], book, self.pools)

    def all_kept(self, rows: list, queues: dict[str, np.ndarray], members: np.ndarray) -> bool:
        """Whether every household of these county days keeps its plan at mean times."""
        p, cal = self.params, self.calendar
        planned, road = self.road(rows, queues, members)
        arrival_day = np.floor(road.arrival / DAY)
        if (np.isnan(road.arrival) | (arrival_day > planned) | road.in_pause | _night(road.departure, p)).any():  # fmt: skip
            return False
        prep = _prep_phase(p, planned, cal)
        if not (prep["end"] <= planned * DAY).all():
            return False
        minutes = {k: v[members] for k, v in self.minutes.items()}
        after = _after_by_arithmetic(p, _ready(road, prep), road.rank, cal, minutes)
        return bool(kept(_columns(planned, road, prep, after, p), p).all())
