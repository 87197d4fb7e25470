"""Two plans a planner could make without an optimiser, to measure what it adds.

- **greedy first-come**: laborers in the order their households registered for jobs; each
  takes the eligible job with the highest expected income (wage x suitability) that still
  has a place. It ignores households and counties.
- **random**: laborers in a random order (seeded), each taking a random eligible job with
  a place left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlib.randomness import stream

if TYPE_CHECKING:
    from simlib.matching import Baseline, Instance


def _baseline(name: str, inst: Instance, employer: np.ndarray) -> Baseline:
    from simlib.matching import Baseline

    lab = inst.laborers
    hired = employer >= 0
    covered = set(lab.loc[hired, "household_id"].tolist())
    households = set(lab["household_id"].tolist())
    rows = np.flatnonzero(hired)
    income = (
        float(
            (
                np.array([inst.employers[e].wage for e in employer[rows]])
                * inst.suitability[rows, employer[rows]]
            ).sum()
        )
        if len(rows)
        else 0.0
    )
    return Baseline(
        name=name,
        employer=employer,
        employed=int(hired.sum()),
        households_without_worker=len(households - covered),
        income=income,
    )


def greedy_first_come(inst: Instance, order: np.ndarray) -> Baseline:
    """First come, first served, each taking the best-paid eligible job still open."""
    left = np.array([e.capacity for e in inst.employers], dtype=int)
    wages = np.array([e.wage for e in inst.employers])
    employer = np.full(len(inst.laborers), -1)
    for i in order.tolist():
        options = np.flatnonzero(inst.eligible[i] & (left > 0))
        if len(options):
            best = options[np.argmax(wages[options] * inst.suitability[i, options])]
            employer[i] = best
            left[best] -= 1
    return _baseline("greedy", inst, employer)


def random_assignment(inst: Instance, seed: int) -> Baseline:
    """Random order, random eligible open job: what matching by chance achieves."""
    rng = stream(seed, "jobs", "random_baseline")
    left = np.array([e.capacity for e in inst.employers], dtype=int)
    employer = np.full(len(inst.laborers), -1)
    for i in rng.permutation(len(inst.laborers)).tolist():
        options = np.flatnonzero(inst.eligible[i] & (left > 0))
        if len(options):
            pick = options[rng.integers(len(options))]
            employer[i] = pick
            left[pick] -= 1
    return _baseline("random", inst, employer)
