"""What each convoy day needs: the smallest resources with which it finishes inside the
time rules in at least `share` of replications, found with the SimPy model itself.

A convoy day is simulated in isolation (`Campaign` in `Mode(day_only=True)`: its flats
ready, no visits, the weather letting it go, since no resource makes up for a closed road;
breakdowns, illness and every spread kept), R replications with common random numbers, so
that every candidate sees the same draws. "Finishes inside the time rules" means every
household is in its flat (step 6) that day and no rule is broken (a night departure, a
pause, overtime); helping a family settle (step 7) may run into the next morning, as the
shift rule allows. A reception team is a volunteer squad with its share of the unloading
bays and settling staff (in the scenario's proportions).

The search (`size_day`, `DaySearch`): first the reception teams, on the arrivals of a road
with everything at once (the new town's teams serve every county); then each road
resource in `SEARCH` order, the others at what was found so far (those not yet searched at
what the whole day at once needs), trying one less first (a far county's day needs all it
asks at once) and else searching upwards from the smallest that finishes at mean times
(`simlib.moving.timing`). Each candidate is judged on the replications, those that failed
before first, stopping once the share is decided. The answer is minimal in the sense that
no one resource can be one less. A day that misses even with everything at once cannot be
met with resources (the route is too long for the daylight, say): `Unmeetable`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from simlib.files import write_atomic
from simlib.moving.calendar import Calendar, in_flat_step
from simlib.moving.campaign import Campaign, Mode
from simlib.moving.convoys import REQUESTS, convoy_needs, form_convoys, night_departure
from simlib.moving.inputs import DAY, MovingParams
from simlib.moving.plan import BatchPlan, county_queues, plan_frame
from simlib.moving.timing import kept, time_plan
from simlib.provenance import RunFailed

# the resources searched, in turn; a reception team is a volunteer squad with its share of
# the unloading bays and settling staff (in the scenario's proportions)
RECEPTION = ("unloading_bays", "volunteer_squads", "settling_staff")
SEARCH = (*REQUESTS, "loading_crews", "reception_teams")
COLUMNS = ("date", "county", "households", "trucks", "coaches", "drivers", "police_officers", "police_cars", "cadres", "doctors", "loading_crews", "reception_teams", "finish_time")  # fmt: skip


class Unmeetable(RunFailed):
    """A convoy day that no resources let finish inside the time rules (or none within the
    ranges asked for)."""


@dataclass(frozen=True)
class DayCase:
    """One convoy day to size: its households (in call order) and where it goes."""

    params: MovingParams
    households: pd.DataFrame
    day: int
    county: str
    seed: int
    replications: int
    share: float


def whole_day(case: DayCase) -> dict[str, int]:
    """What the day needs if every convoy goes at once and every family is received at
    once: the top of every search."""
    p = case.params
    sizes = case.households["size"].tolist()
    ample = {k: 10**6 for k in REQUESTS}
    totals = dict.fromkeys(REQUESTS, 0)
    trucks = 0
    for _, _, t, b in form_convoys(sizes, p, ample):
        for k, v in convoy_needs(t, b, p).items():
            totals[k] += v
        trucks += t
    return {**totals, "loading_crews": trucks, "reception_teams": len(sizes)}


def one_convoy(case: DayCase) -> dict[str, int]:
    """The least of each resource one household's convoy needs: the bottom of a search."""
    least = convoy_needs(1, 1, case.params)
    return {**least, "loading_crews": 1, "reception_teams": 1}


def reception_staff(params: MovingParams, teams: int) -> dict[str, int]:
    """The move-in teams of `teams` reception teams: as many volunteer squads, and the
    unloading bays and settling staff in the scenario's proportion to the squads."""
    squads = params.resources["volunteer_squads"]
    return {r: max(1, round(teams * params.resources[r] / squads)) for r in RECEPTION}


def _pools(case: DayCase, values: dict[str, int]) -> dict[str, int]:
    pools = {k: values[k] for k in (*REQUESTS, "loading_crews")}
    pools.update(reception_staff(case.params, values["reception_teams"]))
    return pools


def _campaign(case: DayCase, values: dict[str, int], r: int, mode: Mode, cal=None, plan=None) -> Campaign:  # fmt: skip
    p = case.params
    if plan is None:
        plan = BatchPlan(plan_frame([(case.day, case.county, len(case.households))], p), "day")
    keys = (case.seed, "needs", case.county, case.day, r)
    pools = _pools(case, values)
    return Campaign(p, case.households, plan, keys, pools=pools, mode=mode, calendar=cal).run()


