"""Confidence intervals over replications, and how many replications a wanted precision needs.

The t quantile comes from scipy.special (Student's t inverse), imported where it is needed:
scipy.stats would cost a command a second of imports for one number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict[str, float | None]:
    """Mean with a Student-t confidence interval ({mean, ci95_low, ci95_high}).

    With one replication the interval is undefined (None, null in JSON), never of zero
    width: no spread can be estimated from one value.
    """
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if len(x) < 2:
        return {"mean": mean, "ci95_low": None, "ci95_high": None}
    half = half_width(x, level)
    return {"mean": mean, "ci95_low": mean - half, "ci95_high": mean + half}


def half_width(values: Sequence[float], level: float = 0.95) -> float:
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return math.inf
    t = _t_quantile(0.5 + level / 2, len(x) - 1)
    return float(t * x.std(ddof=1) / math.sqrt(len(x)))


def _t_quantile(p: float, dof: int) -> float:
    from scipy.special import stdtrit

    return float(stdtrit(dof, p))


def replications_needed(
    pilot: Sequence[float], wanted_half_width: float, level: float = 0.95
) -> int:
    """Replications R for a CI half-width of at most `wanted_half_width`, from a pilot run:
    the smallest R >= 2 with t(R-1) * s / sqrt(R) <= wanted (s from the pilot)."""
    if wanted_half_width <= 0:
        raise ValueError(f"wanted_half_width (={wanted_half_width}) must be > 0")
    s = float(np.std(np.asarray(pilot, dtype=float), ddof=1))
    if s == 0:
        return 2
    r = 2
    while _t_quantile(0.5 + level / 2, r - 1) * s / math.sqrt(r) > wanted_half_width:
        r += 1
        if r > 1_000_000:
            raise ValueError("wanted half-width needs more than a million replications")
    return r


def erlang_c_wait(arrival_rate: float, service_mean: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C), same time unit as the inputs."""
    a = arrival_rate * service_mean
    rho = a / servers
    if rho >= 1:
        raise ValueError(f"utilisation (={rho}) must be < 1")
    terms = sum(a**k / math.factorial(k) for k in range(servers))
    last = a**servers / math.factorial(servers) / (1 - rho)
    p_wait = last / (terms + last)
    return p_wait * service_mean / (servers - a)
