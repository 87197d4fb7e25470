"""The moving campaign in words and tables: what the command line prints and the notebooks
and the summary show. Everything here reads results; nothing runs a model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simlib.present.ci import ci_text
from simlib.present.headlines import headline
from simlib.present.summary import day_date

RESOURCE_WORDS = {
    "trucks": "trucks",
    "coaches": "coaches",
    "drivers": "drivers",
    "route_vehicles": "route passes (vehicles the traffic police let along the route)",
    "police_officers": "police officers",
    "police_cars": "police cars",
    "cadres": "cadres",
    "doctors": "doctors",
    "loading_crews": "loading crews",
    "reception_teams": "reception teams (volunteer squads with their unloading bays and settling staff)",  # fmt: skip
}
NEEDS_COLUMNS = ("date", "county", "households", *RESOURCE_WORDS, "finish_time")


def hour(minutes: float) -> str:
    """Minutes after midnight as HH:MM (past 24:00 on the next day)."""
    return f"{int(minutes // 60):02d}:{int(minutes % 60):02d}"


def simulate_text(s: Mapping[str, Any]) -> str:
    """`simlib simulate` in words."""
    d, p = s["campaign_days"], s["registered_poor_all_in_day"]
    v, f = s["rule_violations"], s["feasibility"]
    lines = [
        f"Scenario {s['scenario']}, seed {s['seed']}, {s['replications']} replications, plan {s['plan']}",  # fmt: skip
        f"  campaign days          {d['mean']:.1f}  ({ci_text(d)}; {s['campaign_days_range'][0]}-{s['campaign_days_range'][1]}) "  # fmt: skip
        f"from the first convoy ({s['first_convoy_date']}) to the last family in its flat ({s['last_move_in_date']})",  # fmt: skip
        f"  registered-poor all in day {p['mean']:.1f}  ({ci_text(p)}); deadline "
        f"{s['registered_poor_deadline']} = day {s['registered_poor_deadline_day']}, met in "
        f"{100 * s['deadline_met_share']:.0f} % of replications",
        f"  households / people moved  {s['households_moved']:,.0f} / {s['people_moved']:,.0f}",
        f"  plan kept: {100 * s['plan_kept_share']:.1f} % of households in their flat on their planned day; "  # fmt: skip
        f"late {s['late_households']:.1f}, left behind {s['left_behind_households']:.1f}",
        f"  convoy days {s['convoy_days']:.1f}, largest {s['largest_day_households']:.0f} households; "  # fmt: skip
        f"vehicle trips {s['vehicle_trips']:,.0f} ({s['vehicles_per_household']:.2f} per household); "  # fmt: skip
        f"overnight stops {s['overnight_stops']:.1f}, late departures {s['late_departures']:.1f}",
        f"  disruptions: {s['disrupted_convoy_days']:.1f} convoy days held or called off "
        f"({s['called_off_days']:.1f} called off), {s['breakdowns']:.1f} breakdowns, {s['illnesses']:.1f} illnesses",  # fmt: skip
        f"  rule violations: night departures {v['night_departures']:.1f}, moved during a pause "
        f"{v['moved_during_pause']:.1f}, overtime households {v['overtime_households']:.1f}; "
        f"reception carried past the shift {s['carried_over_households']:.1f}; flats not ready {s['flats_not_ready']:.1f}",  # fmt: skip
        f"  binding resource: {s['binding_resource']}  (days: "
        + ", ".join(f"{k} {n:.1f}" for k, n in s["binding_days"].items())
        + ")",
        "  feasibility at mean times: "
        + (
            "the plan keeps every day"
            if f["feasible"]
            else f"{f['first_date']} {f['resource']}: {f['detail']}"
        ),  # fmt: skip
    ]
    if f.get("registered_poor_after_deadline"):
        late = ", ".join(f"{c} {d}" for c, d in f["registered_poor_after_deadline"].items())
        lines.append(f"  registered-poor households planned after the deadline: {late}")
    b = s.get("building_waits") or {}
    if b.get("tied"):
        top = b["busiest_building"]
        lines.append(
            f"  at the buildings ({b['allocation']} allocation, called by {b['call_order']}): wait at the "
            f"unloading bays p50 / p95 {b['building_bays']['p50']:.1f} / {b['building_bays']['p95']:.1f} min, "
            f"at the stairwells {b['stairwells']['p50']:.1f} / {b['stairwells']['p95']:.1f} min; busiest "
            f"building {top['building']} ({top['access']}): {top['wait_mean']:.1f} min on average, p95 {top['wait_p95']:.1f}"
        )  # fmt: skip
    lines.append("  step wait minutes (p50 / p95):")
    lines += [f"    {k:<18}{w['p50']:>9.1f}{w['p95']:>9.1f}" for k, w in s["step_wait_minutes"].items()]  # fmt: skip
    lines.append("  utilisation:")
    lines += [f"    {k:<22}{u:>6.2f}" for k, u in s["utilization"].items()]
    return "\n".join(lines)


def days_table(days: list[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """The per-day planned-versus-done table: one row per county convoy day."""
    table = pd.DataFrame(days)
    columns = ["date", "county", "planned", "arrived_as_planned", "late", "left_behind", "binding"]
    extra = [c for c in ("late_reason", "left_behind_reason", "carried_in") if c in table]
    return table[columns + extra]


# --- the moving reports' tables ---------------------------------------------------------


def moving_headlines(moving: Mapping[str, Any], data_dir: str | Path | None = None) -> pd.DataFrame:
    """Headline figures of the moving campaign with 95 % CIs over replications."""
    m = moving
    deadline = headline("registered_poor_deadline", data_dir)
    start = dt.date.fromisoformat(m["campaign_start"])
    days, poor = m["campaign_days"], m["registered_poor_all_in_day"]
    # fmt: off
    rows = [
        ("campaign length (days, first convoy to last family in its flat)", f"{days['mean']:.1f}", ci_text(days)),
        ("last registered-poor household moved in", day_date(start, poor["mean"]), ci_text(poor)),
        (f"{deadline.text()} deadline", f"day {m['registered_poor_deadline_day']}", f"met in {100 * m['deadline_met_share']:.0f} % of replications"),
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


def plan_text(s: Mapping[str, Any]) -> str:
    """`simlib plan` (and `plan --optimize`) in words."""
    f = s["feasibility"]
    lines = [
        f"Batch plan for scenario {s['scenario']} ({s['source']}): {s['convoy_days']} convoy "
        f"days, {s['households']:,} households, {s['first_date']} to {s['last_date']}",
        "  feasibility at mean times: "
        + (
            "every convoy day keeps its plan"
            if f["feasible"]
            else f"{f['first_date']} {f['resource']}: {f['detail']}"
        ),  # fmt: skip
    ]
    if "status" in s:
        gap = "" if s["status"] == "optimal" else f", gap to the bound {s['gap']:.2%}" if s["gap"] is not None else ""  # fmt: skip
        lines.append(
            f"  optimised ({s['objective']}): {s['status']}{gap}; last family in its flat "
            f"{s['last_move_in_date']}, last registered-poor family {s['last_registered_poor_date']}; "  # fmt: skip
            f"{s['rounds']} solve(s), {s['cuts']} cut(s), {s['solve_seconds']:.1f} s"
        )
        lines.append(
            "  largest day the move-in teams receive, by county (road unlimited): "
            + ", ".join(f"{c} {n:,}" for c, n in s["largest_receivable_day"].items())
        )
    lines.append(f"  written to {s['out']}" if s["out"] else "\n" + s["csv"])
    return "\n".join(lines)


def needs_sentence(row: Mapping[str, Any]) -> str:
    """ "To move N households from county C on date D you need ..." for one convoy day."""
    parts = [f"{int(row[k]):,} {words}" for k, words in RESOURCE_WORDS.items()]
    return (
        f"To move {int(row['households']):,} households from {row['county']} on {row['date']} "
        f"you need {', '.join(parts[:-1])} and {parts[-1]}; the last family is in its flat "
        f"by {row['finish_time']} (median)."
    )


def needs_text(s: Mapping[str, Any]) -> str:
    """`simlib needs` in words: one sentence per day and the most any day needs."""
    lines = [
        f"What each convoy day needs (scenario {s['scenario']}, plan {s['plan']}, seed {s['seed']}): "  # fmt: skip
        f"the smallest resources with which the day finishes inside the time rules in at least "
        f"{100 * s['share']:.0f} % of {s['replications']} replications ({s['seconds']:.1f} s)",
    ]
    lines += ["  " + needs_sentence(row) for row in s["days"]]
    most = ", ".join(f"{k} {v:,}" for k, v in s["most"].items())
    lines.append(f"  the most any day needs: {most}")
    if s.get("out"):
        lines.append(f"  written to {s['out']} (needs.csv; resources.yaml runs the plan with them)")
    return "\n".join(lines)


def needs_table(days: list[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """The needs of every convoy day, in the columns `simlib needs --json` names."""
    return pd.DataFrame(days)[list(NEEDS_COLUMNS)]


def plans_side_by_side(results: Mapping[str, Any]) -> pd.DataFrame:
    """Plans compared, each simulated: {label: MovingResult.summary()} -> one row each."""
    rows = []
    for label, s in results.items():
        d = s["campaign_days"]
        rows.append(
            {
                "plan": label,
                "convoy days": f"{s['convoy_days']:.1f}",
                "largest day": f"{s['largest_day_households']:.0f}",
                "campaign days (mean, 95 % CI)": f"{d['mean']:.1f} ({ci_text(d)})",
                "last family in its flat": s["last_move_in_date"],
                "registered-poor all in (day)": f"{s['registered_poor_all_in_day']['mean']:.1f}",
                "31 March met": f"{100 * s['deadline_met_share']:.0f} %",
                "plan kept": f"{100 * s['plan_kept_share']:.1f} %",
                "late / left behind": f"{s['late_households']:.0f} / {s['left_behind_households']:.0f}",  # fmt: skip
                "binding": s["binding_resource"],
            }
        )
    return pd.DataFrame(rows).set_index("plan")


def building_assumptions(m: Any) -> pd.DataFrame:
    """The assumptions of the move-in day at the buildings (a MovingParams), as a table."""
    rows = {
        "allocation the families move into": m.homes.method
        if m.homes is not None
        else "not tied (movein_buildings: false)",  # fmt: skip
        "call order within a county": m.call_order,
        "carrying up the stairs (minutes a floor above the ground)": f"{m.carry_minutes_per_floor:g}",  # fmt: skip
        "carrying up by lift (minutes, plus minutes a floor)": f"{m.lift_minutes:g} + {m.lift_minutes_per_floor:g}",  # fmt: skip
        "squads carrying up one walk-up stairwell at once": f"{m.squads_per_stairwell}",
        "the move-in step's mean includes the carry": "yes"
        if m.move_in_includes_carry
        else "no: on top",  # fmt: skip
    }
    return pd.Series(rows, name="assumption").to_frame()


def call_orders_side_by_side(results: Mapping[str, Any]) -> pd.DataFrame:
    """One plan run with its households called in different orders, each simulated:
    {label: MovingResult.summary()} -> one row each: how many buildings a convoy day
    fills, the waits at the buildings, when a day's last family is in its flat, and what
    the campaign keeps."""
    rows = []
    for label, s in results.items():
        b, days = s["building_waits"], pd.DataFrame(s["days"])
        busiest = b["busiest_building"]
        rows.append(
            {
                "call order": label,
                "buildings a convoy day fills": f"{days['buildings'].mean():.1f}",
                "wait at the bays (p50 / p95, min)": f"{b['building_bays']['p50']:.0f} / {b['building_bays']['p95']:.0f}",  # fmt: skip
                "wait at the stairwell (p50 / p95, min)": f"{b['stairwells']['p50']:.0f} / {b['stairwells']['p95']:.0f}",  # fmt: skip
                "busiest building (mean wait, min)": f"{busiest['building']} ({busiest['wait_mean']:.0f})",  # fmt: skip
                "last family of a day in (mean)": hour(60 * days["finish_hour"].mean()),
                "reception carried past the shift": f"{s['carried_over_households']:.0f}",
                "plan kept": f"{100 * s['plan_kept_share']:.1f} %",
                "campaign days": f"{s['campaign_days']['mean']:.1f}",
            }
        )
    return pd.DataFrame(rows).set_index("call order")


def earlier_text(generated: Mapping[str, Any], optimised: Mapping[str, Any]) -> str:
    """How much earlier the optimised plan finishes than the generated one (simulated)."""
    g, o = generated["campaign_days"]["mean"], optimised["campaign_days"]["mean"]
    start_g = dt.date.fromisoformat(generated["first_convoy_date"])
    start_o = dt.date.fromisoformat(optimised["first_convoy_date"])
    end_g = start_g + dt.timedelta(days=round(g) - 1)
    end_o = start_o + dt.timedelta(days=round(o) - 1)
    days = (end_g - end_o).days
    if days <= 0:
        return (
            f"With the same resources the optimised plan does not finish earlier than the "
            f"generated plan (last family in its flat about {end_o:%d %b %Y} against "
            f"{end_g:%d %b %Y}): the rule of thumb is as good here."
        )
    return (
        f"With the same resources the optimised plan finishes about **{days} days earlier** "
        f"than the generated plan (last family in its flat about {end_o:%d %b %Y} instead of "
        f"{end_g:%d %b %Y}, means over the replications)."
    )


def deadline_text(day_households: int, most: Mapping[str, int], largest_now: float) -> str:
    """The least that meets the deadline, in words (from `simlib.moving.deadline`)."""
    parts = ", ".join(f"{int(most[k]):,} {words}" for k, words in RESOURCE_WORDS.items())
    return (
        f"Convoy days of at most **{day_households:,} households** (the generated plan's "
        f"largest is {largest_now:,.0f}) still bring every registered-poor household in by "
        f"{headline('registered_poor_deadline').text()}. Such a day needs, at most over the five counties: {parts}."
    )
