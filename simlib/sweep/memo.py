"""Each model's summary of a point, computed once and kept beside the sweep's points.

The moving campaign reads only the moving parameters, the population, the seed and the
number of replications; the job matching only the jobs parameters, the population and the
seed. So a point that changes only a jobs assumption has the baseline's moving summary, and
one that changes only a moving assumption the baseline's matching summary. A summary is
kept under a key that hashes exactly what its model reads, by content (the frozen
parameters field by field, the population's tables, the seed, the replications) and the
code and library versions, as one JSON file written atomically. It is shared by the points
of a sweep, by its workers, and by the sweeps of one report build (which share their
baseline point). A file is used only when it says it holds that key, for that model, code
and libraries; anything else is computed again and the file replaced. JSON keeps the
summaries' numbers exactly (floats, NaN, integers), so a summary read back gives the same
outputs as one just computed (tests/test_sweep_memo.py compares whole sweeps).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simlib.files import write_atomic
from simlib.sweep.store import runtime_versions

SUMMARIES = ".summaries"  # the folder's name, beside (or inside) a sweep's folder
log = logging.getLogger("simlib.sweep")


class NotHashable(TypeError):
    """A value whose content this module cannot hash: its summary is computed, not kept."""


def _frame(table: pd.DataFrame) -> list[Any]:
    try:
        rows = pd.util.hash_pandas_object(table, index=True).to_numpy()
    except TypeError as error:  # a column of lists or other unhashable cells
        raise NotHashable(f"cannot hash a table by content ({error})") from None
    body = hashlib.sha256(rows.tobytes()).hexdigest()
    return ["frame", [str(c) for c in table.columns], [str(t) for t in table.dtypes], body]


def content(value: Any) -> Any:
    """`value` as plain JSON data that is equal exactly when the values are: dataclasses
    field by field, tables and arrays by a hash of their contents. NotHashable for a type
    it does not know (never a repr that could hide a difference or hold an address)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | np.floating):
        return ["float", float(value).hex()]  # exact, NaN and the infinities included
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return [type(value).__name__, str(value)]
    if isinstance(value, enum.Enum):
        return [type(value).__name__, value.name]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: content(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return [type(value).__qualname__, fields]
    if isinstance(value, Mapping):
        items = [[content(k), content(v)] for k, v in value.items()]
        return ["map", sorted(items, key=lambda kv: json.dumps(kv[0], sort_keys=True))]
    if isinstance(value, list | tuple):
        return [type(value).__name__, [content(v) for v in value]]
    if isinstance(value, frozenset | set):
        return ["set", sorted((content(v) for v in value), key=json.dumps)]
    if isinstance(value, pd.DataFrame):
        return _frame(value)
    if isinstance(value, pd.Series):
        return _frame(value.to_frame())
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        if data.dtype == object:
            return ["array", [content(v) for v in data.tolist()]]
        return ["array", str(data.dtype), list(data.shape), hashlib.sha256(data).hexdigest()]
    raise NotHashable(f"cannot hash a {type(value).__name__} by content")


_SHARED: dict[int, tuple[Any, Any]] = {}  # id -> (object, its content): hashed once


def shared_content(value: Any) -> Any:
    """The content of an object many points share (a population, its households table),
    hashed once per object in this process (kept alive here, so its id is not reused)."""
    kept = _SHARED.get(id(value))
    if kept is not None and kept[0] is value:
        return kept[1]
    if len(_SHARED) >= 16:  # a sweep's worker sees a few populations at most
        _SHARED.clear()
    _SHARED[id(value)] = (value, content(value))
    return _SHARED[id(value)][1]


def summary_key(model: str, params: Any, population: Any, **reads: Any) -> str:
    """The key of one model's summary: a hash of what it reads (its parameters, the part
    of the population it reads, `reads`) and of the code and library versions
    (NotHashable if a part cannot be hashed by content)."""
    versions = runtime_versions()
    doc = {
        "model": model,
        "params": content(params),
        "population": shared_content(population),
        "reads": {k: content(v) for k, v in sorted(reads.items())},
        "code_version": versions["code_version"],
        "libraries": versions["libraries"],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class SummaryStore:
    """The folder of kept summaries: <folder>/<code version>/<model>-<key>.json (the code
    version is in the key as well; as a folder it lets `prune` drop what no run can use)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path(self, model: str, key: str) -> Path:
        return self.folder / runtime_versions()["code_version"] / f"{model}-{key}.json"

    def prune(self) -> int:
        """Delete the summaries kept by other code versions (only those files, only here):
        none of them can be used again. The number of files deleted."""
        mine = runtime_versions()["code_version"]
        deleted = 0
        if not self.folder.is_dir():
            return deleted
        for old in (p for p in self.folder.iterdir() if p.is_dir() and p.name != mine):
            for path in [*old.glob("*-*.json"), *old.glob(".*.tmp")]:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    deleted += 1
            with contextlib.suppress(OSError):  # not empty: something else lives there
                old.rmdir()
        return deleted

    def read(self, model: str, key: str) -> Mapping[str, Any] | None:
        """The kept summary, or None when there is none or the file does not hold this key
        for this model, code and libraries (it is then computed again)."""
        path = self.path(model, key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
            log.warning("kept summary %s cannot be read (%s): computed again", path, error)
            return None
        problem = _check(record, model, key)
        if problem:
            log.warning("kept summary %s %s: computed again", path, problem)
            return None
        return record["summary"]

    def write(self, model: str, key: str, summary: Mapping[str, Any]) -> None:
        """Keep a summary (atomically); a folder this process cannot write is skipped."""
        versions = runtime_versions()
        record = {"model": model, "key": key, **versions, "summary": summary}
        try:
            write_atomic(self.path(model, key), json.dumps(record, default=_refuse))
        except (OSError, TypeError, ValueError) as error:
            log.warning("summary not kept in %s: %s", self.folder, error)


def _refuse(value: Any) -> Any:
    raise TypeError(f"a summary holds a {type(value).__name__}, which JSON does not keep")


def _check(record: Any, model: str, key: str) -> str:
    """Why a kept summary's file does not hold this summary ('' if it does)."""
    if not isinstance(record, Mapping):
        return "is not a summary record"
    versions = runtime_versions()
    for field, want in (
        ("model", model),
        ("key", key),
        ("code_version", versions["code_version"]),
        ("libraries", versions["libraries"]),
    ):
        if record.get(field) != want:
            return f"has another {field.replace('_', ' ')}"
    if not isinstance(record.get("summary"), Mapping):
        return "has no summary"
    return ""


def kept_summary(
    store: SummaryStore | None, model: str, key_of: Callable[[], str], compute: Callable
) -> Mapping[str, Any]:
    """The summary kept under `key_of()`, else `compute()`, kept. Without a store, or for
    inputs that cannot be hashed by content, it is computed."""
    if store is None:
        return compute()
    try:
        key = key_of()
    except NotHashable as error:
        log.warning("%s summary not kept: %s", model, error)
        return compute()
    kept = store.read(model, key)
    if kept is not None:
        return kept
    summary = compute()
    store.write(model, key, summary)
    return summary
