"""Inputs are loaded once; a variant is a copy that rebuilds only what its changes touch."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

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


# The one loader: outside simlib/inputs.py and the loaders' own modules (their definitions,
# and the per-domain inputs modules that inputs.py calls), nothing in simlib/ or
# benchmarks/ imports or calls a loader; entry points go through load_inputs / vary.
LOADER = re.compile(r"^(load_scenario|load_[a-z_]*_params|generate_population)$")
LOADERS_HOME = {
    "simlib/inputs.py",
    "simlib/scenario.py",
    "simlib/population.py",
    "simlib/jobs_inputs.py",
    *(f"simlib/{d}/{f}" for d in ("moving", "housing", "community", "timeline")
      for f in ("inputs.py", "__init__.py")),
}  # fmt: skip


def loader_uses(path: Path) -> list[str]:
    """Each import or call of a loader in a Python file, as 'line: name'."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.Call):
            f = node.func
            names = [f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")]
        found += [f"{node.lineno}: {n}" for n in names if LOADER.match(n)]
    return found


def test_no_loader_is_called_outside_the_one_loader():
    root = Path(__file__).resolve().parents[1]
    files = [*root.glob("simlib/**/*.py"), *root.glob("benchmarks/*.py")]
    outside = {
        rel: uses
        for path in sorted(files)
        if (rel := path.relative_to(root).as_posix()) not in LOADERS_HOME
        if (uses := loader_uses(path))
    }
    assert outside == {}


def test_the_loader_check_finds_a_call(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("from simlib.population import generate_population\nload_jobs_params(s)\n")
    assert loader_uses(source) == ["1: generate_population", "2: load_jobs_params"]


def test_a_domain_left_out_is_loaded_on_first_use_and_the_same(base):
    from simlib.inputs import LATER

    lean = load_inputs(SMOKE_SCENARIO, domains=("jobs",))
    assert object.__getattribute__(lean, "housing") is LATER
    assert lean.housing == base.housing and lean.community == base.community
    assert lean.timeline == base.timeline
    # the moving parameters alike, and the move-in day's homes drawn alike (Homes compare
    # by identity: each Inputs draws its own)
    assert dataclasses.replace(lean.moving, homes=None) == dataclasses.replace(base.moving, homes=None)  # fmt: skip
    pd.testing.assert_frame_equal(lean.moving.homes.households, base.moving.homes.households)
    assert object.__getattribute__(lean, "housing") is lean.housing  # kept once loaded
    with pytest.raises(dataclasses.FrozenInstanceError):
        lean.housing = base.housing  # type: ignore[misc]


def test_a_lean_inputs_survives_pickling_for_a_worker(base):
    import pickle

    lean = pickle.loads(pickle.dumps(load_inputs(SMOKE_SCENARIO, domains=(), population=False)))
    assert lean.jobs == base.jobs and lean.community == base.community


def test_a_bad_domain_not_loaded_now_fails_when_read(base):
    bad = base.scenario.with_overrides("moving", dark=60)  # before the convoys gather
    lean = load_inputs(bad, domains=("jobs",))
    with pytest.raises(DataError, match="dark"):
        lean.moving  # noqa: B018
    with pytest.raises(DataError, match="dark"):
        load_inputs(bad)
