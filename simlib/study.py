"""Tables for the summary report: model results next to the reported figures, and which
assumptions move the results most.

Nothing here is hard-coded from a model run: the model columns come from the summaries
passed in, the reported columns from data/reported_figures.csv, and the assumption
effects from fresh re-runs with common random numbers (so a difference between two rows
is the effect of the change, not of different random draws).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from simlib.moving import run_replications
from simlib.scenario import Scenario


def reported_figures(scenario: Scenario) -> pd.DataFrame:
    """data/reported_figures.csv of the scenario's data folder, indexed by key."""
    path = scenario.data_dir / "reported_figures.csv"
    return pd.read_csv(path, comment="#", dtype={"value": str}).set_index("key")


def _ci(x: Mapping[str, float], fmt: str = "{:,.0f}") -> str:
    return f"{fmt.format(x['ci95_low'])} – {fmt.format(x['ci95_high'])}"


def _day_date(start: dt.date, day: float) -> str:
    """'day 131 (9 Apr 2020)': day 1 is the campaign's first day."""
    date = start + dt.timedelta(days=round(day) - 1)
    return f"day {day:,.0f} ({date:%d %b %Y})"


def comparison_table(
    scenario: Scenario,
    moving: Mapping[str, Any],
    matching: Mapping[str, Any] | None = None,
    programme_keys: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The reported figures next to the model's (mean and 95 % CI over replications).

    `moving` is `Replications.summary()`; `matching` a job-matching summary (optional:
    its rows say "not run" without it). `programme_keys` maps a reported key
    (public_welfare_posts, export_workers_by_bus) to the programme whose employed count
    answers it. Counts are also given at the scenario's scale, since a smoke-scale run can
    only match the reported totals in proportion.
    """
    rep = reported_figures(scenario)
    scale = scenario.scale
    start = dt.date.fromisoformat(moving["campaign_start"])
    deadline_day = moving["registered_poor_deadline_day"]
    days, poor = moving["campaign_days"], moving["registered_poor_all_in_day"]
    rows = [
        {
            "figure": "moving campaign length (days)",
            "reported": f"{int(rep.loc['campaign_days', 'value'])}+ days",
            "reported at this scale": f"{int(rep.loc['campaign_days', 'value'])}+ days",
            "model (mean)": f"{days['mean']:,.0f} days",
            "model 95 % CI": _ci(days),
            "note": "from the first batch day to the last household moved in",
        },
        {
            "figure": "all registered-poor households moved in",
            "reported": "by 31 Mar 2020",
            "reported at this scale": f"by {_day_date(start, deadline_day)}",
            "model (mean)": _day_date(start, poor["mean"]),
            "model 95 % CI": _ci(poor),
            "note": f"{100 * moving['registered_poor_in_by_deadline_share']:.0f} % of "
            f"replications meet the deadline",
        },
    ]

    def count_row(figure: str, key: str, model: float | None, note: str) -> dict[str, str]:
        value = float(rep.loc[key, "value"])
        return {
            "figure": figure,
            "reported": f"{value:,.0f}",
            "reported at this scale": f"{value * scale:,.0f}",
            "model (mean)": "not run" if model is None else f"{model:,.0f}",
            "model 95 % CI": "one optimal plan (no spread)" if model is not None else "",
            "note": note,
        }

    employed = rate = welfare = export = None
    keys = dict(programme_keys or {})
    if matching is not None:
        employed = float(matching["employed"])
        rate = float(matching["employment_rate"])
        by_programme = _employed_by_programme(matching)
        welfare = by_programme.get(keys.get("public_welfare_posts", ""))
        export = by_programme.get(keys.get("export_workers_by_bus", ""))
    rows.append(count_row("people employed", "employed_two_months", employed, "job matching"))
    reported_rate = float(rep.loc["employment_rate", "value"])
    rows.append(
        {
            "figure": "employment rate (%)",
            "reported": f"{100 * reported_rate:.2f} %",
            "reported at this scale": f"{100 * reported_rate:.2f} %",
            "model (mean)": "not run" if rate is None else f"{100 * rate:.2f} %",
            "model 95 % CI": "one optimal plan (no spread)" if rate is not None else "",
            "note": "employed / people of working capacity",
        }
    )
    rows.append(
        count_row(
            "public-welfare posts (公益岗位)", "public_welfare_posts", welfare, "job matching"
        )
    )
    rows.append(
        count_row(
            "organised labour export (转移就业)", "export_workers_by_bus", export, "job matching"
        )
    )
    return pd.DataFrame(rows).set_index("figure")


def _employed_by_programme(matching: Mapping[str, Any]) -> dict[str, float]:
    """Employed per programme from a matching summary's `by_programme` (dict or records)."""
    raw = matching.get("by_programme", {})
    if isinstance(raw, Mapping):
        out = {}
        for name, v in raw.items():
            out[name] = float(v["assigned"] if isinstance(v, Mapping) else v)
        return out
    return {r["programme"]: float(r["assigned"]) for r in raw}


# --- which assumptions matter -----------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One assumption changed away from the scenario (moving-domain parameters)."""

    label: str
    overrides: Mapping[str, Any]


MOVING_CHANGES = (
    Change(
        "escorts per county 2 → 4 (police and medical)",
        {"police_escorts_per_county": 4, "medical_escorts_per_county": 4},
    ),
    Change(
        "escorts per county 2 → 1 (police and medical)",
        {"police_escorts_per_county": 1, "medical_escorts_per_county": 1},
    ),
    Change("scheduling: counties in waves", {"scheduling_policy": "county_waves"}),
    Change("scheduling: one daily quota across counties", {"scheduling_policy": "daily_quota"}),
    Change("no Spring Festival / epidemic pause", {"pause_windows": []}),
    Change(
        "epidemic pause 3 weeks longer (to 29 Feb)",
        {"pause_windows": [["2020-01-18", "2020-02-29"]]},
    ),
    Change(
        "half the rented fleet (20 trucks, 3 buses; batches of 20)",
        {"trucks_per_county": 20, "buses_per_county": 3, "county_batch_max": 20},
    ),
    Change("reception quota 100 → 150 households/day", {"daily_reception_quota": 150}),
    Change("county batch limit 30 → 40 households/day", {"county_batch_max": 40}),
)


def assumption_effects(
    scenario: Scenario,
    replications: int = 3,
    seed: int | None = None,
    workers: int | None = None,
    changes: tuple[Change, ...] = MOVING_CHANGES,
) -> pd.DataFrame:
    """Re-run the moving campaign with one assumption changed at a time.

    Returns one row per change (the baseline first) with the campaign length, the day the
    last registered-poor household moved in, their changes against the baseline (days) and
    the share of replications meeting the 31 March deadline, sorted by the largest effect.
    """
    rows = []
    for change in (Change("baseline (as assumed)", {}), *changes):
        variant = scenario.with_overrides("moving", **dict(change.overrides))
        s = run_replications(variant, replications, seed=seed, workers=workers).summary()
        rows.append(
            {
                "change": change.label,
                "campaign_days": s["campaign_days"]["mean"],
                "registered_poor_all_in_day": s["registered_poor_all_in_day"]["mean"],
                "meets_deadline_share": s["registered_poor_in_by_deadline_share"],
            }
        )
    table = pd.DataFrame(rows)
    for col in ("campaign_days", "registered_poor_all_in_day"):
        table[f"{col}_delta"] = table[col] - table[col].iloc[0]
    base, rest = table.iloc[:1], table.iloc[1:]
    rest = rest.reindex(
        (rest["campaign_days_delta"].abs() + rest["registered_poor_all_in_day_delta"].abs())
        .sort_values(ascending=False)
        .index
    )
    return pd.concat([base, rest], ignore_index=True)


# --- tables for the moving reports --------------------------------------------------------


def moving_headlines(moving: Mapping[str, Any]) -> pd.DataFrame:
    """Headline figures of the moving campaign with 95 % CIs over replications."""
    start = dt.date.fromisoformat(moving["campaign_start"])
    days, poor = moving["campaign_days"], moving["registered_poor_all_in_day"]
    rows = [
        ("campaign length (days)", f"{days['mean']:.1f}", _ci(days, "{:.1f}")),
        (
            "last registered-poor household moved in",
            _day_date(start, poor["mean"]),
            _ci(poor, "{:.1f}"),
        ),
        (
            "31 March 2020 deadline",
            f"day {moving['registered_poor_deadline_day']}",
            f"met in {100 * moving['registered_poor_in_by_deadline_share']:.0f} % of replications",
        ),
        (
            "households / people moved",
            f"{moving['households_moved']:,.0f} / {moving['people_moved']:,.0f}",
            "",
        ),
        ("households not moved within the horizon", f"{moving['households_not_moved']:,.0f}", ""),
        ("vehicle trips (trucks and buses)", f"{moving['vehicle_trips']:,.0f}", ""),
        ("convoys", f"{moving['convoys']:,.0f}", ""),
        (
            "convoys held overnight (would have arrived after dark)",
            f"{moving['convoys_held_overnight']:,.1f}",
            "",
        ),
        ("convoys arriving after dark", f"{moving['convoys_after_dark']:,.1f}", ""),
        (
            "most days a family waited past its planned batch day",
            f"{moving['max_slip_days']:,.1f}",
            "",
        ),
    ]
    table = pd.DataFrame(rows, columns=["figure", "model (mean)", "95 % CI / note"])
    return table.set_index("figure")


def convoys_by_county(convoys: pd.DataFrame) -> pd.DataFrame:
    """Per sending county: convoys, vehicle trips, hours on the road, night holds."""
    c = convoys.assign(road_hours=(convoys["arrival"] - convoys["departure"]) / 60.0)
    table = c.groupby("county").agg(
        convoys=("convoy_id", "size"),
        households=("households", "sum"),
        truck_trips=("trucks", "sum"),
        bus_trips=("buses", "sum"),
        road_hours_median=("road_hours", "median"),
        road_hours_max=("road_hours", "max"),
        held_overnight=("held_overnight", "sum"),
        after_dark=("after_dark", "sum"),
    )
    return table.round(2)


def followup_delay(households: pd.DataFrame) -> pd.DataFrame:
    """Days from moving in to the door-to-door follow-up visit (step 8), by county."""
    moved = households[households["batch_day"] >= 0]
    delay = moved["followup_day"] - moved["moved_in_day"]
    table = delay.groupby(moved["county"]).describe(percentiles=[0.5, 0.95])
    return table[["count", "mean", "50%", "95%", "max"]].round(1)


def headline_text(moving: Mapping[str, Any], matching: Mapping[str, Any] | None = None) -> str:
    """The headline answers as a few sentences of Markdown, numbers from the runs passed in."""
    start = dt.date.fromisoformat(moving["campaign_start"])
    days, poor = moving["campaign_days"], moving["registered_poor_all_in_day"]
    deadline_day = moving["registered_poor_deadline_day"]
    met = moving["registered_poor_in_by_deadline_share"]
    verdict = (
        "meets the deadline in every replication"
        if met == 1
        else "misses the deadline in every replication"
        if met == 0
        else f"meets the deadline in {100 * met:.0f} % of replications"
    )
    lines = [
        f"*Scenario {moving['scenario']}, seed {moving['seed']}.*",
        "",
        f"- **Moving takes {days['mean']:.0f} days** (95 % CI {_ci(days)}) from "
        f"{start:%d %b %Y}, against the reported 100+ days, over {moving['replications']} "
        f"replications.",
        f"- **The last registered-poor household moves in on {_day_date(start, poor['mean'])}** "
        f"(95 % CI {_ci(poor)}); the 31 March 2020 deadline is day {deadline_day}, so the plan "
        f"as assumed {verdict}.",
    ]
    if matching is not None:
        lines.append(matching_text(matching))
    return "\n".join(lines)


def effects_text(effects: pd.DataFrame, top: int = 3) -> str:
    """The changes that move the campaign most, as Markdown bullets (from `assumption_effects`)."""
    rest = effects.iloc[1:]
    lines = []
    for row in rest.head(top).itertuples():
        direction = "longer" if row.campaign_days_delta > 0 else "shorter"
        lines.append(
            f"- **{row.change}**: campaign {abs(row.campaign_days_delta):.0f} days {direction} "
            f"({row.campaign_days:.0f} days); last registered-poor household "
            f"{row.registered_poor_all_in_day_delta:+.0f} days (day "
            f"{row.registered_poor_all_in_day:.0f}); deadline met in "
            f"{100 * row.meets_deadline_share:.0f} % of replications."
        )
    still = rest[
        (rest["campaign_days_delta"] == 0) & (rest["registered_poor_all_in_day_delta"] == 0)
    ]
    if len(still):
        lines.append(f"- No effect at this scale: {', '.join(still['change'])}.")
    return "\n".join(lines)


def effects_table(effects: pd.DataFrame) -> pd.DataFrame:
    """`assumption_effects` with planner-readable column names, rounded to days."""
    table = effects.set_index("change")
    table = table.rename(
        columns={
            "campaign_days": "campaign (days)",
            "campaign_days_delta": "campaign change (days)",
            "registered_poor_all_in_day": "last registered-poor in (day)",
            "registered_poor_all_in_day_delta": "registered-poor change (days)",
            "meets_deadline_share": "deadline met (share of runs)",
        }
    )
    table.index.name = "assumption changed"
    order = [
        "campaign (days)",
        "campaign change (days)",
        "last registered-poor in (day)",
        "registered-poor change (days)",
        "deadline met (share of runs)",
    ]
    return table[order].round(1)


# --- tables for the job-matching reports ----------------------------------------------------

PROGRAMME_KEYS = {
    "public_welfare_posts": "public_welfare",
    "export_workers_by_bus": "labour_export",
}


def matching_baselines(matching: Mapping[str, Any]) -> pd.DataFrame:
    """The optimised plan next to the greedy and random allocations of the same people."""
    rows = [("optimised (PuLP)", matching["employed"], matching["households_without_worker"])]
    for name in ("greedy", "random"):
        if f"{name}_employed" in matching:
            rows.append(
                (
                    f"{name} allocation",
                    matching[f"{name}_employed"],
                    matching[f"{name}_households_without_worker"],
                )
            )
    table = pd.DataFrame(rows, columns=["plan", "employed", "households without a worker"])
    table["employment rate (%)"] = (100 * table["employed"] / matching["laborers"]).round(2)
    return table.set_index("plan")


@dataclass(frozen=True)
class JobsChange:
    """One job-matching assumption changed away from the scenario."""

    label: str
    overrides: Mapping[str, Any]


JOBS_CHANGES = (
    JobsChange("labour export demand halved", {"labour_export_factor": 0.5}),
    JobsChange("two workers per vegetable greenhouse", {"vegetable_workers_per_greenhouse": 2.0}),
    JobsChange("looser county fairness (floor 0.9 → 0.8)", {"fairness_floor": 0.8}),
    JobsChange("carers may also take jobs away", {"carer_new_town_only": False}),
)


def matching_effects(
    scenario: Scenario,
    solver: str = "cbc",
    seed: int | None = None,
    changes: tuple[JobsChange, ...] = JOBS_CHANGES,
) -> pd.DataFrame:
    """Re-solve the job matching with one assumption changed at a time (same people)."""
    from simlib.matching import match_jobs
    from simlib.population import generate_population

    scenario = scenario.with_seed(seed)
    population = generate_population(scenario)
    rows = []
    for change in (JobsChange("baseline (as assumed)", {}), *changes):
        variant = scenario.with_overrides("jobs", **dict(change.overrides))
        s = match_jobs(variant, solver=solver, population=population).summary()
        rows.append(
            {
                "assumption changed": change.label,
                "employed": s["employed"],
                "employment rate (%)": round(100 * s["employment_rate"], 2),
                "households without a worker": s["households_without_worker"],
                "solver status": s["status"],
            }
        )
    table = pd.DataFrame(rows).set_index("assumption changed")
    table.insert(1, "change in employed", table["employed"] - table["employed"].iloc[0])
    return table


def matching_text(matching: Mapping[str, Any]) -> str:
    """The job-matching headline as Markdown bullets, from a `MatchResult.summary()`."""
    lines = [
        f"- **{matching['employed']:,.0f} of {matching['laborers']:,.0f} people of working "
        f"capacity get a job** ({100 * matching['employment_rate']:.2f} %; solver status "
        f"{matching['status']}), against the reported 17,016 (92.08 %); "
        f"{matching['households_without_worker']:,.0f} households with someone who can work "
        f"are left without a worker."
    ]
    if "greedy_employed" in matching:
        lines.append(
            f"- **Against a greedy allocation** (first come, best-paid eligible job) the "
            f"optimised plan employs {matching['employed'] - matching['greedy_employed']:+,.0f} "
            f"people and leaves "
            f"{matching['greedy_households_without_worker'] - matching['households_without_worker']:,.0f}"
            f" fewer households without a worker."
        )
    return "\n".join(lines)


def move_in_text(utilization: pd.DataFrame, waits: pd.DataFrame) -> str:
    """The move-in day's bottleneck in one sentence, from a campaign's tables."""
    busiest = utilization.sort_values("utilization").iloc[-1]
    w = waits[waits["step"] != "followup"].sort_values("p95").iloc[-1]
    return (
        f"The busiest team is **{busiest['resource'].replace('_', ' ')}**, busy "
        f"{100 * busiest['utilization']:.0f} % of its open time; the longest wait is before "
        f"step {w['order']} (**{w['step'].replace('_', ' ')}**): median {w['p50']:.0f} min, "
        f"1 in 20 families over {w['p95']:.0f} min."
    )


# --- the employment timeline ------------------------------------------------------------------


def _with_ci(x: Mapping[str, Any], fmt: str = "{:,.0f}") -> tuple[str, str]:
    mean = fmt.format(x["mean"])
    if x.get("ci95_low") is None:
        return mean, "one replication (no CI)"
    return mean, f"{fmt.format(x['ci95_low'])} – {fmt.format(x['ci95_high'])}"


def timeline_table(timeline: Mapping[str, Any]) -> pd.DataFrame:
    """The timeline's headline figures (mean and 95 % CI over the moving replications)
    next to the reported 17,016 and to the greedy policy, from `TimelineResult.summary()`."""
    two = timeline["employed_two_months"]
    greedy = timeline.get("greedy") or {}
    rows = []

    def row(figure, x, fmt="{:,.0f}", reference=""):
        mean, ci = _with_ci(x, fmt)
        rows.append(
            {"figure": figure, "model (mean)": mean, "model 95 % CI": ci, "compare": reference}
        )

    row(
        "people at work two months after the last arrival",
        two,
        reference=f"reported {two['reported']:,} ({two['reported_at_scale']:,} at this scale)",
    )
    if greedy:
        row("  the same, greedy first-come policy", greedy["employed_two_months"])
    if "employed_within_two_months_of_arrival" in timeline:
        row(
            "people at work within two months of their own arrival",
            timeline["employed_within_two_months_of_arrival"],
            reference="the other reading of the reported figure",
        )
    row(
        "rolling matching at two months, % of the hindsight optimum",
        timeline["percent_of_hindsight"],
        "{:.2f}",
        reference=f"hindsight optimum {timeline['hindsight_employed']['mean']:,.0f}",
    )
    if greedy:
        row("  the same, greedy first-come policy", greedy["percent_of_hindsight"], "{:.2f}")
    row(
        "people at work three months after the last arrival",
        timeline["employed_final"],
        reference=f"hindsight optimum {timeline['hindsight_final']['mean']:,.0f}",
    )
    wait = timeline["days_to_first_job"]
    rows.append(
        {
            "figure": "days from moving in to the first day of work (P50 / P95)",
            "model (mean)": f"{wait['p50']:.0f} / {wait['p95']:.0f}",
            "model 95 % CI": "",
            "compare": "",
        }
    )
    return pd.DataFrame(rows).set_index("figure")


def timeline_text(timeline: Mapping[str, Any]) -> str:
    """The timeline's headline as Markdown bullets, from `TimelineResult.summary()`."""
    two, pct = timeline["employed_two_months"], timeline["percent_of_hindsight"]
    wait = timeline["days_to_first_job"]
    lines = [
        f"- **{two['mean']:,.0f} people at work two months after the last household moved "
        f"in** (mean of {timeline['replications']} moving replications), against the reported "
        f"{two['reported']:,} ({two['reported_at_scale']:,} at this scale).",
        f"- **Matching week by week as families arrive reaches {pct['mean']:.1f} % of the "
        f"hindsight optimum at two months** (every arrival known in advance, training and "
        f"batches ignored: an upper bound), with hold-back policy "
        f"*{timeline['holdback_policy']}* and batches every "
        f"{timeline['batch_interval_days']} days; three months after the last arrival, "
        f"{timeline['percent_of_hindsight_final']['mean']:.1f} % of the hindsight optimum.",
        f"- Half the people employed start work within **{wait['p50']:.0f} days** of moving in, "
        f"19 in 20 within {wait['p95']:.0f} days (settling, the weekly batch, training, the "
        f"export bus).",
    ]
    greedy = timeline.get("greedy")
    if greedy:
        lines.append(
            f"- A greedy first-come policy (each laborer, on the day they are available, takes "
            f"the best-paid open job) has {greedy['employed_two_months']['mean']:,.0f} at work "
            f"at two months ({greedy['percent_of_hindsight']['mean']:.1f} % of the hindsight "
            f"optimum)."
        )
    return "\n".join(lines)


def timeline_summary(
    scenario: Scenario, replications: int, solver: str = "cbc", seed: int | None = None
) -> dict[str, Any]:
    """`TimelineResult.summary()` of the scenario (the summary report's timeline section)."""
    from simlib.timeline import run_scenario

    return run_scenario(
        scenario.with_seed(seed), replications=replications, solver=solver
    ).summary()