def _received_at_once(c: Campaign, day: int) -> bool:
    """Whether every family, received the moment it arrives (as many teams as families),
    is in its flat that day."""
    in_flat = in_flat_step(c.params.steps)
    for h, t in enumerate(c.arrival.tolist()):
        for group in c.after:
            minutes = c.group_minutes[group][h]
            if c.cal.later_start(t, minutes, "after") is not None:
                return False
            t += minutes
            if in_flat in group.steps:
                if math.floor(t / DAY) != day:
                    return False
                break
    return True


class DaySearch:
    """The replications of one convoy day. The reception is sized first, on the arrivals
    of the road with everything at once; each road resource then by the road alone with
    the families received at once (a lower bound, cheap), and from there upwards with the
    reception found. Replications that failed are tried first, so a candidate that fails
    is usually dropped after one run."""

    def __init__(self, case: DayCase) -> None:
        self.case = case
        self.cal = Calendar(case.params)
        self.plan = BatchPlan(plan_frame([(case.day, case.county, len(case.households))], case.params), "day")  # fmt: skip
        self.arrivals: dict[int, tuple[float, ...] | None] = {}
        self.roads: dict[tuple, tuple[float, ...] | None] = {}  # (road resources, r) -> arrivals
        self.wholes: dict[tuple, float | None] = {}  # (resources, r) -> last in its flat
        self.order = list(range(case.replications))

    def road(self, values: dict[str, int], r: int) -> tuple[float, ...] | None:
        """Replication r's arrival times if its road keeps the day (the families received
        the moment they arrive), else None."""
        key = (tuple(values[k] for k in SEARCH[:-1]), r)
        if key not in self.roads:
            self.roads[key] = self._road(values, r)
        return self.roads[key]

    def _road(self, values: dict[str, int], r: int) -> tuple[float, ...] | None:
        case = self.case
        c = _campaign(case, values, r, Mode(day_only=True, road_only=True), self.cal, self.plan)
        ok = (
            (c.sent_day == case.day).all()
            and not c.in_pause.any()
            and not any(night_departure(x["departure"], case.params) for x in c.convoys)
            and _received_at_once(c, case.day)
        )
        return tuple(c.arrival.tolist()) if ok else None

    def reception(self, values: dict[str, int], r: int, arrivals=None) -> float | None:
        """When replication r's last family is in its flat, if the day finishes (on the
        arrivals kept, or those given)."""
        arrivals = self.arrivals.get(r) if arrivals is None else arrivals
        if arrivals is None:
            return None
        case = self.case
        mode = Mode(day_only=True, arrivals=arrivals, in_flat_only=True)
        c = _campaign(case, values, r, mode, self.cal, self.plan)
        in_flat = np.array([row[in_flat_step(case.params.steps)] for row in c.end])
        if np.isnan(in_flat).any() or (np.floor(in_flat / DAY) != case.day).any():
            return None
        if c.overtime.any() or c.in_pause.any():
            return None
        return float(in_flat.max() - case.day * DAY)

    def whole(self, values: dict[str, int], r: int) -> float | None:
        """Road and reception of replication r with these resources."""
        key = (tuple(values[k] for k in SEARCH), r)
        if key not in self.wholes:
            arrivals = self.road(values, r)
            self.wholes[key] = None if arrivals is None else self.reception(values, r, arrivals)
        return self.wholes[key]

    def enough(self, test) -> bool:
        """Whether at least `share` of the replications pass `test` (stopping once it is
        decided)."""
        case = self.case
        need = math.ceil(case.share * case.replications - 1e-9)
        ok = misses = 0
        for r in list(self.order):
            if test(r) is not None:
                ok += 1
                if ok >= need:
                    return True
            else:
                misses += 1
                self.order.remove(r)
                self.order.insert(0, r)
                if misses > case.replications - need:
                    return False
        return ok >= need

    def fix_road(self, values: dict[str, int]) -> None:
        """Keep each replication's arrivals with these road resources."""
        self.arrivals = {r: self.road(values, r) for r in range(self.case.replications)}

    def finish_minutes(self, values: dict[str, int]) -> list[float]:
        times = [self.whole(values, r) for r in range(self.case.replications)]
        return [t for t in times if t is not None]


def smallest(test: Callable[[int], bool], low: int, high: int) -> int:
    """The smallest v in [low, high] with test(v) true, test(high) being true and test
    growing with v; tries `high - 1` first (a far county's day needs all it asks at once)."""
    if high <= low or not test(high - 1):
        return high
    lo, hi = low - 1, high - 1  # lo fails (or is below the range), hi passes
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if test(mid) else (mid, hi)
    return hi


