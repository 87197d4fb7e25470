"""A sweep run in words: what `simlib sweep` and `simlib community --sweep` print. Runs
nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def sweep_text(s: Mapping[str, Any]) -> str:
    """A sweep's summary (`SweepRun.summary()`) without --json."""
    lines = [
        f"Sweep {s['name']}: {s['points']} points, {s['completed']} computed, "
        f"{s['skipped']} already finished, {s['failed']} failed, in {s['wall_seconds']:.1f} s "
        f"on {s['workers']} workers",
        f"  results in {s['output']} (combined table {s['table']})",
    ]
    lines += [f"  recomputed point {r['point']}: {r['reason']}" for r in s["recomputed"]]
    lines += [f"  FAILED point {f['point']} ({f['label']}): {f['error']}" for f in s["failures"]]
    return "\n".join(lines)
