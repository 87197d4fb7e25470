"""Tables for the summary report: model results next to the reported figures, and which
assumptions move the results most.

Nothing here is hard-coded from a model run: the model columns come from the summaries
passed in, the reported columns from data/reported_figures.csv, and the assumption
effects from the one-at-a-time sweep (data/sweeps/assumptions.yaml) with common random
numbers (so a difference between two rows is the effect of the change, not of different
random draws).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from simlib.scenario import Scenario


def reported_figures(scenario: Scenario) -> pd.DataFrame:
    """data/reported_figures.csv of the scenario's data folder, indexed by key."""
    path = scenario.data_dir / "reported_figures.csv"
    return pd.read_csv(path, comment="#", dtype={"value": str}).set_index("key")


def _ci(x: Mapping[str, float | None], fmt: str = "{:,.0f}") -> str:
    if x["ci95_low"] is None:
        return "undefined (one replication)"
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

    `moving` is `MovingResult.summary()`; `matching` a job-matching summary (optional:
    its rows say "not run" without it). Public-welfare posts and the bus channel of export
    are capacities the matching is given, so they are shown as inputs and never compared
    with themselves (`programme_keys` is accepted for callers and not used). Counts are
    also given at the scenario's scale, since a smoke-scale run can only match the
    reported totals in proportion.
    """
    rep = reported_figures(scenario)
    scale = scenario.scale
    start = dt.date.fromisoformat(moving["campaign_start"])
    deadline_day = moving["registered_poor_deadline_day"]
    days, poor = moving["campaign_days"], moving["registered_poor_all_in_day"]
    calibrated = moving.get("calibrated", [])  # marked "calibrated: ..." in data/moving
    tuned = (
        f"; calibrated to this figure ({', '.join(calibrated)}), so not an independent check"
        if calibrated
        else ""
    )
    rows = [
        {
            "figure": "moving campaign length (days)",
            "reported": f"{int(rep.loc['campaign_days', 'value'])}+ days",
            "reported at this scale": f"{int(rep.loc['campaign_days', 'value'])}+ days",
            "model (mean)": f"{days['mean']:,.0f} days",
            "model 95 % CI": _ci(days),
            "note": "from the first convoy day to the last household moved in" + tuned,
        },
        {
            "figure": "all registered-poor households moved in",
            "reported": "by 31 Mar 2020",
            "reported at this scale": f"by {_day_date(start, deadline_day)}",
            "model (mean)": _day_date(start, poor["mean"]),
            "model 95 % CI": _ci(poor),
            "note": f"{100 * moving['deadline_met_share']:.0f} % of replications meet the "
            f"deadline" + tuned,
        },
    ]
    if "binding_resource" in moving:
        violations = moving["rule_violations"]
        rows.append(
            {
                "figure": "what binds the campaign",
                "reported": "not reported",
                "reported at this scale": "",
                "model (mean)": moving["binding_resource"],
                "model 95 % CI": "",
                "note": "days bound (mean over replications): "
                + ", ".join(f"{k} {v:.1f}" for k, v in moving["binding_days"].items()),
            }
        )
        rows.append(
            {
                "figure": "convoys and move-in within the time rules",
                "reported": "zero accidents",
                "reported at this scale": "",
                "model (mean)": f"{sum(violations.values()):.0f} rule violations",
                "model 95 % CI": "",
                "note": f"night departures {violations['night_departures']:.1f}, moved during "
                f"a pause {violations['moved_during_pause']:.1f}, overtime households "
                f"{violations['overtime_households']:.1f}; reception of "
                f"{moving['carried_over_households']:.0f} households carried past the shift; "
                f"{100 * moving['plan_kept_share']:.1f} % of households in their flat on their "
                "planned day",
            }
        )

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

    employed = rate = exported = None
    if matching is not None:
        employed = float(matching["employed"])
        rate = float(matching["employment_rate"])
        exported = matching.get("exported")
    rows.append(count_row("people employed", "employed_two_months", employed, "job matching"))
    reported_rate = float(rep.loc["employment_rate", "value"])
    rows.append(
        {
            "figure": "employment rate (%)",
            "reported": f"{100 * reported_rate:.2f} %",
            "reported at this scale": f"{100 * reported_rate:.2f} %",
            "model (mean)": "not run" if rate is None else f"{100 * rate:.2f} %",
            "model 95 % CI": "one optimal plan (no spread)" if rate is not None else "",
            "note": "employed / people of working capacity (the laborers are generated to "
            f"match {float(rep.loc['employed_two_months', 'value']):,.0f} / "
            f"{100 * reported_rate:.2f} %, so this rate is the check, not the count of "
            "laborers)",
        }
    )
    # public-welfare posts and the bus channel are capacities the model is given: shown
    # as inputs, never compared with themselves
    for figure, key in (
        ("public-welfare posts (公益岗位)", "public_welfare_posts"),
        ("labour export by return-to-work bus (转移就业)", "export_workers_by_bus"),
    ):
        value = float(rep.loc[key, "value"])
        rows.append(
            {
                "figure": figure,
                "reported": f"{value:,.0f}",
                "reported at this scale": f"{value * scale:,.0f}",
                "model (mean)": "input (a capacity), not a check",
                "model 95 % CI": "",
                "note": "the model is given this figure as places",
            }
        )
    rows.append(
        {
            "figure": "people exported, all channels (model output)",
            "reported": "not reported",
            "reported at this scale": "",
            "model (mean)": "not run" if exported is None else f"{float(exported):,.0f}",
            "model 95 % CI": "one optimal plan (no spread)" if exported is not None else "",
            "note": "buses, other organised channels and self-found work; decided by who "
            "is willing and able to go",
        }
    )
    return pd.DataFrame(rows).set_index("figure")


# --- which assumptions matter -----------------------------------------------------------


ASSUMPTIONS_SWEEP = "assumptions"  # data/sweeps/assumptions.yaml: one at a time + what-ifs


def assumptions_sweep(
    scenario: Scenario, seed: int | None = None, workers: int | None = None
) -> pd.DataFrame:
    """The one-at-a-time sweep (data/sweeps/assumptions.yaml) around `scenario`, one row per
    point: run on Dask, or read from results/sweeps/ if it already ran with this code."""
    from simlib.sweep.runner import run_on_scenario

    run = run_on_scenario(ASSUMPTIONS_SWEEP, scenario, seed=seed, workers=workers)
    if run.failed:
        failures = "; ".join(f"{f['label']}: {f['error']}" for f in run.failures)
        raise RuntimeError(f"the assumptions sweep had failed points: {failures}")
    return run.table


EFFECT_COLUMNS = (
    "campaign_days",
    "registered_poor_all_in_day",
    "employment_rate",
    "households_without_worker",
)


def assumption_effects(sweep: pd.DataFrame) -> pd.DataFrame:
    """One row per change of a one-at-a-time sweep (the baseline first): the campaign length,
    the day the last registered-poor household moved in, the share of replications meeting
    the 31 March deadline, the employment rate and households without a worker, with their
    changes against the baseline, sorted by the largest effect on the campaign. The labels
    are made from the values by the sweep's design."""
    from simlib.sweep.design import BASELINE_LABEL

    ok = sweep[sweep["status"] == "ok"] if "status" in sweep else sweep
    base = ok[ok["label"] == BASELINE_LABEL]
    table = pd.concat([base, ok[ok["label"] != BASELINE_LABEL]], ignore_index=True)
    table = table.rename(columns={"label": "change", "deadline_met_share": "meets_deadline_share"})
    table = table[["change", *EFFECT_COLUMNS[:2], "meets_deadline_share", *EFFECT_COLUMNS[2:]]]
    for col in EFFECT_COLUMNS:
        table[f"{col}_delta"] = table[col] - table[col].iloc[0]
    base, rest = table.iloc[:1], table.iloc[1:]
    rest = rest.reindex(
        (rest["campaign_days_delta"].abs() + rest["registered_poor_all_in_day_delta"].abs())
        .sort_values(ascending=False, kind="stable")
        .index
    )
    return pd.concat([base, rest], ignore_index=True)


