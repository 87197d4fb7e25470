"""Daily visits by the grid workers (SimPy): special groups every day, the step-8 follow-up
of every household that moves in, and the epidemic follow-up of people back from outside.

Each grid's workers are its resources: the grid leader and members on duty that day (each
with a chance `staff_duty_share`) and the party members who turn out (the grid's active
volunteers, each with a chance `volunteer_turnout`). Every morning at `work_start` a grid
lists its day's work in the order of `followup_priority` (data/community/parameters.csv):
- epidemic follow-ups first (a returning person handed over by a checkpoint), by due time;
- under due_first: step-8 visits due today or late, then special-group visits, then the
  other step-8 visits (oldest first); special_first and followup_first as named;
within a class, buildings in the order of a walk from the grid's base. Each worker takes
the next visit as long as walking there, getting in and an average visit still fit in
their hours; walking is the street distance at `walking_speed`. A special-group visit not
made that day is missed (the day's coverage falls); a step-8 or epidemic visit waits for
the next day. A household's special-group members are visited from the day after it moves
in, its step-8 visit is due `followup_days_target` days after (moving inputs).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import pandas as pd
import simpy

from simlib.community.inputs import Staffing, VisitTimes
from simlib.community.site import Site
from simlib.population import largest_remainder
from simlib.randomness import stream

DAY = 1440.0  # minutes
SPECIAL, FOLLOWUP, RETURNEE = 0, 1, 2  # kinds of visit
CLASSES = {  # priority class of (kind, due today or late) under each rule; lower goes first
    "due_first": {(RETURNEE, True): 0, (RETURNEE, False): 0, (FOLLOWUP, True): 1,
                  (SPECIAL, True): 2, (FOLLOWUP, False): 3},
    "special_first": {(RETURNEE, True): 0, (RETURNEE, False): 0, (SPECIAL, True): 1,
                      (FOLLOWUP, True): 2, (FOLLOWUP, False): 2},
    "followup_first": {(RETURNEE, True): 0, (RETURNEE, False): 0, (FOLLOWUP, True): 1,
                       (FOLLOWUP, False): 1, (SPECIAL, True): 2},
}  # fmt: skip


@dataclass(frozen=True)
class Town:
    """What the visits need to know of the town: each building's grid and place on its
    grid's walk, each grid's base, and the grids' volunteers."""

    site: Site
    grid_of: np.ndarray  # grid number (1..K) per building of site
    base: np.ndarray  # base building index per grid (index g - 1)
    tour: np.ndarray  # position of each building on its grid's walk from the base
    volunteers: np.ndarray  # active party members per grid

    @property
    def grids(self) -> int:
        return len(self.base)


def make_town(site: Site, buildings: pd.DataFrame, staff: Staffing) -> Town:
    """From the grid plan's buildings table (grid, base, workload per building): the walk
    order inside each grid (nearest next, from the base) and the active volunteers spread
    over the grids by workload."""
    grid_of = buildings["grid"].to_numpy(dtype=int)
    k = int(grid_of.max())
    base = np.array([site.index[b] for b in buildings.groupby("grid")["base"].first()])
    tour = np.zeros(len(site), dtype=int)
    for g in range(1, k + 1):
        left = set(np.flatnonzero(grid_of == g).tolist())
        here, position = int(base[g - 1]), 0
        while left:
            here = min(left, key=lambda b: (site.walking[here, b], b))
            tour[here], position = position, position + 1
            left.discard(here)
    load = buildings.groupby("grid")["workload"].sum().to_numpy(dtype=float)
    active = round(staff.party_members * staff.active_share)
    return Town(site, grid_of, base, tour, largest_remainder(load, active))


@dataclass(frozen=True)
class Setup:
    """The rest of one replication's inputs."""

    staff: Staffing
    times: VisitTimes
    target_days: int  # the step-8 visit is due this many days after moving in
    days: int  # days simulated from the campaign's first day
    returnee_hours: float  # a returning person is visited within this many hours
    seed: int
    replication: int


