"""Run a sweep on Dask distributed: a LocalCluster on this machine, or any cluster by address.

The client checks each point's parameters through the loaders and hands Dask two kinds of
task: one population per distinct set of population inputs, built on a worker from the
data tables shipped with the task (no shared file system is assumed), and one task per
point that depends on its population. Both are ordinary tasks, so when workers are lost,
even all at once, Dask rebuilds what they held as new workers join: the run costs time,
not points. Each worker checks that it runs the client's code and library versions, and
fails the points it is given otherwise, naming the difference (simlib.sweep.worker).

The output folder is locked for the whole run (a second run into it is refused, naming
the holder; a lock left by a dead run is taken over, with a note). Each finished point is
written at once, atomically, by this process; a rerun skips the points whose files match
the design, so a killed sweep loses only the points that were running.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from simlib.files import FolderBusy, FolderLock, child_folder, describe_holder, git_commit
from simlib.inputs import read_scenario, vary
from simlib.machine import usable_cpus
from simlib.provenance import DataError
from simlib.scenario import PROJECT_ROOT, Scenario
from simlib.sweep.design import Point, design_points
from simlib.sweep.evaluate import Memoised, evaluate_point
from simlib.sweep.memo import SUMMARIES, SummaryStore
from simlib.sweep.spec import SweepSpec, load_spec
from simlib.sweep.store import (
    Expected,
    StaleSweep,
    Store,
    data_version,
    runtime_versions,
)
from simlib.sweep.worker import (
    DataBundle,
    Evaluate,
    PointTask,
    build_population,
    failed_record,
    run_point,
)

DEFAULT_ROOT = PROJECT_ROOT / "results" / "sweeps"
WAIT_FOR_WORKERS_SECONDS = 120  # a scheduler without a worker this long is an error
MAX_ATTEMPTS = 3  # a point whose future was cancelled (scheduler restarted) is sent again
log = logging.getLogger("simlib.sweep")


@dataclass(frozen=True)
class SweepRun:
    """What one run of a sweep did. completed + failed + skipped = points."""

    name: str
    output: Path
    points: int
    completed: int  # computed in this run
    failed: int  # failed in this run (their errors in `failures`)
    skipped: int  # finished by an earlier run, and checked against the design
    wall_seconds: float
    workers: int
    failures: tuple[dict[str, Any], ...] = ()
    recomputed: tuple[dict[str, Any], ...] = ()  # point files found that did not count
    notes: tuple[str, ...] = ()
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
            "recomputed": list(self.recomputed),
            "notes": list(self.notes),
        }


# --- on the client -------------------------------------------------------------------------


def population_key(scenario: Scenario, data: str) -> str:
    """What decides a population: its parameters with overrides, seed, scale and data."""
    values = scenario.values("population")
    doc = [values, scenario.seed, scenario.scale, data]
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_scheduler(scheduler: str) -> None:
    """An address Dask can parse (tcp://host:port, host:port) or a scheduler file that
    exists, refused before any work with the option named."""
    if Path(scheduler).suffix == ".json" or os.sep in scheduler and "://" not in scheduler:
        if not Path(scheduler).is_file():
            raise DataError("command line", "--scheduler", scheduler, "scheduler file not found")
        return
    from distributed.comm import parse_address, parse_host_port

    try:
        _, location = parse_address(scheduler)
        parse_host_port(location)
    except (ValueError, TypeError) as error:
        raise DataError(
            "command line",
            "--scheduler",
            scheduler,
            f"is not a scheduler address ({error}); write tcp://HOST:PORT or a scheduler file",
        ) from None


def _client(scheduler: str | None, workers: int):
    """A Dask client on the given scheduler, or on a new LocalCluster (one thread/worker)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        check_scheduler(scheduler)
        file = scheduler if Path(scheduler).is_file() else None
        try:
            if file:
                return Client(scheduler_file=file, timeout="20s"), None
            return Client(scheduler, timeout="20s"), None
        except (OSError, ValueError, TimeoutError) as error:
            raise DataError(
                "command line", "--scheduler", scheduler, f"cannot connect: {error}"
            ) from None
    # the workers' sampling profiler slows the pure-Python points by up to a third
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: a fixed one may be taken by another cluster
            silence_logs=logging.CRITICAL,
        )
    return Client(cluster), cluster


def _wait_for_workers(client, scheduler: str) -> None:
    try:
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_SECONDS)
    except TimeoutError:
        raise DataError(
            "command line",
            "--scheduler",
            scheduler,
            f"no worker joined within {WAIT_FOR_WORKERS_SECONDS} s",
        ) from None


