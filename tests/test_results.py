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


def test_a_notebook_s_answers_are_read_from_its_code():
    from simlib.results import answers_read_by

    code = 'm = results.answer("moving")\nx = results.answer( "sweep:morris" ).table\nresults.answer("moving")'
    assert answers_read_by(code) == ["moving", "sweep:morris"]


def test_answers_without_options_are_shared_by_every_report_of_a_scenario(tmp_path):
    inputs = load_inputs(SMOKE_SCENARIO)
    few, many = _study(tmp_path, inputs, 2), _study(tmp_path, inputs, 10)
    assert few.key("sweep:assumptions") == many.key("sweep:assumptions")
    assert few.key("housing:audit") == many.key("housing:audit")
    assert few.key("moving") != many.key("moving")


def test_every_answer_a_notebook_reads_has_a_recipe():
    import nbformat

    from simlib.answers import RECIPES
    from simlib.report import notebook_paths
    from simlib.results import answers_read_by

    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        unknown = set(answers_read_by(code)) - set(RECIPES)
        assert not unknown, f"{path.name} reads {unknown}"


def test_answers_computed_in_two_processes_are_those_computed_here(tmp_path):
    from simlib.results import compute_answers

    inputs = load_inputs(SMOKE_SCENARIO)
    pooled = _study(tmp_path / "pool", inputs)
    seconds = compute_answers(pooled, ["housing", "moving:planners"], workers=2)
    assert set(seconds) == {"housing", "moving:planners"}
    assert pooled.cached("housing") and pooled.cached("moving:planners")
    assert compute_answers(pooled, ["housing"], workers=2) == {}  # kept: nothing to do
    here = Study(inputs, Options(replications=2), cache_dir=None).answer("moving:planners")
    pd.testing.assert_frame_equal(pooled.answer("moving:planners").runs, here.runs)


def test_an_answer_that_fails_in_a_pool_process_is_named(tmp_path):
    import pytest

    from simlib.provenance import DataError, RunFailed
    from simlib.results import _computed_here, _raise_failure

    outcome = _computed_here(_study(tmp_path), "no such answer")
    assert outcome[0] == "KeyError"
    with pytest.raises(RunFailed, match="'no such answer' could not be computed: KeyError"):
        _raise_failure("no such answer", outcome)
    with pytest.raises(DataError, match="--out"):
        _raise_failure("sweep:morris", ("DataError", "command line", "--out", "x", "is busy"))
    assert _raise_failure("housing", 1.5) == 1.5


def test_an_answer_being_computed_elsewhere_is_waited_for_and_read_not_computed_again(tmp_path):
    import threading

    from simlib.results import _held

    study = _study(tmp_path)
    path = study.path("housing")
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = _study(tmp_path / "other").answer("housing")  # what the other process computes
    done = threading.Event()
    with _held(path.with_suffix(".lock")):  # another process holds the answer's lock
        reader = threading.Thread(target=lambda: (study.answer("housing"), done.set()))
        reader.start()
        assert not done.wait(1.0)  # it waits rather than computing
        import pickle

        from simlib.files import write_atomic

        write_atomic(path, pickle.dumps(kept))  # the other process keeps its answer
    reader.join(60)
    assert done.is_set()
    assert study._memo["housing"].summary() == kept.summary()


def test_the_call_orders_answer_reuses_the_moving_answer_for_the_scenario_s_own_order(tmp_path):
    from simlib import answers

    study = _study(tmp_path)
    orders = study.answer("moving:call_orders")
    assert set(orders) == set(answers.CALL_ORDERS)
    own = study.inputs.moving.call_order
    assert study.inputs.moving.movein_buildings  # the shipped scenarios tie move-in to flats
    pd.testing.assert_frame_equal(orders[own].runs, study.answer("moving").runs)
    # the other order: the same plan, the same random draws, its own call order
    from simlib.moving import run

    other = next(o for o in answers.CALL_ORDERS if o != own)
    changed = vary(study.inputs, {"moving.call_order": other})
    here = run(changed, replications=2, plan=study.answer("moving").plan)
    pd.testing.assert_frame_equal(orders[other].runs, here.runs)


def test_a_changed_sweep_specification_changes_a_sweep_answer_s_key(tmp_path, monkeypatch):
    from simlib import results

    study = _study(tmp_path)
    before = study.key("sweep:morris"), study.key("moving")
    results.specs_version.cache_clear()
    monkeypatch.setattr(results, "specs_version", lambda: "another specification")
    assert study.key("sweep:morris") != before[0]
    assert study.key("moving") == before[1]  # no sweep: not keyed by the specifications
    from simlib.answers import READS_SPECS

    assert "matching:effects" in READS_SPECS  # its what-ifs are the assumptions sweep's points


def test_a_report_build_prunes_answers_no_build_can_read_again(tmp_path):
    from simlib.results import prune_cache, version_folder

    study = _study(tmp_path)
    study.get("housing:variants")
    kept = study.path("housing:variants")
    assert kept.parent.name == version_folder()
    older = tmp_path / "v-0123456789abcdef"
    older.mkdir()
    (older / "moving-abc.pkl").write_bytes(b"old")
    (older / "moving-abc.lock").write_bytes(b"")
    (tmp_path / "moving-0123.pkl").write_bytes(b"flat layout")  # before version folders
    (tmp_path / "notes.txt").write_text("not the cache's")
    assert prune_cache(tmp_path) == 3
    assert kept.is_file() and (tmp_path / "notes.txt").is_file()
    assert not older.exists() and not (tmp_path / "moving-0123.pkl").exists()
    assert prune_cache(tmp_path) == 0
