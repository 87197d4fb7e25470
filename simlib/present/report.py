"""A report build in words: what `simlib report` prints. Runs nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def report_text(s: Mapping[str, Any]) -> str:
    """A report build's summary without --json."""
    lines = [
        f"Reports for scenario {s['scenario']}, seed {s['seed']}, in {s['build_seconds']:.1f} s:"
    ]
    lines += [
        f"  {r['html']:<28}{r['seconds']:>7.1f} s{r['bytes'] / 1e6:>7.2f} MB  {r['title']}"
        for r in s["reports"]
    ]
    lines.append(f"Open {s['index']}")
    return "\n".join(lines)
