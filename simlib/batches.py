"""The campaign calendar: which household moves on which day.

A scheduling policy fills each moving day (a day outside every pause window) with batches
from the counties, up to each county's batch limit and the new town's daily reception
quota. Registered-poor households can go first within each county. Households that do not
fit before the planning horizon are left unscheduled (batch day -1) and reported.

Policies:
- `round_robin`: every county with households left sends a batch every day; the quota is
  shared in turns, one household at a time, starting from a rotating county.
- `county_waves`: counties move one after another (in the order of counties.csv); a day is
  filled from the current county, then the next one.
- `daily_quota`: households in registration order across counties, up to the quota, each
  county still capped by its batch limit.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from simlib.moving_inputs import MovingParams


def moving_days(params: MovingParams) -> list[int]:
    """Day indices (0 = campaign_start) within the horizon that are not paused."""
    days = []
    for d in range(params.max_campaign_days):
        date = params.campaign_start + dt.timedelta(days=d)
        if not any(a <= date <= b for a, b in params.pauses):
            days.append(d)
    return days


def queue_order(households: pd.DataFrame, params: MovingParams) -> pd.DataFrame:
    """Households in the order they will be called within each county."""
    keys = ["county"]
    ascending = [True]
    if params.registered_poor_first:
        keys.append("registered_poor")
        ascending.append(False)
    keys.append("registration_order")
    ascending.append(True)
    return households.sort_values(keys, ascending=ascending, kind="stable")


def schedule(households: pd.DataFrame, params: MovingParams, counties: list[str]) -> np.ndarray:
    """Batch day (index from campaign_start) of each household, -1 if it never fits.

    Returned in the row order of `households`.
    """
    ordered = queue_order(households, params)
    queues = {c: list(ordered.index[ordered["county"].to_numpy() == c]) for c in counties}
    heads = dict.fromkeys(counties, 0)
    day_of = pd.Series(-1, index=households.index, dtype=np.int64)
    reg_rank = households["registration_order"]
    for k, day in enumerate(moving_days(params)):
        left = [c for c in counties if heads[c] < len(queues[c])]
        if not left:
            break
        quota = params.daily_quota
        sent = dict.fromkeys(counties, 0)
        if params.policy == "county_waves":
            for c in left:
                while quota and sent[c] < params.county_batch_max and heads[c] < len(queues[c]):
                    day_of[queues[c][heads[c]]] = day
                    heads[c] += 1
                    sent[c] += 1
                    quota -= 1
                if quota == 0:
                    break
        elif params.policy == "round_robin":
            start = k % len(left)
            rotation = left[start:] + left[:start]
            progress = True
            while quota and progress:
                progress = False
                for c in rotation:
                    if quota and sent[c] < params.county_batch_max and heads[c] < len(queues[c]):
                        day_of[queues[c][heads[c]]] = day
                        heads[c] += 1
                        sent[c] += 1
                        quota -= 1
                        progress = True
        else:  # daily_quota: the earliest registered among the county heads goes next
            while quota:
                open_ = [
                    c
                    for c in left
                    if sent[c] < params.county_batch_max and heads[c] < len(queues[c])
                ]
                if not open_:
                    break
                c = min(
                    open_,
                    key=lambda c: (
                        -int(households.at[queues[c][heads[c]], "registered_poor"])
                        if params.registered_poor_first
                        else 0,
                        reg_rank[queues[c][heads[c]]],
                    ),
                )
                day_of[queues[c][heads[c]]] = day
                heads[c] += 1
                sent[c] += 1
                quota -= 1
    return day_of.to_numpy()
