"""Run a sweep on Dask distributed: a LocalCluster on this machine, or any cluster by address.

The runner loads the base inputs once, makes each point's inputs by copying them
(`simlib.inputs.vary`: the population is shared unless a population input changes, and is
sent to the workers once), and hands the points to Dask. Each finished point is written at
once, atomically, by this process; a rerun skips the points already finished, so a killed
sweep loses only the points that were running. A point that raises is recorded as failed
with its error and the others go on.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from simlib.inputs import Inputs, vary
from simlib.provenance import DataError
from simlib.scenario import PROJECT_ROOT, Scenario, load_scenario
from simlib.sweep.design import Point, design_points
from simlib.sweep.evaluate import evaluate_point
from simlib.sweep.spec import SweepSpec, load_spec
from simlib.sweep.store import StaleSweep, Store, code_version, git_commit

DEFAULT_ROOT = PROJECT_ROOT / "results" / "sweeps"
Evaluate = Callable[[Inputs, int, int], dict[str, Any]]


@dataclass(frozen=True)
class SweepRun:
    """What one run of a sweep did. completed + failed + skipped = points."""

    name: str
    output: Path
    points: int
    completed: int  # computed in this run
    failed: int  # raised in this run (their errors in `failures`)
    skipped: int  # finished by an earlier run
    wall_seconds: float
    workers: int
    failures: tuple[dict[str, Any], ...] = ()
    table: pd.DataFrame | None = field(default=None, repr=False)
    spec: SweepSpec | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        """What `simlib sweep --json` prints."""
        return {
            "name": self.name,
            "points": self.points,
            "completed": self.completed,
            "failed": self.failed,
            "skipped": self.skipped,
            "wall_seconds": round(self.wall_seconds, 3),
            "workers": self.workers,
            "output": str(self.output),
            "table": str(self.output / "results.parquet"),
            "failures": list(self.failures),
        }


def point_record(point: Point, replications: int, commit: str) -> dict[str, Any]:
    """What a point file records besides the outputs."""
    return {
        "index": point.index,
        "label": point.label,
        "changes": dict(point.changes),
        "seed": point.seed,
        "replications": replications,
        "factor": point.factor,
        "level": point.level,
        "sample": list(point.sample),
        "git_commit": commit,
    }


def run_point(
    inputs: Inputs,
    population: Any,
    point: Point,
    replications: int,
    commit: str,
    evaluate: Evaluate = evaluate_point,
) -> dict[str, Any]:
    """One point, on a worker: its outputs, or its error (never raises)."""
    start = time.perf_counter()
    record = point_record(point, replications, commit)
    try:
        outputs = evaluate(replace(inputs, population=population), replications, point.seed)
        record.update(status="ok", outputs=outputs, error="")
    except Exception as error:  # recorded, so that the other points go on
        record.update(status="failed", outputs={}, error=f"{type(error).__name__}: {error}")
    record["wall_seconds"] = time.perf_counter() - start
    record["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return record


WAIT_FOR_WORKERS_SECONDS = 120  # a scheduler without a worker this long is an error


def _client(scheduler: str | None, workers: int | None):
    """A Dask client on the given scheduler, or on a new LocalCluster (one thread/worker)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except OSError as error:
            raise DataError(
                "--scheduler", "scheduler", scheduler, f"cannot connect: {error}"
            ) from None
    n = workers or os.cpu_count() or 1
    # the workers' sampling profiler slows the pure-Python points by up to a third
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: a fixed one may be taken by another cluster
            silence_logs=logging.CRITICAL,
        )
    return Client(cluster), cluster


def manifest(spec: SweepSpec, points: list[Point]) -> dict[str, Any]:
    return {
        "name": spec.name,
        "specification_file": str(spec.path),
        "spec": spec.fingerprint(),
        "code_version": code_version(spec.scenario.data_dir),
        "git_commit": git_commit(),
        "points": len(points),
        "method": spec.method,
        "replications": spec.replications,
        "master_seed": spec.seed,
        "factors": [f.key for f in spec.factors],
    }


