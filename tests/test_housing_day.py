"""The lottery day (SimPy): every household signs once after its round is shown, rounds
follow the data's grouping, the day is at least as long as its draws, and its figures
come with CIs over replications."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simlib.housing import prepare
from simlib.housing.lottery_day import Day, rounds_of, simulate_day, subvenues_of
from simlib.inputs import load_inputs, vary
from simlib.scenario import SMOKE_SCENARIO


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(SMOKE_SCENARIO)


@pytest.fixture(scope="module")
def households(inputs):
    return prepare(inputs, "lottery")[0]


def test_rounds_follow_county_and_type_split_at_the_maximum(inputs, households):
    rounds = rounds_of(households, inputs.housing)
    drawing = households[households["unit_type"] != ""]
    groups = drawing.groupby(["county", "unit_type"]).size()
    limit = inputs.housing.day.round_households_max
    assert len(rounds) == sum(math.ceil(n / limit) for n in groups)
    members = np.concatenate([r.members for r in rounds])
    assert len(members) == len(drawing) and len(set(members.tolist())) == len(members)
    assert all(len(r.members) <= limit for r in rounds)


def test_every_household_signs_once_after_its_result_is_shown(inputs, households):
    day = inputs.housing.day
    rounds = rounds_of(households, inputs.housing)
    venues = subvenues_of(households, day)
    assert venues.min() >= 1 and venues.max() <= day.subvenues
    sim = Day(day, rounds, venues, 0, inputs.seed)
    end = sim.run()
    log = sim.log
    assert len(log) == sum(len(r.members) for r in rounds)
    assert all(s.start >= s.shown - 1e-9 and s.end > s.start for s in log)
    # the day lasts at least as long as the draws on the one screen, and ends with a seal
    stage = sum(
        day.notary_check + day.video_rollcall + day.draw
        + len(r.members) * day.display_seconds_per_household / 60
        for r in rounds
    )  # fmt: skip
    assert end - day.day_start >= stage + day.seal - 1e-9
    assert max(r["sealed"] for r in sim.round_log) == pytest.approx(end)


def test_day_figures_come_with_confidence_intervals(inputs, households):
    runs, rounds = simulate_day(households, inputs.housing, inputs.seed, replications=4)
    assert len(runs) == 4 and runs["hours"].std() > 0
    assert (runs["wait_mean_minutes"] >= 0).all()
    assert set(rounds["replication"]) == set(range(4))
    again, _ = simulate_day(households, inputs.housing, inputs.seed, replications=4)
    assert runs.equals(again)  # same seed, same day


def test_fewer_desks_make_a_longer_wait(inputs, households):
    few = vary(inputs, {"housing.main_venue_desks": 2, "housing.subvenue_desks": 1})
    base, _ = simulate_day(households, inputs.housing, inputs.seed, replications=3)
    slow, _ = simulate_day(households, few.housing, inputs.seed, replications=3)
    assert slow["wait_mean_minutes"].mean() > base["wait_mean_minutes"].mean()


def test_the_housing_sweep_records_its_outputs(inputs):
    from simlib.housing.evaluate import OUTPUTS, evaluate_housing
    from simlib.sweep.design import design_points
    from simlib.sweep.spec import load_spec

    outputs = evaluate_housing(inputs, replications=2, seed=inputs.seed)
    assert set(outputs) == set(OUTPUTS)
    assert 0 <= outputs["priority_low_floor_share"] <= 1 and outputs["day_hours"] > 0
    spec = load_spec("housing.yaml")
    keys = {k for point in design_points(spec) for k in point.changes}
    assert keys and all(k.startswith("housing.") for k in keys)
    fewer = evaluate_housing(vary(inputs, {"housing.priority_ask_share": 0.4}), 2, inputs.seed)
    assert fewer["households_asked"] < outputs["households_asked"]