def declared_outputs(evaluate: Evaluate) -> tuple[str, ...]:
    """The outputs a finished point of this evaluator must record: its module's OUTPUTS
    (simlib.sweep.evaluate's for the shared evaluator; the community's for its own)."""
    module = sys.modules.get(getattr(evaluate, "__module__", ""))
    return tuple(getattr(module, "OUTPUTS", None) or ())


def manifest(spec: SweepSpec, points: list[Point], versions: Mapping[str, Any]) -> dict:
    return {
        "name": spec.name,
        "specification_file": str(spec.path),
        "spec": spec.fingerprint(),
        "code_version": versions["code_version"],
        "libraries": dict(versions["libraries"]),
        "data_version": data_version(spec.scenario),
        "git_commit": git_commit(),
        "points": len(points),
        "method": spec.method,
        "replications": spec.replications,
        "master_seed": spec.seed,
        "factors": [f.key for f in spec.factors],
    }


class _Tally:
    """Writes each finished point and counts it, with the progress bar."""

    def __init__(self, store: Store, bar: Any):
        self.store, self.bar = store, bar
        self.completed = 0
        self.failures: list[dict[str, Any]] = []

    def finish(self, record: dict[str, Any]) -> None:
        self.store.write_point(record)
        if record["status"] == "ok":
            self.completed += 1
        else:
            self.failures.append(
                {"point": record["index"], "label": record["label"], "error": record["error"]}
            )
        self.bar.update(1)


@dataclass(frozen=True)
class _Plan:
    """The work of one run: the points to compute and what their records must say."""

    spec: SweepSpec
    todo: list[Point]
    sweep: str
    versions: Mapping[str, Any]
    commit: str
    evaluate: Evaluate

    def task(self, point: Point) -> PointTask:
        return PointTask(point, self.spec.replications, self.sweep, self.versions, self.commit)


Submitted = dict[str, tuple[Any, tuple[Any, ...]]]  # future key -> (future, run_point args)


def _submit(client, plan: _Plan, tally: _Tally) -> Submitted:
    """One population task per distinct population, one task per point; a point whose
    values the loaders refuse in combination is recorded as failed at once."""
    spec, run_id = plan.spec, uuid.uuid4().hex[:8]
    base = spec.load_base(population=False)
    bundle = DataBundle.of(spec.scenario.data_dir)
    populations: dict[str, Any] = {}
    submitted = {}
    for point in plan.todo:
        task = plan.task(point)
        try:
            inputs = vary(base, point.changes, where=spec.path, population=False)
        except DataError as error:  # this combination is one the loaders refuse
            tally.finish(failed_record(task, str(error)))
            continue
        key = population_key(inputs.scenario, bundle.digest)
        if key not in populations:
            populations[key] = client.submit(
                build_population, inputs.scenario, bundle, key=f"population-{key}-{run_id}"
            )
        args = (task, inputs, populations[key], plan.evaluate)
        future = client.submit(run_point, *args, key=f"point-{point.index}-{run_id}", pure=False)
        submitted[future.key] = (future, args)
    return submitted


LOST = ("CancelledError", "FutureCancelledError", "CommClosedError", "StreamClosedError")


def _collect(client, submitted: Submitted, tally: _Tally) -> None:
    """Write each point as it finishes; a future lost with the scheduler's connection is
    submitted again (at most MAX_ATTEMPTS times), any other error fails its point."""
    from distributed import as_completed

    attempts = {key: 1 for key in submitted}
    waiting = as_completed([future for future, _ in submitted.values()])
    for future in waiting:
        _, args = submitted[future.key]
        try:
            record = future.result()
        except Exception as error:
            kind = type(error).__name__
            if kind in LOST and attempts[future.key] < MAX_ATTEMPTS:
                again = client.submit(run_point, *args, key=f"{future.key}-again", pure=False)
                submitted[again.key], attempts[again.key] = (again, args), attempts[future.key] + 1
                waiting.add(again)
                continue
            record = failed_record(args[0], f"{kind}: {error}")
        tally.finish(record)
        future.release()


def _compute(plan: _Plan, tally: _Tally, scheduler: str | None, workers: int | None) -> int:
    """Run the points on Dask; the number of workers that took part."""
    n = min(workers or usable_cpus(), len(plan.todo))
    client, cluster = _client(scheduler, n)
    try:
        if cluster is None:  # an existing cluster: its workers may still be joining
            _wait_for_workers(client, scheduler)
        n_workers = len(client.scheduler_info().get("workers", {})) or n
        _collect(client, _submit(client, plan, tally), tally)
        return n_workers
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _lock(folder: Path, spec: SweepSpec) -> FolderLock:
    """The folder's lock, or a DataError naming who holds it."""
    lock = FolderLock(folder, command=f"simlib sweep {spec.name}")
    try:
        lock.acquire()
    except FolderBusy as busy:
        raise DataError(
            "command line",
            "--out",
            str(folder),
            f"is in use by {describe_holder(busy.holder)}; wait for it to end or choose "
            "another --out",
        ) from None
    return lock


