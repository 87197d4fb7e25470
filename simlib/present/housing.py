"""Housing results in words and tables: the command line's text and the notebook's
tables (supply against demand, the price of each rule, the lottery day). Runs nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from simlib.present.ci import ci_text


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
            f"  lottery day: {day['hours']['mean']:.1f} hours ({ci_text(day['hours'])}), "
            f"{day['rounds']['mean']:.0f} rounds of {day['households_per_round']['mean']:.0f} "
            f"households, mean wait to sign {day['wait_mean_minutes']['mean']:.1f} min "
            f"(P95 {day['wait_p95_minutes']['mean']:.1f}); {day['replications']} replications"
        )
    return "\n".join(lines)


def headline_sentences(s: Mapping[str, Any]) -> str:
    """The lottery in a few sentences, for the summary (Markdown)."""
    short = [t for t in s["by_type"] if t["shortfall"]]
    day = s["lottery_day"]
    shortage = (
        "; ".join(f"{t['type']} ({t['serves']} people) short by {t['shortfall']:,}" for t in short)
        if short
        else "no type short"
    )
    return (
        f"- **Flats against households:** {s['units']:,} flats for {s['households']:,} "
        f"households (planned: {s['planned_households']:,}); {shortage}, handled by the rule "
        f"`{s['shortfall_rule']}` ({s['fit']['smaller']:,} households in a smaller type, "
        f"{s['fit']['none']:,} without a flat).\n"
        f"- **Low floors:** {_pct(s['priority_low_floor_share'])} of the "
        f"{s['asked_low_floor']:,} households that asked got one (the stock allows "
        f"{_pct(s['priority_low_floor_possible_share'])}).\n"
        f"- **A fair, checkable draw:** a uniformly random matching within each unit type, "
        f"committed before the draw (`{s['commitment'][:16]}...`) and re-checkable with "
        f"`simlib lottery --verify`.\n"
        f"- **The lottery day:** {day['hours']['mean']:.1f} hours ({ci_text(day['hours'])}) in "
        f"{day['rounds']['mean']:.0f} rounds of about {day['households_per_round']['mean']:.0f} "
        f"households, with {day['notaries']} notaries and {day['desks']} signing desks "
        f"(all assumed).\n"
        f"- Report **07** shows the fairness audit and the price of each rule: keeping "
        f"villages together multiplies the village neighbours but leaves the building "
        f"almost no longer to chance."
    )


def supply_sentences(s: Mapping[str, Any]) -> str:
    """Demand against supply in a planner's words (Markdown)."""
    short = [t for t in s["by_type"] if t["shortfall"]]
    fit = s["fit"]
    area = s["area_m2_per_person"]
    text = (
        f"The stock has **{s['units']:,} flats** in {s['buildings']} buildings (reported at "
        f"full scale: {s['reported_units']:,} in {s['reported_buildings']}); the plan was for "
        f"**{s['planned_households']:,} households** (reported: the lottery allocated flats "
        f"for them), and the population that moved has **{s['households']:,}**. "
    )
    if short:
        names = ", ".join(f"{t['type']} ({t['serves']} people) short by {t['shortfall']:,}" for t in short)  # fmt: skip
        text += (
            f"By type the match is not exact: {names}. Under the rule `{s['shortfall_rule']}` "
            f"{fit['larger']:,} households draw for a larger type, {fit['smaller']:,} for a "
            f"smaller one, and {fit['none']:,} go without a flat. "
        )
    else:
        text += "Every type has at least as many flats as households of its size. "
    text += (
        f"Housed households have {area['mean']:.1f} m² a person on average; "
        f"{area['over_cap']:,} are above the {area['cap']:g} m² cap, {area['under_15']:,} "
        f"below 15 m². {s['vacant_units']:,} flats stay vacant."
    )
    return text


