"""Sweeps: specifications, designs, the Dask runner (resume, failures, determinism, a real
scheduler), and the one-at-a-time design against the summary's old re-runs."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simlib.cli import main
from simlib.files import child_folder, safe_slug
from simlib.machine import usable_cpus
from simlib.moving import load_moving_params, run_replications
from simlib.population import generate_population
from simlib.provenance import DataError
from simlib.scenario import PROJECT_ROOT, SMOKE_SCENARIO, load_scenario
from simlib.sweep import design_points, load_spec, run_points_here, run_sweep
from simlib.sweep.design import BASELINE_LABEL, Point
from simlib.sweep.evaluate import OUTPUTS
from simlib.sweep.runner import run_on_scenario
from simlib.sweep.spec import SWEEPS_DIR
from simlib.sweep.store import Expected, Store, check_record, code_version, runtime_versions
from simlib.sweep.worker import version_mismatch

SIMLIB = [sys.executable, "-m", "simlib"]
OUTPUT_COLUMNS = [
    "campaign_days",
    "registered_poor_all_in_day",
    "deadline_met_share",
    "employed",
    "employment_rate",
    "households_without_worker",
]


def write_spec(folder: Path, name: str = "t", **fields) -> Path:
    spec = {
        "name": name,
        "scenario": str(SMOKE_SCENARIO),
        "replications": 1,
        "budget": 40,
        "design": {"method": "oat"},
        "parameters": {"moving.route_vehicles_per_day": {}},
    }
    spec.update(fields)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


# --- specifications ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"parameters": {"moving.no_such": {}}}, "moving.no_such", "unknown parameter"),
        (
            {"parameters": {"moving.leased_vehicles_per_county_day": {"levels": ["many"]}}},
            "moving.leased_vehicles_per_county_day",
            "type int",
        ),
        (
            {"parameters": {"moving.route_vehicles_per_day": {"low": 0, "high": 10}}},
            "moving.route_vehicles_per_day",
            "must be > 0",
        ),
        (
            {"parameters": {"moving.loading_mean": {"low": "slow", "high": 9}}},
            "moving.loading_mean.low",
            "must be a number",
        ),
        ({"parameters": {}}, "parameters", "empty"),
        (
            {"parameters": {"moving.scheduling_policy": {}}},
            "moving.scheduling_policy",
            "levels",
        ),
        ({"budget": 2}, "budget", "over budget"),
        ({"design": {"method": "magic"}}, "design.method", "must be one of"),
        ({"design": {"method": "lhs", "samples": 0}}, "design.samples", "must lie in [1,"),
        (
            {
                "design": {"method": "morris"},
                "parameters": {"moving.scheduling_policy": {"levels": ["county_waves"]}},
            },
            "moving.scheduling_policy",
            "numeric low/high",
        ),
        ({"replications": 0}, "replications", "must lie in [1, 1,000]"),
        ({"surprise": 1}, "surprise", "unknown key"),
    ],
)
def test_specification_errors_name_the_field(tmp_path, fields, field, words):
    with pytest.raises(DataError) as error:
        load_spec(write_spec(tmp_path, **fields))
    assert error.value.field == field, str(error.value)
    assert words in str(error.value)
    assert str(tmp_path) in str(error.value)


def test_cli_reports_a_bad_specification_with_status_2(tmp_path):
    path = write_spec(tmp_path, parameters={"moving.no_such": {}})
    run = subprocess.run([*SIMLIB, "sweep", str(path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert "moving.no_such" in run.stderr and "Traceback" not in run.stderr


# --- designs ------------------------------------------------------------------------------


def test_one_at_a_time_uses_the_ranges_in_data_and_labels_from_values(tmp_path):
    spec = load_spec(
        write_spec(
            tmp_path,
            parameters={
                "moving.route_vehicles_per_day": {},
                "moving.scheduling_policy": {"levels": ["county_waves", "round_robin"]},
                "moving.registered_poor_first": {},
            },
            overlays=[str(SMOKE_SCENARIO.parent / "more-escorts.yaml")],
        )
    )
    points = design_points(spec)
    labels = [p.label for p in points]
    assert labels == [
        BASELINE_LABEL,
        "route_vehicles_per_day 150 → 60",  # the low/high recorded in data/moving
        "route_vehicles_per_day 150 → 300",
        "scheduling_policy round_robin → county_waves",  # the baseline level is not re-run
        "registered_poor_first yes → no",
        "more-escorts: route_vehicles_per_day 150 → 300, cadres_per_county 40 → 80, "
        "doctors_per_county 10 → 20",
    ]
    assert points[1].factor == "moving.route_vehicles_per_day" and points[1].level == "low"
    assert {p.seed for p in points} == {spec.seed}  # common random numbers


@pytest.mark.parametrize(
    ("design", "size"),
    [
        ({"method": "morris", "trajectories": 3, "levels": 4}, 3 * (3 + 1)),
        ({"method": "sobol", "samples": 4}, 4 * (3 + 2)),
        ({"method": "lhs", "samples": 7}, 7),
        ({"method": "grid", "points": 3}, 3**3),
    ],
)
def test_sampling_designs_have_their_size_and_stay_in_range(tmp_path, design, size):
    spec = load_spec(
        write_spec(
            tmp_path,
            design=design,
            common_random_numbers=False,
            parameters={
                "moving.route_vehicles_per_day": {},
                "moving.loading_mean": {"low": 30, "high": 60},
                "jobs.labour_export_factor": {},
            },
        )
    )
    points = design_points(spec)
    assert len(points) == size
    quota = [p.changes["moving.route_vehicles_per_day"] for p in points]
    assert all(isinstance(q, int) and 60 <= q <= 300 for q in quota)
    loading = [p.changes["moving.loading_mean"] for p in points]
    assert min(loading) >= 30 and max(loading) <= 60
    seeds = [p.seed for p in points]
    assert len(set(seeds)) == len(seeds)  # independent streams per point...
    assert seeds == [p.seed for p in design_points(spec)]  # ...derived, not drawn anew


# --- the runner ---------------------------------------------------------------------------


def _outputs(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("point")[OUTPUT_COLUMNS].sort_index()


def test_one_at_a_time_reproduces_the_old_re_runs(tmp_path):
    """The summary re-ran the moving campaign with `scenario.with_overrides` per change; the
    sweep's one-at-a-time points give the same numbers for the same changes and seed."""
    spec = load_spec(
        write_spec(
            tmp_path,
            replications=2,
            parameters={"moving.county_rest_days": {"levels": [5]}},
            overlays=[
                {"moving.pause_windows": []},
                {"moving.cadres_per_county": 20, "moving.doctors_per_county": 5},
            ],
        )
    )
    table = run_points_here(spec)
    smoke = load_scenario(SMOKE_SCENARIO)
    population = generate_population(smoke)
    old = [
        {},
        {"county_rest_days": 5},
        {"pause_windows": []},
        {"cadres_per_county": 20, "doctors_per_county": 5},
    ]
    assert len(table) == len(old)
    for row, overrides in zip(table.itertuples(), old, strict=True):
        s = run_replications(
            load_moving_params(smoke.with_overrides("moving", **overrides)),
            population,
            seed=smoke.seed,
            replications=2,
            workers=1,
        ).summary()
        assert row.campaign_days == s["campaign_days"]["mean"], row.label
        assert row.registered_poor_all_in_day == s["registered_poor_all_in_day"]["mean"]
        assert row.deadline_met_share == s["deadline_met_share"]


