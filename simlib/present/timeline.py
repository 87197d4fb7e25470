"""The employment timeline, worded once: the command line's text and the tables and
sentences the notebooks and the summary show, from `TimelineResult.summary()`. Runs
nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from simlib.present.ci import ci_text


def _with_ci(x: Mapping[str, Any], fmt: str = "{:,.0f}") -> tuple[str, str]:
    return fmt.format(x["mean"]), ci_text(x, fmt)


def timeline_text(s: Mapping[str, Any]) -> str:
    """`simlib timeline` without --json."""
    two, own = (
        s["employed_two_months_after_last_arrival"],
        s["employed_within_two_months_of_own_arrival"],
    )
    pct, wait, g = s["percent_of_hindsight"], s["days_to_first_job"], s["greedy"]
    lines = [
        f"Scenario {s['scenario']}, seed {s['seed']}, {s['replications']} moving replications; "
        f"batches every {s['batch_interval_days']} days, hold-back {s['holdback_policy']}, "
        f"settling {s['settling_days']} days",
        f"  employed two months after the last arrival   {two['mean']:,.0f} ({ci_text(two, '{:,.0f}')})"
        f"   reported {two['reported']:,} ({two['reported_at_scale']:,} at this scale)",
        f"  employed within two months of own arrival    {own['mean']:,.0f} ({ci_text(own, '{:,.0f}')})",
        f"  hindsight bound at two months {s['hindsight_employed']['mean']:,.0f}: "
        f"{pct['mean']:.2f} % of it ({ci_text(pct, '{:.2f}')}); rule softened in "
        f"{s['batches_softened']['mean']:.1f} of {s['batches']} batches",
        f"  at the end ({s['employed_final']['mean']:,.0f} at work) "
        f"{s['percent_of_hindsight_final']['mean']:.2f} % of the bound "
        f"{s['hindsight_final']['mean']:,.0f}",
        f"  expected lasting employment of those at work at two months "
        f"{s['expected_lasting']['mean']:,.0f} ({ci_text(s['expected_lasting'], '{:,.0f}')}), "
        f"{s['percent_of_hindsight_lasting']['mean']:.2f} % of the bound's",
        f"  days from moving in to the first day of work: P50 {wait['p50']:.0f}, P95 {wait['p95']:.0f}",
    ]
    if g:
        lines.append(
            f"  greedy first-come: {g['employed_two_months']['mean']:,.0f} at two months, "
            f"{g['percent_of_hindsight']['mean']:.2f} % of the bound, expected lasting "
            f"{g['expected_lasting_two_months']['mean']:,.0f}, households without a worker "
            f"{g['households_without_worker_two_months']['mean']:,.0f}, P50 "
            f"{g['days_to_first_job']['p50']:.0f} days"
        )
    b = s["export_buses"]
    lines += [
        f"  export buses {b['buses']} x {b['seats_per_bus']} seats, riders "
        f"{b['riders']['mean']:,.0f} (the channel is given the reported "
        f"{b['reported_workers_at_scale']:,} places at this scale: an input, not a check)",
        "",
        f"  {'programme':<16}{'at work, two months':>20}",
        *[f"  {k:<16}{v:>20,.0f}" for k, v in s["by_programme_two_months"].items()],
        "",
        f"  {'county':<16}{'at work, two months':>20}",
        *[f"  {k:<16}{v:>20,.0f}" for k, v in s["by_county_two_months"].items()],
    ]  # fmt: skip
    return "\n".join(lines)


def timeline_table(s: Mapping[str, Any]) -> pd.DataFrame:
    """The timeline's headline figures (mean and 95 % CI over the moving replications)
    next to the reported figure, the hindsight bound and the greedy policy."""
    greedy = s.get("greedy") or {}
    two = s["employed_two_months_after_last_arrival"]
    reported = f"reported {two['reported']:,} ({two['reported_at_scale']:,} at this scale)"
    rows = []

    def row(figure, x, fmt="{:,.0f}", reference=""):
        mean, ci = _with_ci(x, fmt)
        rows.append(
            {"figure": figure, "model (mean)": mean, "model 95 % CI": ci, "compare": reference}
        )

    row("people at work two months after the last arrival", two, reference=reported)
    if greedy:
        row("  the same, greedy first-come policy", greedy["employed_two_months"])
    row(
        "people at work within two months of their own household's arrival",
        s["employed_within_two_months_of_own_arrival"],
        reference=reported,
    )
    if greedy:
        row(
            "  the same, greedy first-come policy",
            greedy["employed_within_two_months_of_own_arrival"],
        )
    row(
        "rolling matching at two months, % of the hindsight bound (people)",
        s["percent_of_hindsight"],
        "{:.2f}",
        reference=f"bound {s['hindsight_employed']['mean']:,.0f}",
    )
    if greedy:
        row("  the same, greedy first-come policy", greedy["percent_of_hindsight"], "{:.2f}")
    row(
        "expected lasting employment of those at work at two months",
        s["expected_lasting"],
        reference=f"bound {s['hindsight_expected_lasting']['mean']:,.0f}",
    )
    if greedy:
        row("  the same, greedy first-come policy", greedy["expected_lasting_two_months"])
    row(
        "households with labour and nobody at work at two months",
        s["households_without_worker_two_months"],
    )
    if greedy:
        row("  the same, greedy first-come policy", greedy["households_without_worker_two_months"])
    row(
        "people at work at the end of the window",
        s["employed_final"],
        reference=f"bound {s['hindsight_final']['mean']:,.0f}",
    )
    wait = s["days_to_first_job"]
    rows.append({"figure": "days from moving in to the first day of work (P50 / P95)",
                 "model (mean)": f"{wait['p50']:.0f} / {wait['p95']:.0f}",
                 "model 95 % CI": "", "compare": ""})  # fmt: skip
    return pd.DataFrame(rows).set_index("figure")


def readings_text(s: Mapping[str, Any]) -> str:
    """The two readings of "within two months of moving in", side by side."""
    two = s["employed_two_months_after_last_arrival"]
    own = s["employed_within_two_months_of_own_arrival"]
    return (
        f"- **Read at the last arrival plus two months** (everyone has been in at least two "
        f"months): **{two['mean']:,.0f}** at work. **Read per family** (each person at work "
        f"within two months of their own household's arrival): **{own['mean']:,.0f}**. The "
        f"source reports {two['reported']:,} ({two['reported_at_scale']:,} at this scale).\n"
        f"- They differ because a family that arrived early waits for places that open "
        f"later (the electronics lines, the greenhouses in spring, the return-to-work buses "
        f"from mid-February): at the last arrival plus two months those places are open and "
        f"its laborers at work, but more than two months after their own arrival."
    )


def timeline_text_md(s: Mapping[str, Any]) -> str:
    """The timeline's headline as Markdown bullets."""
    two, pct = s["employed_two_months_after_last_arrival"], s["percent_of_hindsight"]
    wait, greedy = s["days_to_first_job"], s.get("greedy")
    lines = [
        f"- **{two['mean']:,.0f} people at work two months after the last household moved "
        f"in** (mean of {s['replications']} moving replications), against the reported "
        f"{two['reported']:,} ({two['reported_at_scale']:,} at this scale); "
        f"**{s['employed_within_two_months_of_own_arrival']['mean']:,.0f}** read per family.",
        f"- **Matching week by week as families arrive reaches {pct['mean']:.1f} % of the "
        f"hindsight bound at two months** (every arrival known in advance, training and batches "
        f"ignored, the household rule and the floors relaxed: a true upper bound), and "
        f"{s['percent_of_hindsight_lasting']['mean']:.1f} % of its expected lasting "
        f"employment; a rule gave way in {s['batches_softened']['mean']:.1f} of "
        f"{s['batches']} batches.",
        f"- Half the people employed start work within **{wait['p50']:.0f} days** of moving in, "
        f"19 in 20 within {wait['p95']:.0f} days (settling, the weekly batch, training, the "
        f"export bus).",
    ]
    if greedy:
        lines.append(
            f"- A greedy first-come policy (each laborer, on the day they are available, takes "
            f"the open job with the highest expected income) has "
            f"{greedy['employed_two_months']['mean']:,.0f} at work at two months, of whom "
            f"{greedy['expected_lasting_two_months']['mean']:,.0f} are expected to last "
            f"(weekly matching: {two['mean']:,.0f} and {s['expected_lasting']['mean']:,.0f}), "
            f"and leaves {greedy['households_without_worker_two_months']['mean']:,.0f} households "
            f"with nobody at work (weekly matching: "
            f"{s['households_without_worker_two_months']['mean']:,.0f})."
        )
    return "\n".join(lines)