def draw_sentences(s: Mapping[str, Any]) -> str:
    """The draw, its commitment and its check, with this run's figures (Markdown)."""
    rnd = s["draw_randomness"]
    return (
        f"Before the draw the run published its **commitment** `{s['commitment'][:16]}...` "
        f"(SHA-256 of seed {s['seed']}, the method, the rules, the households and the stock). "
        f"{s['asked_low_floor']:,} of {s['priority_households']:,} priority households asked "
        f"for a low floor; {_pct(s['priority_low_floor_share'])} of them got one (the most "
        f"the stock allows: {_pct(s['priority_low_floor_possible_share'])}), and "
        f"{_pct(s['low_floor_share_not_asked'])} of the others landed on a low floor by the "
        f"draw. A household's building is as uncertain as a choice among "
        f"**{rnd['equally_likely_buildings']:.0f} equally likely buildings** "
        f"({rnd['building_entropy_bits']:.2f} bits)."
    )


def audit_table(audit) -> pd.DataFrame:
    """The fairness audit in one table: tests, significance, the smallest p-value."""
    s = audit.summary()
    rows = [
        ("draws", f"{s['draws']:,}"),
        ("tests (classes x building / floor band)", f"{s['tests']:,}"),
        (
            "family-wise significance",
            f"{s['alpha']:g} (Bonferroni: {s['alpha_per_test']:.2g} per test)",
        ),  # fmt: skip
        ("smallest p-value", f"{s['smallest_p_value']:.3g}"),
        ("every class passes", "yes" if s["passed"] else "NO"),
    ]
    return pd.DataFrame(rows, columns=["fairness audit", "value"]).set_index("fairness audit")


def largest_classes(audit, k: int = 3) -> list[str]:
    """The audit's `k` largest classes (for the chances figure)."""
    tests = audit.tests[audit.tests["outcome"] == "building"]
    return tests.sort_values("households", ascending=False, kind="stable")["class"].head(k).tolist()


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


# --- figures (one function per figure, as simlib.plots) --------------------------------------


def _figure(height: float = 4.5, ncols: int = 1):
    from simlib.plots import WIDTH, PlotFigure

    fig = PlotFigure(figsize=(WIDTH, height), layout="constrained")
    return fig, fig.subplots(1, ncols)


def supply_figure(s: Mapping[str, Any]):
    """Households by the type their size calls for, against flats of each type."""
    import numpy as np

    from simlib.plots import OKABE_ITO

    table = pd.DataFrame(s["by_type"])
    fig, ax = _figure()
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["households"], 0.4, label="households of that size", color=OKABE_ITO[1])
    ax.bar(x + 0.2, table["units"], 0.4, label="flats of the type", color=OKABE_ITO[0])
    for i, row in table.iterrows():
        if row["shortfall"]:
            ax.annotate(f"short {row['shortfall']:,}", (i, max(row["households"], row["units"])),
                        ha="center", va="bottom", color=OKABE_ITO[4])  # fmt: skip
    ax.set_xticks(x, [f"{t}\n({n} m², {sz})" for t, n, sz in zip(table["type"], table["floor_area_m2"].round().astype(int), table["serves"], strict=True)])  # fmt: skip
    ax.set_ylabel("households / flats")
    ax.set_title("Demand against supply by unit type")
    ax.legend(loc="upper left")
    return fig


