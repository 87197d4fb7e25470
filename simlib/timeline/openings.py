"""Places over time: when each employer's jobs open, and the export buses' seats.

Days are counted from `day_zero`, the moving campaign's first day (day 0). An employer's
open capacity is 0 before its opening day, `initial_share` of its capacity on that day,
then grows linearly to the full capacity `ramp_days` later (rounded down, so it never
exceeds what has opened). Export is demand from three channels: the other channels open
and ramp up like any programme, while the bus channel has no ramp: its places are the
seats of the return-to-work buses, which leave on fixed days; a seat not booked when its
bus leaves is gone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from simlib.jobs_inputs import JobsParams
from simlib.population import largest_remainder
from simlib.timeline.inputs import TimelineParams


@dataclass(frozen=True)
class Openings:
    """Per employer: full capacity, opening day, ramp and training; the bus timetable."""

    names: tuple[str, ...]
    programmes: tuple[str, ...]
    capacity: np.ndarray  # jobs (at the scenario's scale)
    open_day: np.ndarray  # day index
    initial_share: np.ndarray  # share
    ramp_days: np.ndarray  # days
    training: np.ndarray  # days between match and first day of work
    export: np.ndarray  # bool: the bus channel (places come from bus seats)
    away: np.ndarray  # bool: work away from the new town
    bus_day: np.ndarray  # departure day of each bus, sorted
    bus_seats: int  # seats per bus

    def open_capacity(self, day: int) -> np.ndarray:
        """Places open on `day` per employer (export: its full capacity; the seats limit it
        separately)."""
        since = day - self.open_day
        share = np.where(
            self.ramp_days > 0,
            self.initial_share + (1 - self.initial_share) * since / np.maximum(self.ramp_days, 1),
            1.0,
        )
        share = np.where(since >= 0, np.clip(share, 0.0, 1.0), 0.0)
        opened = np.floor(self.capacity * share + 1e-9).astype(int)
        return np.where(self.export, self.capacity, opened)

    def at_work_capacity(self, day: int) -> np.ndarray:
        """Most people who can be at work on `day` per employer: the places open that day
        (export: at most the seats of the buses that have left by then)."""
        seats = int((self.bus_day <= day).sum()) * self.bus_seats
        return np.where(self.export, np.minimum(self.capacity, seats), self.open_capacity(day))

    def final_capacity(self) -> np.ndarray:
        """Places once everything has opened (export: at most every seat of every bus)."""
        seats = len(self.bus_day) * self.bus_seats
        return np.where(self.export, np.minimum(self.capacity, seats), self.capacity)


def day_index(date: dt.date, day_zero: dt.date) -> int:
    return (date - day_zero).days


def bus_timetable(params: TimelineParams, day_zero: dt.date) -> np.ndarray:
    """Departure day of every bus: the buses spread evenly over the departure days."""
    first = day_index(params.export_first_departure, day_zero)
    last = day_index(params.export_last_departure, day_zero)
    days = np.arange(first, last + 1, params.export_departure_interval_days)
    per_day = largest_remainder(np.ones(len(days)), params.export_buses)
    return np.repeat(days, per_day)


def build_openings(params: TimelineParams, jobs: JobsParams, day_zero: dt.date) -> Openings:
    rows = [params.opening(e.programme, e.employer) for e in jobs.employers]
    return Openings(
        names=tuple(e.employer for e in jobs.employers),
        programmes=tuple(e.programme for e in jobs.employers),
        capacity=np.array([e.capacity for e in jobs.employers], dtype=int),
        open_day=np.array([day_index(o.open_date, day_zero) for o in rows], dtype=int),
        initial_share=np.array([o.initial_share for o in rows]),
        ramp_days=np.array([o.ramp_days for o in rows], dtype=int),
        training=np.array([o.training_days for o in rows], dtype=int),
        export=np.array([e.employer == params.export_bus_channel for e in jobs.employers]),
        away=np.array([e.location != "new_town" for e in jobs.employers]),
        bus_day=bus_timetable(params, day_zero),
        bus_seats=params.export_bus_seats,
    )