def mean_time_fits(case: DayCase, values: dict[str, int], cal: Calendar) -> bool:
    """Whether the day finishes with these resources at mean times with no disruptions,
    by the arithmetic of `simlib.moving.timing` (a quick first guess for the search)."""
    p = case.params
    teams = {**p.resources, **reception_staff(p, values["reception_teams"])}
    params = replace(p, resources=teams)
    plan = pd.DataFrame([(case.day, case.county, len(case.households))], columns=["day", "county", "households"])  # fmt: skip
    queues = {case.county: np.arange(len(case.households))}
    table = time_plan(params, case.households, plan, queues, _pools(case, values), cal).households
    table["flat_ready"] = -math.inf  # the day's flats are ready
    table["carried_over"] = False  # settling may go to the next morning
    return bool(kept(table, params).all())


def gallop(test: Callable[[int], bool], low: int, high: int) -> int:
    """The smallest v in [low, high] with test(v) true (test(high) true, test growing
    with v), searched upwards from `low`, where it usually lies."""
    step, lo, v = 1, low - 1, low  # lo fails (or lies below the range)
    while v < high and not test(v):
        lo, step = v, step * 2
        v = min(high, lo + step)
    return smallest(test, lo + 1, v) if v > lo + 1 else v


def _search_road(search: DaySearch, values: dict[str, int], name: str, low: int) -> int:
    """The smallest of one road resource with the others as they are: one less than now
    first (on a day that needs all it asks at once that is the only run); else upwards
    from the smallest that finishes at mean times."""
    top = values[name]

    def whole(v: int) -> bool:
        return search.enough(lambda r: search.whole({**values, name: v}, r))

    if top <= low or not whole(top - 1):
        return top
    guess = smallest(lambda v: mean_time_fits(search.case, {**values, name: v}, search.cal), low, top - 1)  # fmt: skip
    return gallop(whole, guess, top - 1)


def size_day(case: DayCase, ranges: dict[str, tuple[int, int]] | None = None) -> dict:
    """The smallest resources of one convoy day (see the module docstring and
    `DaySearch`), with its finishing time (the median over the replications that finish
    of the last family in its flat, minutes after midnight)."""
    ranges = ranges or {}
    top, bottom = whole_day(case), one_convoy(case)
    low = {k: max(bottom[k], ranges.get(k, (1, 0))[0]) for k in SEARCH}
    values = {k: max(low[k], min(top[k], ranges.get(k, (0, 10**9))[1])) for k in SEARCH}
    search = DaySearch(case)
    if not search.enough(lambda r: search.whole(values, r)):
        raise Unmeetable(
            f"{case.county}'s convoy day of {case.params.date(case.day).isoformat()} "
            f"({len(case.households)} households) does not finish inside the time rules in "
            f"{case.share:.0%} of {case.replications} replications even with every convoy "
            "and family served at once" + (" within the ranges asked for" if ranges else "")
        )
    search.fix_road(values)
    guess = smallest(lambda v: mean_time_fits(case, {**values, "reception_teams": v}, search.cal), low["reception_teams"], values["reception_teams"])  # fmt: skip
    values["reception_teams"] = gallop(
        lambda v: search.enough(lambda r: search.reception({**values, "reception_teams": v}, r)),
        guess,
        values["reception_teams"],
    )
    for name in SEARCH[:-1]:
        if name == "drivers":  # a driver for every vehicle on the road: no more than them
            values[name] = min(values[name], values["trucks"] + values["coaches"])
        values[name] = _search_road(search, values, name, low[name])
    finish = search.finish_minutes(values)
    return {
        "date": case.params.date(case.day).isoformat(),
        "county": case.county,
        "households": len(case.households),
        **{k: values[k] for k in SEARCH},
        **reception_staff(case.params, values["reception_teams"]),
        "finish_minute": float(np.median(finish)) if finish else math.nan,
    }


def _size(args) -> dict:
    return size_day(*args)


def day_cases(params, households, plan: BatchPlan, seed: int, replications: int, share: float) -> list[DayCase]:  # fmt: skip
    """One case per convoy day of the plan, with the households it calls."""
    households = households.reset_index(drop=True)
    queues = county_queues(households, params)
    head = dict.fromkeys(queues, 0)
    cases = []
    for r in plan.rows.itertuples(index=False):
        members = queues[r.county][head[r.county] : head[r.county] + r.households]
        head[r.county] += r.households
        cases.append(DayCase(params, households.iloc[members].reset_index(drop=True), int(r.day), r.county, seed, replications, share))  # fmt: skip
    return cases


