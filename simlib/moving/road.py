"""Random inputs of the road: each convoy's driving times, breakdowns and illness, and
each county day's weather.

Every draw comes from the county's own stream, a fixed number of draws per convoy or
county day whatever the probabilities, so that two scenarios compared side by side see
the same draws (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simlib.moving.inputs import MovingParams
from simlib.moving.tables import Weather


@dataclass(frozen=True)
class ConvoyDraw:
    """One convoy's road: a factor on each segment's mean time (lognormal, mean 1) and
    the minutes stopped on each segment (a breakdown, illness)."""

    factors: np.ndarray
    stops: np.ndarray
    breakdowns: int
    illnesses: int


class RoadDraws:
    """The draws of one county's convoys, in the order they leave."""

    def __init__(self, rng: np.random.Generator, params: MovingParams) -> None:
        self.rng = rng
        self.params = params

    def convoy(self, segments: int, households: int) -> ConvoyDraw:
        p, rng = self.params, self.rng
        sigma = p.travel_delay_sigma
        factors = np.exp(sigma * rng.standard_normal(segments) - sigma**2 / 2)
        stops = np.zeros(segments)
        broke = rng.random() < p.breakdown_probability
        where, minutes = rng.integers(segments), rng.exponential(p.breakdown_delay_mean)
        if broke:
            stops[where] += minutes
        ill = int(rng.binomial(households, p.illness_probability))
        for _ in range(ill):
            stops[rng.integers(segments)] += rng.exponential(p.illness_delay_mean)
        return ConvoyDraw(factors, stops, int(broke), ill)


def weather_draw(rng: np.random.Generator, weather: Weather) -> tuple[bool, float]:
    """(called off, minutes held at the gathering point) for one county convoy day."""
    u = rng.random()
    minutes = rng.exponential(weather.delay_mean)
    if u < weather.cancel:
        return True, 0.0
    return False, minutes if u < weather.cancel + weather.delay else 0.0