def uncertainty_table(
    moving: Mapping[str, Any], matching: Mapping[str, Any] | None, sweep: pd.DataFrame
) -> pd.DataFrame:
    """Each headline answer with its noise (95 % CI over replications) next to its range over
    the assumptions (lowest and highest over the one-at-a-time sweep, and which change)."""
    from simlib.sweep.analysis import ranges

    outputs = ["campaign_days", "registered_poor_all_in_day"]
    if matching is not None:
        outputs += ["employment_rate", "households_without_worker"]
    span = ranges(sweep, tuple(outputs))
    days, poor = moving["campaign_days"], moving["registered_poor_all_in_day"]
    answers = {
        "campaign_days": ("moving campaign (days)", f"{days['mean']:.0f}", _ci(days), "{:.0f}"),
        "registered_poor_all_in_day": (
            "last registered-poor household in (day)",
            f"{poor['mean']:.0f}",
            _ci(poor),
            "{:.0f}",
        ),
    }
    if matching is not None:
        answers["employment_rate"] = (
            "employment rate (%)",
            f"{100 * matching['employment_rate']:.2f}",
            "one optimal plan (no spread)",
            "{:.2f}",
        )
        answers["households_without_worker"] = (
            "households without a worker",
            f"{matching['households_without_worker']:,.0f}",
            "one optimal plan (no spread)",
            "{:,.0f}",
        )
    rows = []
    for key, (figure, value, noise, fmt) in answers.items():
        r = span.loc[key]
        factor = 100 if key == "employment_rate" else 1
        rows.append(
            {
                "answer": figure,
                "model": value,
                "noise (95 % CI over replications)": noise,
                "range over the assumptions": f"{fmt.format(factor * r['low'])} – "
                f"{fmt.format(factor * r['high'])}",
                "lowest when": r["low_at"],
                "highest when": r["high_at"],
            }
        )
    return pd.DataFrame(rows).set_index("answer")


