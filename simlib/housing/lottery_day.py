"""The lottery day (SimPy): the main venue, the sub-venues on live video, draw rounds,
notaries and signing desks as resources, households called by round.

The day runs as the source describes it: one draw at the main venue (the county
gymnasium) shown live at the sub-venues. Households are called in rounds, one round per
county and unit type (split when larger than `round_households_max`). A round holds the
draw screen: a notary checks the draw (seed and list on screen), the sub-venues answer a
roll call on video, the computer draws, and each household's result is shown. Its
households then sign their result at a desk of the venue they follow it from (the main
venue for a share `main_venue_share`, else their village's sub-venue), while the next
round is already drawn. When a round's last household has signed, a notary seals its
printed result. The day ends with the last seal.

All counts and times are assumptions (data/housing/parameters.csv, with ranges); signing
times are gamma distributed, and who follows from the main venue is drawn, per
replication, from the seed.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
import pandas as pd
import simpy

from simlib.housing.inputs import HousingParams, LotteryDayParams
from simlib.population import largest_remainder
from simlib.randomness import stream


class Round(NamedTuple):
    """One draw round: its households (row positions in the households table)."""

    number: int
    county: str
    unit_type: str
    members: np.ndarray


class Signing(NamedTuple):
    """One household's signing: when its result was shown, when it sat down, when done."""

    replication: int
    round: int
    venue: int  # 0 = main venue, 1..subvenues
    shown: float  # minute of day
    start: float
    end: float


