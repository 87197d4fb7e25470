"""The job matching, worded once: the command line's text, and the tables and sentences the
notebooks and the summary show, all from `MatchResult.summary()` (a plain dict, so that a
sweep point or a saved JSON can be shown the same way). Runs nothing.

The employment timeline's wording is in `simlib.present.timeline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

NAMES = {
    "mobility_aware": "mobility aware (stuck households first, one mover per other household)",
    "county_quotas": "county quotas (each county's cadres place their own people)",
    "export_first": "export first (everyone who may go is sent away)",
    "household_first": "household first (one worker per household, then everyone else)",
    "locals_first": "locals first, the rest exported",
    "greedy": "first come (best expected income)",
    "random": "random",
}

# Which assumptions set each part of the employment rate (data/ rows a planner can check)
ANATOMY = (
    ("local_reported", "employed in local places the source reports",
     "data/jobs/programmes.csv (places = reported): the workshops', mushroom and "
     "public-welfare places; all filled when laborers fit them"),
    ("local_assumed", "employed in local places that are assumed",
     "data/jobs/programmes.csv (places = assumed): vegetable jobs per greenhouse "
     "(vegetable_workers_per_greenhouse), orchard, shops and stalls"),
    ("willing_and_able_to_go", "laborers willing and able to work away",
     "data/population/parameters.csv migrate_* (six shares by sex and age band, the skill and "
     "care-household factors); the age and skill limits of the export rows; special group excluded"),
    ("care_keepers", "of them, kept home as their household's carer",
     "the care rule (carer_new_town_only), care_on_laborer_share and care_child_age / "
     "care_elder_age in data/population, care_places in data/jobs"),
    ("mobile_not_exported_otherwise", "of them, not exported for another reason",
     "export demand full, or a local job that lasts better"),
    ("exported", "exported (= willing and able - care keepers - other)",
     "export demand: data/jobs/programmes.csv labour_export rows x labour_export_factor"),
    ("export_demand_unfilled", "export demand left empty",
     "export demand minus the laborers willing and able to go who are free to go"),
)  # fmt: skip


def rule_name(name: str) -> str:
    return NAMES.get(name, name.replace("_", " "))


def _status_line(s: Mapping[str, Any]) -> str:
    label = ""
    if not s["optimal"]:
        gap = f": gap to the bound {s['gap']:.2%}" if s.get("gap") is not None else ""
        label = f"  (NOT proven optimal{gap})"
    return f"Scenario {s['scenario']}, seed {s['seed']}, solver {s['solver']}: {s['status']}{label}"


def _best_line(s: Mapping[str, Any]) -> list[str]:
    if "best_baseline" not in s:
        return []
    b, g = s["best_baseline"], s["gain_over_best_baseline"]
    if b is None:
        return ["  no rule of thumb keeps every hard rule (household, care, eligibility, places)"]
    return [
        f"  best rule of thumb that keeps the rules: {rule_name(b['name'])}: expected lasting "
        f"{b['expected_lasting_employed']:,.0f}, employed {b['employed']:,}, households without "
        f"a worker {b['households_without_worker']:,}",
        f"  optimiser's gain over it: {g['expected_lasting']:+,.1f} expected lasting jobs "
        f"({g['expected_lasting_percent']:+.2f} %), {g['employed']:+,} people, "
        f"{g['households_without_worker']:+,} households covered, "
        f"{g['expected_income_yuan_month']:+,.0f} yuan/month"
        + (
            f"  (the rule is within {g['threshold_percent']:g} % of the optimum)"
            if g["nearly_as_good"]
            else ""
        ),
    ]


def match_text(s: Mapping[str, Any]) -> str:
    """`simlib match` without --json."""
    a = s["employment_anatomy"]
    lines = [
        _status_line(s),
        f"  employed      {s['employed']:>8,} of {s['laborers']:,} laborers = "
        f"{s['employment_rate']:.2%}   (reported {s['reported_employed']:,} = "
        f"{s['reported_rate']:.2%} at full scale)",
        f"  local {s['local_employed']:,} (in reported places {a['local_reported']:,}, in "
        f"assumed places {a['local_assumed']:,}), exported {s['exported']:,} (willing and able "
        f"to go {a['willing_and_able_to_go']:,}, kept home as carers {a['care_keepers']:,}; "
        f"export demand {s['export_demand']:,}, {a['export_demand_unfilled']:,} left empty)",
        f"  must stay {s['must_stay_laborers']:,} laborers, of whom {s['must_stay_employed']:,} "
        f"employed; expected still employed after {s['lasting_period_months']} months "
        f"{s['expected_lasting_employed']:,.0f}",
        f"  employment is decided by {s['employment_decided_by']}",
        f"  households with laborers {s['households_with_laborers']:,}, without a worker "
        f"{s['households_without_worker']:,} (no one qualifies for any job "
        f"{s['households_no_one_can_cover']:,}; every job they qualify for has no places "
        f"{s['households_without_places']:,})",
        *_best_line(s),
        f"  build {s['build_seconds']:.2f} s, solve {s['solve_seconds']:.2f} s, "
        f"max constraint violation {s['max_constraint_violation']:.2g}",
        "",
        f"  {'county':<10}{'laborers':>9}{'employed':>9}{'exported':>9}{'rate':>8}",
    ]
    for county, c in s["by_county"].items():
        lines.append(
            f"  {county:<10}{c['laborers']:>9,}{c['employed']:>9,}{c['exported']:>9,}{c['rate']:>8.1%}"
        )
    lines += ["", f"  {'programme':<16}{'capacity':>9}{'assigned':>9}{'marginal':>9}"]
    for name, g in s["by_programme"].items():
        mv = "" if g["marginal_value"] is None else f"{g['marginal_value']:.2f}"
        lines.append(f"  {name:<16}{g['capacity']:>9,}{g['assigned']:>9,}{mv:>9}")
    return "\n".join(lines)


def anatomy_table(s: Mapping[str, Any]) -> pd.DataFrame:
    """The employment rate taken apart: each part in people and as a share of the laborers,
    with the assumptions that set it."""
    a = s["employment_anatomy"]
    laborers = a["laborers"] or 1
    rows = [
        {
            "part": label,
            "people": a[key],
            "share of laborers (%)": round(100 * a[key] / laborers, 2),
            "set by": source,
        }
        for key, label, source in ANATOMY
    ]
    rows.append(
        {
            "part": "employed (= local + exported)",
            "people": a["employed"],
            "share of laborers (%)": round(100 * a["employed"] / laborers, 2),
            "set by": "the parts above",
        }
    )
    return pd.DataFrame(rows).set_index("part")


def anatomy_text(s: Mapping[str, Any]) -> str:
    """The rate's anatomy in three sentences, with the laborer denominator's provenance."""
    a, basis = s["employment_anatomy"], s["employment_anatomy"]["laborer_basis"]
    local = a["local_reported"] + a["local_assumed"]
    return (
        f"- **Employed = local places + willing and able to go - kept home as carers** (- any "
        f"not exported for another reason): {local:,} local ({a['local_reported']:,} in places "
        f"the source reports, {a['local_assumed']:,} in assumed ones; "
        f"{a['local_places_unfilled']:,} local places left empty) + "
        f"{a['willing_and_able_to_go']:,} willing and able to go - {a['care_keepers']:,} carers "
        f"- {a['mobile_not_exported_otherwise']:,} = **{a['employed']:,} employed**; "
        f"{a['export_demand_unfilled']:,} places of export demand stay empty.\n"
        f"- **The rate is an input, not an answer**: the local places are counted, not "
        f"chosen, and who is willing to go away is an assumption by sex and age band "
        f"(`migrate_*` in data/population) that the sweeps move over its whole range.\n"
        f"- **The denominator**: {a['laborers']:,} people of working capacity, generated to "
        f"match the {basis['implied_laborers_full_scale']:,} the source implies at full "
        f"scale ({basis['reported_employed']:,} employed / {100 * basis['reported_rate']:.2f} %),"
        f" so the rate beside the reported one is a check of the employed, not of the laborers."
    )


def baselines_table(s: Mapping[str, Any]) -> pd.DataFrame:
    """The optimised plan next to every rule of thumb, on the optimiser's own terms first."""
    rows = [
        {
            "plan": "optimised (PuLP)",
            "keeps the rules": True,
            "expected lasting employment": s["expected_lasting_employed"],
            "employed": s["employed"],
            "households without a worker": s["households_without_worker"],
            "expected income (yuan/month)": s["expected_income_yuan_month"],
            "rules broken": "",
        }
    ]
    for name, b in s.get("baselines", {}).items():
        broken = ", ".join(f"{k} {v:,.1f}" for k, v in b["rules_broken"].items())
        rows.append(
            {
                "plan": rule_name(name),
                "keeps the rules": b["keeps_rules"],
                "expected lasting employment": b["expected_lasting_employed"],
                "employed": b["employed"],
                "households without a worker": b["households_without_worker"],
                "expected income (yuan/month)": b["expected_income_yuan_month"],
                "rules broken": broken,
            }
        )
    table = pd.DataFrame(rows)
    best = s["expected_lasting_employed"] or 1.0
    table.insert(
        3, "% of the optimum", (100 * table["expected lasting employment"] / best).round(2)
    )
    table["employment rate (%)"] = (100 * table["employed"] / max(s["laborers"], 1)).round(2)
    return table.set_index("plan").round(1)


