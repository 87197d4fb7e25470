"""The synthetic population in words: what `simlib population` prints. Runs nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd


def population_text(s: Mapping[str, Any]) -> str:
    """`simlib population` without --json (`Population.summary()`)."""
    lines = [
        f"Scenario {s['scenario']}, seed {s['seed']}",
        f"  households           {s['households']:>8,}  (registered-poor {s['registered_poor_households']:,})",
        f"  people               {s['people']:>8,}  (registered-poor {s['registered_poor_people']:,})",
        f"  laborers             {s['laborers']:>8,}  (target {s['laborers_target']:,})",
        f"  special-group people {s['special_group_people']:>8,}",
        f"  carers               {s['carers']:>8,}",
        "",
        f"  {'county':<10}{'households':>11}{'people':>9}{'laborers':>10}",
    ]
    for county, c in s["by_county"].items():
        lines.append(f"  {county:<10}{c['households']:>11,}{c['people']:>9,}{c['laborers']:>10,}")
    return "\n".join(lines)


def by_county_table(s: Mapping[str, Any]) -> pd.DataFrame:
    """`Population.summary()`'s figures by county, one row per county."""
    return pd.DataFrame(s["by_county"]).T


def totals_table(s: Mapping[str, Any]) -> pd.DataFrame:
    """`Population.summary()`'s totals (every figure that is not by county), one row each."""
    return pd.Series(
        {k: v for k, v in s.items() if not isinstance(v, dict)}, name="value"
    ).to_frame()
