"""The campaign's calendar and the shift rule of the move-in teams.

Time is minutes from midnight of `campaign_start` (day 0); flats of the first convoy days
are made ready on the days before it (negative days). Pause days are not moving days:
no convoy leaves and no flat is made ready on them. The shift rule says when a team may
start a household's work: within the shift (`work_start` to `work_end`); work that would
run past its end is carried to the next working morning (`carry_over`) or finished the
same evening and counted (`overtime`). Families already in the new town are received even
on a pause day (and counted as moved during the pause); visits go on every day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simlib.moving.inputs import DAY, MovingParams
from simlib.moving.tables import StepSpec

KINDS = ("before", "after", "followup")  # a step's phase decides its shift rule


class Calendar:
    """Pause days and moving days of one campaign, by day index (may be negative)."""

    def __init__(self, params: MovingParams) -> None:
        self.params = params
        self.horizon = params.max_campaign_days + 366
        self._paused = [params.paused(d) for d in range(self.horizon)]
        self._paused_array = np.asarray(self._paused, dtype=bool)
        nxt = [self.horizon] * (self.horizon + 1)
        for d in range(self.horizon - 1, -1, -1):
            nxt[d] = nxt[d + 1] if self._paused[d] else d
        self._next = nxt
        self._prepare: dict[int, int] = {}  # convoy day -> its preparation day

    def paused(self, day: int) -> bool:
        return 0 <= day < self.horizon and self._paused[day]

    def paused_many(self, days: np.ndarray) -> np.ndarray:
        """`paused` of each day of an array of day indices."""
        days = np.asarray(days, dtype=np.int64)
        inside = (days >= 0) & (days < self.horizon)
        out = np.zeros(days.shape, dtype=bool)
        out[inside] = self._paused_array[days[inside]]
        return out

    def next_moving(self, day: int) -> int:
        """The first day from `day` on that is not paused."""
        if day < 0:
            return day
        return self._next[min(day, self.horizon)]

    def prepare_day(self, day: int) -> int:
        """The moving day, `flats_ready_days_before` moving days before convoy day `day`,
        on which its flats are made ready (steps 1-3); looked up once per day (it is
        asked for every household)."""
        day = int(day)
        ready = self._prepare.get(day)
        if ready is None:
            ready = day
            for _ in range(self.params.flats_ready_days_before):
                ready -= 1
                while self.paused(ready):
                    ready -= 1
            self._prepare[day] = ready
        return ready

    def later_start(self, now: float, minutes: float, kind: str) -> float | None:
        """None if a team may start `minutes` of a household's work of this kind (a step
        phase) now; else when it may try again (see the module docstring)."""
        p = self.params
        day = math.floor(now / DAY)
        c = now - day * DAY
        closed = kind == "before" and self.paused(day)
        if not closed and c >= p.work_start:
            if c + minutes <= p.work_end:
                return None
            overtime = p.shift_end_rule == "overtime" and kind == "after" and c < p.work_end
            if overtime:
                return None
        if not closed and c < p.work_start:
            return day * DAY + p.work_start
        nxt = self.next_moving(day + 1) if kind == "before" else day + 1
        return nxt * DAY + p.work_start

    def within_shift(self, now: float) -> bool:
        """Whether `now` lies inside a shift (work carried from then is carried over)."""
        c = now - math.floor(now / DAY) * DAY
        return self.params.work_start <= c < self.params.work_end


@dataclass(frozen=True, eq=False)  # hashed by identity: a key looked up at every service
class Group:
    """Consecutive steps of one phase served by one team, held as one unit (the squad that
    guides a family also carries its belongings up)."""

    steps: tuple[int, ...]
    resource: str
    kind: str


def team_groups(steps: Sequence[StepSpec], phase: str) -> tuple[Group, ...]:
    """Step indices of one phase, consecutive steps of the same team grouped together."""
    groups: list[list[int]] = []
    for k, s in enumerate(steps):
        if s.phase != phase:
            continue
        if groups and groups[-1][-1] == k - 1 and steps[k - 1].resource == s.resource:
            groups[-1].append(k)
        else:
            groups.append([k])
    return tuple(Group(tuple(g), steps[g[0]].resource, phase) for g in groups)


def in_flat_step(steps: Sequence[StepSpec]) -> int:
    """The step after which a family is in its flat: "move_in" (搬家入住), else the last
    step of the arrival day. Later steps of the day (helping it settle) are reception work
    that may still be carried to the next morning."""
    after = [k for k, s in enumerate(steps) if s.phase == "after"]
    return next((k for k in after if steps[k].step == "move_in"), after[-1])