# --- tables for the moving reports --------------------------------------------------------


def moving_headlines(moving: Mapping[str, Any]) -> pd.DataFrame:
    """Headline figures of the moving campaign with 95 % CIs over replications."""
    m = moving
    start = dt.date.fromisoformat(m["campaign_start"])
    days, poor = m["campaign_days"], m["registered_poor_all_in_day"]
    # fmt: off
    rows = [
        ("campaign length (days, first convoy to last family in its flat)", f"{days['mean']:.1f}", _ci(days, "{:.1f}")),
        ("last registered-poor household moved in", _day_date(start, poor["mean"]), _ci(poor, "{:.1f}")),
        ("31 March 2020 deadline", f"day {m['registered_poor_deadline_day']}", f"met in {100 * m['deadline_met_share']:.0f} % of replications"),
        ("households / people moved", f"{m['households_moved']:,.0f} / {m['people_moved']:,.0f}", ""),
        ("households not moved within the horizon", f"{m['households_not_moved']:,.0f}", ""),
        ("households in their flat on their planned day (plan kept)", f"{100 * m['plan_kept_share']:.1f} %", f"late {m['late_households']:,.1f}, left behind {m['left_behind_households']:,.1f}"),
        ("vehicle trips (trucks and coaches) / per household", f"{m['vehicle_trips']:,.0f} / {m['vehicles_per_household']:.2f}", ""),
        ("convoys", f"{m['convoys']:,.0f}", ""),
        ("county convoy days / largest (households)", f"{m['convoy_days']:,.1f} / {m['largest_day_households']:,.0f}", ""),
        ("convoys stopping overnight on the way / leaving the next morning", f"{m['convoys_held_overnight']:,.1f} / {m['late_departures']:,.1f}", ""),
        ("convoys arriving after dark", f"{m['convoys_after_dark']:,.1f}", ""),
        ("households whose reception was carried past the end of the shift", f"{m['carried_over_households']:,.1f}", ""),
        ("convoy days held or called off by the weather", f"{m['disrupted_convoy_days']:,.1f}", f"called off {m['called_off_days']:,.1f}"),
        ("rule violations (night departures / moved in a pause / overtime)", " / ".join(f"{v:.1f}" for v in m["rule_violations"].values()), ""),
        ("binding resource of the campaign", m["binding_resource"], ""),
        ("most days a family moved in after its planned convoy day", f"{m['max_slip_days']:,.1f}", ""),
    ]
    # fmt: on
    table = pd.DataFrame(rows, columns=["figure", "model (mean)", "95 % CI / note"])
    return table.set_index("figure")


def convoys_by_county(convoys: pd.DataFrame) -> pd.DataFrame:
    """Per sending county: convoys, vehicle trips, hours on the road, overnight stops, late
    departures, breakdowns (over every replication in the table)."""
    c = convoys.assign(road_hours=(convoys["arrival"] - convoys["departure"]) / 60.0)
    table = c.groupby("county").agg(
        convoys=("convoy_id", "size"),
        households=("households", "sum"),
        truck_trips=("trucks", "sum"),
        bus_trips=("buses", "sum"),
        road_hours_median=("road_hours", "median"),
        road_hours_max=("road_hours", "max"),
        held_overnight=("held_overnight", "sum"),
        late_departures=("late_departure", "sum"),
        after_dark=("after_dark", "sum"),
        breakdowns=("breakdowns", "sum"),
    )
    return table.round(2)


