"""data/jobs/ loads with provenance, scales with the scenario, and bad values fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import replace_in

from simlib.jobs_inputs import PROGRAMMES, load_jobs_params
from simlib.provenance import DataError
from simlib.scenario import load_scenario


def test_baseline_capacities_follow_the_feature(baseline):
    p = load_jobs_params(baseline)
    by_programme = {}
    for e in p.employers:
        by_programme[e.programme] = by_programme.get(e.programme, 0) + e.capacity
    assert set(by_programme) == set(PROGRAMMES)
    assert sum(e.programme == "workshop" for e in p.employers) == 11  # reported: 11 firms
    assert by_programme["workshop"] == 4000
    assert by_programme["mushroom"] == 1100
    assert by_programme["vegetable"] == 1041 + 800  # one worker per greenhouse (assumed)
    assert by_programme["public_welfare"] == 779
    # export demand: the buses (reported) are one channel; other channels are assumed
    caps = {e.employer: e for e in p.employers}
    assert caps["export_buses"].capacity == 8073 and caps["export_buses"].places == "reported"
    assert by_programme["labour_export"] > 8073
    # the local places the source reports as jobs, apart from the assumed ones
    assert p.places("new_town", "reported") == 4000 + 1100 + 779
    assert p.places("new_town", "assumed") == 1841 + 400 + 1100
    for e in p.employers:
        assert e.wage_low <= e.wage <= e.wage_high


def test_smoke_scales_capacities_with_largest_remainder(baseline, smoke):
    full = load_jobs_params(baseline)
    small = load_jobs_params(smoke)
    assert small.capacity == round(full.capacity * smoke.scale)
    for a, b in zip(full.employers, small.employers, strict=True):
        assert abs(b.capacity - a.capacity * smoke.scale) < 1


def test_what_ifs_export_factor_and_closed_firm(baseline):
    p = load_jobs_params(
        baseline.with_overrides("jobs", labour_export_factor=0.5, closed_employers="workshop_03")
    )
    caps = {e.employer: e.capacity for e in p.employers}
    assert caps["export_buses"] == round(8073 * 0.5)
    assert caps["workshop_03"] == 0
    with pytest.raises(DataError, match="closed_employers"):
        load_jobs_params(baseline.with_overrides("jobs", closed_employers="no_such_firm"))


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("workshop_02,workshop,bags,450,", "workshop_02,workshop,bags,-450,", "capacity"),
        ("shops,shops,shop_self_employment", "shops,retail,shop_self_employment", "programme"),
        ("800,500,1200,0.90", "80000,500,1200,0.90", "wage_yuan_month"),
        ("800,500,1200,0.90", "1300,500,1200,0.90", "wage_yuan_month"),
        ("0.8,away", "1.7,away", "base_retention"),
        ("4000,3000,5500,0.8,away", "4000,3000,5500,0.8,abroad", "location"),
        ("8073,jobs,6000,9000", "8073,jobs,6000,8000", "capacity"),
        ("9000,reported", "9000,told", "places"),
        ("16,45,any,factory;service;none", "16,45,any,factory;welding", "skills_accepted"),
        ("16,55,any,any,factory,allowed", "56,55,any,any,factory,allowed", "age_min"),
        ("", "", "(columns)"),
    ],
)
def test_bad_programme_values_name_file_field_and_value(data_copy, old, new, field):
    path = data_copy / "jobs" / "programmes.csv"
    if field == "(columns)":
        path.write_text(path.read_text().replace("wage_low,", "wage_lo,", 1))
    else:
        replace_in(path, old, new)
    scenario = load_scenario(data_copy / "scenarios" / "baseline.yaml")
    with pytest.raises(DataError) as error:
        load_jobs_params(scenario)
    assert error.value.file.endswith("programmes.csv")
    assert field in error.value.field


@pytest.mark.parametrize(
    ("name", "value"),
    [("fairness_floor", 1.5), ("objective_mode", "random"), ("solver_time_limit", 0)],
)
def test_bad_parameters_fail(baseline, name, value):
    with pytest.raises(DataError, match=name):
        load_jobs_params(baseline.with_overrides("jobs", **{name: value}))


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).parents[1] / "data" / "scenarios").glob("*.yaml")),
    ids=lambda p: p.stem,
)
def test_every_shipped_scenario_has_valid_jobs_inputs(path):
    params = load_jobs_params(load_scenario(path))
    assert params.capacity > 0