def optimiser_text(s: Mapping[str, Any]) -> str:
    """What the optimiser adds over the strongest rule of thumb that keeps the rules, said
    plainly (and said so when the rule is nearly as good)."""
    b, g = s.get("best_baseline"), s.get("gain_over_best_baseline")
    if b is None or g is None:
        return "- No rule of thumb keeps every hard rule, so the optimised plan has no rival here."
    share = 100 * b["expected_lasting_employed"] / max(s["expected_lasting_employed"], 1e-9)
    t = g["threshold_percent"]
    verdict = (
        f"**The rule is nearly as good: within {t:g} % of the optimum** ({share:.1f} %)."
        if g["nearly_as_good"]
        else f"The rule reaches {share:.1f} % of the optimum: **the optimiser adds more than {t:g} %**."
    )
    fairness = b["rules_broken"].get("fairness")
    note = (
        f" The rule leaves the county fairness floor short by {fairness:,.0f} people, which "
        f"the optimised plan keeps."
        if fairness
        else ""
    )
    return (
        f"- **Against the strongest rule of thumb** that keeps the household rule, the care "
        f"rule, eligibility and the places (*{rule_name(b['name'])}*), the optimised plan adds "
        f"**{g['expected_lasting']:+,.0f} expected lasting jobs** "
        f"({g['expected_lasting_percent']:+.2f} %), {g['employed']:+,} people employed and "
        f"{g['households_without_worker']:+,} households covered. {verdict}{note}"
    )


