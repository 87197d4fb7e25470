"""The one wording of a figure over replications: its mean and its 95 % confidence interval
(`simlib.stats.mean_ci`'s {mean, ci95_low, ci95_high}). Every table and sentence of the
presentation layer words an interval through these two functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NO_CI = "no CI: one replication"  # one value gives no spread (stats.mean_ci returns None)


def ci_text(x: Mapping[str, Any], fmt: str = "{:.1f}") -> str:
    """'95 % CI 10.2-12.8', or why there is none."""
    if x.get("ci95_low") is None:
        return NO_CI
    return f"95 % CI {fmt.format(x['ci95_low'])}-{fmt.format(x['ci95_high'])}"


def mean_ci_text(x: Mapping[str, Any], fmt: str = "{:.1f}") -> str:
    """'11.5 (95 % CI 10.2-12.8)': the mean with its interval in the same wording."""
    return f"{fmt.format(x['mean'])} ({ci_text(x, fmt)})"
