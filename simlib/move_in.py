"""The move-in day: the eight steps (八步走) as SimPy processes with limited resources.

Steps of phase `before` (inspect the flat, prepare the hand-over, hand out documents) run on
the batch day from `work_start`, before the family is there; steps of phase `after`
(reception at an unloading bay, guide to the door, move in, help settling) start once the
family's convoy has arrived and the `before` steps are done. Which step is which is read
from data/moving/steps.csv. Step 8, the follow-up visit, is a daily backlog served by
cadres (`followup_visits`), because it happens on later days, not in the queue of the day.

Times are minutes since midnight of the campaign's first day. Start and end of every step
are written into numpy arrays (household x step) and turned into tables at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from simlib.moving_inputs import DAY, StepSpec


def service_times(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """n service times (minutes): gamma with this mean and coefficient of variation."""
    if cv == 0:
        return np.full(n, float(mean))
    shape = 1.0 / cv**2
    return rng.gamma(shape, mean / shape, n)


@dataclass
class StepLog:
    """Ready, start and end time of each household at each step (NaN until reached)."""

    ready: np.ndarray  # minutes, households x steps
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def empty(cls, households: int, steps: int) -> StepLog:
        shape = (households, steps)
        return cls(np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan))


def pass_steps(
    env: simpy.Environment,
    household: int,
    columns: Sequence[int],
    resources: Sequence[simpy.Resource],
    service: np.ndarray,
    log: StepLog,
):
    """One household through a sequence of steps, each holding one unit of its resource.

    `columns` are the step columns of `log` and `service` (minutes, steps x households).
    """
    ready, start, end = log.ready, log.start, log.end
    for column, resource in zip(columns, resources, strict=True):
        ready[household, column] = env.now
        with resource.request() as request:
            yield request
            start[household, column] = env.now
            yield env.timeout(service[column, household])
            end[household, column] = env.now


def before_arrival(env, household, day_start, columns, resources, service, log, done):
    """The flat is made ready on the batch day; `done` fires when the last step ends."""
    if day_start > env.now:
        yield env.timeout(day_start - env.now)
    yield from pass_steps(env, household, columns, resources, service, log)
    done.succeed()


def after_arrival(env, household, arrived, ready, columns, resources, service, log):
    """The family arrives with its convoy, then goes through the steps at the new town."""
    yield arrived
    if not ready.triggered:
        yield ready
    yield from pass_steps(env, household, columns, resources, service, log)


def followup_visits(
    settled: np.ndarray,
    cadres: int,
    visits_per_cadre_day: int,
    work_start: float,
    visit_minutes: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Follow-up visits from a first-come backlog: from the day after moving in, cadres make
    `cadres * visits_per_cadre_day` visits a day (every day, pauses included).

    Returns the visit day and visit time (minutes) per household, in the order given.
    """
    n = len(settled)
    order = np.argsort(settled, kind="stable")
    earliest = np.floor(settled[order] / DAY).astype(np.int64) + 1
    capacity = cadres * visits_per_cadre_day
    day = np.empty(n, dtype=np.int64)
    slot = np.empty(n, dtype=np.int64)
    current, used = -1, 0
    for k, first in enumerate(earliest):
        if first > current:
            current, used = first, 0
        if used == capacity:
            current, used = current + 1, 0
        day[k], slot[k] = current, used
        used += 1
    visit_day = np.empty(n, dtype=np.int64)
    visit_time = np.empty(n)
    visit_day[order] = day
    visit_time[order] = day * DAY + work_start + (slot // cadres) * visit_minutes
    return visit_day, visit_time


def step_columns(steps: Sequence[StepSpec], phase: str) -> list[int]:
    return [i for i, s in enumerate(steps) if s.phase == phase]