def matching_text(s: Mapping[str, Any]) -> str:
    """The job-matching headline as Markdown bullets."""
    places = s["local_places"]
    return "\n".join(
        [
            f"- **{s['employed']:,.0f} of {s['laborers']:,.0f} people of working capacity get "
            f"a job** ({100 * s['employment_rate']:.2f} %; solver status {s['status']}), against "
            f"the reported {s['reported_employed']:,} ({100 * s['reported_rate']:.2f} %): "
            f"**{s['local_employed']:,.0f} locally** and **{s['exported']:,.0f} exported** "
            f"(export demand {s['export_demand']:,.0f}).",
            f"- **Local places**: {places['reported']:,.0f} the source reports as jobs "
            f"(workshops, mushroom, public-welfare posts) and {places['assumed']:,.0f} assumed "
            f"(vegetable jobs per greenhouse, orchard, shops and stalls); the assumed places "
            f"employ **{s['local_employed_assumed_places']:,.0f} people** in this plan.",
            f"- **Employment is decided by** {s['employment_decided_by']}.",
            f"- **{s['must_stay_laborers']:,.0f} laborers must stay** (care duties, special "
            f"group, not willing or able to migrate); {s['must_stay_employed']:,.0f} of them get "
            f"a local job. Expected still employed after {s['lasting_period_months']} months: "
            f"**{s['expected_lasting_employed']:,.0f}**; {s['households_without_worker']:,.0f} "
            f"households with labour are left without a worker.",
        ]
        + ([optimiser_text(s)] if "best_baseline" in s else [])
    )


def _limit(name: str, r) -> str:
    from simlib.sweep.analysis import planner_number

    lower, upper = r["low"] > r["range_low"], r["high"] < r["range_high"]
    low, high = planner_number(r["low"]), planner_number(r["high"])
    if lower and upper:
        return f"{name} is between {low} and {high}"
    return f"{name} is at least {low}" if lower else f"{name} is below {high}"


