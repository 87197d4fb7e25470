"""A sweep's folder: one JSON file per finished point, a manifest, and the combined table.

results/sweeps/<name>/
    sweep.json          what was run: the specification's fingerprint, the code version
    points/000012.json  one finished point: parameters, seed, versions, outputs or error
    results.parquet     every point, one row each (built at the end)
    .lock               who is running in this folder (simlib.files.FolderLock)

Every file is written to a unique temporary name in the same folder and renamed into
place (simlib.files.write_atomic), so a reader (or a rerun after `kill -9`) sees a whole
file or none. A point file counts only once it matches the design: its index, seed,
changes, replications, the sweep's fingerprint and the code and library versions; anything
else (a damaged file, a point of another sweep) is recomputed, and the run says so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simlib.files import digest_files, write_atomic
from simlib.machine import library_versions
from simlib.provenance import DataError

MANIFEST = "sweep.json"
POINTS = "points"
TABLE = "results.parquet"
LOCK = ".lock"
PACKAGE = Path(__file__).resolve().parent.parent
# modules that only present results: editing them cannot change a point's outputs
PRESENTATION = ("cli.py", "plots.py", "report.py", "study.py", "sweep/analysis.py", "present/")


@functools.cache
def code_version(package: Path = PACKAGE) -> str:
    """A hash of the package's source, less the presentation modules: what decides a
    point's result. Contents under relative names, so a copy at another path agrees."""
    sources = [
        p
        for p in package.rglob("*.py")
        if "__pycache__" not in p.parts
        and not p.relative_to(package).as_posix().startswith(PRESENTATION)
    ]
    return digest_files(sources, package)


def runtime_versions() -> dict[str, Any]:
    """This process's code version and the versions of the libraries results depend on."""
    return {"code_version": code_version(), "libraries": dict(library_versions())}


def data_version(scenario: Any) -> str:
    """A hash of the scenario's data tables (every CSV under its data folder) and of any
    file its overrides name (a batch plan), by content and relative name."""
    data_dir = Path(scenario.data_dir)
    named = {}
    for domain, values in scenario.overrides.items():
        for key, value in values.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                path = Path(scenario.path).parent / str(value)
                if isinstance(value, str) and value.strip() and path.is_file():
                    named[f"{domain}.{key}"] = digest_files([path], path.parent)
    return digest_files(sorted(data_dir.rglob("*.csv")), data_dir, extra=named)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN becomes null, tuples lists."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


class StaleSweep(DataError):
    """The folder holds points of another specification or code version."""


@dataclass(frozen=True)
class Expected:
    """What every point file of this run must say about itself to count."""

    sweep: str  # the specification's fingerprint
    code_version: str
    libraries: Mapping[str, str]
    replications: int
    outputs: tuple[str, ...]  # every output a finished point records


def same_changes(recorded: Any, changes: Mapping[str, Any]) -> bool:
    """A point file's changes against the design's, as JSON writes them."""
    return recorded == json.loads(json.dumps(_clean(dict(changes)), default=str))


def check_record(record: Any, point: Any, expected: Expected) -> str:
    """Why a point file does not belong to this point of this sweep ('' if it does)."""
    if not isinstance(record, Mapping):
        return "is not a point record"
    checks = (
        ("index", record.get("index") == point.index, f"holds point {record.get('index')!r}"),
        ("sweep", record.get("sweep") == expected.sweep, "belongs to another sweep"),
        (
            "seed",
            record.get("seed") == point.seed,
            f"has seed {record.get('seed')!r}, the design {point.seed}",
        ),
        (
            "changes",
            same_changes(record.get("changes"), point.changes),
            "has other parameter values",
        ),
        (
            "replications",
            record.get("replications") == expected.replications,
            f"has {record.get('replications')!r} replications, the design {expected.replications}",
        ),
        (
            "code",
            record.get("code_version") == expected.code_version,
            f"was computed by code version {record.get('code_version')!r}, this is {expected.code_version}",
        ),
        (
            "libraries",
            record.get("libraries") == dict(expected.libraries),
            "was computed with other library versions",
        ),
        (
            "status",
            record.get("status") in ("ok", "failed"),
            f"has status {record.get('status')!r}",
        ),
    )
    for what, ok, problem in checks:
        # a failed point is run again anyway: its versions are those of the worker that
        # refused it, kept for the record
        if not ok and not (what in ("code", "libraries") and record.get("status") == "failed"):
            return problem
    outputs = record.get("outputs")
    if record["status"] == "ok":
        if not isinstance(outputs, Mapping):
            return "has no outputs"
        missing = [name for name in expected.outputs if name not in outputs]
        if missing:
            return f"lacks outputs {missing[:3]}"
    return ""


