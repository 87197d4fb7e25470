"""The community inputs as data: 66 residential + 10 other buildings make the reported 76,
every building touches another, counts and shares are checked, bad input is one line
naming the file, the field and the value (exit 2 on the command line), and the loader
survives random damage to its tables."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import replace_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlib.community.inputs import CommunityParams, load_community_params
from simlib.housing.inputs import load_housing_params
from simlib.inputs import load_inputs, vary
from simlib.provenance import DataError, load_parameters
from simlib.scenario import PROJECT_ROOT, load_scenario

DATA = PROJECT_ROOT / "data"
MAX_MESSAGE = 4000


def _load(scenario) -> CommunityParams:
    return load_community_params(scenario, load_housing_params(scenario))


def _case(data: Path, body: str = "") -> Path:
    path = data / "scenarios" / "case.yaml"
    path.write_text(f"name: case\n{body}", encoding="utf-8")
    return path


def simlib(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simlib", *args],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )  # fmt: skip


def test_the_grids_cover_the_reported_76_buildings(baseline):
    params = _load(baseline)
    site = params.site
    kinds = [b.kind for b in site.buildings]
    assert len(site) == 76 == params.reported.grid_buildings
    assert kinds.count("residential") == 66
    assert len(set(site.ids)) == 76
    assert not site.isolated()
    assert params.grid.grids == 36 and params.reported.grids == 36
    assert sum(b.units for b in site.buildings) == 8866
    assert sum(c.arrival_share for c in params.epidemic.checkpoints) == pytest.approx(1)
    assert len(params.epidemic.checkpoints) == 6 and params.epidemic.team == 53


def test_every_assumed_number_has_a_reason_and_a_range():
    records = load_parameters(DATA / "community" / "parameters.csv")
    for r in records.values():
        assert r.source
        if r.provenance == "assumed" and r.type in ("int", "float"):
            assert r.low is not None and r.low <= r.value <= r.high, r.name
    reported = {r.name for r in records.values() if r.provenance == "reported"}
    assert reported == {"grids", "party_members", "checkpoints", "epidemic_team"}


def test_a_smaller_scale_keeps_a_connected_part_of_the_site(smoke):
    params = _load(smoke)
    site = params.site
    assert 2 <= len(site) < 76 and site.connected(range(len(site)))
    assert params.grid.grids == 1 and len(params.epidemic.checkpoints) == 1


def test_inputs_carry_the_community_and_vary_reloads_it(smoke):
    base = load_inputs(smoke)
    variant = vary(base, {"community.grid_members_per_grid": 3})
    assert variant.community.staff.members_per_grid == 3
    assert base.community.staff.members_per_grid == 2
    assert variant.population is base.population
    assert vary(base, {"moving.loading_mean": 60.0}).community is base.community
    assert vary(base, {"housing.adjacency_max_m": 120}).community.site.adjacency_max_m == 120


@pytest.mark.parametrize(
    ("file", "old", "new", "words"),
    [
        # a building no other touches: the clinic moved to the empty middle of the site
        ("other_buildings.csv", "C03,health,community clinic,1360.0,645.0",
         "C03,health,community clinic,1800.0,200.0", "no other building stands within"),
        # two buildings on one spot
        ("other_buildings.csv", "C01,school,kindergarten,740.0,645.0",
         "C01,school,kindergarten,650.0,645.0", "same spot as B11"),
        ("other_buildings.csv", "C10,shops,shop block 3,1315.0,702.5",
         "C10,shops,shop block 3,5000.0,702.5", "outside the site"),
        ("other_buildings.csv", "C05,care,elderly day-care centre,1050.0,985.0,8,6,20,",
         "C05,care,elderly day-care centre,1050.0,985.0,8,6,-20,", "must not be negative"),
        ("other_buildings.csv", "C05,care,elderly day-care centre,1050.0,985.0,8,6,20,",
         "C05,care,elderly day-care centre,1050.0,985.0,8,6,90,", "outside its range"),
        ("parameters.csv", "weight_special_member,3.0,", "weight_special_member,-3.0,",
         "must not be negative"),
        ("parameters.csv", "grids,36,", "grids,80,", "80 grids for 76 buildings"),
        ("parameters.csv", "placement_rule,housing_lottery,", "placement_rule,by_village,",
         "placement_rule"),
        ("parameters.csv", "checkpoints,6,", "checkpoints,7,", "lists 6 checkpoints"),
        ("checkpoints.csv", "K6,site service road,0.08", "K6,site service road,0.18",
         "sum to 1"),
        ("parameters.csv", "arrival_end,1320,", "arrival_end,400,", "arrival_end"),
    ],
)  # fmt: skip
def test_bad_community_data_is_named_in_one_line(data_copy, file, old, new, words):
    replace_in(data_copy / "community" / file, old, new)
    with pytest.raises(DataError) as caught:
        _load(load_scenario(_case(data_copy)))
    message = str(caught.value)
    assert words in message and (file in message or "case.yaml" in message), message
    assert "\n" not in message


def test_a_missing_other_building_breaks_the_reported_76(data_copy):
    path = data_copy / "community" / "other_buildings.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.startswith("C10,")), "utf-8")
    with pytest.raises(DataError, match="reports grids over 76 buildings"):
        _load(load_scenario(_case(data_copy)))


def test_a_scenario_override_is_checked_and_named(data_copy):
    with pytest.raises(DataError, match="case.yaml.*weight_household"):
        _load(load_scenario(_case(data_copy, "community:\n  weight_household: -1\n")))
    with pytest.raises(DataError, match="case.yaml.*grids.*a grid needs at least one building"):
        _load(load_scenario(_case(data_copy, "community:\n  grids: 77\n")))


# --- the command line: bad input exits 2 with one line ---------------------------------------


def test_more_grids_than_buildings_exits_2():
    result = simlib("community", "--grids", "90", "--replications", "1", "--json")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert "bad input" in lines[-1] and "grids" in lines[-1] and "90" in lines[-1]
    assert "76 buildings" in lines[-1]


def test_an_isolated_building_and_a_negative_weight_exit_2(data_copy):
    replace_in(
        data_copy / "community" / "other_buildings.csv",
        "C03,health,community clinic,1360.0,645.0",
        "C03,health,community clinic,1800.0,200.0",
    )
    result = simlib("community", "--scenario", str(_case(data_copy)), "--json")
    assert result.returncode == 2 and result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert "other_buildings.csv" in last and "C03" in last and "no other building" in last
    shutil.copy(DATA / "community" / "other_buildings.csv", data_copy / "community")
    case = _case(data_copy, "community:\n  weight_new_arrival: -0.5\n")
    result = simlib("community", "--scenario", str(case), "--json")
    assert result.returncode == 2 and result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert "case.yaml" in last and "weight_new_arrival" in last and "-0.5" in last


def test_a_grid_problem_with_no_solution_exits_1_with_what_gives_way(data_copy):
    case = _case(data_copy, "scale: 0.25\ncommunity:\n  grid_max_walk_m: 60\n")
    result = simlib("community", "--scenario", str(case), "--replications", "1")
    assert result.returncode == 1 and result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert "what gives way: the number of grids (at least" in last


# --- the property test: random damage to the community tables --------------------------------

TABLES = ("parameters.csv", "other_buildings.csv", "checkpoints.csv")
cells = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12).filter(lambda s: "\n" not in s and "\r" not in s),
    st.sampled_from(["", "0", "-1", "1e400", "random", "due_first", "C01", "K1", '"', ","]),
)


@st.composite
def damaged_table(draw) -> tuple[str, int, int, str]:
    """Which table, which data row (0-based among data rows), which column, the new cell."""
    return (
        draw(st.sampled_from(TABLES)),
        draw(st.integers(min_value=0, max_value=60)),
        draw(st.integers(min_value=0, max_value=12)),
        draw(cells),
    )


def _damage(path: Path, row: int, column: int, cell: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    data = [i for i, line in enumerate(lines) if not line.startswith("#")][1:]  # after header
    target = data[row % len(data)]
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
def test_the_loader_gives_a_valid_town_or_a_short_data_error(damage, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    for domain in ("community", "housing", "population"):
        shutil.copytree(DATA / domain, data / domain)
    shutil.copy(DATA / "reported_figures.csv", data / "reported_figures.csv")
    (data / "scenarios").mkdir()
    table, row, column, cell = damage
    _damage(data / "community" / table, row, column, cell)
    try:
        params = _load(load_scenario(_case(data)))
    except DataError as error:
        message = str(error)
        assert len(message) < MAX_MESSAGE and "\n" not in message
        return
    # accepted: then the town still adds up and can be cut into contiguous grids
    site = params.site
    assert len(site) == 76 and len(set(site.ids)) == 76 and not site.isolated()
    assert 1 <= params.grid.grids <= len(site)
    shares = [c.arrival_share for c in params.epidemic.checkpoints]
    assert sum(shares) == pytest.approx(1) and min(shares) >= 0
    weights = (params.grid.weight_household, params.grid.weight_special_member,
               params.grid.weight_new_arrival)  # fmt: skip
    assert min(weights) >= 0 and sum(weights) > 0
    assert np.isfinite([b.workload_equivalent for b in site.buildings]).all()
    assert params.epidemic.arrival_start < params.epidemic.arrival_end
