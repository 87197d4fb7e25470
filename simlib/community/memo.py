"""Results this process has already computed, kept by what they were computed from.

A community run reads moving replications (the move-in days), the housing lottery's
allocation and a grid plan that do not change with most community assumptions: the points
of a community sweep share them (one-at-a-time, common random numbers), as do the
report's community answers (the main run, the arrival-order variant and the grid counts all
start from moving replication 0). Each is a pure function of its inputs, so it is computed
once per process and given back as a copy (a caller may change its copy). The key is a hash
of the inputs' content (simlib.sweep.memo.content: dataclasses field by field, tables by
their values), never an object's identity, so that a changed input is never served an old
result; inputs that cannot be hashed by content are computed each time.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
KEEP_MOST = 32  # results kept (a run of 10 replications keeps 10 move-in tables)
_KEPT: dict[str, Any] = {}
_LOCK = threading.Lock()


def remembered(kind: str, reads: dict[str, Any], compute: Callable[[], T]) -> T:
    """`compute()`, or a copy of what it gave before for the same `reads` (the content of
    every input it reads; a name starting with "population" is hashed once per object)
    in this process."""
    from simlib.sweep.memo import NotHashable, content, shared_content

    try:
        doc = {name: (shared_content(value) if name.startswith("population") else content(value))
               for name, value in reads.items()}  # fmt: skip
    except NotHashable:
        return compute()
    key = kind + ":" + hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    with _LOCK:
        kept = _KEPT.get(key)
    if kept is None:
        kept = compute()
        with _LOCK:  # a worker may run points in threads
            while len(_KEPT) >= KEEP_MOST:
                del _KEPT[next(iter(_KEPT))]  # the oldest
            _KEPT[key] = kept
    return copy.deepcopy(kept)


def forget() -> None:
    """Drop every kept result (for tests and benchmarks that time a cold run)."""
    with _LOCK:
        _KEPT.clear()
