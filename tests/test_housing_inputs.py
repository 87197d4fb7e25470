"""The housing stock as data: the loader checks every table against the reported totals and
the rules, names the file, field and value of a defect, and survives random damage."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import replace_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlib.housing.inputs import (
    HousingParams,
    buildings_table,
    flats_table,
    load_housing_params,
)
from simlib.inputs import load_inputs, vary
from simlib.provenance import DataError, read_table
from simlib.scenario import PROJECT_ROOT, load_scenario

DATA = PROJECT_ROOT / "data"
MAX_MESSAGE = 4000


def reported(key: str) -> float:
    table = read_table(DATA / "reported_figures.csv", {"key": "str", "value": "str"}, key="key")
    return float(table.set_index("key").at[key, "value"])


@pytest.fixture(scope="module")
def params(baseline) -> HousingParams:
    return load_housing_params(baseline)


def test_the_stock_adds_up_to_the_reported_buildings_and_units(params):
    assert len(params.buildings) == reported("standard_buildings") == 66
    assert params.units == reported("housing_units") == 8866
    flats = flats_table(params)
    assert len(flats) == 8866 and flats["unit"].is_unique
    table = buildings_table(params)
    assert table["units"].sum() == 8866
    # units by type per building agree with the floors and the floor plan
    by_type = flats.groupby(["building", "unit_type"]).size().unstack(fill_value=0)
    for t in params.type_names:
        assert (table.set_index("building")[f"units_{t}"] == by_type.get(t, 0)).all()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.low_floor_max = 9  # type: ignore[misc]


def test_unit_types_serve_every_size_once_within_the_cap(params):
    cap = reported("housing_area_cap_per_person")
    assert len(params.unit_types) == 6
    for size in range(1, 15):
        serving = [t for t in params.unit_types if t.serves(size)]
        assert len(serving) == 1, size
    for t in params.unit_types:
        assert t.floor_area_m2 / t.min_size <= cap
        # about 20 m² a person for the sizes each type is named after
        assert 15 <= t.floor_area_m2 / t.min_size <= 25
    assert params.type_of_size(9) == "T6" and params.type_of_size(1) == "T1"


def test_site_plan_fits_the_reported_area_and_gives_neighbours(params):
    area = params.site_width_m * params.site_depth_m / 1e6
    assert math.isclose(area, reported("site_area"), rel_tol=0.01)
    table = buildings_table(params)
    assert table["x_m"].between(0, params.site_width_m).all()
    assert table["y_m"].between(0, params.site_depth_m).all()
    # no two buildings on the same spot, and every building has a neighbour
    xy = table[["x_m", "y_m"]].to_numpy()
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2) ** 0.5
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 60  # slabs stand at least 60 m apart
    assert ((d <= params.adjacency_max_m).sum(axis=1) >= 1).all()
    assert table["block"].nunique() >= 2 and table["row"].min() == 1
    # resources a move-in day queues at
    assert (table["stairwells"] >= 1).all() and (table["unloading_bays"] >= 1).all()
    assert ((table["access"] == "stairs") == (table["lifts"] == 0)).all()


def test_a_smaller_scale_keeps_a_mix_of_designs(smoke):
    small = load_housing_params(smoke)
    assert 1 <= len(small.buildings) <= 66 * 0.04 + 1
    assert small.units >= 300  # the smoke population (about 330 households) finds flats


def test_inputs_carry_the_housing_and_vary_reloads_it(smoke):
    base = load_inputs(smoke)
    assert base.housing == load_housing_params(smoke)
    variant = vary(base, {"housing.low_floor_max": 2})
    assert variant.housing.low_floor_max == 2 and base.housing.low_floor_max == 3
    assert variant.population is base.population
    assert vary(base, {"moving.loading_mean": 60.0}).housing is base.housing


def _case(data: Path, body: str = "") -> Path:
    path = data / "scenarios" / "case.yaml"
    path.write_text(f"name: case\n{body}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("file", "old", "new", "words"),
    [
        # a stock that does not add up: a walk-up of 6 floors listed as 5 (its units too)
        (
            "buildings.csv",
            "B01,Q1,1,1,560.0,420.0,W6,6,3,6,T1 T2 / T2 T3 / T1 T3,12,12,12,0,0,0,36",
            "B01,Q1,1,1,560.0,420.0,W6,5,3,6,T1 T2 / T2 T3 / T1 T3,10,10,10,0,0,0,30",
            "8,866",
        ),
        # units by type that disagree with the floor plan
        (
            "buildings.csv",
            "B01,Q1,1,1,560.0,420.0,W6,6,3,6,T1 T2 / T2 T3 / T1 T3,12,12,12",
            "B01,Q1,1,1,560.0,420.0,W6,6,3,6,T1 T2 / T2 T3 / T1 T3,12,12,13",
            "units_T3[B01]",
        ),
        ("buildings.csv", "W6,6,3,6,T1 T2 / T2 T3 / T1 T3", "W6,6,3,6,T1 T2 / T2 T3", "floor_plan"),
        # a unit type that no rule serves
        ("buildings.csv", "T1 T2 / T2 T3", "T1 T7 / T2 T3", "served by no rule"),
        ("unit_types.csv", "T3,three people,3,", "T3,three people,,", "no rule says"),
        # a household size no type serves
        ("unit_types.csv", "T6,six or more,6+,", "T6,six or more,6-8,", "9 or more"),
        ("unit_types.csv", "T3,three people,3,", "T3,three people,4,", "households of 3"),
        # a flat over the national cap
        ("unit_types.csv", "T2,two people,2,45,40,50", "T2,two people,2,55,40,60", "cap"),
        # a high building without lifts
        ("buildings.csv", "144,lift,6,3", "144,stairs,0,3", "needs lifts"),
        ("buildings.csv", "144,lift,6,3", "144,lift,0,3", "lifts[B04]"),
        ("parameters.csv", "larger_then_smaller,str", "bigger,str", "shortfall_rule"),
        ("parameters.csv", "site_width_m,2300", "site_width_m,2600", "3.31 km²"),
    ],
)
def test_bad_stock_or_rules_are_named(data_copy, file, old, new, words):
    replace_in(data_copy / "housing" / file, old, new)
    with pytest.raises(DataError) as caught:
        load_housing_params(load_scenario(_case(data_copy)))
    message = str(caught.value)
    assert words in message and file in message
    assert "\n" not in message


def test_a_missing_building_is_refused_by_the_reported_count(data_copy):
    path = data_copy / "housing" / "buildings.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.startswith("B66,")), "utf-8")
    with pytest.raises(DataError, match="66 standard buildings"):
        load_housing_params(load_scenario(_case(data_copy)))


def test_a_scenario_override_is_checked_and_named(data_copy):
    scenario = load_scenario(_case(data_copy, "housing:\n  shortfall_rule: sideways\n"))
    with pytest.raises(DataError, match="case.yaml.*shortfall_rule"):
        load_housing_params(scenario)
    scenario = load_scenario(_case(data_copy, "housing:\n  low_floor_max: many\n"))
    with pytest.raises(DataError, match="low_floor_max"):
        load_housing_params(scenario)


# --- the property test: random damage to the housing tables --------------------------------

TABLES = ("buildings.csv", "unit_types.csv", "parameters.csv")
cells = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12).filter(lambda s: "\n" not in s and "\r" not in s),
    st.sampled_from(["", "T7", "6+", "1-3", "0", "lift", "stairs", "-1", "1e400", '"', ","]),
)


@st.composite
def damaged_table(draw) -> tuple[str, int, int, str]:
    """Which table, which data row (0-based, among data rows), which column, and the new cell."""
    return (
        draw(st.sampled_from(TABLES)),
        draw(st.integers(min_value=0, max_value=70)),
        draw(st.integers(min_value=0, max_value=25)),
        draw(cells),
    )


def _damage(path: Path, row: int, column: int, cell: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    data = [i for i, line in enumerate(lines) if not line.startswith("#")][1:]  # after header
    target = data[row % len(data)]
    import csv
    import io

    fields = next(csv.reader([lines[target]]))
    fields[column % len(fields)] = cell
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    lines[target] = out.getvalue()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(damage=damaged_table())
def test_the_loader_gives_a_valid_stock_or_a_short_data_error(damage, tmp_path_factory):
    import shutil

    data = tmp_path_factory.mktemp("data")
    shutil.copytree(DATA / "housing", data / "housing")
    shutil.copytree(DATA / "population", data / "population")
    shutil.copy(DATA / "reported_figures.csv", data / "reported_figures.csv")
    (data / "scenarios").mkdir()
    table, row, column, cell = damage
    _damage(data / "housing" / table, row, column, cell)
    try:
        params = load_housing_params(load_scenario(_case(data)))
    except DataError as error:
        message = str(error)
        assert len(message) < MAX_MESSAGE and "\n" not in message
        return
    # accepted: then the stock still adds up and every size has exactly one type
    assert len(params.buildings) == 66 and params.units == 8866
    for size in range(1, 12):
        assert sum(t.serves(size) for t in params.unit_types) == 1
    flats = flats_table(params)
    assert flats["unit"].is_unique and set(flats["unit_type"]) <= set(params.type_names)
