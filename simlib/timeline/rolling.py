"""One run of the employment timeline: matching batches and export buses in one SimPy
environment, time in days from the moving campaign's first day.

Two processes share the environment:
- `matching`: every `batch_interval_days` (every day for the greedy policy) the laborers
  who are available (their household moved in `settling_days` ago or more) and have no job
  are matched to the places still open. The optimised ("rolling") policy solves the static
  matching's formulation on them (`simlib.matching.batch`: stay-or-go, expected lasting
  employment first), with households that already have a worker out of the household
  rule, those with one at work in the new town out of the care rule, the care places
  left and the fairness floor over everyone so far; the greedy policy takes them first
  come, first served, each to the open job with the highest expected income (success
  probability x net wage) they may take, keeping the care rule as the matching's
  first-come rule does. A match is kept (nobody is moved between jobs) unless
  `allow_reassignment`, which re-matches those not yet at work. Work starts after the
  programme's training, or, for the export bus channel, on the bus booked.
- `buses`: the return-to-work buses leave on their days with the seats booked on them.

Hold-back (rolling policy only): `none` offers every open place; `proportional` keeps, of
each employer's places still to come, the share of laborers still to come; `lookahead`
matches the available laborers together with everyone still to come (the plan knows who
is coming, not when) against everything still to open, and gives the available ones
their places where those are open now.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from simlib.jobs_inputs import JobsParams
from simlib.matching.batch import Batch, BatchState, match_batch
from simlib.timeline.inputs import TimelineParams
from simlib.timeline.openings import Openings

POLICIES = ("rolling", "greedy")


@dataclass(frozen=True)
class Setup:
    """What every policy of one moving replication runs on."""

    params: TimelineParams
    jobs: JobsParams
    openings: Openings
    laborers: pd.DataFrame  # one row per laborer, with the day they become available
    probability: np.ndarray  # success probability, laborer x employer (0: not eligible)
    income: np.ndarray  # expected income, laborer x employer (0: not eligible)
    care_bound: np.ndarray  # households the matching's care rule binds
    day_zero: dt.date  # the campaign's day 0


@dataclass(frozen=True)
class TimelineRun:
    """Tables of one run (one policy, one moving replication).

    laborers: one row per laborer whose household moved in: person_id, household_id,
        county, arrival_day, available_day, employer ('' none), programme, matched_day,
        start_day (-1 = no job by the horizon), bus (-1 = none), probability.
    batches: one row per matching batch: day, pool, offered, matched, status, softened,
        seconds.
    buses: one row per bus: bus, day, seats, riders.
    """

    policy: str
    replication: int
    laborers: pd.DataFrame
    batches: pd.DataFrame
    buses: pd.DataFrame
    first_arrival: int  # day
    last_arrival: int  # day
    horizon: int  # day: the last day simulated

    def employed_on(self, days: np.ndarray) -> np.ndarray:
        """People at work on each day (started on or before it)."""
        start = self.laborers["start_day"].to_numpy()
        start = np.sort(start[start >= 0])
        return np.searchsorted(start, np.asarray(days), side="right")


class Timeline:
    """The environment, the laborers' state and the logs of one run."""

    def __init__(
        self,
        setup: Setup,
        policy: str = "rolling",
        solver: str = "cbc",
        time_limit=None,
        memo: dict | None = None,
    ):
        if policy not in POLICIES:
            raise ValueError(f"policy(={policy!r}) must be one of {POLICIES}")
        self.env = simpy.Environment()
        self.params, self.jobs, self.openings = setup.params, setup.jobs, setup.openings
        self.laborers = setup.laborers.reset_index(drop=True)
        self.policy, self.solver, self.time_limit = policy, solver, time_limit
        self.memo = memo  # batches solved in earlier replications (`match`), or None
        self.income = setup.income  # laborers x employers: expected income, 0 = not eligible
        self.probability = setup.probability  # laborers x employers: chance the hire lasts
        self.care_used = 0  # care places used by earlier batches
        # greedy: laborers not sent away, per household the care rule binds
        members = self.laborers["household_id"].value_counts()
        self.staying = {int(h): int(members.get(h, 0)) for h in setup.care_bound.tolist()}
        n = len(self.laborers)
        self.available = self.laborers["available_day"].to_numpy()
        self.household = self.laborers["household_id"].to_numpy()
        self.employer = np.full(n, -1)
        self.matched_day = np.full(n, -1)
        self.start_day = np.full(n, -1)
        self.bus = np.full(n, -1)
        self.booked = np.zeros(len(self.openings.bus_day), dtype=int)
        self.batch_rows: list[tuple] = []
        self.bus_rows: list[tuple] = []

    # --- the processes -------------------------------------------------------------------

    def matching(self, first: int, horizon: int):
        interval = 1 if self.policy == "greedy" else self.params.batch_interval_days
        yield self.env.timeout(first)
        while self.env.now <= horizon:
            self.batch(int(self.env.now))
            yield self.env.timeout(interval)

    def buses(self):
        for b, day in enumerate(self.openings.bus_day.tolist()):
            if day > self.env.now:
                yield self.env.timeout(day - self.env.now)
            self.bus_rows.append((b, day, self.openings.bus_seats, int(self.booked[b])))

    def run(self, first: int, horizon: int) -> None:
        self.env.process(self.matching(first, horizon))
        self.env.process(self.buses())
        self.env.run(until=horizon + 1)

    # --- one batch -----------------------------------------------------------------------

    def taken(self) -> np.ndarray:
        hired = self.employer[self.employer >= 0]
        return np.bincount(hired, minlength=len(self.openings.names))

    def seats_left(self, day: int, training: int) -> int:
        """Seats not yet booked on buses a laborer matched on `day` can still catch."""
        bus_day = self.openings.bus_day
        ok = (bus_day > day) & (bus_day >= day + training)
        return int((self.openings.bus_seats - self.booked[ok]).sum())

    def offer(self, day: int, taken: np.ndarray) -> np.ndarray:
        """Places open now and not yet taken, per employer."""
        o = self.openings
        left = np.maximum(o.open_capacity(day) - taken, 0)
        for e in np.flatnonzero(o.export):
            left[e] = min(left[e], self.seats_left(day, int(o.training[e])))
        return left

    def still_to_open(self, day: int, taken: np.ndarray) -> np.ndarray:
        """Places not yet taken that are open now or will open (seats of later buses)."""
        o = self.openings
        left = np.maximum(o.capacity - taken, 0)
        for e in np.flatnonzero(o.export):
            left[e] = min(left[e], self.seats_left(day, int(o.training[e])))
        return left

    def batch(self, day: int) -> None:
        started = time.perf_counter()
        released = None
        if self.params.allow_reassignment and self.policy == "rolling":
            released = self.release(day)
        taken = self.taken()
        offer = self.offer(day, taken)
        # only laborers who could take one of the open places enter the batch, so that
        # the fairness floor is taken over people the places could go to
        could = (self.income[:, offer > 0] > 0).any(axis=1)
        pool = (self.available <= day) & (self.employer < 0) & could
        status, softened = ("no one to match" if not pool.any() else "no place open"), ""
        assign = np.full(len(pool), -1)
        if pool.any() and offer.sum() > 0:
            if self.policy == "greedy":
                assign, status = self.greedy(pool, offer), "greedy"
            else:
                assign, status, softened = self.optimise(day, pool, taken, offer)
        if released is not None:
            self.restore(released, assign)
        self.commit(day, assign)
        seconds = time.perf_counter() - started
        matched = int((assign >= 0).sum())
        self.batch_rows.append(
            (day, int(pool.sum()), int(offer.sum()), matched, status, softened, seconds)
        )

    def history(self, day: int, rows: np.ndarray) -> tuple[dict[str, int], dict[str, int]]:
        """People employed so far, and laborers available so far or in this batch's
        model (`rows`), by county: the fairness floor across batches."""
        county = self.laborers["county"]
        employed = county[self.employer >= 0].value_counts().to_dict()
        available = county[(self.available <= day) | rows].value_counts().to_dict()
        return {str(k): int(v) for k, v in employed.items()}, {
            str(k): int(v) for k, v in available.items()
        }

    def state(self, day: int, rows: np.ndarray) -> BatchState:
        """What earlier batches decided, for a batch whose model holds `rows`."""
        hired = self.employer >= 0
        at_home = hired & ~self.openings.away[np.maximum(self.employer, 0)]
        employed, available = self.history(day, rows)
        return BatchState(
            covered=np.unique(self.household[hired]),
            local=np.unique(self.household[at_home]),
            care_places=max(0, self.jobs.care_places - self.care_used),
            employed_so_far=employed,
            available_so_far=available,
        )

    def optimise(self, day, pool, taken, offer) -> tuple[np.ndarray, str, str]:
        """The rolling policy's batch: (employer per laborer, status, rule softened)."""
        policy = self.params.holdback_policy
        if policy == "lookahead":
            rows = pool | ((self.available > day) & (self.employer < 0))
            still = self.still_to_open(day, taken)
            batch = self.match(rows, still, self.state(day, rows))
            want = np.full(len(pool), -1)
            want[rows] = batch.employer
            want[~pool] = -1
            assign = self.within(want, offer, self.state(day, pool).covered)
            self.care_used += self.care_places_used(assign, pool)
            return assign, batch.status, batch.softened
        if policy == "proportional":
            to_come = int(((self.available > day) & (self.employer < 0)).sum())
            final = self.still_to_open(day, taken)
            hold = np.ceil(final * to_come / (to_come + pool.sum())).astype(int)
            offer = np.minimum(offer, np.maximum(final - hold, 0))
        batch = self.match(pool, offer, self.state(day, pool))
        assign = np.full(len(pool), -1)
        assign[pool] = batch.employer
        self.care_used += batch.care_places_used
        return assign, batch.status, batch.softened

    def match(self, rows: np.ndarray, capacity: np.ndarray, state: BatchState) -> Batch:
        """`match_batch` of these laborers, or the answer of an identical batch of an
        earlier replication: replications whose households arrive alike repeat their
        first batches, and the same laborers, places and decisions so far give the same
        answer (the solvers are deterministic)."""
        laborers = self.laborers[rows]
        solve = {"solver": self.solver, "time_limit": self.time_limit}
        if self.memo is None:
            return match_batch(laborers, self.jobs, capacity, state, **solve)
        key = _batch_key(laborers, capacity, state)
        if key not in self.memo:
            self.memo[key] = match_batch(laborers, self.jobs, capacity, state, **solve)
        return self.memo[key]

    def care_places_used(self, assign: np.ndarray, pool: np.ndarray) -> int:
        """Households with care duties none of whose laborers in the batch stays (the
        look-ahead keeps only part of its plan, so its count is taken from what is kept)."""
        lab = self.laborers
        duty = lab["care_duty"].to_numpy(bool) if "care_duty" in lab else np.zeros(len(lab), bool)
        if not self.jobs.carer_new_town_only or not (duty & pool).any():
            return 0
        away = np.zeros(len(assign), dtype=bool)
        away[assign >= 0] = self.openings.away[assign[assign >= 0]]
        frame = pd.DataFrame({"h": self.household, "away": away})[pool & duty]
        gone = frame.groupby("h")["away"].all()
        return int(gone.sum())

    def within(self, want: np.ndarray, offer: np.ndarray, covered: np.ndarray) -> np.ndarray:
        """The wanted matches that fit in the places open now: laborers of households
        without a worker first, then by person order."""
        assign = np.full(len(want), -1)
        idle = ~np.isin(self.household, covered)
        for e in np.unique(want[want >= 0]).tolist():
            members = np.flatnonzero(want == e)
            members = members[np.argsort(~idle[members], kind="stable")]
            assign[members[: offer[e]]] = e
        return assign

    def greedy(self, pool: np.ndarray, offer: np.ndarray) -> np.ndarray:
        """First come (available earliest, then registration order), first served, each
        to the open job with the highest expected income."""
        lab = self.laborers
        members = np.flatnonzero(pool)
        order = np.lexsort(
            (
                lab["person_id"].to_numpy()[members],
                lab["registration_order"].to_numpy()[members],
                self.available[members],
            )
        )
        queue = members[order]
        choices = _BestOpen(self.income[queue], self.openings.away, offer)
        left, total = offer.tolist(), int(offer.sum())
        assign = np.full(len(pool), -1)
        away = self.openings.away.tolist()
        queued = queue.tolist()
        for k in choices.positions():
            i = queued[k]
            h = int(self.household[i])
            last_at_home = self.staying.get(h, 2) <= 1
            local_only = last_at_home and self.care_used >= self.jobs.care_places
            best = choices.best(k, local_only, left)  # the care rule: local jobs only
            if best >= 0:
                assign[i] = best
                left[best] -= 1
                total -= 1
                if away[best] and h in self.staying:
                    self.care_used += int(last_at_home)  # a care place frees the household
                    self.staying[h] -= 1
                if not total:
                    break
        return assign

    def release(self, day: int) -> tuple[np.ndarray, ...]:
        """Laborers matched but not yet at work go back into the pool (reassignment);
        returns who they are and what they had."""
        waiting = np.flatnonzero((self.employer >= 0) & (self.start_day > day))
        before = (
            waiting,
            self.employer[waiting].copy(),
            self.matched_day[waiting].copy(),
            self.start_day[waiting].copy(),
            self.bus[waiting].copy(),
        )
        for b in self.bus[waiting][self.bus[waiting] >= 0].tolist():
            self.booked[b] -= 1
        self.employer[waiting] = -1
        self.matched_day[waiting] = -1
        self.start_day[waiting] = -1
        self.bus[waiting] = -1
        return before

    def restore(self, released: tuple[np.ndarray, ...], assign: np.ndarray) -> None:
        """A released laborer matched again to the same employer keeps the match, its
        training under way and its bus seat (so nobody is trained twice for one job)."""
        who, employer, matched, start, bus = released
        same = assign[who] == employer
        for i, e, m, s, b in zip(
            who[same], employer[same], matched[same], start[same], bus[same], strict=True
        ):
            self.employer[i], self.matched_day[i], self.start_day[i], self.bus[i] = e, m, s, b
            if b >= 0:
                self.booked[b] += 1
            assign[i] = -1

    def commit(self, day: int, assign: np.ndarray) -> None:
        o = self.openings
        for i in np.flatnonzero(assign >= 0).tolist():
            e = int(assign[i])
            self.employer[i], self.matched_day[i] = e, day
            if o.export[e]:
                ok = (o.bus_day > day) & (o.bus_day >= day + o.training[e])
                b = int(np.flatnonzero(ok & (self.booked < o.bus_seats))[0])
                self.booked[b] += 1
                self.bus[i], self.start_day[i] = b, int(o.bus_day[b])
            else:
                self.start_day[i] = day + int(o.training[e])

    # --- tables --------------------------------------------------------------------------

    def result(self, replication: int, first_arrival: int, last_arrival: int, horizon: int):
        lab = self.laborers
        names = np.array(self.openings.names + ("",))
        programmes = np.array(self.openings.programmes + ("",))
        table = pd.DataFrame(
            {
                "person_id": lab["person_id"].to_numpy(),
                "household_id": self.household,
                "county": lab["county"].to_numpy(),
                "arrival_day": lab["arrival_day"].to_numpy(),
                "available_day": self.available,
                "employer": names[self.employer],
                "programme": programmes[self.employer],
                "matched_day": self.matched_day,
                "start_day": self.start_day,
                "bus": self.bus,
                "probability": np.where(
                    self.employer >= 0,
                    self.probability[np.arange(len(lab)), np.maximum(self.employer, 0)],
                    0.0,
                ),
            }
        )
        columns = ["day", "pool", "offered", "matched", "status", "softened", "seconds"]
        batches = pd.DataFrame(self.batch_rows, columns=columns)
        buses = pd.DataFrame(self.bus_rows, columns=["bus", "day", "seats", "riders"])
        return TimelineRun(
            self.policy, replication, table, batches, buses, first_arrival, last_arrival, horizon
        )