@dataclass(frozen=True)
class RunOptions:
    """How to run: on which scheduler (else a LocalCluster of `workers`), from scratch or
    not, with a progress bar or not, and the function that evaluates a point (evaluate_point
    with its models' summaries kept, unless the caller gives another)."""

    scheduler: str | None = None
    workers: int | None = None
    restart: bool = False
    progress: bool = True
    evaluate: Evaluate = evaluate_point


def run_sweep(
    spec: SweepSpec,
    *,
    out: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    restart: bool = False,
    progress: bool = True,
    evaluate: Evaluate | None = None,
) -> SweepRun:
    """Run every point not yet finished in `out` (default results/sweeps/<name>/), with the
    folder locked for the whole run. On a LocalCluster the default evaluator is
    `evaluate_point` with each model's summary kept in <out>/.summaries/ (`Memoised`): the
    same outputs, each model run once per distinct input it reads. On a `scheduler` it is
    `evaluate_point` itself, since remote workers may not share this file system (pass
    `Memoised(folder)` for a folder they all reach)."""
    if workers is not None and workers < 1:
        raise DataError("command line", "--workers", workers, "must be at least 1")
    if scheduler:
        check_scheduler(scheduler)
    start = time.perf_counter()
    folder = Path(out) if out is not None else DEFAULT_ROOT / spec.name
    if evaluate is None:
        evaluate = evaluate_point if scheduler else Memoised((folder / SUMMARIES).absolute())
    options = RunOptions(scheduler, workers, restart, progress, evaluate)
    lock = _lock(folder, spec)
    try:
        run = _run_locked(spec, Store(folder), lock, options)
    finally:
        lock.release()
    return replace(run, wall_seconds=time.perf_counter() - start)


def _run_locked(spec: SweepSpec, store: Store, lock: FolderLock, options: RunOptions) -> SweepRun:
    from tqdm import tqdm

    notes = []
    if lock.stale:
        notes.append(
            f"took over the lock of {describe_holder(lock.stale)}, which ended without releasing it"
        )
    points = design_points(spec)
    versions = runtime_versions()
    info = manifest(spec, points, versions)
    info["evaluator"] = getattr(
        options.evaluate, "__qualname__", type(options.evaluate).__qualname__
    )
    expected = Expected(
        info["spec"],
        versions["code_version"],
        versions["libraries"],
        spec.replications,
        declared_outputs(options.evaluate),
    )
    store.prepare(info, restart=options.restart)
    if isinstance(options.evaluate, Memoised):
        SummaryStore(options.evaluate.folder).prune()
    done, problems = store.audit(points, expected)
    recomputed = tuple({"point": i, "reason": f"its file {r}"} for i, r in sorted(problems.items()))
    notes += [f"point {r['point']} is recomputed: {r['reason']}" for r in recomputed]
    for note in notes:
        log.warning(note)
    todo = [p for p in points if p.index not in done]
    bar = tqdm(
        total=len(points),
        initial=len(done),
        desc=f"sweep {spec.name}",
        unit="point",
        file=sys.stderr,
        disable=not options.progress,
        dynamic_ncols=True,
    )
    tally = _Tally(store, bar)
    plan = _Plan(spec, todo, info["spec"], versions, info["git_commit"], options.evaluate)
    n_workers = _compute(plan, tally, options.scheduler, options.workers) if todo else 0
    bar.close()
    return SweepRun(
        name=spec.name,
        output=store.folder,
        points=len(points),
        completed=tally.completed,
        failed=len(tally.failures),
        skipped=len(done),
        wall_seconds=0.0,
        workers=n_workers,
        failures=tuple(tally.failures),
        recomputed=recomputed,
        notes=tuple(notes),
        table=store.combine(points, expected),
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

    Runs it under <root>/<name>-<scenario name as a safe folder name>/ (never outside
    `root`, whatever the scenario's name says), or reads it if it already ran with the same
    specification and code; results of another version are recomputed, not mixed. The
    models' summaries are kept in <root>/.summaries/, shared by the report's sweeps (which
    share their baseline point and many one-model points).
    """
    if not isinstance(scenario, Scenario):
        scenario = read_scenario(scenario)
    spec = load_spec(f"{name}.yaml").on_scenario(scenario, seed=seed)
    out = child_folder(root, f"{spec.name}-{scenario.name}")
    evaluate = Memoised((Path(root) / SUMMARIES).absolute())
    try:
        return run_sweep(spec, out=out, workers=workers, progress=False, evaluate=evaluate)
    except StaleSweep:
        return run_sweep(
            spec, out=out, workers=workers, progress=False, restart=True, evaluate=evaluate
        )