def plan_needs(
    cases: list[DayCase], ranges: dict[str, tuple[int, int]] | None = None, workers: int = 1
) -> pd.DataFrame:
    """`size_day` of every case, on `workers` processes; one row per convoy day."""
    jobs = [(case, ranges) for case in cases]
    if workers <= 1 or len(jobs) <= 1:
        rows = [_size(j) for j in jobs]
    else:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs), os.cpu_count() or 1))
        try:
            rows = list(pool.map(_size, jobs))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    table = pd.DataFrame(rows)
    table["finish_time"] = [f"{int(m // 60):02d}:{int(m % 60):02d}" for m in table["finish_minute"]]
    return table


def overrides(table: pd.DataFrame, scale: float) -> dict[str, int]:
    """Scenario overrides (data/moving/parameters.csv names, at full scale) that give every
    day of `table` what it needs: the most any day needs of each."""
    most = table[[*SEARCH, *RECEPTION]].max()

    def full(n: int) -> int:  # a count that scales back to at least n
        return int(math.ceil(n / scale - 1e-9))

    return {
        "leased_vehicles_per_county_day": full(most["trucks"]) + full(most["coaches"]),
        "coaches_per_county_day": full(most["coaches"]),
        "drivers_per_county_day": full(most["drivers"]),
        "route_vehicles_per_day": full(most["route_vehicles"]),
        "police_officers_per_county": full(most["police_officers"]),
        "police_cars_per_county": full(most["police_cars"]),
        "cadres_per_county": full(most["cadres"]),
        "doctors_per_county": full(most["doctors"]),
        "loading_crews_per_county": full(most["loading_crews"]),
        "volunteer_platoons": full(most["unloading_bays"]),
        "unloading_points_per_platoon": 1,
        "volunteer_squads": full(most["volunteer_squads"]),
        "settling_staff": full(most["settling_staff"]),
    }


@dataclass(frozen=True)
class NeedsRequest:
    """What `simlib needs` was asked: replications per day, processes, the share of
    replications a day must finish in, search ranges by resource, only some dates, and a
    folder to write to."""

    replications: int = 10
    workers: int = 1
    share: float = 0.9
    ranges: dict[str, tuple[int, int]] | None = None
    dates: tuple = ()
    out: str | None = None


def needs_summary(inputs, request: NeedsRequest) -> dict:
    """What `simlib needs --json` prints: `days` (one row per convoy day of the plan, see
    COLUMNS), the most any day needs and the scenario overrides that give it every day; with
    `out`, needs.csv, the plan and a scenario running it with those resources."""
    from simlib.moving.generate import make_plan

    p, households = inputs.moving, inputs.population.households
    plan = make_plan(p, households)
    cases = day_cases(p, households, plan, inputs.seed, request.replications, request.share)
    if request.dates:
        wanted = {p.day(d) for d in request.dates}
        cases = [c for c in cases if c.day in wanted]
        if not cases:
            raise Unmeetable(f"the plan has no convoy day on {', '.join(d.isoformat() for d in request.dates)}")  # fmt: skip
    table = plan_needs(cases, request.ranges, request.workers)
    most = {k: int(table[k].max()) for k in (*SEARCH, *RECEPTION)}
    summary = {
        "scenario": inputs.scenario.name,
        "plan": plan.source,
        "seed": inputs.seed,
        "replications": request.replications,
        "share": request.share,
        "days": [
            {k: _plain(row[k]) for k in [*COLUMNS, *(c for c in row if c not in COLUMNS)]}
            for row in table.to_dict("records")
        ],  # fmt: skip
        "most": most,
        "overrides": overrides(table, inputs.scenario.scale),
        "out": request.out,
    }
    if request.out:
        write_needs(inputs, plan, table, summary["overrides"], request.out)
    return summary


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def write_needs(inputs, plan: BatchPlan, table: pd.DataFrame, changes: dict, out) -> None:
    """needs.csv, plan.csv (the plan sized) and resources.yaml: a scenario that runs that
    plan with the resources every day needs."""
    import yaml

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "needs.csv", table.to_csv(index=False))
    plan.to_csv(folder / "plan.csv")
    s = inputs.scenario
    scenario = {
        "name": f"{s.name}-needs",
        "description": f"{s.name} with the resources `simlib needs` found for its plan (the most any convoy day needs)",  # fmt: skip
        "data": str(s.data_dir.resolve()),
        "seed": s.seed,
        "scale": s.scale,
        "moving": {**dict(s.overrides.get("moving", {})), **changes, "batch_plan": "plan.csv"},
    }
    for domain in ("population", "jobs"):
        if s.overrides.get(domain):
            scenario[domain] = dict(s.overrides[domain])
    write_atomic(folder / "resources.yaml", yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True))  # fmt: skip