def plan_by_county(plan: pd.DataFrame) -> pd.DataFrame:
    """The batch plan per county: convoy days, households, largest day, first and last date."""
    return plan.groupby("county").agg(
        convoy_days=("households", "size"),
        households=("households", "sum"),
        largest_day=("households", "max"),
        first_date=("date", "min"),
        last_date=("date", "max"),
    )


def feasibility_text(feasibility) -> str:
    """The check of a plan at mean times in one sentence (a `Feasibility`)."""
    late = feasibility.deadline_misses
    deadline = (
        " Registered-poor households are planned after the deadline in "
        + ", ".join(f"{c} ({d})" for c, d in late.items())
        + "."
        if late
        else ""
    )
    if feasibility.feasible:
        last = feasibility.checks["last_in_hour"].max()
        return (
            f"At mean times and with no disruptions, every convoy day of the plan keeps its "
            f"plan: every family is in its flat on its planned day (the latest by "
            f"{int(last):02d}:{int(60 * (last % 1)):02d}).{deadline}"
        )
    return (
        f"At mean times the plan does **not** keep every day: first on "
        f"**{feasibility.first_date}** ({feasibility.county}), **{feasibility.resource}**: "
        f"{feasibility.detail}.{deadline}"
    )


def followup_delay(households: pd.DataFrame) -> pd.DataFrame:
    """Days from moving in to the door-to-door follow-up visit (step 8), by county."""
    moved = households[(households["moved_in_day"] >= 0) & (households["followup_day"] >= 0)]
    delay = moved["followup_day"] - moved["moved_in_day"]
    table = delay.groupby(moved["county"]).describe(percentiles=[0.5, 0.95])
    return table[["count", "mean", "50%", "95%", "max"]].round(1)


def headline_text(moving: Mapping[str, Any], matching: Mapping[str, Any] | None = None) -> str:
    """The headline answers as a few sentences of Markdown, numbers from the runs passed in."""
    start = dt.date.fromisoformat(moving["campaign_start"])
    days, poor = moving["campaign_days"], moving["registered_poor_all_in_day"]
    deadline_day = moving["registered_poor_deadline_day"]
    met = moving["deadline_met_share"]
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
        f"replications"
        + (
            f" (the assumption {', '.join(moving['calibrated'])} is calibrated to this record, "
            "so agreeing with it is not a check)."
            if moving.get("calibrated")
            else "."
        )
        + (
            f" What binds the campaign: **{moving['binding_resource']}**."
            if "binding_resource" in moving
            else ""
        ),
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
        lines.append(f"- No effect on the moving campaign: {', '.join(still['change'])}.")
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
    if "employment_rate" in table:  # from the sweep: the jobs answers too
        table["employment rate (%)"] = 100 * table["employment_rate"]
        table["employment change (points)"] = 100 * table["employment_rate_delta"]
        table = table.rename(columns={"households_without_worker": "households without a worker"})
        order += [
            "employment rate (%)",
            "employment change (points)",
            "households without a worker",
        ]
    return table[order].round(1)


# --- tables for the job-matching reports ----------------------------------------------------

PROGRAMME_KEYS = {
    "public_welfare_posts": "public_welfare",
    "export_workers_by_bus": "labour_export",
}  # kept for callers; these figures are capacities, shown as inputs, not compared


def run_matching(
    scenario: Scenario,
    solver: str = "cbc",
    seed: int | None = None,
    population=None,
    marginal: bool = False,
):
    """The job matching of a scenario through the one loader (simlib.inputs), the
    population reused when given (the reports' one call)."""
    from simlib import matching
    from simlib.inputs import load_inputs

    inputs = load_inputs(scenario, seed=seed, population=population is None)
    if population is not None:
        inputs = replace(inputs, population=population)
    return matching.run(inputs, solver=solver, marginal=marginal)


def matching_baselines(matching: Mapping[str, Any]) -> pd.DataFrame:
    """The optimised plan next to every rule of thumb (`simlib.present.jobs`)."""
    from simlib.present.jobs import baselines_table

    return baselines_table(matching)


@dataclass(frozen=True)
class JobsChange:
    """One job-matching assumption changed away from the scenario."""

    label: str
    overrides: Mapping[str, Any]