def site_figure(buildings: pd.DataFrame, households: pd.DataFrame, title: str):
    """The site plan: each building at its position, coloured by the county most of its
    households come from, shaded by that county's share."""
    from simlib.plots import colours

    housed = households[households["building"] != ""]
    top = housed.groupby(["building", "county"]).size().rename("n").reset_index()
    top = top.sort_values("n", ascending=False).drop_duplicates("building").set_index("building")
    total = housed.groupby("building").size()
    fig, ax = _figure(5.0)
    palette = colours(sorted(set(top["county"])))
    for b in buildings.itertuples():
        county = top["county"].get(b.building)
        share = top["n"].get(b.building, 0) / total.get(b.building, 1)
        ax.add_patch(_slab(b, palette.get(county, "#999999"), 0.25 + 0.75 * share))
        ax.annotate(b.building, (b.x_m, b.y_m), ha="center", va="center", fontsize=7)
    for county, colour in palette.items():
        ax.scatter([], [], marker="s", color=colour, label=county)
    ax.set_xlim(buildings["x_m"].min() - 80, buildings["x_m"].max() + 80)
    ax.set_ylim(buildings["y_m"].min() - 60, buildings["y_m"].max() + 60)
    ax.set_aspect("equal")
    ax.set_xlabel("metres east")
    ax.set_ylabel("metres north")
    ax.set_title(title)
    ax.legend(title="largest county (shade: its share)", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def _slab(b, colour: str, alpha: float):
    from matplotlib.patches import Rectangle

    length = 22.0 * b.units_per_floor / 4  # about 22 m of facade per 4 flats
    return Rectangle((b.x_m - length / 2, b.y_m - 8), length, 16, color=colour, alpha=alpha)


def price_figure(table: pd.DataFrame):
    """What each variant buys (village cohesion, low floors for those who asked) and what it
    costs (how random the building still is)."""
    fig, axes = _figure(4.0, ncols=3)
    columns = (
        ("village cohesion", "share of building neighbours\nfrom the own village"),
        ("asked, on a low floor", "households that asked,\non a low floor (%)"),
        ("building entropy (bits)", "how random the building is\n(bits; 6 = about 64 buildings)"),
    )
    for ax, (column, label) in zip(axes, columns, strict=True):
        values = table[column].map(lambda v: float(str(v).rstrip(" %")) if v != "n/a" else 0.0)
        ax.barh(table.index, values, color="#0072B2")
        ax.set_xlabel(label)
        ax.invert_yaxis()
    for ax in axes[1:]:
        ax.set_yticklabels([])
    fig.suptitle("The price of each rule", fontweight="bold")
    return fig


def chances_figure(chances: pd.DataFrame, classes: list[str]):
    """Measured chance of each building (dots, over the audit's draws) against the chance
    worked out from the draw's pools (bars), for a few classes."""
    fig, axes = _figure(4.0, ncols=len(classes))
    axes = [axes] if len(classes) == 1 else list(axes)
    for ax, label in zip(axes, classes, strict=True):
        rows = chances[chances["class"] == label].sort_values("building")
        ax.bar(rows["building"], rows["chance"], color="#56B4E9", label="from the pools")
        ax.plot(rows["building"], rows["measured"], "o", color="#D55E00", ms=3, label="measured")
        ax.set_title(label, fontsize=11)
        ax.set_xticks([])
        ax.set_xlabel("building")
    axes[0].set_ylabel("chance of the building")
    axes[0].legend(loc="upper right")
    fig.suptitle("Every household of a class has the same chance of each building", fontweight="bold")  # fmt: skip
    return fig


def day_figure(rounds: pd.DataFrame, day_start: float):
    """The lottery day, round by round (first replication): the draw on the screen and the
    signing until the notary seals the round."""
    first = rounds[rounds["replication"] == rounds["replication"].min()]
    fig, ax = _figure(4.5)
    start, shown, sealed = (first[c] / 60 for c in ("start", "shown", "sealed"))
    ax.barh(first["round"], shown - start, left=start, color="#0072B2",
            label="draw and results on screen")  # fmt: skip
    ax.barh(first["round"], sealed - shown, left=shown, color="#E69F00", alpha=0.6,
            label="households sign; the notary seals")  # fmt: skip
    ax.invert_yaxis()
    ax.set_xlabel("hour of the day")
    ax.set_ylabel("round")
    ax.set_title("The lottery day, round by round")
    ax.legend(loc="lower left")
    ax.axvline(day_start / 60, color="#000000", lw=0.8)
    return fig


def tornado_figure(table: pd.DataFrame, output: str, label: str):
    """One-at-a-time sweep: how far each assumption moves one output from the baseline."""
    base = float(table.loc[table["factor"] == "", output].iloc[0])
    rows = table[table["factor"] != ""]
    spans = rows.groupby("factor")[output].agg(["min", "max"])
    spans = spans.assign(width=spans["max"] - spans["min"]).sort_values("width")
    fig, ax = _figure(0.45 * len(spans) + 1.5)
    names = [f.removeprefix("housing.") for f in spans.index]
    ax.barh(names, spans["max"] - spans["min"], left=spans["min"], color="#56B4E9")
    ax.axvline(base, color="#000000", lw=1, label="as assumed")
    ax.set_xlabel(label)
    ax.set_title(f"One assumption at a time: {label}")
    ax.legend(loc="lower right")
    return fig
