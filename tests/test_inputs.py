"""Inputs are loaded once; a variant is a copy that rebuilds only what its changes touch."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import simlib.inputs as inputs_module
from simlib.inputs import Inputs, load_inputs, scenario_value, vary
from simlib.moving import load_moving_params
from simlib.population import generate_population
from simlib.provenance import DataError
from simlib.scenario import SMOKE_SCENARIO


@pytest.fixture(scope="module")
def base() -> Inputs:
    return load_inputs(SMOKE_SCENARIO)


def test_load_inputs_holds_every_input_frozen(base):
    assert base.seed == base.scenario.seed == base.population.seed
    # the moving parameters as data/ gives them, with the housing allocation they go to
    assert dataclasses.replace(base.moving, homes=None) == load_moving_params(base.scenario)
    assert base.moving.homes is not None
    assert len(base.moving.homes.households) == len(base.population.households)
    pd.testing.assert_frame_equal(base.population.people, generate_population(base.scenario).people)
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.seed = 1  # type: ignore[misc]


def test_a_moving_change_shares_the_population_and_the_jobs(base):
    variant = vary(base, {"moving.leased_vehicles_per_county_day": 100})
    assert variant.population is base.population
    assert variant.jobs is base.jobs
    assert variant.moving.leased_vehicles == 4 and base.moving.leased_vehicles == 8  # 4 % scale
    assert scenario_value(variant.scenario, "moving.leased_vehicles_per_county_day") == 100
    # not mutated
    assert scenario_value(base.scenario, "moving.leased_vehicles_per_county_day") == 200


def test_the_population_is_rebuilt_only_for_population_seed_or_scale(base, monkeypatch):
    built = []

    def counting(scenario):
        built.append(scenario)
        return generate_population(scenario)

    monkeypatch.setattr(inputs_module, "generate_population", counting)
    vary(base, {"moving.loading_mean": 60.0, "jobs.labour_export_factor": 0.5})
    assert built == []
    school = vary(base, {"population.school_share_16_18": 0.8})
    assert len(built) == 1
    assert school.population is not base.population
    # the laborer count is calibrated to the reported total; who they are changes
    assert not school.population.people["laborer"].equals(base.population.people["laborer"])
    vary(base, {"seed": 7})
    vary(base, {"scale": 0.05})
    assert len(built) == 3


def test_jobs_change_reloads_only_the_jobs(base):
    variant = vary(base, {"jobs.labour_export_factor": 0.5})
    assert variant.moving is base.moving
    export = [e for e in variant.jobs.employers if e.programme == "labour_export"]
    before = [e for e in base.jobs.employers if e.programme == "labour_export"]
    assert export[0].capacity < before[0].capacity


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"moving.no_such_thing": 1}, "moving.no_such_thing", "unknown parameter"),
        ({"nowhere.trucks": 1}, "nowhere.trucks", "unknown parameter"),
        (
            {"moving.leased_vehicles_per_county_day": "many"},
            "leased_vehicles_per_county_day",
            "type int",
        ),
        ({"moving.route_vehicles_per_day": 0}, "route_vehicles_per_day", "must be > 0"),
        ({"jobs.fairness_floor": 1.5}, "fairness_floor", "[0, 1]"),
        ({"scale": 2}, "scale", "(0, 1]"),
        ({"scale": 0.001}, "scale", "scale must be at least"),
    ],
)
def test_bad_changes_name_the_field(base, changes, field, words):
    with pytest.raises(DataError) as error:
        vary(base, changes, where="spec.yaml")
    assert error.value.field == field
    assert words in str(error.value)
    assert str(error.value).startswith("spec.yaml")
