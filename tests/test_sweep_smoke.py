"""The report sweeps' smoke designs: a `smoke:` block of a specification runs only on a
scenario that asks for it (`sweep_design: smoke`), and is said so."""

from __future__ import annotations

import pytest

from simlib.inputs import read_scenario
from simlib.provenance import DataError
from simlib.scenario import DEFAULT_SCENARIO, SMOKE_SCENARIO
from simlib.sweep.levels import design_size
from simlib.sweep.spec import load_spec, parse_spec

REPORT_SWEEPS = ("assumptions", "morris", "discovery", "community")


def _size(spec) -> int:
    return design_size(spec.method, spec.settings, spec.factors, spec.overlays)


@pytest.mark.parametrize("name", REPORT_SWEEPS)
def test_the_smoke_scenario_runs_a_smaller_design_and_the_baseline_the_full_one(name):
    spec = load_spec(f"{name}.yaml")
    smoke = spec.on_scenario(read_scenario(SMOKE_SCENARIO))
    full = spec.on_scenario(read_scenario(DEFAULT_SCENARIO))
    assert (smoke.design, full.design) == ("smoke", "full")
    assert _size(smoke) < _size(full)
    assert full.fingerprint() == spec.fingerprint()  # the full design as it always was
    assert smoke.fingerprint() != full.fingerprint()  # their points are never mixed
    assert smoke.on_scenario(read_scenario(DEFAULT_SCENARIO)).design == "full"  # and back


def test_the_scenario_says_which_design_not_its_name(tmp_path):
    text = SMOKE_SCENARIO.read_text(encoding="utf-8")
    (tmp_path / "scenarios").mkdir()
    renamed = tmp_path / "scenarios" / "quick.yaml"
    renamed.write_text(
        text.replace("name: smoke", "name: quick") + f"data: {SMOKE_SCENARIO.parent.parent}\n",
        encoding="utf-8",
    )
    assert load_spec("morris.yaml").on_scenario(read_scenario(renamed)).design == "smoke"
    plain = tmp_path / "scenarios" / "smoke.yaml"  # named smoke, but asks for nothing
    plain.write_text(renamed.read_text().replace("sweep_design: smoke\n", "name: smoke\n"))
    plain.write_text(plain.read_text().replace("name: quick\n", ""))
    assert load_spec("morris.yaml").on_scenario(read_scenario(plain)).design == "full"


def test_a_bad_sweep_design_or_smoke_block_is_refused_naming_the_field(tmp_path):
    bad = tmp_path / "scenarios" / "x.yaml"
    bad.parent.mkdir()
    bad.write_text(f"sweep_design: tiny\ndata: {SMOKE_SCENARIO.parent.parent}\n")
    with pytest.raises(DataError, match="sweep_design"):
        read_scenario(bad)
    spec = load_spec("morris.yaml")
    smoke = read_scenario(SMOKE_SCENARIO)
    for block, field in (([1], "smoke"), ({"seed": 3}, "smoke.seed")):
        with pytest.raises(DataError) as error:
            parse_spec({**spec.raw, "smoke": block}, spec.path, base=smoke)
        assert error.value.field == field
    # a smoke design is checked as the full one: over budget is refused
    with pytest.raises(DataError, match="over budget"):
        parse_spec({**spec.raw, "smoke": {"design": {"trajectories": 50}}}, spec.path, base=smoke)
