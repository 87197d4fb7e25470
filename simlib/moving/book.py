"""The convoy days still to come, with the households due on each: the plan as it is run.

The plan is run as given: a county's households are called in queue order and booked on
its planned days. Nothing moves between days except by two stated rules:

- households left behind on a convoy day (no vehicles or escort by `latest_departure`,
  or a departure that would put them on the road in a pause) go first on the county's next
  booked convoy day, or on its next free day if it has none;
- a convoy day called off (weather) is re-planned whole on the county's next free day:
  the first day after it that is not paused and keeps `rest_days` from every other convoy
  day of the county.

The SimPy campaign and the arithmetic check at mean times both run their days from a
`Book`, so they move households between days alike.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simlib.moving.calendar import Calendar


@dataclass
class CountyDay:
    """One county convoy day as it is run: households due (in call order), of which
    `planned` were planned for it and the rest are carried in from earlier days."""

    day: int
    county: str
    due: list[int] = field(default_factory=list)
    planned: int = 0
    replanned: bool = False  # a day added by a rule, not in the plan
    hold: float = 0.0  # minutes the weather holds its convoys at the gathering point
    log: dict | None = None  # what the simulation records of the day


def _rows(plan: pd.DataFrame | list[tuple[str, int, int]]) -> Iterable[tuple[str, int, int]]:
    """(county, day, households) of each row of a plan table, or such rows as given (the
    plan generator makes a Book per day it tries, from a few rows)."""
    if isinstance(plan, pd.DataFrame):
        return zip(*(plan[k].tolist() for k in ("county", "day", "households")), strict=True)
    return plan


class Book:
    """Each county's convoy days from today on, and the days it has used (for rest days)."""

    def __init__(
        self,
        plan: pd.DataFrame | list[tuple[str, int, int]],
        queues: dict[str, np.ndarray],
        calendar: Calendar,
    ):
        self.calendar = calendar
        self.rest = calendar.params.rest_days
        self.horizon = calendar.params.max_campaign_days
        self.order = list(queues)  # county order: the order counties start on a date
        self.days: dict[str, list[CountyDay]] = {c: [] for c in queues}
        self.used: dict[str, list[int]] = {c: [] for c in queues}
        self.planned_day = {}
        rows: dict[str, list[tuple[int, int]]] = {c: [] for c in queues}
        for c, day, n in _rows(plan):
            if c in rows:
                rows[c].append((day, n))
        for c, q in queues.items():
            head = 0
            for day, n in rows[c]:
                members = [int(h) for h in q[head : head + n]]
                self.days[c].append(CountyDay(int(day), c, members, len(members)))
                self.planned_day.update(dict.fromkeys(members, int(day)))
                head += n
            for cd in self.days[c]:
                bisect.insort(self.used[c], cd.day)

    def next_date(self) -> int | None:
        """The earliest day any county has booked, or None when the book is empty."""
        firsts = [days[0].day for days in self.days.values() if days]
        return min(firsts) if firsts else None

    def pop_date(self, day: int) -> list[CountyDay]:
        """The county days booked on `day`, in county order, taken out of the book."""
        out = []
        for c in self.order:
            if self.days[c] and self.days[c][0].day == day:
                out.append(self.days[c].pop(0))
        return out

    def next_free_day(self, county: str, after: int) -> int | None:
        """The county's first day after `after` that is not paused and keeps the rest days
        from its other convoy days (None beyond the horizon)."""
        used = self.used[county]
        for day in range(after + 1, self.horizon):
            if self.calendar.paused(day):
                continue
            i = bisect.bisect_left(used, day - self.rest)
            if i < len(used) and used[i] <= day + self.rest:
                continue
            return day
        return None

    def _new_day(self, county: str, after: int, households: list[int]) -> bool:
        day = self.next_free_day(county, after)
        if day is None:
            return False
        cd = CountyDay(day, county, list(households), 0, replanned=True)
        bisect.insort(self.used[county], day)
        keys = [d.day for d in self.days[county]]
        self.days[county].insert(bisect.bisect(keys, day), cd)
        return True

    def leave_behind(self, county: str, day: int, households: list[int]) -> bool:
        """Households left behind on `day` go first on the county's next booked day (or a
        new free day); False if no day is left within the horizon."""
        if not households:
            return True
        if self.days[county]:
            nxt = self.days[county][0]
            nxt.due[:0] = households
            return True
        return self._new_day(county, day, households)

    def call_off(self, cd: CountyDay) -> bool:
        """A day called off is re-planned whole on the county's next free day."""
        used = self.used[cd.county]
        used.remove(cd.day)  # the day is not used: it does not count for the rest days
        return self._new_day(cd.county, cd.day, cd.due)