def run_sweep(
    spec: SweepSpec,
    *,
    out: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    restart: bool = False,
    progress: bool = True,
    evaluate: Evaluate = evaluate_point,
) -> SweepRun:
    """Run every point not yet finished in `out` (default results/sweeps/<name>/)."""
    from distributed import as_completed
    from tqdm import tqdm

    if workers is not None and workers < 1:
        raise DataError("--workers", "workers", workers, "must be >= 1")
    start = time.perf_counter()
    points = design_points(spec)
    folder = Path(out) if out is not None else DEFAULT_ROOT / spec.name
    store = Store(folder)
    info = manifest(spec, points)
    store.prepare(info, restart=restart)
    done = store.finished()
    todo = [p for p in points if p.index not in done]
    commit = info["git_commit"]
    failures: list[dict[str, Any]] = []
    completed = 0

    bar = tqdm(
        total=len(points),
        initial=len(points) - len(todo),
        desc=f"sweep {spec.name}",
        unit="point",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )

    def finish(record: dict[str, Any]) -> None:
        nonlocal completed
        store.write_point(record)
        if record["status"] == "ok":
            completed += 1
        else:
            failures.append(
                {"point": record["index"], "label": record["label"], "error": record["error"]}
            )
        bar.update(1)

    n_workers = 0
    if todo:
        base = spec.load_base()
        client, cluster = _client(scheduler, workers)
        try:
            if cluster is None:  # an existing cluster: its workers may still be joining
                try:
                    client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_SECONDS)
                except TimeoutError:
                    raise DataError(
                        "--scheduler",
                        "scheduler",
                        scheduler,
                        f"no worker joined within {WAIT_FOR_WORKERS_SECONDS} s",
                    ) from None
            n_workers = len(client.scheduler_info().get("workers", {})) or (workers or 0)
            shared = client.scatter(base.population, broadcast=True)
            bare = replace(base, population=None)
            futures = []
            by_key: dict[str, Point] = {}
            run_id = uuid.uuid4().hex[:8]
            for point in todo:
                try:
                    inputs = vary(base, point.changes, where=spec.path)
                except DataError as error:  # this combination is one the loaders refuse
                    record = point_record(point, spec.replications, commit)
                    record.update(status="failed", outputs={}, error=str(error), wall_seconds=0.0)
                    finish(record)
                    continue
                population = shared if inputs.population is base.population else inputs.population
                future = client.submit(
                    run_point,
                    replace(inputs, population=None) if inputs is not base else bare,
                    population,
                    point,
                    spec.replications,
                    commit,
                    evaluate,
                    key=f"sweep-{spec.name}-{run_id}-{point.index}",
                    pure=False,
                )
                futures.append(future)
                by_key[future.key] = point
            for future in as_completed(futures):
                try:
                    record = future.result()
                except Exception as error:  # the worker itself died
                    point = by_key.get(future.key)
                    if point is None:
                        raise
                    record = point_record(point, spec.replications, commit)
                    record.update(
                        status="failed",
                        outputs={},
                        error=f"{type(error).__name__}: {error}",
                        wall_seconds=0.0,
                    )
                finish(record)
                future.release()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    bar.close()
    table = store.combine(p.index for p in points)
    return SweepRun(
        name=spec.name,
        output=folder,
        points=len(points),
        completed=completed,
        failed=len(failures),
        skipped=len(points) - len(todo),
        wall_seconds=time.perf_counter() - start,
        workers=n_workers,
        failures=tuple(failures),
        table=table,
        spec=spec,
    )


def run_points_here(spec: SweepSpec, evaluate: Evaluate = evaluate_point) -> pd.DataFrame:
    """Every point of a sweep in this process, one after the other, nothing written.

    For small designs inside a notebook (the summary's one-at-a-time table) and as the
    direct loop the runner's overhead is measured against.
    """
    base = spec.load_base()
    rows = []
    for point in design_points(spec):
        inputs = vary(base, point.changes, where=spec.path)
        outputs = evaluate(inputs, spec.replications, point.seed)
        rows.append(
            {
                "point": point.index,
                "label": point.label,
                "factor": point.factor,
                "level": point.level,
                "seed": point.seed,
                **{k: v for k, v in point.changes.items()},
                **outputs,
            }
        )
    return pd.DataFrame(rows)


def run_on_scenario(
    name: str,
    scenario: Scenario | str | Path,
    *,
    seed: int | None = None,
    workers: int | None = None,
    root: str | Path = DEFAULT_ROOT,
) -> SweepRun:
    """A shipped sweep (data/sweeps/<name>.yaml) around a report's scenario and seed.

    Runs it under <root>/<name>-<scenario name>/, or reads it if it already ran with the
    same specification and code; results of another version are recomputed, not mixed.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    spec = load_spec(f"{name}.yaml").on_scenario(scenario, seed=seed)
    out = Path(root) / f"{name}-{scenario.name}"
    try:
        return run_sweep(spec, out=out, workers=workers, progress=False)
    except StaleSweep:
        return run_sweep(spec, out=out, workers=workers, progress=False, restart=True)
