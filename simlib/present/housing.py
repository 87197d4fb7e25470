"""Housing results in words and tables: the command line's text and the notebook's
tables (supply against demand, the price of each rule, the lottery day). Runs nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd


def _ci(x: Mapping[str, Any], fmt: str = "{:.1f}") -> str:
    if x.get("ci95_low") is None:
        return "no CI: one replication"
    return f"95 % CI {fmt.format(x['ci95_low'])}-{fmt.format(x['ci95_high'])}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def summary_text(s: Mapping[str, Any]) -> str:
    """The command line's text for `simlib lottery` (without --json)."""
    day, fit, rnd = s["lottery_day"], s["fit"], s["draw_randomness"]
    lines = [
        f"Scenario {s['scenario']}, seed {s['seed']}, method {s['method']}",
        f"  commitment (SHA-256 of the seed and the inputs): {s['commitment']}",
        f"  households {s['households']:,} (planned: {s['planned_households']:,}, reported), "
        f"flats {s['units']:,} in {s['buildings']} buildings (reported at full scale: "
        f"{s['reported_units']:,} in {s['reported_buildings']})",
        f"  housed {s['housed']:,}, without a flat {s['without_flat']:,}, vacant flats "
        f"{s['vacant_units']:,}",
        f"  by the shortfall rule ({s['shortfall_rule']}): own type {fit['own']:,}, larger "
        f"{fit['larger']:,}, smaller {fit['smaller']:,}, none {fit['none']:,}",
        "",
        f"  {'type':<5}{'serves':>7}{'m2':>6}{'households':>12}{'flats':>8}{'shortfall':>11}{'surplus':>9}",
    ]
    for t in s["by_type"]:
        lines.append(
            f"  {t['type']:<5}{t['serves']:>7}{t['floor_area_m2']:>6.0f}{t['households']:>12,}"
            f"{t['units']:>8,}{t['shortfall']:>11,}{t['surplus']:>9,}"
        )
    lines += [
        "",
        f"  asked for a low floor {s['asked_low_floor']:,} of {s['priority_households']:,} "
        f"priority households; on a low floor {_pct(s['priority_low_floor_share'])} (the stock "
        f"allows {_pct(s['priority_low_floor_possible_share'])}); others on a low floor "
        f"{_pct(s['low_floor_share_not_asked'])}",
        f"  village cohesion (share of building neighbours from the own village) "
        f"{s['village_cohesion']:.3f}",
        f"  how random: a household's building carries {rnd['building_entropy_bits']:.2f} bits "
        f"= {rnd['equally_likely_buildings']:.1f} equally likely buildings",
    ]
    if s.get("community"):
        c = s["community"]
        gap = "" if c["gap"] is None else f", gap {c['gap']:.2%}"
        lines.append(
            f"  community model: {c['status']}{gap}, {c['variables']:,} variables, build "
            f"{c['build_seconds']:.1f} s, solve {c['solve_seconds']:.1f} s, max violation "
            f"{c['max_constraint_violation']:.2g}"
        )
    if day.get("replications"):
        lines.append(
            f"  lottery day: {day['hours']['mean']:.1f} hours ({_ci(day['hours'])}), "
            f"{day['rounds']['mean']:.0f} rounds of {day['households_per_round']['mean']:.0f} "
            f"households, mean wait to sign {day['wait_mean_minutes']['mean']:.1f} min "
            f"(P95 {day['wait_p95_minutes']['mean']:.1f}); {day['replications']} replications"
        )
    return "\n".join(lines)


def verify_text(s: Mapping[str, Any]) -> str:
    return (
        f"{s['file']}: verified: {s['households']:,} households, seed {s['seed']}, method "
        f"{s['method']}, commitment {s['commitment']}"
    )


def supply_table(s: Mapping[str, Any]) -> pd.DataFrame:
    """Demand against supply per unit type, for a notebook."""
    table = pd.DataFrame(s["by_type"]).rename(
        columns={
            "type": "unit type",
            "serves": "household size",
            "floor_area_m2": "floor area (m²)",
            "households": "households of that size",
            "units": "flats",
            "households_drawn": "households drawing for it",
            "vacant": "flats left vacant",
        }
    )
    return table.set_index("unit type")


def price_table(summaries: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """What each method or rule costs and buys, one row per variant."""
    rows = []
    for label, s in summaries.items():
        rows.append(
            {
                "variant": label,
                "asked, on a low floor": _pct(s["priority_low_floor_share"]),
                "others on a low floor": _pct(s["low_floor_share_not_asked"]),
                "village cohesion": round(s["village_cohesion"], 3),
                "building entropy (bits)": round(s["draw_randomness"]["building_entropy_bits"], 2),
                "equally likely buildings": round(
                    s["draw_randomness"]["equally_likely_buildings"], 1
                ),
            }
        )
    return pd.DataFrame(rows).set_index("variant")


def day_table(s: Mapping[str, Any]) -> pd.DataFrame:
    """The lottery day's figures with their 95 % CIs."""
    day = s["lottery_day"]
    rows = []
    for key, label in (
        ("hours", "length of the day (hours)"),
        ("rounds", "draw rounds"),
        ("households_per_round", "households per round"),
        ("wait_mean_minutes", "mean wait to sign (minutes)"),
        ("wait_p95_minutes", "P95 wait to sign (minutes)"),
    ):
        x = day[key]
        rows.append(
            {
                "figure": label,
                "mean": x["mean"],
                "95 % CI low": x["ci95_low"],
                "95 % CI high": x["ci95_high"],
            }  # fmt: skip
        )
    return pd.DataFrame(rows).set_index("figure")
