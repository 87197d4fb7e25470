"""Hard limits of meaning (the optional `min`/`max` columns of a parameters.csv).

A limit is a number or another parameter of the same file. The plausible `low`/`high`
range must lie within the limits for every value the limiting parameter's range allows;
a scenario override or a sweep value may leave the range but never the limits, and is
then a DataError naming the file, the field and the value.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.inputs import load_inputs, vary
from simlib.population import load_population_params
from simlib.provenance import DataError, apply_overrides, load_parameters
from simlib.scenario import PROJECT_ROOT, SMOKE_SCENARIO, load_scenario
from simlib.sweep.spec import load_spec

DATA = PROJECT_ROOT / "data"
HEADER = "name,value,type,unit,provenance,source,low,high,min,max\n"
# a minimum working age, a maximum one limited by it, and a band edge between the two
AGES = (
    "first,16,int,years,assumed,why,16,18,0,120\n"
    "last,64,int,years,assumed,why,59,69,first,120\n"
    "split,30,int,years,assumed,why,25,35,first,last\n"
)


def _load(tmp_path, text, header=HEADER):
    path = tmp_path / "parameters.csv"
    path.write_text(header + text, encoding="utf-8")
    return path, load_parameters(path)


def test_limits_are_read_as_numbers_or_names(tmp_path):
    _, parameters = _load(tmp_path, AGES)
    assert (parameters["first"].min, parameters["first"].max) == (0.0, 120.0)
    assert (parameters["split"].min, parameters["split"].max) == ("first", "last")


def test_files_without_limit_columns_load_unchanged(tmp_path):
    header = "name,value,type,unit,provenance,source,low,high\n"
    _, parameters = _load(tmp_path, "x,0.5,float,share,assumed,why,0.2,0.8\n", header)
    assert parameters["x"].min is None and parameters["x"].max is None


@pytest.mark.parametrize(
    ("rows", "field", "value", "problem"),
    [
        ("x,150,int,years,reported,src,,,0,120\n", "x", 150, "must be at most 120"),
        ("x,2,int,people,reported,src,,,3,\n", "x", 2, "must be at least 3"),
        ("x,5,int,years,assumed,why,1,9,2,8\n", "x.low", 1.0, "leaves its min 2"),
        ("x,5,int,years,assumed,why,3,9,2,8\n", "x.high", 9.0, "leaves its max 8"),
        ("x,5,int,years,assumed,why,3,7,y,\n", "x.min", "y", "names no numeric parameter"),
        ("x,5,int,years,assumed,why,3,7,x,\n", "x.min", "x", "cannot limit itself"),
        ("x,5,int,years,assumed,why,3,7,,1e\n", "x.max", "1e", "expected a value of type float"),
        ("s,a,str,label,assumed,why,,,0,\n", "s.min", 0.0, "a limit needs a number"),
        ("s,a,str,label,assumed,why,,,,\nx,5,int,n,assumed,why,3,7,s,\n", "x.min", "s", "numeric"),
        # the limit's own range reaches into this one's: a sweep could draw first > split
        (AGES.replace("why,25,35,first", "why,17,35,first"), "split.low", 17.0, "be as high as 18"),
        (AGES.replace("why,59,69,first", "why,30,69,first"), "split.high", 35.0, "be as low as 30"),
        # a value outside the limit named by another parameter
        (
            AGES.replace(
                "split,30,int,years,assumed,why,25,35", "split,70,int,years,reported,src,,"
            ),
            "split",
            70,
            "at most last (64)",
        ),
    ],
)
def test_bad_limits_name_file_field_and_value(tmp_path, rows, field, value, problem):
    path = tmp_path / "parameters.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    with pytest.raises(DataError) as error:
        load_parameters(path)
    assert (error.value.file, error.value.field, error.value.value) == (str(path), field, value)
    assert problem in str(error.value)


@pytest.mark.parametrize(
    ("overrides", "field", "value", "problem"),
    [
        ({"first": -1}, "first", -1, "must not be negative"),  # the unit's check comes first
        ({"first": 121}, "first", 121, "must be at most 120"),
        ({"split": 10}, "split", 10, "must be at least first (16)"),
        ({"split": 70}, "split", 70, "must be at most last (64)"),
        # only the limiting parameter changed: the error names it, not the one it limits
        ({"first": 40}, "first", 40, "must be at most split (30)"),
        ({"last": 20}, "last", 20, "must be at least split (30)"),
        # both changed: the limited one is named
        ({"first": 40, "split": 35}, "split", 35, "must be at least first (40)"),
    ],
)
def test_an_override_may_leave_the_range_but_not_the_limits(
    tmp_path, overrides, field, value, problem
):
    _, parameters = _load(tmp_path, AGES)
    with pytest.raises(DataError) as error:
        apply_overrides(parameters, overrides, "what-if.yaml")
    assert (error.value.file, error.value.field, error.value.value) == (
        "what-if.yaml",
        field,
        value,
    )
    assert problem in str(error.value)


@pytest.mark.parametrize(
    ("rows", "overrides", "field", "value", "problem"),
    [
        # a count or a time that must be positive: written >0, refused at 0 with "> 0"
        ("x,5,int,n,assumed,why,1,9,>0,\n", {"x": 0}, "x", 0, "must be > 0"),
        ("x,0.5,float,min,assumed,why,0.1,1,>0,\n", {"x": 0.0}, "x", 0.0, "must be > 0"),
        ("x,0.5,float,h,assumed,why,0.1,0.9,,<1\n", {"x": 1.0}, "x", 1.0, "must be < 1"),
    ],
)
def test_an_exclusive_limit_refuses_its_own_bound(tmp_path, rows, overrides, field, value, problem):
    _, parameters = _load(tmp_path, rows)
    apply_overrides(parameters, {"x": parameters["x"].low}, "what-if.yaml")  # near it is fine
    with pytest.raises(DataError) as error:
        apply_overrides(parameters, overrides, "what-if.yaml")
    assert (error.value.field, error.value.value) == (field, value)
    assert str(error.value).endswith(problem)


def test_an_exclusive_limit_holds_for_the_range_too(tmp_path):
    with pytest.raises(DataError) as error:
        _load(tmp_path, "x,5,int,n,assumed,why,0,9,>0,\n")
    assert (error.value.field, error.value.value) == ("x.low", 0.0)
    assert "leaves its min >0" in str(error.value)


def test_outside_the_range_but_inside_the_limits_is_a_what_if(tmp_path):
    _, parameters = _load(tmp_path, AGES)
    values = apply_overrides(parameters, {"first": 14, "split": 50, "last": 75}, "what-if.yaml")
    assert (values["first"], values["split"], values["last"]) == (14, 50, 75)


def _plausible_values(path):
    """A Hypothesis strategy: every assumed number of a parameters.csv anywhere in its range."""
    parameters = load_parameters(path)
    ranged = {n: p for n, p in parameters.items() if p.low is not None and p.high is not None}

    def value(p):
        if p.type == "int":
            return st.integers(min_value=int(p.low), max_value=int(p.high))
        return st.floats(min_value=p.low, max_value=p.high)

    return parameters, st.fixed_dictionaries({n: value(p) for n, p in ranged.items()})


@pytest.mark.parametrize("path", sorted(DATA.glob("*/parameters.csv")), ids=lambda p: p.parent.name)
def test_every_combination_of_plausible_values_is_within_the_limits(path):
    parameters, combinations = _plausible_values(path)

    @settings(max_examples=60, deadline=None)
    @given(values=combinations)
    def check(values):
        apply_overrides(parameters, values, path)

    check()


def test_a_scenario_outside_a_limit_names_its_file(data_copy):
    path = data_copy / "scenarios" / "odd.yaml"
    path.write_text(
        yaml.safe_dump({"name": "odd", "scale": 0.04, "population": {"head_age_min": 50}}),
        encoding="utf-8",
    )
    with pytest.raises(DataError) as error:
        load_population_params(load_scenario(path))
    assert (error.value.file, error.value.field, error.value.value) == (
        str(path),
        "head_age_min",
        50,
    )
    assert "must be at most head_age_mode (42)" in str(error.value)


def test_a_sweep_value_outside_a_limit_names_the_file_field_and_value():
    inputs = load_inputs(SMOKE_SCENARIO)
    with pytest.raises(DataError) as error:
        vary(inputs, {"population.older_age_band_from": 70}, where="spec.yaml")
    assert (error.value.file, error.value.field, error.value.value) == (
        "spec.yaml",
        "older_age_band_from",
        70,
    )
    assert "laborer_max_age (64)" in str(error.value)


def test_a_sweep_range_outside_a_limit_is_refused_before_anything_runs(tmp_path):
    spec = tmp_path / "odd.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "odd",
                "scenario": str(SMOKE_SCENARIO),
                "parameters": {"population.middle_age_band_from": {"low": 10, "high": 35}},
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(DataError) as error:
        load_spec(spec)
    assert error.value.file == str(spec)
    assert error.value.field == "population.middle_age_band_from"
    assert error.value.value == 10
    assert "laborer_min_age" in str(error.value)
