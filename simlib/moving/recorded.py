"""A moving answer read back as the runs it stands for.

The report computes the answer "moving" once (`simlib.moving.run`); the timeline and the
community read each household's day of moving in from it instead of running the campaign
again. `recorded_households` says where that is right: the same seed, moving parameters,
plan and households, and a replication the answer holds.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd

from simlib.moving.generate import own_plan_source
from simlib.moving.inputs import MovingParams
from simlib.moving.result import HOUSEHOLD_COLUMNS


def recorded_households(
    moving, params: MovingParams, households: pd.DataFrame, *, seed: int, replication: int
) -> pd.DataFrame | None:
    """Replication `replication`'s households table of `moving` (a `MovingResult`), the one
    `run_campaign(params, households, seed, replication)` would give; None where `moving`
    cannot stand in for that run: no result, no such replication, another seed, other
    moving parameters, another plan than the scenario's own, or other households."""
    if moving is None or moving.seed != seed or not _same_campaign(moving, params):
        return None
    table = moving.households
    rows = table[table["replication"].to_numpy() == replication]
    if rows.empty or not _same_households(rows, households.reset_index(drop=True)):
        return None
    return rows


def _same_campaign(moving, params: MovingParams) -> bool:
    """The same parameters (field by field: a result read back from the answer cache holds
    copies, equal in content, the housing allocation by what it was drawn from) and the
    plan the campaign makes for itself (`own_plan_source`: the plan file, or the
    generating policy)."""
    ran = moving.params
    if any(getattr(params, f.name) != getattr(ran, f.name) for f in fields(params)):
        return False
    return moving.plan.source == own_plan_source(params)


def _same_households(rows: pd.DataFrame, households: pd.DataFrame) -> bool:
    """The moving replication's households are `households`, row for row."""
    if len(rows) != len(households):
        return False
    columns = [c for c in HOUSEHOLD_COLUMNS if c in households and c in rows]
    return all(np.array_equal(rows[c].to_numpy(), households[c].to_numpy()) for c in columns)