class Store:
    """The folder of one sweep."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.points_dir = self.folder / POINTS

    def prepare(self, manifest: Mapping[str, Any], restart: bool = False) -> None:
        """Create the folder, or check that it holds the same sweep (DataError if not).
        With `restart`, the sweep's own files are deleted, and nothing else."""
        self._check_contents()
        if restart:
            self.discard()
        path = self.folder / MANIFEST
        has_points = self.points_dir.is_dir() and any(self.points_dir.glob("[0-9]*.json"))
        if path.is_file() and has_points:
            _check_manifest(path, manifest)
        elif has_points:
            raise DataError(
                self.folder, MANIFEST, None, "points without a manifest; rerun with --restart"
            )
        else:
            write_atomic(path, json.dumps(_clean(dict(manifest)), indent=2, default=str))
        self.points_dir.mkdir(parents=True, exist_ok=True)

    def _check_contents(self) -> None:
        """A folder holding anything but a sweep's own files is not written into (`--out ~`
        would otherwise scatter points among a user's files)."""
        if not self.folder.is_dir():
            return
        ours = {MANIFEST, POINTS, TABLE, LOCK}
        others = sorted(
            p.name
            for p in self.folder.iterdir()
            if p.name not in ours and not p.name.startswith(".")
        )
        if others:
            raise DataError(
                "command line",
                "--out",
                str(self.folder),
                f"holds files that are not a sweep's ({', '.join(others[:3])}); give a new "
                "folder or one a sweep made",
            )

    def discard(self) -> None:
        """Delete this sweep's point files, table and manifest (only those, only here)."""
        doomed = [self.folder / TABLE, self.folder / MANIFEST]
        if self.points_dir.is_dir():
            doomed += list(self.points_dir.glob("[0-9]*.json"))
            doomed += list(self.points_dir.glob(".*.tmp"))
        for path in doomed:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def point_path(self, index: int) -> Path:
        return self.points_dir / f"{index:06d}.json"

    def write_point(self, record: Mapping[str, Any]) -> None:
        record = dict(record, finished_at=dt.datetime.now(dt.UTC).isoformat())
        text = json.dumps(_clean(record), indent=1, default=str)
        write_atomic(self.point_path(int(record["index"])), text)

    def read_point(self, index: int) -> tuple[dict[str, Any] | None, str]:
        """A point's file and '' , or None and why it cannot be read ('' when absent)."""
        path = self.point_path(index)
        try:
            return json.loads(path.read_text(encoding="utf-8")), ""
        except FileNotFoundError:
            return None, ""
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            return None, f"cannot be read ({type(error).__name__})"

    def audit(self, points: Iterable[Any], expected: Expected) -> tuple[set[int], dict[int, str]]:
        """Indices of the points finished for this design, and why each other point file
        present does not count (it is recomputed). A failed point is run again silently."""
        finished, problems = set(), {}
        for point in points:
            record, unreadable = self.read_point(point.index)
            problem = unreadable or (
                "" if record is None else check_record(record, point, expected)
            )
            if problem:
                problems[point.index] = problem
            elif record is not None and record["status"] == "ok":
                finished.add(point.index)
        return finished, problems

    def combine(self, points: Iterable[Any], expected: Expected) -> pd.DataFrame:
        """One row per point whose file matches the design (parameters as
        `domain.parameter` columns), written as Parquet."""
        rows = []
        for point in points:
            record, _ = self.read_point(point.index)
            if record is not None and not check_record(record, point, expected):
                rows.append(_row(point.index, record))
        table = pd.DataFrame(rows)
        mixed = [c for c in table.columns if table[c].dtype == object and c not in ("label",)]
        for column in mixed:  # a column of values of several types: store as text
            types = {type(v) for v in table[column].dropna()}
            if len(types) > 1:
                table[column] = table[column].map(lambda v: None if v is None else str(v))
        buffer = io.BytesIO()
        table.to_parquet(buffer, index=False)
        write_atomic(self.folder / TABLE, buffer.getvalue())
        return table


def _check_manifest(path: Path, manifest: Mapping[str, Any]) -> None:
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(old, Mapping):
            raise ValueError("not a mapping")
    except (OSError, ValueError) as error:
        raise StaleSweep(
            path, "(file)", str(path), f"cannot be read ({error}); rerun with --restart"
        ) from None
    for key, what in (
        ("spec", "specification"),
        ("code_version", "code version"),
        ("libraries", "set of library versions"),
    ):
        if old.get(key) != manifest.get(key):
            raise StaleSweep(
                path,
                key,
                manifest.get(key),
                f"this folder holds a sweep of another {what} ({old.get(key)}); "
                "rerun with --restart to discard its points, or choose another --out",
            )


def _row(index: int, r: Mapping[str, Any]) -> dict[str, Any]:
    row = {
        "point": index,
        "label": r.get("label", ""),
        "status": r["status"],
        "error": r.get("error") or "",
        "seed": r["seed"],
        "replications": r["replications"],
        "factor": r.get("factor", ""),
        "level": r.get("level", ""),
        "wall_seconds": r.get("wall_seconds"),
        "git_commit": r.get("git_commit", ""),
        "worker": r.get("worker", ""),
    }
    for key, value in r["changes"].items():
        row[key] = json.dumps(value) if isinstance(value, list | dict) else value
    for k, value in enumerate(r.get("sample") or ()):
        row[f"sample_{k}"] = value
    row.update(r.get("outputs") or {})
    return row


def load_results(folder: str | Path) -> pd.DataFrame:
    """A sweep's combined table (results.parquet), one row per point."""
    path = Path(folder) / TABLE
    if not path.is_file():
        raise DataError(path, "(file)", str(path), "no combined table: run the sweep first")
    return pd.read_parquet(path)
