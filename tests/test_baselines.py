"""The baselines: feasible plans that respect eligibility and capacity, reproducible, and
never better than the optimum at what the optimum maximises."""

from __future__ import annotations

import numpy as np
import pytest

from simlib.baselines import greedy_first_come, random_assignment
from simlib.matching import _registration_order, check_assignment, match_jobs


@pytest.fixture(scope="module")
def result(smoke):
    return match_jobs(smoke)


def test_baselines_respect_eligibility_and_capacity(result):
    for base in (result.greedy, result.random):
        checks = check_assignment(result.instance, base.employer, household_floor=False)
        assert checks["eligibility"] == 0 and checks["capacity"] == 0
        assert base.employed == int((base.employer >= 0).sum())


def test_optimum_employs_at_least_as_many_and_covers_more_households(result):
    s = result.summary()
    assert s["employed"] >= s["greedy_employed"] >= 0
    assert s["employed"] >= s["random_employed"]
    assert s["households_without_worker"] <= s["greedy_households_without_worker"]
    assert s["gain_over_greedy"] == s["employed"] - s["greedy_employed"]


def test_greedy_follows_registration_order(result):
    inst = result.instance
    order = _registration_order(inst, result.households)
    greedy = greedy_first_come(inst, order)
    assert np.array_equal(greedy.employer, result.greedy.employer)
    # whoever registered first and is eligible somewhere got a job
    first = order[0]
    assert not inst.eligible[first].any() or greedy.employer[first] >= 0


def test_random_baseline_is_seeded(result):
    inst = result.instance
    a, b = random_assignment(inst, 1), random_assignment(inst, 1)
    assert np.array_equal(a.employer, b.employer)
    assert not np.array_equal(a.employer, random_assignment(inst, 2).employer)
