"""The summary report's tables and sentences: the model's answers next to the record, and
which assumptions move them most. Runs nothing.

The model columns come from the summaries passed in (`MovingResult.summary()`, a matching
summary), the reported ones from the headline registry (`simlib.present.headlines`, read
from data/reported_figures.csv), and the assumption effects from the one-at-a-time sweep
(data/sweeps/assumptions.yaml) with common random numbers, so that a difference between two
rows is the effect of the change, not of different random draws.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simlib.present.ci import ci_text
from simlib.present.headlines import Headline, headlines

COLUMNS = ("figure", "reported", "reported at this scale", "model (mean)", "model 95 % CI", "note")
ONE_PLAN = "one optimal plan (no spread)"


def day_date(start: dt.date, day: float) -> str:
    """'day 131 (09 Apr 2020)': day 1 is the campaign's first day."""
    date = start + dt.timedelta(days=round(day) - 1)
    return f"day {day:,.0f} ({date:%d %b %Y})"


def _row(*cells: str) -> dict[str, str]:
    return dict(zip(COLUMNS, cells, strict=True))


def _calibrated_note(moving: Mapping[str, Any]) -> str:
    calibrated = moving.get("calibrated", [])  # marked "calibrated: ..." in data/moving
    if not calibrated:
        return ""
    return f"; calibrated to this figure ({', '.join(calibrated)}), so not an independent check"


def _moving_rows(moving: Mapping[str, Any], rep: Mapping[str, Headline]) -> list[dict[str, str]]:
    start = dt.date.fromisoformat(moving["campaign_start"])
    days, poor = moving["campaign_days"], moving["registered_poor_all_in_day"]
    tuned = _calibrated_note(moving)
    length, deadline = rep["campaign_days"], rep["registered_poor_deadline"]
    met = f"{100 * moving['deadline_met_share']:.0f} % of replications meet the deadline"
    rows = [
        _row(length.label, length.text(), length.text(), f"{days['mean']:,.0f} days",
             ci_text(days, "{:,.0f}"),
             "from the first convoy day to the last household moved in" + tuned),
        _row(deadline.label, f"by {deadline.text()}",
             f"by {day_date(start, moving['registered_poor_deadline_day'])}",
             day_date(start, poor["mean"]), ci_text(poor, "{:,.0f}"), met + tuned),
    ]  # fmt: skip
    if "binding_resource" in moving:
        rows += _binding_rows(moving)
    return rows


def _binding_rows(moving: Mapping[str, Any]) -> list[dict[str, str]]:
    v = moving["rule_violations"]
    bound = ", ".join(f"{k} {x:.1f}" for k, x in moving["binding_days"].items())
    rules = (
        f"night departures {v['night_departures']:.1f}, moved during a pause "
        f"{v['moved_during_pause']:.1f}, overtime households {v['overtime_households']:.1f}; "
        f"reception of {moving['carried_over_households']:.0f} households carried past the "
        f"shift; {100 * moving['plan_kept_share']:.1f} % of households in their flat on their "
        "planned day"
    )
    return [
        _row("what binds the campaign", "not reported", "", moving["binding_resource"], "",
             "days bound (mean over replications): " + bound),
        _row("convoys and move-in within the time rules", "zero accidents", "",
             f"{sum(v.values()):.0f} rule violations", "", rules),
    ]  # fmt: skip


def _jobs_rows(
    matching: Mapping[str, Any] | None, rep: Mapping[str, Headline], scale: float
) -> list[dict[str, str]]:
    def model(value: Any, text: str) -> tuple[str, str]:
        return ("not run", "") if value is None else (text, ONE_PLAN)

    m = matching or {}
    employed, rate, exported = (m.get(k) for k in ("employed", "employment_rate", "exported"))
    count, share = rep["employed_two_months"], rep["employment_rate"]
    rows = [
        _row(count.label, count.text(), count.text(scale=scale),
             *model(employed, f"{float(employed or 0):,.0f}"), "job matching"),
        _row(share.label, share.text(), share.text(),
             *model(rate, share.text(float(rate or 0))),
             "employed / people of working capacity (the laborers are generated to match "
             f"{count.text()} / {share.text()}, so this rate is the check, not the count of "
             "laborers)"),
    ]  # fmt: skip
    # public-welfare posts and the bus channel are capacities the model is given: shown
    # as inputs, never compared with themselves
    for key in ("public_welfare_posts", "export_workers_by_bus"):
        h = rep[key]
        rows.append(_row(h.label, h.text(), h.text(scale=scale), "input (a capacity), not a check", "", "the model is given this figure as places"))  # fmt: skip
    rows.append(
        _row("people exported, all channels (model output)", "not reported", "",
             *model(exported, f"{float(exported or 0):,.0f}"),
             "buses, other organised channels and self-found work; decided by who is willing "
             "and able to go")
    )  # fmt: skip
    return rows