def optimiser_region_text(box, dense: float = 0.5) -> str:
    """Where the optimiser matters, as a planner reads it, from a PRIM box on the sweep's
    `optimiser_matters` flag (`simlib.sweep.analysis.discover`); a box in which fewer than
    `dense` of the runs are such runs is no rule, and is said to be none."""
    if box.failing == 0:
        return (
            f"- **In none of the {box.total} runs over the assumptions' ranges does the optimiser "
            f"beat the best rule of thumb by more than 1 %** of expected lasting employment or "
            f"cover more households: there, a planner's rule is as good as the plan."
        )
    share = f"{box.failing} of the {box.total} runs"
    if box.limits.empty or box.density < dense:
        found = ""
        if not box.limits.empty:
            rules = " and ".join(_limit(name, r) for name, r in box.limits.iterrows())
            found = (
                f" (the best region PRIM finds, where {rules}, holds them at a density of "
                f"only {100 * box.density:.0f} %)"
            )
        return (
            f"- **The optimiser beats the best rule of thumb by more than 1 %** of expected "
            f"lasting employment (or covers more households) **in {share}**, and no region of "
            f"the assumptions concentrates them{found}: almost everywhere in their ranges, a "
            f"planner's rule is within 1 % of the plan."
        )
    rules = " and ".join(_limit(name, r) for name, r in box.limits.iterrows())
    return (
        f"- **The optimiser matters when {rules}**: there it beats the best rule of thumb by "
        f"more than 1 % of expected lasting employment (or covers more households). It does so "
        f"in {share}; {round(box.coverage * box.failing)} of them lie in this region "
        f"(coverage {100 * box.coverage:.0f} %), and {round(box.density * box.points)} of the "
        f"{box.points} runs in the region are such runs (density {100 * box.density:.0f} %). "
        f"Elsewhere a planner's rule is nearly as good."
    )


def optimiser_drivers_text(ranking: pd.Series, top: int = 3) -> str:
    """The assumptions the optimiser's gain follows most (absolute rank correlation over a
    sweep, `simlib.sweep.analysis.ranking`), in one sentence."""
    r = ranking[ranking > 0].head(top)
    if r.empty:
        return "- No assumption moves what the optimiser adds."
    names = ", ".join(f"{name} (|ρ| {value:.2f})" for name, value in r.items())
    return f"- What the optimiser adds grows or shrinks most with {names}."


def optimiser_sweep_table(table: pd.DataFrame) -> pd.DataFrame:
    """Over a sweep's points: which rule of thumb is the strongest how often, and what the
    optimiser adds over it (median and largest, in % of expected lasting employment), with
    the points where it matters (more than 1 %, or more households covered)."""
    ok = table[table["status"] == "ok"] if "status" in table else table
    ok = ok[ok["matching_planned"].astype(bool)] if "matching_planned" in ok else ok
    names = (
        ok["best_baseline"]
        .replace("", "no rule keeps the rules")
        .map(lambda n: rule_name(n).split(" (")[0])
    )
    rows = []
    for name, part in [("all points", ok), *ok.groupby(names.to_numpy())]:
        gain = part["optimiser_gain_lasting_percent"].astype(float)
        rows.append(
            {
                "strongest rule": name,
                "points": len(part),
                "median gain (%)": round(float(gain.median()), 2),
                "largest gain (%)": round(float(gain.max()), 2),
                "points where the optimiser matters": int(
                    part["optimiser_matters"].astype(bool).sum()
                ),
            }
        )
    return pd.DataFrame(rows).set_index("strongest rule")


def figures_table(s: Mapping[str, Any]) -> pd.DataFrame:
    """The job plan's main figures, one row each (report 04's first table)."""
    return pd.Series(
        {
            "solver status": s["status"],
            "people of working capacity": s["laborers"],
            "employed": s["employed"],
            "of whom locally": s["local_employed"],
            "of whom exported": s["exported"],
            "expected still employed after the period": s["expected_lasting_employed"],
            "laborers who must stay": s["must_stay_laborers"],
            "of whom employed": s["must_stay_employed"],
            "households with labour": s["households_with_laborers"],
            "households without a worker": s["households_without_worker"],
            "largest rule violation (checked)": s["max_constraint_violation"],
            "solve time (s)": s["solve_seconds"],
        },
        name="value",
    ).to_frame()


def fairness_floor_table(s: Mapping[str, Any]) -> pd.DataFrame:
    """The strongest rule of thumb that keeps the fairness floor too, and what the optimiser
    adds over it (none: no rule keeps every hard rule and the floor)."""
    fair, gain = s["best_baseline_with_floors"], s["gain_over_best_baseline_with_floors"]
    return pd.Series(
        {
            "best rule keeping the fairness floor too": rule_name(fair["name"]) if fair else "none",
            "its expected lasting employment": fair["expected_lasting_employed"] if fair else None,
            "optimiser's gain over it (expected lasting jobs)": gain["expected_lasting"]
            if gain
            else None,
            "the same, % of the optimum": gain["expected_lasting_percent"] if gain else None,
        },
        name="value",
    ).to_frame()
