from __future__ import annotations

import numpy as np
import pytest

from simlib.stats import erlang_c_wait, half_width, mean_ci, replications_needed


def test_mean_ci_contains_mean_and_shrinks():
    rng = np.random.default_rng(1)
    x = rng.normal(10, 2, 50)
    ci = mean_ci(x)
    assert ci["ci95_low"] < ci["mean"] < ci["ci95_high"]
    assert half_width(x[:10]) > half_width(x)


def test_replications_needed_reaches_the_wanted_half_width():
    rng = np.random.default_rng(2)
    pilot = rng.normal(100, 5, 10)
    r = replications_needed(pilot, 1.0)
    s = pilot.std(ddof=1)
    from scipy import stats

    assert stats.t.ppf(0.975, r - 1) * s / np.sqrt(r) <= 1.0
    assert stats.t.ppf(0.975, r - 2) * s / np.sqrt(r - 1) > 1.0
    with pytest.raises(ValueError):
        replications_needed(pilot, 0)


def test_erlang_c_known_values():
    # M/M/1: Wq = rho / (mu - lambda)
    assert erlang_c_wait(0.5, 1.0, 1) == pytest.approx(1.0)
    # M/M/2 with a = 1: P(wait) = 1/3, Wq = P / (c mu - lambda) = 1/3
    assert erlang_c_wait(1.0, 1.0, 2) == pytest.approx(1 / 3)


def test_mean_ci_of_one_replication_has_no_interval():
    """One value gives no spread: the interval is undefined, never of zero width."""
    assert mean_ci([7.0]) == {"mean": 7.0, "ci95_low": None, "ci95_high": None}
