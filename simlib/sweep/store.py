"""A sweep's folder: one JSON file per finished point, a manifest, and the combined table.

results/sweeps/<name>/
    sweep.json          what was run: the specification's fingerprint, the code version
    points/000012.json  one finished point: parameters, seed, git commit, outputs or error
    results.parquet     every point, one row each (built at the end)

Every file is written to a temporary name in the same folder and renamed into place, so a
reader (or a rerun after `kill -9`) sees a whole file or none; temporary names start with
a dot and are never read as results.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simlib.provenance import DataError
from simlib.scenario import PROJECT_ROOT

MANIFEST = "sweep.json"
POINTS = "points"
TABLE = "results.parquet"


def write_atomic(path: Path, text: str) -> None:
    """Write to a hidden temporary file beside `path`, flush it to disk, rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def git_commit() -> str:
    """The checked-out commit ('+dirty' with uncommitted changes), or 'unknown'."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "simlib", "data"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


# modules that only present results: editing them cannot change a point's outputs
PRESENTATION = ("cli.py", "plots.py", "report.py", "study.py", "sweep/analysis.py")


def code_version(data_dir: Path) -> str:
    """A hash of the package's source (less the presentation modules) and the data tables:
    what decides a point's result."""
    digest = hashlib.sha256()
    package = PROJECT_ROOT / "simlib"
    sources = [
        p
        for p in sorted(package.rglob("*.py"))
        if p.relative_to(package).as_posix() not in PRESENTATION
    ]
    files = sources + sorted(Path(data_dir).rglob("*.csv"))
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(path.anchor)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


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


class Store:
    """The folder of one sweep."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.points_dir = self.folder / POINTS

    def prepare(self, manifest: Mapping[str, Any], restart: bool = False) -> None:
        """Create the folder, or check that it holds the same sweep (DataError if not)."""
        path = self.folder / MANIFEST
        if restart and self.folder.exists():
            shutil.rmtree(self.points_dir, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                (self.folder / TABLE).unlink()
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        has_points = self.points_dir.is_dir() and any(self.points_dir.glob("[0-9]*.json"))
        if path.is_file() and has_points:
            old = json.loads(path.read_text(encoding="utf-8"))
            for key, what in (("spec", "specification"), ("code_version", "code version")):
                if old.get(key) != manifest.get(key):
                    raise StaleSweep(
                        path,
                        key,
                        manifest.get(key),
                        f"this folder holds a sweep of another {what} ({old.get(key)}); "
                        f"rerun with --restart to discard its points, or choose another --out",
                    )
        elif has_points:
            raise DataError(
                self.folder, MANIFEST, None, "points without a manifest; rerun with --restart"
            )
        else:
            write_atomic(path, json.dumps(_clean(dict(manifest)), indent=2, default=str))
        self.points_dir.mkdir(parents=True, exist_ok=True)

    def point_path(self, index: int) -> Path:
        return self.points_dir / f"{index:06d}.json"

    def write_point(self, record: Mapping[str, Any]) -> None:
        record = dict(record, finished_at=dt.datetime.now(dt.UTC).isoformat())
        text = json.dumps(_clean(record), indent=1, default=str)
        write_atomic(self.point_path(int(record["index"])), text)

    def records(self) -> dict[int, dict[str, Any]]:
        """Every point file in the folder, by index (temporary files ignored)."""
        found = {}
        if not self.points_dir.is_dir():
            return found
        for path in sorted(self.points_dir.glob("[0-9]*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue  # cannot happen with atomic writes; recompute rather than trust it
            found[int(record["index"])] = record
        return found

    def finished(self) -> set[int]:
        """Indices of the points that ran to the end (failed ones are run again)."""
        return {i for i, r in self.records().items() if r.get("status") == "ok"}

    def combine(self, order: Iterable[int]) -> pd.DataFrame:
        """One row per point (parameters as `domain.parameter` columns), written as Parquet."""
        records = self.records()
        rows = []
        for i in order:
            r = records.get(i)
            if r is None:
                continue
            row = {
                "point": i,
                "label": r["label"],
                "status": r["status"],
                "error": r.get("error") or "",
                "seed": r["seed"],
                "replications": r["replications"],
                "factor": r.get("factor", ""),
                "level": r.get("level", ""),
                "wall_seconds": r.get("wall_seconds"),
                "git_commit": r.get("git_commit", ""),
            }
            for key, value in r["changes"].items():
                row[key] = json.dumps(value) if isinstance(value, list | dict) else value
            for k, value in enumerate(r.get("sample") or ()):
                row[f"sample_{k}"] = value
            row.update(r.get("outputs") or {})
            rows.append(row)
        table = pd.DataFrame(rows)
        mixed = [c for c in table.columns if table[c].dtype == object and c not in ("label",)]
        for column in mixed:  # a column of values of several types: store as text
            types = {type(v) for v in table[column].dropna()}
            if len(types) > 1:
                table[column] = table[column].map(lambda v: None if v is None else str(v))
        buffer = self.folder / f".{TABLE}.tmp"
        table.to_parquet(buffer, index=False)
        os.replace(buffer, self.folder / TABLE)
        return table


def load_results(folder: str | Path) -> pd.DataFrame:
    """A sweep's combined table (results.parquet), one row per point."""
    path = Path(folder) / TABLE
    if not path.is_file():
        raise DataError(path, "(file)", str(path), "no combined table: run the sweep first")
    return pd.read_parquet(path)