# the laborers' columns a batch does not read (the matching knows nothing of days)
_DAY_COLUMNS = ["arrival_day", "available_day"]


def _batch_key(laborers: pd.DataFrame, capacity: np.ndarray, state: BatchState) -> bytes:
    """Everything a batch's answer depends on, as bytes: the laborers (every column the
    matching may read, in their order), the places and what earlier batches decided."""
    digest = hashlib.sha256()
    table = laborers.drop(columns=[c for c in _DAY_COLUMNS if c in laborers])
    digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    digest.update(repr(list(table.columns)).encode())
    for array in (capacity, state.covered, state.local):
        array = np.asarray(array, dtype=np.int64)
        digest.update(len(array).to_bytes(8, "little") + array.tobytes())
    so_far = [
        None if d is None else sorted(d.items())
        for d in (state.employed_so_far, state.available_so_far)
    ]
    digest.update(repr((state.care_places, so_far)).encode())
    return digest.digest()


class _BestOpen:
    """Each queued laborer's open job with the highest expected income (the first such
    job on a tie, as `np.argmax`; -1: none pays), anywhere or local only, kept for the
    queue's rest and searched again only when a job it names has filled: places only fill
    during a batch, so a best job still open is still the best among those open, and a
    laborer with no paid open job will have none."""

    def __init__(self, income: np.ndarray, away: np.ndarray, offer: np.ndarray):
        self.income, self.away = income, away  # queue x employers
        self.anywhere = np.full(len(income), -1)
        self.local = np.full(len(income), -1)
        self.searches = 0
        self._best_of(np.arange(len(income)), offer > 0)
        # positions with a paid open job, in order
        self.paid: list[int] = np.flatnonzero(self.anywhere >= 0).tolist()

    def _best_of(self, rows: np.ndarray, open_now: np.ndarray) -> None:
        """The best open jobs, anywhere and local, of the queue positions `rows`."""
        income = self.income[rows]
        for best_of, allowed in ((self.anywhere, open_now), (self.local, open_now & ~self.away)):
            value = np.where(allowed, income, 0.0)
            best = value.argmax(axis=1)
            paid = value[np.arange(len(rows)), best] > 0
            best_of[rows] = np.where(paid, best, -1)

    def _search(self, k: int, open_now: np.ndarray) -> None:
        """The best jobs again, over the open ones, of the positions from k still paid.
        Only those whose best job (anywhere or local) has filled are searched: a best job
        still open stays the best (and the first such) among fewer open jobs."""
        rows = np.asarray(self.paid[bisect_left(self.paid, k) :], dtype=np.intp)
        filled = ~open_now

        def stale(best: np.ndarray) -> np.ndarray:
            return (best >= 0) & filled[np.maximum(best, 0)]

        self._best_of(rows[stale(self.anywhere[rows]) | stale(self.local[rows])], open_now)
        self.paid = rows[self.anywhere[rows] >= 0].tolist()
        self.searches += 1

    def positions(self) -> Iterator[int]:
        """The queue positions, in order, less those with no paid open job at the last
        search: they get none, and passing them changes nothing."""
        done = -1
        while True:
            searches = self.searches
            for k in self.paid[bisect_right(self.paid, done) :]:
                done = k
                yield k
                if self.searches != searches:  # searched again while at k: the new list
                    break
            else:
                return

    def best(self, k: int, local_only: bool, left: list[int]) -> int:
        """Queue position k's best job among those with places `left`."""
        job = int((self.local if local_only else self.anywhere)[k])
        if job >= 0 and left[job] <= 0:  # filled since: search again over the open jobs
            self._search(k, np.asarray(left) > 0)
            job = int((self.local if local_only else self.anywhere)[k])
        return job


