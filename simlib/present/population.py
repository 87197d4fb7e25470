"""The synthetic population in words: what `simlib population` prints. Runs nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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
