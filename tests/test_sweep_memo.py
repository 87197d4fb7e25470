"""Kept model summaries (simlib.sweep.memo): a sweep that reuses them gives the table a
sweep computing every point gives, reuses them only for the inputs each model reads, and
computes again a kept file that is damaged or belongs to other inputs."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.inputs import load_inputs, vary
from simlib.scenario import SMOKE_SCENARIO
from simlib.sweep import load_spec, run_sweep
from simlib.sweep.evaluate import OUTPUTS, Memoised, evaluate_point
from simlib.sweep.memo import (
    SUMMARIES,
    NotHashable,
    SummaryStore,
    content,
    kept_summary,
    summary_key,
)
from simlib.sweep.worker import with_population

MOVING = "moving.route_vehicles_per_day"
JOBS = "jobs.labour_export_factor"
WILLING = "population.migrate_share_M_16_29"


@pytest.fixture(scope="module")
def smoke():
    return load_inputs(SMOKE_SCENARIO)


def write_spec(folder, factors=(MOVING, JOBS, WILLING)):
    spec = {
        "name": "memo",
        "scenario": str(SMOKE_SCENARIO),
        "replications": 1,
        "budget": 40,
        "design": {"method": "oat"},
        "parameters": {key: {} for key in factors},
    }
    path = folder / "memo.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return load_spec(path)


def kept(folder, model):
    return sorted((folder / SUMMARIES).glob(f"*/{model}-*.json"))


def test_a_sweep_reusing_summaries_writes_the_table_of_one_computing_every_point(tmp_path):
    spec = write_spec(tmp_path)
    cold = run_sweep(
        spec, out=tmp_path / "cold", workers=1, progress=False, evaluate=evaluate_point
    )
    warm = run_sweep(spec, out=tmp_path / "warm", workers=1, progress=False)
    assert cold.failed == warm.failed == 0 and cold.points == warm.points == 7
    assert not (tmp_path / "cold" / SUMMARIES).exists()
    # baseline + 2 moving levels; the 2 jobs levels and (the households being the same) the
    # 2 willingness levels reuse the baseline's campaign
    assert len(kept(tmp_path / "warm", "moving")) == 3
    # baseline + 2 jobs levels + 2 willingness levels; the moving levels reuse it
    assert len(kept(tmp_path / "warm", "matching")) == 5
    # every summary read back from its file, none computed: the same table again
    again = run_sweep(
        spec, out=tmp_path / "again", workers=1, progress=False,
        evaluate=Memoised(tmp_path / "warm" / SUMMARIES),
    )  # fmt: skip
    tables = [pd.read_parquet(run.output / "results.parquet") for run in (cold, warm, again)]
    columns = [c for c in tables[0].columns if c not in ("wall_seconds", "worker")]
    assert set(OUTPUTS) <= set(columns)
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table[columns], tables[0][columns])


def test_the_key_is_what_each_model_reads(smoke):
    jobs = vary(smoke, {JOBS: 0.5})
    moving = vary(smoke, {MOVING: 60})
    same_again = load_inputs(SMOKE_SCENARIO)  # equal content, other objects

    def keys(inputs, seed=1):
        return (
            summary_key("moving", inputs.moving, inputs.population.households, seed=seed, replications=2),
            summary_key("matching", inputs.jobs, inputs.population, seed=seed),
        )  # fmt: skip

    base = keys(smoke)
    assert keys(same_again) == base
    assert keys(jobs)[0] == base[0] and keys(jobs)[1] != base[1]
    assert keys(moving)[0] != base[0] and keys(moving)[1] == base[1]
    assert keys(smoke, seed=2)[0] != base[0] and keys(smoke, seed=2)[1] != base[1]
    three = summary_key("moving", smoke.moving, smoke.population.households, seed=1, replications=3)
    assert three != base[0]


def test_content_tells_apart_values_a_repr_could_confuse():
    assert content(0.1 + 0.2) != content(0.3)
    assert content(float("nan")) == content(float("nan"))
    assert content((1, 2)) != content([1, 2])
    assert content({"a": 1, "b": 2}) == content({"b": 2, "a": 1})
    big = pd.DataFrame({"x": range(5000)})
    changed = big.copy()
    changed.loc[2500, "x"] = -1  # a repr would hide this row among "..."
    assert content(big) != content(changed)
    with pytest.raises(NotHashable):
        content(object())


def test_a_damaged_or_foreign_summary_file_is_computed_again(tmp_path):
    store, calls = SummaryStore(tmp_path), []

    def compute():
        calls.append(1)
        return {"campaign_days": {"mean": 40.5}}

    def get():
        return kept_summary(store, "moving", lambda: "k1", compute)

    assert get() == compute() and len(calls) == 2
    assert get() == compute() and len(calls) == 3  # read back, not computed
    path = store.path("moving", "k1")
    for damage in ("{not json", "[]", json.dumps({"model": "moving", "key": "k2"})):
        path.write_text(damage, encoding="utf-8")
        before = len(calls)
        assert get() == {"campaign_days": {"mean": 40.5}}
        assert len(calls) == before + 1  # computed again, and the file replaced
        assert json.loads(path.read_text(encoding="utf-8"))["key"] == "k1"
    record = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(dict(record, code_version="other")), encoding="utf-8")
    before = len(calls)
    get()
    assert len(calls) == before + 1


def test_inputs_that_cannot_be_hashed_are_computed_and_not_kept(tmp_path):
    def key():
        return summary_key("moving", object(), None)

    assert kept_summary(SummaryStore(tmp_path), "moving", key, lambda: {"a": 1}) == {"a": 1}
    assert not list(tmp_path.iterdir())


def test_a_folder_that_cannot_be_written_still_gives_the_summary(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")  # a file where the folder should be
    summary = kept_summary(SummaryStore(blocked / "sub"), "matching", lambda: "k", lambda: {"b": 2})
    assert summary == {"b": 2}


summaries = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


@settings(max_examples=60, deadline=None)
@given(summary=st.dictionaries(st.text(max_size=6), summaries, max_size=5))
def test_a_kept_summary_reads_back_exactly(tmp_path_factory, summary):
    store = SummaryStore(tmp_path_factory.mktemp("kept"))
    kept_summary(store, "matching", lambda: "k", lambda: summary)
    back = kept_summary(store, "matching", lambda: "k", lambda: pytest.fail("computed again"))
    assert same(summary, back)


def test_a_worker_draws_the_homes_once_and_draws_the_same(smoke):
    bare = replace(smoke, population=None)
    assert bare.moving.homes is None or not smoke.moving.movein_buildings
    first = with_population(bare, smoke.population)
    second = with_population(bare, smoke.population)
    if smoke.moving.movein_buildings:
        assert second.moving.homes is first.moving.homes
        assert first.moving.homes.key == smoke.moving.homes.key
        pd.testing.assert_frame_equal(first.moving.homes.households, smoke.moving.homes.households)
    assert evaluate_point(second, 1, 3) == evaluate_point(smoke, 1, 3)


def test_pruning_drops_only_the_summaries_of_other_code_versions(tmp_path):
    store = SummaryStore(tmp_path)
    kept_summary(store, "moving", lambda: "k", lambda: {"a": 1})
    old = tmp_path / "0123456789abcdef"
    old.mkdir()
    (old / "moving-k.json").write_text("{}", encoding="utf-8")
    (old / "notes.txt").write_text("a user's file", encoding="utf-8")
    assert store.prune() == 1
    assert (old / "notes.txt").is_file() and not (old / "moving-k.json").exists()
    assert store.path("moving", "k").is_file()
    (old / "notes.txt").unlink()
    store.prune()
    assert not old.exists()
