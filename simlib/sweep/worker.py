"""What a sweep's worker does: build the population a variant needs from the data shipped
with the task, check that it runs the client's code and libraries, and run one point.

Nothing here writes a result: the worker returns each point's record (its outputs, or its
error) to the client, which writes it. The only file a worker writes is its copy of the
shipped data tables, unpacked once in its temporary folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from simlib.inputs import Inputs, population_of
from simlib.machine import fewer_collections
from simlib.scenario import Scenario
from simlib.sweep.design import Point
from simlib.sweep.evaluate import evaluate_point
from simlib.sweep.store import runtime_versions

Evaluate = Callable[[Inputs, int, int], dict[str, Any]]


@dataclass(frozen=True)
class PointTask:
    """One point as a worker receives it: what to run and what its record must say."""

    point: Point
    replications: int
    sweep: str  # the specification's fingerprint
    expected: Mapping[str, Any]  # the client's code and library versions
    commit: str


@dataclass(frozen=True)
class DataBundle:
    """A scenario's data tables by relative name, shipped with the population tasks so that
    a worker needs no copy of the client's files."""

    digest: str
    files: tuple[tuple[str, bytes], ...]

    @classmethod
    def of(cls, data_dir: Path) -> DataBundle:
        paths = sorted(Path(data_dir).rglob("*.csv"))
        files = tuple((p.relative_to(data_dir).as_posix(), p.read_bytes()) for p in paths)
        return cls(hashlib.sha256(repr(files).encode()).hexdigest()[:16], files)

    def unpack(self) -> Path:
        """The tables in a folder of this machine's temporary space, written once."""
        folder = Path(tempfile.gettempdir()) / f"simlib-data-{self.digest}"
        if (folder / ".complete").is_file():
            return folder
        staging = Path(tempfile.mkdtemp(prefix=f".simlib-data-{self.digest}-"))
        for name, content in self.files:
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(content)
        (staging / ".complete").write_text("")
        try:
            os.rename(staging, folder)
        except OSError:  # another process unpacked it first
            shutil.rmtree(staging, ignore_errors=True)
        return folder


def build_population(scenario: Scenario, bundle: DataBundle) -> Any:
    """On a worker: the population a variant needs, from the shipped tables."""
    return population_of(replace(scenario, data_dir=bundle.unpack()))


_HOMES: dict[tuple, Any] = {}  # this worker's housing allocations, by what they were drawn for


def with_population(inputs: Inputs, population: Any) -> Inputs:
    """The point's inputs with its population, and the move-in day's homes drawn once per
    worker for one population, housing and seed (the client sends the moving parameters
    without homes, since it holds no population; drawing them again for every point cost
    a tenth of a smoke point)."""
    moving = inputs.moving
    if not moving.movein_buildings:
        return replace(inputs, population=population)
    from simlib.moving.homes import homes_key

    key = homes_key(population, inputs.seed, inputs.housing)
    kept = _HOMES.get(key)
    if kept is not None:  # tie() keeps homes whose key is the inputs' own
        return replace(inputs, population=population, moving=replace(moving, homes=kept))
    full = replace(inputs, population=population)
    if len(_HOMES) >= 8:
        _HOMES.clear()
    _HOMES[key] = full.moving.homes
    return full


def base_record(task: PointTask, versions: Mapping[str, Any]) -> dict[str, Any]:
    """What every point file records besides the outputs or the error."""
    point = task.point
    return {
        "index": point.index,
        "label": point.label,
        "changes": dict(point.changes),
        "seed": point.seed,
        "replications": task.replications,
        "factor": point.factor,
        "level": point.level,
        "sample": list(point.sample),
        "sweep": task.sweep,
        "code_version": versions["code_version"],
        "libraries": dict(versions["libraries"]),
        "git_commit": task.commit,
    }


def failed_record(task: PointTask, error: str, versions: Mapping[str, Any] | None = None):
    """The record of a point that gave no result, with its reason."""
    record = base_record(task, versions or task.expected)
    record.update(status="failed", outputs={}, error=error, wall_seconds=0.0, worker="")
    return record


def version_mismatch(mine: Mapping[str, Any], expected: Mapping[str, Any]) -> str:
    """'' if this worker runs the client's code and libraries, else what differs."""
    if mine["code_version"] != expected["code_version"]:
        return (
            f"runs other simlib code (code version {mine['code_version']}, the client "
            f"{expected['code_version']}): install the client's checkout on it"
        )
    theirs, ours = expected["libraries"], mine["libraries"]
    differ = [
        f"{k} {ours.get(k)} here, {theirs.get(k)} on the client"
        for k in theirs
        if ours.get(k) != theirs.get(k)
    ]
    if differ:
        return "has other library versions: " + "; ".join(differ)
    return ""


def run_point(
    task: PointTask, inputs: Inputs, population: Any, evaluate: Evaluate = evaluate_point
) -> dict[str, Any]:
    """One point, on a worker: its outputs, or its error (never raises). The worker's
    garbage collector runs less often from its first point on (`fewer_collections`)."""
    fewer_collections()
    start, worker = time.perf_counter(), f"{socket.gethostname()}:{os.getpid()}"
    mine = runtime_versions()
    record = base_record(task, mine)
    mismatch = version_mismatch(mine, task.expected)
    if mismatch:
        record.update(status="failed", outputs={}, error=f"worker {worker} {mismatch}")
    else:
        try:
            outputs = evaluate(
                with_population(inputs, population), task.replications, task.point.seed
            )
            record.update(status="ok", outputs=outputs, error="")
        except Exception as error:  # recorded, so that the other points go on
            record.update(status="failed", outputs={}, error=f"{type(error).__name__}: {error}")
    record["wall_seconds"] = time.perf_counter() - start
    record["worker"] = worker
    return record