def available_laborers(
    people: pd.DataFrame, households: pd.DataFrame, arrivals: pd.DataFrame, settling_days: int
) -> pd.DataFrame:
    """The laborers of households that moved in, with their arrival and availability day
    (in person_id order)."""
    lab = people[people["laborer"]].drop(columns=["county"])
    info = arrivals[["household_id", "county", "arrival_day"]].merge(
        households[["household_id", "registration_order"]], on="household_id"
    )
    lab = lab.merge(info, on="household_id", how="inner").sort_values("person_id")
    lab["available_day"] = lab["arrival_day"] + settling_days
    return lab.reset_index(drop=True)


def simulate_timeline(
    setup: Setup,
    policy: str = "rolling",
    replication: int = 0,
    solver: str = "cbc",
    time_limit: float | None = None,
    memo: dict | None = None,
) -> TimelineRun:
    """One run from the first laborer's availability to `report_days_after_last_arrival`
    days after the last arrival. `memo`: batches already solved, shared by the runs of
    one policy over the replications (`Timeline.match`)."""
    laborers = setup.laborers
    first_arrival = int(laborers["arrival_day"].min())
    last_arrival = int(laborers["arrival_day"].max())
    horizon = last_arrival + setup.params.report_days_after_last_arrival
    timeline = Timeline(setup, policy, solver, time_limit, memo)
    timeline.run(int(laborers["available_day"].min()), horizon)
    return timeline.result(replication, first_arrival, last_arrival, horizon)
