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

from dataclasses import fields

import numpy as np
import pandas as pd

from simlib.eligibility import eligibility, net_wages
from simlib.jobs_inputs import JobsParams
from simlib.matching.instance import build_instance
from simlib.moving import MovingParams, run_campaign
from simlib.moving.result import HOUSEHOLD_COLUMNS


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
    run: no result, no such replication, another seed, other moving parameters, another
    plan than the scenario's own, or other households."""
    if moving is None or moving.seed != seed or not _same_campaign(moving, params):
        return None
    table = moving.households
    rows = table[table["replication"].to_numpy() == replication]
    if rows.empty or not _same_households(rows, households.reset_index(drop=True)):
        return None
    return _arrivals(rows[rows["moved_in_day"].to_numpy() >= 0])


def _same_campaign(moving, params: MovingParams) -> bool:
    """The same parameters (the housing allocation by what it was drawn from: a result read
    back from the answer cache holds a copy, equal in content but not by identity) and the
    plan the campaign makes for itself (`simlib.moving.generate.make_plan` names its
    source so: the plan file, or the generating policy)."""
    ran = moving.params
    if ran is not params:
        for field in fields(params):
            mine, theirs = getattr(params, field.name), getattr(ran, field.name)
            if field.name == "homes":
                mine, theirs = (None if h is None else h.key for h in (mine, theirs))
            if mine != theirs:
                return False
    own = params.batch_plan_file if params.batch_plan is not None else f"generated: {params.policy}"
    return moving.plan.source == own


def _same_households(rows: pd.DataFrame, households: pd.DataFrame) -> bool:
    """The moving replication's households are `households`, row for row."""
    if len(rows) != len(households):
        return False
    columns = [c for c in HOUSEHOLD_COLUMNS if c in households and c in rows]
    return all(np.array_equal(rows[c].to_numpy(), households[c].to_numpy()) for c in columns)


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
