"""The fairness audit: over 1,000 draws every household of a class has the same chance of
each building and floor band (chi-square, family-wise alpha 0.01), for both methods; a
deliberately biased draw fails it; the measured chances agree with those worked out from
the pools."""

from __future__ import annotations

import numpy as np
import pytest

from simlib.housing import prepare
from simlib.housing.audit import chi_square, fairness_audit
from simlib.housing.draw import lottery_draw
from simlib.inputs import load_inputs
from simlib.scenario import SMOKE_SCENARIO


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(SMOKE_SCENARIO)


@pytest.mark.parametrize("method", ["lottery", "community"])
def test_every_household_of_a_class_has_the_same_chances(inputs, method):
    audit = fairness_audit(inputs, method)
    assert audit.draws >= 1000
    assert audit.alpha == inputs.housing.fairness_alpha == 0.01
    assert audit.passed, audit.tests.sort_values("p_value").head()
    # what the audit measured agrees with the chances worked out from the draw's pools
    gap = (audit.chances["measured"] - audit.chances["chance"]).abs()
    assert gap.max() < 0.06


def test_a_biased_draw_fails_the_audit(inputs):
    """One household of the largest class gets the flat of a household in a favoured
    building one draw in three: its chance of that building rises, and the audit sees it."""
    households, flats, _ = prepare(inputs, "lottery")
    types = list(inputs.housing.type_names)
    biggest = households[~households["asks_low"]].groupby("unit_type").size().idxmax()
    members = np.flatnonzero((households["unit_type"] == biggest) & ~households["asks_low"])
    favoured_building = flats.loc[flats["unit_type"] == biggest, "building"].iloc[0]
    in_favoured = (flats["building"] == favoured_building).to_numpy()
    cheat = members[0]

    def biased(rng, k):
        index = lottery_draw(households, flats, types, rng, k)
        for row in range(k):
            if in_favoured[index[row, cheat]] or rng.random() > 1 / 3:
                continue
            others = members[in_favoured[index[row, members]]]
            if len(others):
                other = others[0]
                index[row, [cheat, other]] = index[row, [other, cheat]]
        return index

    fair = fairness_audit(inputs, "lottery")
    rigged = fairness_audit(inputs, "lottery", draw=biased)
    assert fair.passed and not rigged.passed
    worst = rigged.tests.sort_values("p_value").iloc[0]
    assert worst["class"].startswith(biggest) and worst["outcome"] == "building"


def test_the_chi_square_pools_rare_outcomes_and_sees_a_difference():
    rng = np.random.default_rng(1)
    same = np.array([rng.multinomial(1000, [0.5, 0.3, 0.198, 0.002]) for _ in range(20)])
    statistic, dof, p = chi_square(same)
    assert dof == 19 * 2 and p > 0.001  # the rare outcome pooled with the next: 3 columns
    different = same.copy()
    different[0] = [800, 100, 90, 10]
    assert chi_square(different)[2] < 1e-10
    assert chi_square(np.array([[5, 0], [5, 0]]))[2] == 1.0  # one outcome: nothing differs