def _policy_row(label: str, x: Mapping[str, Any]) -> dict:
    return {
        "policy": label,
        "at work two months after the last arrival": round(x["employed_two_months"]["mean"]),
        "at work within two months of own arrival": round(
            x["employed_within_two_months_of_own_arrival"]["mean"]
        ),
        "expected lasting employment": round(x["expected_lasting_two_months"]["mean"]),
        "households with nobody at work": round(x["households_without_worker_two_months"]["mean"]),
        "% of the bound (people)": round(x["percent_of_hindsight"]["mean"], 2),
        "% of the bound (lasting)": round(x["percent_of_hindsight_lasting"]["mean"], 2),
        "bus riders": round(x["bus_riders"]["mean"]),
    }


def _as_policy(s: Mapping[str, Any]) -> dict:
    """A summary's own (rolling) figures in the shape of its `greedy` entry."""
    return {
        "employed_two_months": s["employed_two_months"],
        "employed_within_two_months_of_own_arrival": s["employed_within_two_months_of_own_arrival"],
        "expected_lasting_two_months": s["expected_lasting"],
        "households_without_worker_two_months": s["households_without_worker_two_months"],
        "percent_of_hindsight": s["percent_of_hindsight"],
        "percent_of_hindsight_lasting": s["percent_of_hindsight_lasting"],
        "bus_riders": s["export_buses"]["riders"],
    }


def policies_table(s: Mapping[str, Any], ahead: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The weekly plan as assumed, the weekly plan looking ahead (`ahead`, a summary with
    holdback_policy lookahead) and the greedy first-come policy, side by side at two
    months (means over the replications)."""
    rows = [_policy_row(f"weekly, hold-back {s['holdback_policy']}", _as_policy(s))]
    if ahead is not None:
        rows.append(_policy_row(f"weekly, hold-back {ahead['holdback_policy']}", _as_policy(ahead)))
    if s.get("greedy"):
        rows.append(_policy_row("greedy first-come (daily)", s["greedy"]))
    return pd.DataFrame(rows).set_index("policy")  # fmt: skip
