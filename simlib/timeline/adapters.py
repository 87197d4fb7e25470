"""The only places where the timeline calls the moving and job-matching models.

Each adapter is a few lines, so that a change in those models' entry points is met here
and nowhere else (a matching batch itself is the matching package's `batch` module):
- `arrival_table`: one moving replication -> one row per household that moved in
  (household_id, county, arrival_day = the day it moved in, arrival_date);
- `recorded_arrivals`: the same table read from a moving answer already run (a
  `MovingResult` of the same inputs, plan and seed), instead of running the campaign again;
- `eligible_jobs`: the matching's eligibility rules and success probabilities, per laborer
  and employer (expected income for the greedy first-come policy);
- `care_bound_households`: the households the care rule binds (for the greedy policy).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.eligibility import eligibility, net_wages
from simlib.jobs_inputs import JobsParams
from simlib.matching.instance import build_instance
from simlib.moving import MovingParams, run_campaign
from simlib.moving.recorded import recorded_households


def arrival_table(
    params: MovingParams, households: pd.DataFrame, *, seed: int, replication: int
) -> pd.DataFrame:
    """Households that moved in during one moving replication, with their day of moving
    in (days from the campaign's first day) and its date."""
    return _arrivals(run_campaign(params, households, seed, replication).moved)


def _arrivals(moved: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": moved["household_id"].to_numpy(),
            "county": moved["county"].to_numpy(),
            "arrival_day": moved["moved_in_day"].to_numpy(dtype=np.int64),
            "arrival_date": moved["moved_in_date"].to_numpy(),
        }
    )


def recorded_arrivals(
    moving, params: MovingParams, households: pd.DataFrame, *, seed: int, replication: int
) -> pd.DataFrame | None:
    """`arrival_table` read from `moving`, a `MovingResult` already run (the report's answer
    "moving"), so the campaign is not run again; None where it cannot stand in for that
    run (simlib.moving.recorded)."""
    rows = recorded_households(moving, params, households, seed=seed, replication=replication)
    return None if rows is None else _arrivals(rows[rows["moved_in_day"].to_numpy() >= 0])


def eligible_jobs(laborers: pd.DataFrame, jobs: JobsParams) -> tuple[np.ndarray, np.ndarray]:
    """(success probability, expected monthly income if hired: probability x net wage,
    0 where not eligible), each laborers x employers."""
    eligible, probability = eligibility(laborers, jobs)
    probability = np.where(eligible, probability, 0.0)
    return probability, probability * np.maximum(net_wages(jobs), 0.0)


def care_bound_households(laborers: pd.DataFrame, jobs: JobsParams) -> np.ndarray:
    """Households the matching's care rule binds (care duties, every laborer could be sent
    away): one of their laborers must stay in the new town unless a care place frees them."""
    return build_instance(laborers, jobs).care_bound
