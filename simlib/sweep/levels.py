"""The factors of a sweep and the arithmetic of their levels: what a one-at-a-time level or
a grid axis is, and how many points a design has, from the numbers alone.

Both the specification (which checks a design's size against its budget before building
anything) and the design (which builds the points) use this module; it imports neither.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Factor:
    """One varied assumption: a numeric range [low, high], or a list of levels."""

    key: str  # domain.parameter
    type: str  # int | float | bool | str (as in data/)
    baseline: Any
    low: float | None = None
    high: float | None = None
    levels: tuple[Any, ...] = ()
    unit: str = ""

    @property
    def numeric(self) -> bool:
        return self.low is not None and not self.levels

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[-1]

    def value(self, x: float) -> Any:
        """A sampled number in the parameter's own type (ints rounded)."""
        return int(round(x)) if self.type == "int" else float(x)


@dataclass(frozen=True)
class Overlay:
    """Several assumptions changed together (a what-if), with where it came from."""

    name: str
    changes: Mapping[str, Any]


def show(value: Any) -> str:
    """A value as a planner reads it: 40, 0.15, round_robin, 18 Jan-29 Feb 2020, none."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        if all(isinstance(v, list | tuple) and len(v) == 2 for v in value):
            return "; ".join(f"{_date(a)}-{_date(b)}" for a, b in value)
        return ", ".join(show(v) for v in value)
    if isinstance(value, str) and "/" in value and ";" not in value and len(value) == 21:
        a, b = value.split("/")
        return f"{_date(a)}-{_date(b)}"
    return str(value) if value != "" else "none"


def _date(text: Any) -> str:
    try:
        return f"{dt.date.fromisoformat(str(text)):%d %b %Y}"
    except ValueError:
        return str(text)


EXACT_AXIS = 1_000_000  # grid axes up to this many points are counted exactly


def design_size(
    method: str,
    settings: Mapping[str, Any],
    factors: Sequence[Factor],
    overlays: Sequence[Overlay] = (),
) -> int:
    """How many points the design has, from the specification's arithmetic alone (nothing
    is sampled or built), so that a design of 10^7 points is refused at once. Exact, except
    that a design far beyond any budget may be given as a smaller number that is still
    beyond it."""
    k, s = len(factors), settings
    if method == "oat":
        moved = sum(v != f.baseline for f in factors for _, v in oat_levels(f))
        return 1 + moved + len(overlays)
    if method == "morris":
        return s.get("trajectories", 4) * (k + 1)
    if method == "sobol":
        return s.get("samples", 8) * (2 * k + 2 if s.get("second_order", False) else k + 2)
    if method == "lhs":
        return s.get("samples", 16)
    return math.prod(axis_size(f, s.get("points", 3)) for f in factors)


def oat_levels(f: Factor) -> list[tuple[str, Any]]:
    """(level name, value) of a one-at-a-time factor: its range's ends, or its levels."""
    if f.numeric:
        return [("low", f.value(f.low)), ("high", f.value(f.high))]
    return [(show(v), v) for v in f.levels]


def axis_size(f: Factor, points: int) -> int:
    if not f.numeric:
        return len(distinct((f.baseline, *f.levels)))
    if f.type != "int" or points <= EXACT_AXIS:
        return len(grid_axis(f, points))
    if points - 1 > f.high - f.low:  # steps under 1: every whole number in between, once
        return f.value(f.high) - f.value(f.low) + 1
    return points // 2  # steps of 1 or more: at most pairs fall together


def grid_axis(f: Factor, points: int) -> list[Any]:
    if f.numeric:
        return distinct(f.value(x) for x in np.linspace(f.low, f.high, points))
    return distinct((f.baseline, *f.levels))


def distinct(values: Any) -> list[Any]:
    """The values in order, each once (lists, e.g. pause windows, compared by content)."""
    seen: dict[str, Any] = {}
    for v in values:
        seen.setdefault(json.dumps(v, sort_keys=True, default=str), v)
    return list(seen.values())