def comparison_table(
    data_dir: str | Path,
    scale: float,
    moving: Mapping[str, Any],
    matching: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The reported figures next to the model's (mean and 95 % CI over replications).

    `moving` is `MovingResult.summary()`; `matching` a job-matching summary (optional: its
    rows say "not run" without it). Public-welfare posts and the bus channel of export are
    capacities the matching is given, so they are shown as inputs and never compared with
    themselves. Counts are also given at the scenario's `scale`, since a smoke-scale run
    can only match the reported totals in proportion.
    """
    rep = headlines(data_dir)
    rows = _moving_rows(moving, rep) + _jobs_rows(matching, rep, scale)
    return pd.DataFrame(rows).set_index("figure")


def headline_text(
    moving: Mapping[str, Any],
    matching_text: str | None = None,
    data_dir: str | Path | None = None,
) -> str:
    """The headline answers as a few sentences of Markdown, numbers from the runs passed in
    (and `matching_text`, the job matching's own bullets, appended)."""
    rep = headlines(data_dir)
    start = dt.date.fromisoformat(moving["campaign_start"])
    days, poor = moving["campaign_days"], moving["registered_poor_all_in_day"]
    met = moving["deadline_met_share"]
    verdict = (
        "meets the deadline in every replication" if met == 1
        else "misses the deadline in every replication" if met == 0
        else f"meets the deadline in {100 * met:.0f} % of replications"
    )  # fmt: skip
    calibrated = moving.get("calibrated")
    lines = [
        f"*Scenario {moving['scenario']}, seed {moving['seed']}.*",
        "",
        f"- **Moving takes {days['mean']:.0f} days** ({ci_text(days, '{:,.0f}')}) from "
        f"{start:%d %b %Y}, against the reported {rep['campaign_days'].text()}, over "
        f"{moving['replications']} replications"
        + (f" (the assumption {', '.join(calibrated)} is calibrated to this record, so "
           "agreeing with it is not a check)." if calibrated else ".")
        + (f" What binds the campaign: **{moving['binding_resource']}**."
           if "binding_resource" in moving else ""),
        f"- **The last registered-poor household moves in on {day_date(start, poor['mean'])}** "
        f"({ci_text(poor, '{:,.0f}')}); the {rep['registered_poor_deadline'].text()} deadline "
        f"is day {moving['registered_poor_deadline_day']}, so the plan as assumed {verdict}.",
    ]  # fmt: skip
    if matching_text:
        lines.append(matching_text)
    return "\n".join(lines)


EFFECT_COLUMNS = (
    "campaign_days",
    "registered_poor_all_in_day",
    "employment_rate",
    "households_without_worker",
)


def assumption_effects(sweep: pd.DataFrame, baseline_label: str | None = None) -> pd.DataFrame:
    """One row per change of a one-at-a-time sweep (the baseline, labelled `baseline_label`,
    by default the sweep design's own label, first): the campaign length, the day the last registered-poor household moved in, the
    share of replications meeting the deadline, the employment rate and households without
    a worker, with their changes against the baseline, sorted by the largest effect on the
    campaign."""
    if baseline_label is None:
        from simlib.sweep.design import BASELINE_LABEL as baseline_label
    ok = sweep[sweep["status"] == "ok"] if "status" in sweep else sweep
    base = ok[ok["label"] == baseline_label]
    table = pd.concat([base, ok[ok["label"] != baseline_label]], ignore_index=True)
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


def _answers(moving: Mapping[str, Any], matching: Mapping[str, Any] | None) -> dict[str, tuple]:
    """Each headline answer: (label, model value, noise, format of its range)."""
    days, poor = moving["campaign_days"], moving["registered_poor_all_in_day"]
    answers = {
        "campaign_days": (
            "moving campaign (days)",
            f"{days['mean']:.0f}",
            ci_text(days, "{:.0f}"),
            "{:.0f}",
        ),  # fmt: skip
        "registered_poor_all_in_day": (
            "last registered-poor household in (day)",
            f"{poor['mean']:.0f}",
            ci_text(poor, "{:.0f}"),
            "{:.0f}",
        ),  # fmt: skip
    }
    if matching is not None:
        answers["employment_rate"] = ("employment rate (%)", f"{100 * matching['employment_rate']:.2f}", ONE_PLAN, "{:.2f}")  # fmt: skip
        answers["households_without_worker"] = ("households without a worker", f"{matching['households_without_worker']:,.0f}", ONE_PLAN, "{:,.0f}")  # fmt: skip
    return answers


def uncertainty_table(
    moving: Mapping[str, Any], matching: Mapping[str, Any] | None, span: pd.DataFrame
) -> pd.DataFrame:
    """Each headline answer with its noise (95 % CI over replications) next to its range over
    the assumptions (`span`: `simlib.sweep.analysis.ranges` of the one-at-a-time sweep,
    lowest and highest and which change)."""
    rows = []
    for key, (figure, value, noise, fmt) in _answers(moving, matching).items():
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


def uncertainty_from_sweep(
    moving: Mapping[str, Any], matching: Mapping[str, Any] | None, sweep: pd.DataFrame
) -> pd.DataFrame:
    """`uncertainty_table` with the ranges read from the one-at-a-time sweep's table."""
    from simlib.sweep.analysis import ranges

    return uncertainty_table(moving, matching, ranges(sweep, tuple(_answers(moving, matching))))


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


EFFECT_NAMES = {
    "campaign_days": "campaign (days)",
    "campaign_days_delta": "campaign change (days)",
    "registered_poor_all_in_day": "last registered-poor in (day)",
    "registered_poor_all_in_day_delta": "registered-poor change (days)",
    "meets_deadline_share": "deadline met (share of runs)",
}


def effects_table(effects: pd.DataFrame) -> pd.DataFrame:
    """`assumption_effects` with planner-readable column names, rounded to days."""
    table = effects.set_index("change").rename(columns=EFFECT_NAMES)
    table.index.name = "assumption changed"
    order = list(EFFECT_NAMES.values())
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
