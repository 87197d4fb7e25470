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


def design_text(*runs: Any) -> str:
    """Which design each report sweep ran (`SweepRun`s): the full one, or the smaller
    `smoke:` block of its specification that a scenario saying `sweep_design: smoke` runs
    (a check of the whole path, not figures to read), as Markdown."""
    smoke = [r for r in runs if getattr(r.spec, "design", "full") == "smoke"]
    sizes = ", ".join(f"{r.name} {r.points} points" for r in runs)
    if not smoke:
        return f"The sweeps ran their full designs ({sizes})."
    names = ", ".join(f"`data/sweeps/{r.name}.yaml`" for r in smoke)
    return (
        f"**Smoke designs.** This scenario asks for the sweeps' smaller designs "
        f"(`sweep_design: smoke`), so these ran the `smoke:` block of {names} ({sizes}): "
        "fewer points and one replication each, a check that the whole path runs, not "
        "figures to read. The full build (`make report`) runs the full designs."
    )