def test_failures_are_recorded_and_the_others_go_on(tmp_path):
    # dusk before the gathering starts: the loader refuses the one point with both changes
    path = write_spec(
        tmp_path,
        design={"method": "grid"},
        parameters={
            "moving.gather_start": {"levels": [1000]},
            "moving.dark": {"levels": [900]},
        },
    )
    run = subprocess.run(
        [*SIMLIB, "sweep", str(path), "--workers", "1", "--out", str(tmp_path / "out"), "--json"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1, run.stderr
    summary = json.loads(run.stdout)  # stdout holds the JSON alone
    assert summary["points"] == 4 and summary["failed"] == 1 and summary["completed"] == 3
    assert summary["failures"][0]["label"].startswith("gather_start 420 → 1000")
    assert "must be after gather_start" in summary["failures"][0]["error"]
    table = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert (table["status"] == "failed").sum() == 1
    assert table.loc[table["status"] == "ok", "campaign_days"].notna().all()


def raise_on_some(inputs, replications, seed):
    from simlib.sweep.evaluate import evaluate_point

    if inputs.moving.route_vehicles > 6:  # the high end of the range at 4 % scale
        raise RuntimeError("the model broke here")
    return evaluate_point(inputs, replications, seed)


def test_a_point_that_raises_on_a_worker_is_recorded(tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    spec = load_spec(write_spec(tmp_path))
    run = run_sweep(spec, out=tmp_path / "out", workers=1, progress=False, evaluate=raise_on_some)
    assert (run.points, run.completed, run.failed) == (3, 2, 1)
    assert run.failures[0]["error"] == "RuntimeError: the model broke here"
    again = run_sweep(spec, out=tmp_path / "out", workers=1, progress=False)
    assert (again.skipped, again.completed, again.failed) == (2, 1, 0)  # failed ones re-run


def test_same_results_whatever_the_number_of_workers(tmp_path):
    spec = load_spec(
        write_spec(
            tmp_path,
            design={"method": "lhs", "samples": 4},
            common_random_numbers=False,
            parameters={"moving.route_vehicles_per_day": {}, "jobs.labour_export_factor": {}},
        )
    )
    one = run_sweep(spec, out=tmp_path / "one", workers=1, progress=False)
    two = run_sweep(spec, out=tmp_path / "two", workers=2, progress=False)
    assert one.failed == two.failed == 0
    pd.testing.assert_frame_equal(_outputs(one.table), _outputs(two.table))


def test_changed_specification_is_refused_unless_restarted(tmp_path):
    out = tmp_path / "out"
    path = write_spec(tmp_path)
    first = subprocess.run(
        [*SIMLIB, "sweep", str(path), "--out", str(out), "--workers", "1", "--json"],
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    again = json.loads(
        subprocess.run(
            [*SIMLIB, "sweep", str(path), "--out", str(out), "--json"],
            capture_output=True,
            text=True,
        ).stdout
    )
    assert (again["skipped"], again["completed"]) == (3, 0)
    path = write_spec(tmp_path, replications=2)
    changed = subprocess.run(
        [*SIMLIB, "sweep", str(path), "--out", str(out)], capture_output=True, text=True
    )
    assert changed.returncode == 2
    assert "another specification" in changed.stderr and "--restart" in changed.stderr
    restarted = subprocess.run(
        [*SIMLIB, "sweep", str(path), "--out", str(out), "--restart", "--workers", "1", "--json"],
        capture_output=True,
        text=True,
    )
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout)["completed"] == 3


def test_resume_after_kill_9_loses_only_points_in_flight(tmp_path):
    out = tmp_path / "out"
    path = write_spec(
        tmp_path,
        replications=2,
        design={"method": "lhs", "samples": 14},
        parameters={"moving.route_vehicles_per_day": {}, "moving.loading_mean": {}},
    )
    runner = subprocess.Popen(
        [*SIMLIB, "sweep", str(path), "--out", str(out), "--workers", "1", "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its Dask workers share its process group
    )
    points = out / "points"
    deadline = time.monotonic() + 120
    while len(list(points.glob("[0-9]*.json"))) < 3:
        assert runner.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline, "no points finished in time"
        time.sleep(0.05)
    os.killpg(runner.pid, signal.SIGKILL)
    runner.wait()
    before = {p.name: p.read_text() for p in points.glob("[0-9]*.json")}
    assert 3 <= len(before) < 14
    for text in before.values():
        assert json.loads(text)["status"] == "ok"  # whole files only

    rerun = subprocess.run(
        [*SIMLIB, "sweep", str(path), "--out", str(out), "--workers", "1", "--json"],
        capture_output=True,
        text=True,
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["skipped"] == len(before)
    assert summary["completed"] == 14 - len(before)
    after = {p.name: p.read_text() for p in points.glob("[0-9]*.json")}
    assert sorted(after) == [f"{i:06d}.json" for i in range(14)]  # each point exactly once
    for name, text in before.items():
        assert after[name] == text  # finished points were not computed again
    table = pd.read_parquet(out / "results.parquet")
    assert sorted(table["point"]) == list(range(14))
    assert (table["status"] == "ok").all()
    # the killed run could not release its lock: the rerun takes it over and says so
    assert any("took over the lock" in note for note in summary["notes"])
    assert "took over the lock" in rerun.stderr


# --- output you can trust -------------------------------------------------------------------


def _points(folder: Path) -> list[Path]:
    return sorted((folder / "points").glob("[0-9]*.json"))


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> tuple[Path, Path]:
    """A small sweep run once (3 points): its specification and its folder."""
    folder = tmp_path_factory.mktemp("finished")
    path = write_spec(folder)
    run = run_sweep(load_spec(path), out=folder / "out", workers=1, progress=False)
    assert run.completed == 3
    return path, folder / "out"


@pytest.fixture
def finished(finished_sweep, tmp_path) -> tuple[Path, Path]:
    """A copy of that finished sweep's folder, for one test to change."""
    path, folder = finished_sweep
    shutil.copytree(folder, tmp_path / "out")
    return path, tmp_path / "out"


def test_report_sweep_folders_stay_under_their_root_whatever_the_scenario_name(tmp_path):
    """A scenario named '.../../../x' once sent the report's sweeps outside results/, into
    one folder, where the second reused the first's points."""
    hostile = tmp_path / "scenarios" / "hostile.yaml"
    hostile.parent.mkdir()
    hostile.write_text(
        f"name: smoke/../../../escape\nscale: 0.04\ndata: {SMOKE_SCENARIO.parent.parent}\n"
    )
    root = tmp_path / "deep" / "er" / "root"
    root.mkdir(parents=True)
    first = write_spec(tmp_path, "first")
    second = write_spec(tmp_path, "second", parameters={"moving.county_rest_days": {}})
    before = sorted(p for p in tmp_path.rglob("*") if root not in p.parents and p != root)
    runs = [
        run_on_scenario(str(spec.with_suffix("")), hostile, workers=1, root=root)
        for spec in (first, second)
    ]
    after = sorted(p for p in tmp_path.rglob("*") if root not in p.parents and p != root)
    assert after == before, "something was written outside the root"
    folders = [run.output for run in runs]
    assert len(set(folders)) == 2
    for run in runs:
        assert run.output.parent == root and run.output.name.startswith(Path(run.name).name)
        assert (run.completed, run.skipped, run.failed) == (3, 0, 0)  # nothing reused
    assert "route_vehicles_per_day" in runs[0].table["label"].str.cat()
    assert "county_rest_days" in runs[1].table["label"].str.cat()


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("smoke", "smoke"),
        ("assumptions-smoke", "assumptions-smoke"),
        ("../../x", "x-"),
        ("/etc/passwd", "etc-passwd-"),
        ("..", "x-"),
        ("a b", "a-b-"),
        ("卯家湾", "x-"),
    ],
)
def test_folder_names_are_safe_slugs(name, folder, tmp_path):
    slug = safe_slug(name)
    assert slug.startswith(folder) and "/" not in slug and not slug.startswith(".")
    assert child_folder(tmp_path, name).parent == tmp_path
    assert safe_slug("a b") != safe_slug("a-b")


def test_a_link_in_the_root_cannot_lead_a_sweep_outside(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "assumptions-smoke").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="outside"):
        child_folder(tmp_path / "root", "assumptions-smoke")


def test_restart_deletes_the_sweeps_own_files_and_nothing_else(finished):
    _, out = finished
    keep = out / "points" / "notes.txt"
    keep.write_text("mine")
    assert len(_points(out)) == 3
    store = Store(out)
    store.discard()
    assert _points(out) == [] and keep.read_text() == "mine"
    assert not (out / "results.parquet").exists()


def test_a_folder_of_other_files_is_not_written_into(tmp_path, capsys):
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    code = main(["sweep", str(write_spec(tmp_path)), "--out", str(mine), "--restart"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--out" in err and "thesis.tex" in err
    assert sorted(p.name for p in mine.iterdir()) == [".lock", "thesis.tex"]


HOLD = """
import sys, time
from simlib.files import FolderLock
FolderLock(sys.argv[1], command="simlib sweep held").acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_a_second_run_into_a_locked_folder_is_refused_naming_the_holder(tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        path = write_spec(tmp_path)
        assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        for words in ("--out", "in use by simlib sweep held", f"pid {holder.pid}", "started"):
            assert words in err
        assert socket.gethostname() in err
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing it: the next run takes the lock over and says so
    code = main(["sweep", str(path), "--out", str(out), "--workers", "1", "--json"])
    assert code == 0
    out_text, err = capsys.readouterr()
    notes = json.loads(out_text)["notes"]
    assert any("took over the lock" in n and f"pid {holder.pid}" in n for n in notes)
    assert "took over the lock" in err
    assert (out / ".lock").read_text() == ""  # released at the end


def test_two_concurrent_sweeps_into_one_folder_one_runs_the_other_is_refused(tmp_path):
    out = tmp_path / "out"
    slow = write_spec(
        tmp_path,
        "slow",
        design={"method": "lhs", "samples": 6},
        parameters={"moving.route_vehicles_per_day": {}, "moving.loading_mean": {}},
    )
    other = write_spec(tmp_path, "other")
    first = subprocess.Popen(
        [*SIMLIB, "sweep", str(slow), "--out", str(out), "--workers", "1", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lock = out / ".lock"
        while not lock.is_file() or not lock.read_text():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = subprocess.run(
            [*SIMLIB, "sweep", str(other), "--out", str(out), "--workers", "1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        stdout, stderr = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert second.returncode == 2 and f"pid {first.pid}" in second.stderr
    assert first.returncode == 0, stderr
    assert json.loads(stdout)["completed"] == 6
    assert json.loads((out / "sweep.json").read_text())["name"] == "slow"
    assert len(_points(out)) == 6


def test_damaged_and_foreign_point_files_are_recomputed_and_named(finished):
    path, out = finished
    spec = load_spec(path)
    files = _points(out)
    files[0].write_text("{}")  # once crashed the runner with a KeyError
    files[1].write_text(files[1].read_text()[:40])  # cut short
    record = json.loads(files[2].read_text())
    files[2].write_text(json.dumps(dict(record, seed=record["seed"] + 1)))
    again = run_sweep(spec, out=out, workers=1, progress=False)
    assert (again.skipped, again.completed, again.failed) == (0, 3, 0)
    reasons = {r["point"]: r["reason"] for r in again.recomputed}
    assert reasons[0] == "its file holds point None"
    assert reasons[1].startswith("its file cannot be read")
    assert reasons[2].startswith(f"its file has seed {record['seed'] + 1}")
    assert [n for n in again.notes if "recomputed" in n] == [
        f"point {i} is recomputed: {reasons[i]}" for i in range(3)
    ]
    assert json.loads(files[2].read_text())["seed"] == record["seed"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"index": 2}, "holds point 2"),
        ({"sweep": "0123456789abcdef"}, "another sweep"),
        ({"changes": {"moving.route_vehicles_per_day": 7}}, "other parameter values"),
        ({"replications": 5}, "has 5 replications"),
        ({"code_version": "0" * 16}, "code version '0000000000000000'"),
        ({"libraries": {"numpy": "1.0"}}, "other library versions"),
        ({"status": "maybe"}, "status 'maybe'"),
        ({"outputs": {"campaign_days": 100.0}}, "lacks outputs"),
    ],
)
def test_a_point_file_counts_only_if_it_matches_the_design(change, words):
    point = Point(index=1, changes={"moving.route_vehicles_per_day": 60}, seed=7, label="x")
    expected = Expected("f" * 16, "c" * 16, {"numpy": "2"}, 2, ("campaign_days", "employed"))
    good = {
        "index": 1,
        "sweep": "f" * 16,
        "seed": 7,
        "changes": {"moving.route_vehicles_per_day": 60},
        "replications": 2,
        "code_version": "c" * 16,
        "libraries": {"numpy": "2"},
        "status": "ok",
        "outputs": {"campaign_days": 100.0, "employed": 5.0},
    }
    assert check_record(good, point, expected) == ""
    assert words in check_record(dict(good, **change), point, expected)


def test_concurrent_tables_and_point_files_use_unique_temporary_names(finished):
    """Three runs on a finished folder once crashed on the fixed name .results.parquet.tmp."""
    path, out = finished
    spec = load_spec(path)
    table = pd.read_parquet(out / "results.parquet")
    store, points = Store(out), design_points(spec)
    expected = Expected(
        spec.fingerprint(), code_version(), runtime_versions()["libraries"], 1, tuple(OUTPUTS)
    )
    errors = []

    def combine() -> None:
        try:
            for _ in range(10):
                store.combine(points, expected)
        except Exception as error:  # collected: a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=combine) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock",
        ".summaries",  # the models' summaries the sweep kept (simlib.sweep.memo)
        "points",
        "results.parquet",
        "sweep.json",
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), table)


def test_a_point_whose_matching_finds_no_plan_is_failed_with_its_reason(tmp_path):
    # equal employment rates in every county cannot all hold at smoke scale
    spec = load_spec(
        write_spec(
            tmp_path,
            parameters={},
            overlays=[{"jobs.fairness_floor": 1.0, "jobs.solver_time_limit": 2}],
        )
    )
    run = run_sweep(spec, out=tmp_path / "out", workers=1, progress=False)
    assert (run.points, run.completed, run.failed) == (2, 1, 1)
    (failure,) = run.failures
    assert failure["point"] == 1 and failure["error"].startswith("MatchFailed: ")
    assert "no plan" in failure["error"]
    row = run.table.set_index("point").loc[1]
    assert row["status"] == "failed" and "no plan" in row["error"]


# --- a real cluster: workers from a copy of the checkout elsewhere ----------------------------

DASK = Path(sys.executable).parent / "dask"


def copy_checkout(target: Path, change: str = "") -> Path:
    """The package and its data, copied to another path (as on another machine); `change`
    is appended to one model module, to make a worker that runs other code."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PROJECT_ROOT / "simlib", target / "simlib", ignore=ignore)
    shutil.copytree(PROJECT_ROOT / "data", target / "data")
    if change:
        module = target / "simlib" / "sweep" / "evaluate.py"
        module.write_text(module.read_text() + change)
    return target


class Cluster:
    """A `dask scheduler` and `dask worker` processes, each started apart, in its own
    process group so that a test can kill a worker with everything it started."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.workers: list[subprocess.Popen] = []
        scheduler_file = tmp_path / "scheduler.json"
        self.scheduler = self._start(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
            + ["--scheduler-file", str(scheduler_file)],
            cwd=tmp_path,
        )
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() or not scheduler_file.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        self.address = json.loads(scheduler_file.read_text())["address"]

    @staticmethod
    def _start(argv: list[str], cwd: Path, pythonpath: str = "") -> subprocess.Popen:
        env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def add_worker(self, checkout: Path, name: str) -> None:
        argv = [str(DASK), "worker", self.address, "--nworkers", "1", "--nthreads", "1"]
        argv += ["--no-dashboard", "--name", name]
        self.workers.append(self._start(argv, cwd=checkout, pythonpath=str(checkout)))

    def kill_workers(self) -> None:
        """Every worker at once, nanny and all (SIGKILL to each process group)."""
        for worker in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
        for worker in self.workers:
            worker.wait(timeout=30)

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def cluster(tmp_path):
    started = Cluster(tmp_path)
    yield started
    started.close()


def worker_packages(address: str) -> set[str]:
    """Where each worker of a cluster imports simlib from."""
    from distributed import Client

    with Client(address, timeout="20s") as client:
        client.wait_for_workers(1, timeout=60)
        return set(client.run(lambda: __import__("simlib").__file__).values())


def test_a_real_scheduler_with_workers_from_a_copy_at_another_path(tmp_path, cluster):
    elsewhere = copy_checkout(tmp_path / "elsewhere")
    cluster.add_worker(elsewhere, "far-away")
    assert worker_packages(cluster.address) == {str(elsewhere / "simlib" / "__init__.py")}
    path = write_spec(tmp_path)
    run = subprocess.run(
        [
            *SIMLIB,
            "sweep",
            str(path),
            "--scheduler",
            cluster.address,
            "--out",
            str(tmp_path / "far"),
        ]
        + ["--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert (summary["points"], summary["completed"], summary["workers"]) == (3, 3, 1)
    far = pd.read_parquet(tmp_path / "far" / "results.parquet")
    here = run_points_here(load_spec(path))
    assert np.allclose(far[OUTPUT_COLUMNS].to_numpy(float), here[OUTPUT_COLUMNS].to_numpy(float))


def test_losing_every_worker_mid_sweep_costs_time_not_points(tmp_path, cluster):
    elsewhere = copy_checkout(tmp_path / "elsewhere")
    for name in ("one", "two"):
        cluster.add_worker(elsewhere, name)
    out, n = tmp_path / "out", 8
    path = write_spec(
        tmp_path,
        replications=1,
        design={"method": "lhs", "samples": n},
        parameters={"moving.route_vehicles_per_day": {}, "moving.loading_mean": {}},
    )
    client = subprocess.Popen(
        [*SIMLIB, "sweep", str(path), "--scheduler", cluster.address, "--out", str(out)]
        + ["--json", "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while len(list((out / "points").glob("[0-9]*.json"))) < 2:
            assert client.poll() is None, client.communicate()
            assert time.monotonic() < deadline, "no point finished in time"
            time.sleep(0.05)
        cluster.kill_workers()  # both at once: every population and point they held is lost
        killed = time.monotonic()
        finished_before = len(list((out / "points").glob("[0-9]*.json")))
        assert finished_before < n, "the sweep ended before its workers could be killed"
        cluster.add_worker(elsewhere, "replacement")
        stdout, stderr = client.communicate(timeout=300)
        print(
            f"killed after {finished_before} points, the rest in {time.monotonic() - killed:.1f} s"
        )
    finally:
        if client.poll() is None:
            client.kill()
    assert client.returncode == 0, stderr
    summary = json.loads(stdout)
    assert (summary["completed"], summary["failed"], summary["skipped"]) == (n, 0, 0)
    files = sorted(p.name for p in (out / "points").glob("*.json"))
    assert files == [f"{i:06d}.json" for i in range(n)]  # every point exactly once
    table = pd.read_parquet(out / "results.parquet")
    assert sorted(table["point"]) == list(range(n)) and (table["status"] == "ok").all()


def test_a_worker_running_other_code_fails_its_points_with_the_reason(tmp_path, cluster):
    other = copy_checkout(tmp_path / "other", change="\n# a local edit on the worker\n")
    cluster.add_worker(other, "edited")
    path = write_spec(tmp_path)
    run = subprocess.run(
        [*SIMLIB, "sweep", str(path), "--scheduler", cluster.address, "--out", str(tmp_path / "o")]
        + ["--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr
    summary = json.loads(run.stdout)
    assert (summary["completed"], summary["failed"]) == (0, 3)
    for failure in summary["failures"]:
        assert re.fullmatch(r"worker \S+:\d+ runs other simlib code .*", failure["error"])
        assert code_version() in failure["error"]  # the client's version, named


def test_a_worker_with_other_library_versions_is_named():
    mine = {"code_version": "abc", "libraries": {"numpy": "2.0.0", "pandas": "3.0.0"}}
    client = {"code_version": "abc", "libraries": {"numpy": "2.4.6", "pandas": "3.0.0"}}
    problem = version_mismatch(mine, client)
    assert problem == "has other library versions: numpy 2.0.0 here, 2.4.6 on the client"
    assert version_mismatch(client, client) == ""


def test_the_client_builds_no_population(tmp_path, monkeypatch):
    """Populations are tasks built on the workers (recomputable if a worker is lost), not
    data the client builds and scatters."""
    import simlib.inputs

    def no(*args, **kwargs):
        raise AssertionError("the client built a population")

    monkeypatch.setattr(simlib.inputs, "generate_population", no)
    spec = load_spec(write_spec(tmp_path, parameters={"population.migrate_share_M_30_44": {}}))
    run = run_sweep(spec, out=tmp_path / "out", workers=1, progress=False)
    assert (run.completed, run.failed) == (3, 0), run.failures


def test_resume_from_a_copy_of_the_checkout_at_another_path(tmp_path):
    out = tmp_path / "out"
    first = subprocess.run(
        [*SIMLIB, "sweep", str(write_spec(tmp_path)), "--out", str(out), "--workers", "1"],
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    (out / "points" / "000001.json").unlink()
    elsewhere = copy_checkout(tmp_path / "elsewhere")
    scenario = elsewhere / "data" / "scenarios" / "smoke.yaml"
    spec = write_spec(elsewhere, scenario=str(scenario))
    resumed = subprocess.run(
        [sys.executable, "-m", "simlib", "sweep", str(spec), "--out", str(out), "--json"]
        + ["--workers", "1"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=dict(os.environ, PYTHONPATH=str(elsewhere)),
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert (summary["skipped"], summary["completed"], summary["recomputed"]) == (2, 1, [])


def test_default_workers_are_the_cpus_this_process_may_use(tmp_path):
    """With one CPU allowed (taskset, a batch job's share), the local cluster has one worker
    whatever the machine has."""
    path = write_spec(tmp_path, parameters={"moving.county_rest_days": {"levels": [5]}})
    code = (
        "import os, sys; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
        "from simlib.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "sweep", str(path), "--out", str(tmp_path / "o"), "--json"]
        + ["--no-progress"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["workers"] == 1


def test_usable_cpus_reads_affinity_and_the_cgroup_quota(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs: two processes may run
    assert usable_cpus(v2) == min(affinity, 2)
    (v2 / "cpu.max").write_text("max 100000\n")
    assert usable_cpus(v2) == affinity
    v1 = tmp_path / "v1" / "cpu"
    v1.mkdir(parents=True)
    (v1 / "cpu.cfs_quota_us").write_text("50000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert usable_cpus(tmp_path / "v1") == 1
    assert usable_cpus(tmp_path / "none") == affinity


def test_every_shipped_specification_loads_and_ci_stays_small():
    sizes = {p.stem: len(design_points(load_spec(p))) for p in sorted(SWEEPS_DIR.glob("*.yaml"))}
    assert {"ci", "assumptions", "morris", "discovery", "bench"} <= set(sizes)
    ci = load_spec("ci.yaml")
    assert sizes["ci"] <= 16 and ci.scenario.name == "smoke"
    smoke = load_scenario(SMOKE_SCENARIO)
    for name in ("assumptions", "morris", "discovery"):  # the report re-bases them (smoke:
        # their smaller `smoke:` design, tests/test_sweep_smoke.py)
        assert 0 < len(design_points(load_spec(f"{name}.yaml").on_scenario(smoke))) < sizes[name]


@pytest.mark.parametrize("name", sorted(p.stem for p in SWEEPS_DIR.glob("*.yaml")))
def test_every_point_of_a_shipped_specification_is_accepted_by_the_loaders(name):
    """Each parameter a shipped sweep names exists, and every point of its design (each
    combination of values, the what-ifs included) passes the domain loaders' checks."""
    from simlib.inputs import check_changes

    spec = load_spec(f"{name}.yaml")
    points = design_points(spec)
    assert 0 < len(points) <= spec.budget
    for point in points:
        check_changes(spec.scenario, point.changes)  # a DataError names the parameter and value
