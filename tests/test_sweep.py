"""Sweeps: specifications, designs, the Dask runner (resume, failures, determinism, a real
scheduler), and the one-at-a-time design against the summary's old re-runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simlib.moving import load_moving_params, run_replications
from simlib.population import generate_population
from simlib.provenance import DataError
from simlib.scenario import SMOKE_SCENARIO, load_scenario
from simlib.sweep import design_points, load_spec, run_points_here, run_sweep
from simlib.sweep.design import BASELINE_LABEL
from simlib.sweep.spec import SWEEPS_DIR

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


def test_a_real_scheduler_and_worker_started_apart(tmp_path):
    dask = Path(sys.executable).parent / "dask"
    scheduler_file = tmp_path / "scheduler.json"
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
    scheduler = subprocess.Popen(
        [str(dask), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        + ["--scheduler-file", str(scheduler_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() or not scheduler_file.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen(
            [str(dask), "worker", address, "--nworkers", "1", "--nthreads", "1"]
            + ["--no-dashboard", "--name", "far-away"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        path = write_spec(tmp_path)
        run = subprocess.run(
            [*SIMLIB, "sweep", str(path), "--scheduler", address, "--out", str(tmp_path / "far")]
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
        assert np.allclose(
            far[OUTPUT_COLUMNS].to_numpy(float), here[OUTPUT_COLUMNS].to_numpy(float)
        )
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def test_every_shipped_specification_loads_and_ci_stays_small():
    from simlib.sweep.spec import SWEEPS_DIR

    sizes = {p.stem: len(design_points(load_spec(p))) for p in sorted(SWEEPS_DIR.glob("*.yaml"))}
    assert {"ci", "assumptions", "morris", "discovery", "bench"} <= set(sizes)
    ci = load_spec("ci.yaml")
    assert sizes["ci"] <= 16 and ci.scenario.name == "smoke"
    smoke = load_scenario(SMOKE_SCENARIO)
    for name in ("assumptions", "morris", "discovery"):  # the report re-bases them
        assert len(design_points(load_spec(f"{name}.yaml").on_scenario(smoke))) == sizes[name]


@pytest.mark.parametrize("name", sorted(p.stem for p in SWEEPS_DIR.glob("*.yaml")))
def test_every_point_of_a_shipped_specification_is_accepted_by_the_loaders(name):
    """Each parameter a shipped sweep names exists, and every point of its design (each
    combination of values, the what-ifs included) passes the domain loaders' checks."""
    from simlib.sweep.spec import _Probe

    spec = load_spec(f"{name}.yaml")
    points = design_points(spec)
    assert 0 < len(points) <= spec.budget
    probe = _Probe(spec.scenario)
    for point in points:
        probe.check(point.changes)  # raises a DataError naming the parameter and value