def rounds_of(households: pd.DataFrame, params: HousingParams) -> list[Round]:
    """The rounds: county by county, unit type by unit type, each split into equal parts of
    at most `round_households_max` households."""
    drawing = households[households["unit_type"] != ""]
    result = []
    for (county, unit_type), group in drawing.groupby(["county", "unit_type"], sort=True):
        rows = households.index.get_indexer(group.index)
        parts = -(-len(rows) // params.day.round_households_max)
        for part in np.array_split(rows, parts):
            result.append(Round(len(result) + 1, county, unit_type, part))
    return result


def subvenues_of(households: pd.DataFrame, day: LotteryDayParams) -> np.ndarray:
    """Each household's sub-venue (1..subvenues): the sub-venues are shared out among the
    townships in proportion to their households (at least one each, when there are enough),
    and a township's villages take turns among its sub-venues."""
    townships = households.groupby("township").size().sort_index()
    share = largest_remainder(townships.to_numpy(dtype=float), day.subvenues)
    if day.subvenues >= len(townships):
        share = np.maximum(share, 1)
        while share.sum() > day.subvenues:
            share[np.argmax(share)] -= 1
    first = np.concatenate([[1], 1 + np.cumsum(share)[:-1]])
    venue = np.zeros(len(households), dtype=int)
    for k, township in enumerate(townships.index):
        rows = np.flatnonzero(households["township"].to_numpy() == township)
        villages = sorted(set(households["village"].to_numpy()[rows]))
        turn = {v: i % max(1, share[k]) for i, v in enumerate(villages)}
        base = first[k] if share[k] else 1 + k % day.subvenues
        venue[rows] = [base + turn[v] for v in households["village"].to_numpy()[rows]]
    return venue


def _gamma(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    if cv <= 0:
        return np.full(n, mean)
    shape = 1.0 / cv**2
    return rng.gamma(shape, mean / shape, n)


class Day:
    """One replication of the lottery day: the environment, its resources and processes."""

    def __init__(
        self, day: LotteryDayParams, rounds: list[Round], venues: np.ndarray, rep: int, seed: int
    ):
        self.day, self.rounds, self.rep = day, rounds, rep
        self.env = simpy.Environment(initial_time=day.day_start)
        self.stage = simpy.Resource(self.env, capacity=1)
        self.notaries = simpy.Resource(self.env, capacity=day.notaries)
        # each venue's queue of households waiting to sign, served by its desks' staff; an
        # idle desk waits for the venue's next round (one event per round, not per household)
        self.queues: list[deque] = [deque() for _ in range(day.subvenues + 1)]
        self.arrivals = [self.env.event() for _ in range(day.subvenues + 1)]
        self.pending: dict[int, int] = {}  # round -> households still to sign
        self.round_done: dict[int, simpy.Event] = {}
        for venue in range(day.subvenues + 1):
            for _ in range(day.main_venue_desks if venue == 0 else day.subvenue_desks):
                self.env.process(self._desk(venue))
        self.venues = venues
        rng = stream(seed, "housing", "lottery_day", rep, "signing")
        self.signing_times = _gamma(rng, day.confirm_mean, day.confirm_cv, len(venues))
        self.log: list[Signing] = []
        self.round_log: list[dict] = []

    def run(self) -> float:
        """The day's end: the last seal (desks then wait for households that never come)."""
        done = self.env.process(self._all_rounds())
        self.env.run(until=done)
        return self.env.now

    def _all_rounds(self):
        seals = []
        for r in self.rounds:
            with self.stage.request() as stage:
                yield stage
                start = self.env.now
                with self.notaries.request() as notary:
                    yield notary
                    yield self.env.timeout(self.day.notary_check)
                yield self.env.timeout(self.day.video_rollcall + self.day.draw)
                yield self.env.timeout(len(r.members) * self.day.display_seconds_per_household / 60)
            shown = self.env.now
            self.round_log.append({"round": r.number, "start": start, "shown": shown})
            self.pending[r.number] = len(r.members)
            self.round_done[r.number] = self.env.event()
            for h in r.members:
                self.queues[int(self.venues[h])].append((r.number, int(h), shown))
            for venue in set(self.venues[r.members].tolist()):
                arrived, self.arrivals[venue] = self.arrivals[venue], self.env.event()
                arrived.succeed()
            seals.append(self.env.process(self._seal(r.number)))
        yield self.env.all_of(seals)

    def _desk(self, venue: int):
        """One staff member at a signing desk: the next household in the venue's queue,
        first come first served."""
        queue = self.queues[venue]
        while True:
            if not queue:
                yield self.arrivals[venue]
                continue
            number, h, shown = queue.popleft()
            start = self.env.now
            yield self.env.timeout(self.signing_times[h])
            self.log.append(
                Signing(self.rep, number, int(self.venues[h]), shown, start, self.env.now)
            )
            self.pending[number] -= 1
            if not self.pending[number]:
                self.round_done[number].succeed()

    def _seal(self, number: int):
        if self.pending[number]:
            yield self.round_done[number]
        with self.notaries.request() as notary:
            yield notary
            yield self.env.timeout(self.day.seal)
        self.round_log[number - 1]["sealed"] = self.env.now


def simulate_day(
    households: pd.DataFrame, params: HousingParams, seed: int, replications: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, rounds): one row per replication (hours, rounds, households per round, waits,
    the desks' busiest share) and one row per replication and round."""
    day = params.day
    replications = day.replications if replications is None else replications
    rounds = rounds_of(households, params)
    subvenue = subvenues_of(households, day)
    runs, round_rows = [], []
    for rep in range(replications):
        main = stream(seed, "housing", "lottery_day", rep, "venue").random(len(households))
        venues = np.where(main < day.main_venue_share, 0, subvenue)
        sim = Day(day, rounds, venues, rep, seed)
        end = sim.run()
        runs.append(_run_row(sim, rep, end, rounds))
        round_rows += [dict(row, replication=rep) for row in sim.round_log]
    return pd.DataFrame(runs), pd.DataFrame(round_rows)


def _run_row(sim: Day, rep: int, end: float, rounds: list[Round]) -> dict:
    log = pd.DataFrame(sim.log, columns=Signing._fields)
    wait = (log["start"] - log["shown"]).to_numpy()
    sizes = np.array([len(r.members) for r in rounds])
    return {
        "replication": rep,
        "hours": (end - sim.day.day_start) / 60,
        "end_minute": end,
        "rounds": len(rounds),
        "households": int(sizes.sum()),
        "households_per_round": float(sizes.mean()) if len(sizes) else 0.0,
        "wait_mean_minutes": float(wait.mean()) if len(wait) else 0.0,
        "wait_p95_minutes": float(np.percentile(wait, 95)) if len(wait) else 0.0,
        "last_draw_minute": max((r["shown"] for r in sim.round_log), default=sim.day.day_start),
        "main_venue_households": int((log["venue"] == 0).sum()),
    }