ASSUMED_LOCAL = "vegetable_donated;vegetable_existing;apple_orchard;shops;market_stalls"

JOBS_CHANGES = (
    JobsChange("export demand halved", {"labour_export_factor": 0.5}),
    JobsChange("export demand x1.5", {"labour_export_factor": 1.5}),
    JobsChange(
        "assumed local places removed (vegetable, orchard, shops)",
        {"closed_employers": ASSUMED_LOCAL},
    ),
    JobsChange("two workers per vegetable greenhouse", {"vegetable_workers_per_greenhouse": 2.0}),
    JobsChange("no care rule (carers may go away)", {"carer_new_town_only": False}),
    JobsChange("care duties cut lasting away less (0.2 → 0.05)", {"care_duty_away_penalty": 0.05}),
    JobsChange("looser county fairness (floor 0.9 → 0.8)", {"fairness_floor": 0.8}),
)


def matching_effects(
    scenario: Scenario,
    solver: str = "cbc",
    seed: int | None = None,
    changes: tuple[JobsChange, ...] = JOBS_CHANGES,
) -> pd.DataFrame:
    """Re-solve the job matching with one assumption changed at a time (same people)."""
    from simlib import matching
    from simlib.inputs import load_inputs, vary

    inputs = load_inputs(scenario, seed=seed)
    rows = []
    for change in (JobsChange("baseline (as assumed)", {}), *changes):
        variant = vary(inputs, {f"jobs.{k}": v for k, v in change.overrides.items()})
        row: dict[str, Any] = {"assumption changed": change.label}
        try:
            s = matching.run(variant, solver=solver, baselines=False).summary()
        except matching.MatchFailed as failure:
            row.update({"solver status": f"no plan ({failure.status})"})
            rows.append(row)
            continue
        row.update(
            {
                "employed": s["employed"],
                "local": s["local_employed"],
                "exported": s["exported"],
                "expected lasting employment": round(s["expected_lasting_employed"], 1),
                "households without a worker": s["households_without_worker"],
                "solver status": s["status"],
            }
        )
        rows.append(row)
    table = pd.DataFrame(rows).set_index("assumption changed")
    table.insert(1, "change in employed", table["employed"] - table["employed"].iloc[0])
    return table


def matching_text(matching: Mapping[str, Any]) -> str:
    """The job-matching headline as Markdown bullets (`simlib.present.jobs`)."""
    from simlib.present.jobs import matching_text as text

    return text(matching)


def move_in_text(utilization: pd.DataFrame, waits: pd.DataFrame, arrival_steps=None) -> str:
    """The move-in day's bottleneck in one sentence, from a campaign's tables: the busiest
    team, and the longest wait of a family once it is there (steps 1-3 are done on empty
    flats the day before, so their queue keeps no family waiting). `arrival_steps` names
    the steps after arrival (default: steps 4-7)."""
    busiest = utilization.sort_values("utilization").iloc[-1]
    after = waits[waits["step"].isin(arrival_steps)] if arrival_steps else waits[waits["order"].between(4, 7)]  # fmt: skip
    w = after.sort_values("p95").iloc[-1]
    return (
        f"The busiest team is **{busiest['resource'].replace('_', ' ')}**, busy "
        f"{100 * busiest['utilization']:.0f} % of its open time; once a family is there, "
        f"its longest wait is before step {w['order']} (**{w['step'].replace('_', ' ')}**): "
        f"median {w['p50']:.0f} min, 1 in 20 families over {w['p95']:.0f} min."
    )


# --- the employment timeline ------------------------------------------------------------------


def timeline_table(timeline: Mapping[str, Any]) -> pd.DataFrame:
    """The timeline's headline figures (`simlib.present.timeline`)."""
    from simlib.present.timeline import timeline_table as table

    return table(timeline)


def timeline_text(timeline: Mapping[str, Any]) -> str:
    """The timeline's headline as Markdown bullets (`simlib.present.timeline`)."""
    from simlib.present.timeline import timeline_text_md

    return timeline_text_md(timeline)


def timeline_summary(
    scenario: Scenario, replications: int, solver: str = "cbc", seed: int | None = None
) -> dict[str, Any]:
    """`TimelineResult.summary()` of the scenario (the summary report's timeline section)."""
    from simlib import timeline
    from simlib.inputs import load_inputs

    inputs = load_inputs(scenario.with_seed(seed))
    return timeline.run(inputs, replications=replications, solver=solver).summary()
