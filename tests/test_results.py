"""The study's answers: computed once, read back from the cache, never stale."""

from __future__ import annotations

import pandas as pd

from simlib.answers import Options
from simlib.inputs import load_inputs, vary
from simlib.results import Study
from simlib.scenario import SMOKE_SCENARIO


def _study(tmp_path, inputs=None, replications=2):
    inputs = inputs or load_inputs(SMOKE_SCENARIO)
    return Study(inputs, Options(replications=replications), cache_dir=tmp_path)


def test_an_answer_is_read_back_from_the_cache_equal_to_the_one_computed(tmp_path):
    first = _study(tmp_path).get("moving")
    path = _study(tmp_path).path("moving")
    assert path.is_file()
    again = _study(tmp_path).get("moving")
    pd.testing.assert_frame_equal(first.runs, again.runs)


def test_options_data_and_seed_change_the_key(tmp_path):
    inputs = load_inputs(SMOKE_SCENARIO)
    base = _study(tmp_path, inputs).key("moving")
    assert _study(tmp_path, inputs, replications=3).key("moving") != base
    assert _study(tmp_path, vary(inputs, {"seed": 7})).key("moving") != base
    changed = vary(inputs, {"moving.weather_risk_factor": 0.5})
    assert _study(tmp_path, changed).key("moving") != base
    assert _study(tmp_path, inputs).key("matching") != base


def test_a_damaged_cache_file_is_computed_again(tmp_path):
    study = _study(tmp_path)
    path = study.path("housing")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a pickle")
    assert type(study.get("housing")).__name__ == "HousingResult"
    assert path.read_bytes() != b"not a pickle"
