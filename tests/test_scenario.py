"""Scenario files: validated on load, immutable, variants by copy."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import replace_in

from simlib.population import load_population_params
from simlib.provenance import DataError
from simlib.scenario import DEFAULT_SEED, load_scenario


def test_shipped_scenarios_load(baseline, smoke):
    assert baseline.scale == 1.0 and baseline.seed == DEFAULT_SEED
    assert 0 < smoke.scale < 1


def test_scenario_is_immutable(baseline):
    with pytest.raises(dataclasses.FrozenInstanceError):
        baseline.seed = 1
    with pytest.raises(TypeError):
        baseline.overrides["population"]["x"] = 1


def test_variants_are_copies(baseline):
    variant = baseline.with_overrides("population", school_share_16_18=0.4)
    assert variant.values("population")["school_share_16_18"] == 0.4
    assert baseline.values("population")["school_share_16_18"] == 0.6
    assert baseline.with_seed(7).seed == 7 and baseline.seed == DEFAULT_SEED


@pytest.mark.parametrize(
    ("yaml_text", "field", "problem"),
    [
        ("seed: -1\n", "seed", "non-negative"),
        ("seed: abc\n", "seed", "non-negative"),
        ("scale: 0\n", "scale", "(0, 1]"),
        ("scale: 2\n", "scale", "(0, 1]"),
        ("colour: blue\n", "colour", "unknown key"),
        ("population: 3\n", "population", "mapping"),
        ("population:\n  no_such_parameter: 1\n", "no_such_parameter", "unknown parameter"),
        ("population:\n  school_share_16_18: 1.4\n", "school_share_16_18", "[0, 1]"),
        ("population:\n  laborer_min_age: -3\n", "laborer_min_age", "negative"),
        ("population:\n  laborer_min_age: sixteen\n", "laborer_min_age", "type int"),
    ],
)
def test_bad_scenario_values(data_copy, yaml_text, field, problem):
    path = data_copy / "scenarios" / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(DataError) as error:
        load_population_params(load_scenario(path))
    assert error.value.field == field
    assert problem in str(error.value)
    assert "bad.yaml" in str(error.value)


def test_missing_scenario_and_bad_yaml(data_copy):
    with pytest.raises(DataError, match="not found"):
        load_scenario(data_copy / "scenarios" / "missing.yaml")
    path = data_copy / "scenarios" / "broken.yaml"
    path.write_text("seed: [1,\n", encoding="utf-8")
    with pytest.raises(DataError, match="not valid YAML"):
        load_scenario(path)


def test_county_totals_must_sum_to_scenario_totals(data_copy):
    replace_in(data_copy / "population" / "counties.csv", "Yanjin,盐津,822,", "Yanjin,盐津,823,")
    scenario = load_scenario(data_copy / "scenarios" / "baseline.yaml")
    with pytest.raises(DataError) as error:
        load_population_params(scenario)
    assert error.value.field == "households"
    assert "8323" in str(error.value) and "8322" in str(error.value)
    assert "counties.csv" in error.value.file


def test_negative_count_in_a_table(data_copy):
    replace_in(data_copy / "population" / "counties.csv", ",6,assumed", ",-6,assumed")
    with pytest.raises(DataError, match=r"townships\[Ludian\].*negative"):
        load_population_params(load_scenario(data_copy / "scenarios" / "baseline.yaml"))


def test_share_outside_unit_interval_in_a_table(data_copy):
    replace_in(data_copy / "population" / "household_sizes.csv", "4,0.25,", "4,1.25,")
    with pytest.raises(DataError, match=r"share\[4\].*\[0, 1\]"):
        load_population_params(load_scenario(data_copy / "scenarios" / "baseline.yaml"))


def test_wrong_type_in_a_table(data_copy):
    replace_in(
        data_copy / "population" / "counties.csv", "Yiliang,彝良,1200,", "Yiliang,彝良,many,"
    )
    with pytest.raises(DataError, match=r"households\[Yiliang\].*'many'"):
        load_population_params(load_scenario(data_copy / "scenarios" / "baseline.yaml"))


def test_missing_table(data_copy):
    (data_copy / "population" / "skills.csv").unlink()
    with pytest.raises(DataError, match="skills.csv.*file not found"):
        load_population_params(load_scenario(data_copy / "scenarios" / "baseline.yaml"))


@pytest.mark.parametrize(
    ("yaml_text", "field", "problem"),
    [
        ("name: [a, b]\n", "name", "must be a name, not a list of 2"),
        ("data: [../a, ../b]\n", "data", "not a list of 2"),
        ("scale: .nan\n", "scale", "not NaN (not a number)"),
        ("scale: .inf\n", "scale", "not infinite"),
        ("seed: 9007199254740993\n", "seed", "at most 2^53"),
        ("population:\n  laborer_min_age: 9007199254740993\n", "laborer_min_age", "too large"),
        ("moving:\n  batch_plan: [a.csv, b.csv]\n", "batch_plan", "not a list of 2"),
        (
            "moving:\n  lottery_date: 2019-11-31\n",
            "moving.lottery_date",
            "November 2019 has 30 days",
        ),
    ],
)
def test_values_of_the_wrong_shape_are_named(data_copy, yaml_text, field, problem):
    from simlib.inputs import load_inputs

    path = data_copy / "scenarios" / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(DataError) as error:
        load_inputs(path, population=False)
    assert error.value.field == field, str(error.value)
    assert problem in str(error.value)
    assert "('" not in str(error.value)
