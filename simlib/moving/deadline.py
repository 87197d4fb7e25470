"""The smallest resources with which the registered-poor households can all be in by the
deadline: the summary's answer to "what is the least we need to meet 31 March?".

Two steps. First the smallest convoy day: the least K (households per county convoy day)
with which the calendar of the generated plan (counties in turn from staggered starts,
each as soon as its rest days are over, no convoy day in a pause) moves every
registered-poor household by the deadline, found by bisection on that arithmetic. Then
what such a day needs: for each county, the needs (`simlib.moving.needs`) of a day of its
first K households, simulated; the answer is the most of each resource over the counties.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simlib.moving.needs import RECEPTION, SEARCH, DayCase, plan_needs
from simlib.moving.plan import county_queues, moving_days


@dataclass(frozen=True)
class DeadlineNeeds:
    """The least convoy day that meets the deadline and what it needs."""

    day_households: int  # households per county convoy day, at most
    needs: pd.DataFrame  # one row per county: its K-household day's needs

    def most(self) -> dict[str, int]:
        return {k: int(self.needs[k].max()) for k in (*SEARCH, *RECEPTION)}

    def summary(self) -> dict[str, Any]:
        return {"day_households": self.day_households, "most": self.most()}


def poor_done_day(params, poor: dict[str, int], k: int) -> int:
    """The day the last registered-poor household is moved when every county moves K a day
    on the generated plan's calendar (the horizon if never)."""
    days = moving_days(params)
    counties = list(poor)
    period = params.rest_days + 1
    last = 0
    for i, c in enumerate(counties):
        need, day = -(-poor[c] // k), (i * period) // len(counties)
        for _ in range(need):
            day = next((d for d in days if d >= day), params.max_campaign_days)
            day += period
        last = max(last, day - period)
    return last


def smallest_day(params, population) -> int:
    """The least K (households per county convoy day) with which the calendar meets the
    deadline (bisection; the largest county if none smaller does)."""
    households = population.households.reset_index(drop=True)
    queues = county_queues(households, params)
    flags = households["registered_poor"].to_numpy(dtype=bool)
    poor = {c: int(np.flatnonzero(flags[q])[-1]) + 1 if flags[q].any() else 0 for c, q in queues.items()}  # fmt: skip
    lo, hi = 0, max(len(q) for q in queues.values())  # lo misses (or is none), hi meets
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if poor_done_day(params, poor, mid) <= params.deadline_day else (mid, hi)  # fmt: skip
    return hi


def deadline_needs(inputs, replications: int = 10, workers: int = 1) -> DeadlineNeeds:
    """The least convoy day that meets the deadline and, county by county, what a day of
    that size needs (see the module docstring)."""
    p = inputs.moving
    households = inputs.population.households.reset_index(drop=True)
    k = smallest_day(p, inputs.population)
    day = moving_days(p)[0]
    cases = []
    for c, q in county_queues(households, p).items():
        members = q[: min(k, len(q))]
        cases.append(DayCase(p, households.iloc[members].reset_index(drop=True), day, c, inputs.seed, replications, 0.9))  # fmt: skip
    return DeadlineNeeds(k, plan_needs(cases, None, workers))