class Visits:
    """The SimPy model of one replication (see the module docstring).

    `households`: one row per household with building_index, special_members and
    moved_in_day (-1 = not moved); `returnees`: one row per person handed over by a
    checkpoint, with building_index and handover (minutes from the campaign's first
    midnight), in handover order.
    """

    def __init__(self, town: Town, households: pd.DataFrame, returnees: pd.DataFrame, setup: Setup):
        self.town, self.setup = town, setup
        self.env = simpy.Environment()
        self.classes = CLASSES[setup.times.priority]
        self.building = households["building_index"].to_numpy(dtype=int)
        self.special = households["special_members"].to_numpy(dtype=int)
        self.moved = households["moved_in_day"].to_numpy(dtype=int)
        self.visited = np.full(len(households), np.nan)  # minute the step-8 visit ended
        self.r_building = returnees["building_index"].to_numpy(dtype=int)
        self.handover = returnees["handover"].to_numpy(dtype=float)
        self.r_visited = np.full(len(returnees), np.nan)
        self.grid = town.grid_of[self.building] - 1
        self.r_grid = town.grid_of[self.r_building] - 1 if len(returnees) else np.zeros(0, int)
        self._draw(len(households), len(returnees))
        self.today: list[list | None] = [None] * town.grids
        self.members_visited = np.zeros(town.grids, dtype=int)
        self.log: list[tuple] = []  # one row per grid and day, see `grid_days`
        self._lists()
        self._facts()

    def _draw(self, n_households: int, n_returnees: int) -> None:
        """Every random input from its own stream (common random numbers)."""
        s, k, days = self.setup, self.town.grids, self.setup.days
        key = ("community", "visits", s.replication)
        staff = s.staff.leaders_per_grid + s.staff.members_per_grid
        self.on_duty = stream(s.seed, *key, "duty").binomial(
            staff, s.staff.staff_duty_share, (days, k)
        )
        self.out = stream(s.seed, *key, "turnout").binomial(
            np.broadcast_to(self.town.volunteers, (days, k)), s.staff.volunteer_turnout
        )
        shape = 1 / s.times.cv**2 if s.times.cv > 0 else np.inf

        def gamma(name: str, size) -> np.ndarray:
            if not np.isfinite(shape):
                return np.ones(size)
            return stream(s.seed, *key, name).gamma(shape, 1 / shape, size)

        self.special_factor = gamma("special", (days, n_households))
        self.followup_factor = gamma("followup", n_households)
        self.returnee_factor = gamma("returnee", n_returnees)

    def _lists(self) -> None:
        """Per grid: its special-group households in walk order, and its households by
        the day they moved in (they join the step-8 list the next morning)."""
        tour = self.town.tour[self.building]
        order = np.lexsort((np.arange(len(self.building)), tour))
        special = order[self.special[order] > 0]
        self.special_rows = [special[self.grid[special] == g] for g in range(self.town.grids)]
        moved = np.flatnonzero(self.moved >= 0)
        moved = moved[np.argsort(self.moved[moved], kind="stable")]
        self.arrivals = [moved[self.grid[moved] == g] for g in range(self.town.grids)]
        self.next_arrival = [0] * self.town.grids
        self.pending: list[set[int]] = [set() for _ in range(self.town.grids)]
        self.r_pending: list[set[int]] = [set() for _ in range(self.town.grids)]

    def _facts(self) -> None:
        """Each visit's building, place on the walk, mean minutes and due minute, per row,
        as Python numbers: the workers read them for every visit, and a numpy scalar costs
        several times more to read (the values, and so every figure, are the same)."""
        s, times = self.setup, self.setup.times
        self.walking = self.town.site.walking.tolist()  # [from][to] metres
        self.h_tour = self.town.tour[self.building]
        self.special_mean = times.special_base + times.special_member * self.special
        self.followup_due_day = (self.moved + s.target_days).tolist()
        self.followup_factors = self.followup_factor.tolist()
        self.r_tour = self.town.tour[self.r_building].tolist()
        self.r_due = (self.handover + 60 * s.returnee_hours).tolist()
        self.r_factors = self.returnee_factor.tolist()

    def run(self) -> Visits:
        for g in range(self.town.grids):
            self.env.process(self.grid_days(g))
        self.env.process(self.handovers())
        self.env.run(until=self.setup.days * DAY)
        return self

    # --- processes ----------------------------------------------------------------------------

    def grid_days(self, g: int):
        """A grid's days: list the work at work_start, send out who is on duty, log."""
        s, env = self.setup, self.env
        for day in range(s.days):
            yield env.timeout(max(0.0, day * DAY + s.staff.work_start - env.now))
            heap, present = self.day_list(g, day)
            self.today[g], self.members_visited[g] = heap, 0
            staff, out = int(self.on_duty[day, g]), int(self.out[day, g])
            hours = [s.staff.staff_hours] * staff + [s.staff.volunteer_hours] * out
            workers = [env.process(self.worker(g, day, env.now + 60 * h)) for h in hours]
            busy = overtime = 0.0
            if workers:
                done = yield env.all_of(workers)
                busy = float(sum(b for b, _ in done.values()))
                overtime = float(sum(o for _, o in done.values()))
            self.today[g] = None
            available = 60.0 * sum(hours) + overtime
            self.log.append(
                (day, g + 1, present, int(self.members_visited[g]), staff, out, available, busy,
                 overtime)
            )  # fmt: skip

    def worker(self, g: int, day: int, end: float):
        """One worker's day: the next visit on the list while walking there, getting in and
        an average visit fit in their hours. Returns the minutes busy and the minutes
        worked past the end (a visit that ran longer than average)."""
        env, times, heap = self.env, self.setup.times, self.today[g]
        here, busy = int(self.town.base[g]), 0.0
        walking, speed, access = self.walking, times.walking_speed, times.access
        while heap:
            _, _, _, _, kind, row, building, mean, factor = heap[0]
            walk = walking[here][building] / speed
            if env.now + walk + access + mean > end:
                break
            heapq.heappop(heap)
            minutes = walk + access + mean * factor
            yield env.timeout(minutes)
            busy += minutes
            here = building
            self._done(kind, row, g)
        return busy, max(0.0, env.now - end)

    def _done(self, kind: int, row: int, g: int) -> None:
        if kind == SPECIAL:
            self.members_visited[g] += self.special[row]
        elif kind == FOLLOWUP:
            self.visited[row] = self.env.now
            self.pending[g].discard(row)
        else:
            self.r_visited[row] = self.env.now
            self.r_pending[g].discard(row)

    def handovers(self):
        """Checkpoints hand returning people to their grid as they pass."""
        for i in np.argsort(self.handover, kind="stable"):
            yield self.env.timeout(max(0.0, self.handover[i] - self.env.now))
            g = int(self.r_grid[i])
            self.r_pending[g].add(int(i))
            if self.today[g] is not None:  # the grid is out: it goes on today's list
                heapq.heappush(self.today[g], self._entry(RETURNEE, int(i), 0, 0))

    # --- a grid's list --------------------------------------------------------------------------

    def _entry(self, kind: int, row: int, day: int, seq: int) -> tuple:
        """A heap entry: (class, due minute, place on the walk, sequence, kind, row), then
        what the worker needs of the visit: building, mean minutes, random factor (never
        compared: kind and row differ between entries)."""
        if kind == RETURNEE:
            return (self.classes[(RETURNEE, True)], self.r_due[row], self.r_tour[row], seq,
                    RETURNEE, row, int(self.r_building[row]), self.setup.times.returnee,
                    self.r_factors[row])  # fmt: skip
        if kind == FOLLOWUP:
            due_day = self.followup_due_day[row]
            return (self.classes[(FOLLOWUP, due_day <= day)], float(due_day * DAY),
                    int(self.h_tour[row]), seq, FOLLOWUP, row, int(self.building[row]),
                    self.setup.times.followup, self.followup_factors[row])  # fmt: skip
        return self._specials(np.array([row]), day, seq)[0]

    def _specials(self, rows: np.ndarray, day: int, seq: int) -> list[tuple]:
        """The day's special-group visits of `rows` as heap entries (see `_entry`), the
        sequence numbers from `seq` on."""
        n = len(rows)
        return list(
            zip(
                repeat(self.classes[(SPECIAL, True)], n),
                repeat(float((day + 1) * DAY), n),
                self.h_tour[rows].tolist(),
                range(seq, seq + n),
                repeat(SPECIAL, n),
                rows.tolist(),
                self.building[rows].tolist(),
                self.special_mean[rows].tolist(),
                self.special_factor[day, rows].tolist(),
                strict=True,
            )
        )

    def day_list(self, g: int, day: int) -> tuple[list[tuple], int]:
        """The grid's work of the day as a heap, and the special-group members present."""
        arrivals, k = self.arrivals[g], self.next_arrival[g]
        while k < len(arrivals) and self.moved[arrivals[k]] < day:
            self.pending[g].add(int(arrivals[k]))
            k += 1
        self.next_arrival[g] = k
        rows = self.special_rows[g]
        present = rows[(self.moved[rows] >= 0) & (self.moved[rows] < day)]
        heap = self._specials(present, day, 0)
        seq = len(heap)
        heap += [
            self._entry(FOLLOWUP, r, day, seq + i) for i, r in enumerate(sorted(self.pending[g]))
        ]
        seq = len(heap)
        heap += [
            self._entry(RETURNEE, r, day, seq + i) for i, r in enumerate(sorted(self.r_pending[g]))
        ]
        heapq.heapify(heap)
        return heap, int(self.special[present].sum())

    # --- tables ---------------------------------------------------------------------------------

    def grid_days_table(self) -> pd.DataFrame:
        """One row per grid and day: special-group members present and visited, workers on
        duty (staff, volunteers), minutes available (their hours, and any minutes worked
        past them), busy (walking, getting in, visiting) and past their hours, and the
        utilisation busy / available (in [0, 1])."""
        table = (
            pd.DataFrame(
                self.log,
                columns=[
                    "day",
                    "grid",
                    "special_present",
                    "special_visited",
                    "staff_on_duty",
                    "volunteers_out",
                    "available_minutes",
                    "busy_minutes",
                    "overtime_minutes",
                ],
            )
            .sort_values(["day", "grid"], kind="stable")
            .reset_index(drop=True)
        )
        available = table["available_minutes"].to_numpy()
        table["utilisation"] = np.minimum(
            1.0,
            np.divide(
                table["busy_minutes"].to_numpy(),
                available,
                out=np.zeros(len(table)),
                where=available > 0,
            ),
        )
        return table

    def followups(self) -> tuple[np.ndarray, np.ndarray]:
        """Day of each household's step-8 visit (-1 = none), and of each returning
        person's epidemic visit (-1 = none)."""

        def day(minutes: np.ndarray) -> np.ndarray:
            return np.where(np.isnan(minutes), -1, np.floor(np.nan_to_num(minutes) / DAY)).astype(
                np.int64
            )

        return day(self.visited), day(self.r_visited)


def simulate_visits(
    town: Town, households: pd.DataFrame, returnees: pd.DataFrame, setup: Setup
) -> Visits:
    """Run one replication's visits (see `Visits`)."""
    return Visits(town, households, returnees, setup).run()
