"""One campaign's row of the `runs` table: every headline figure of one replication, as a
plain number, so that the summary over replications is an aggregation of one table."""

from __future__ import annotations

import math
from typing import Any

from simlib.moving.inputs import DAY
from simlib.moving.rules import PLAN, rule_counts

# figures of a run whose mean over replications the summary shows
MEANS = (
    "households_moved",
    "people_moved",
    "households_not_moved",
    "plan_kept_share",
    "late_households",
    "left_behind_households",
    "overnight_stops",
    "late_departures",
    "disrupted_convoy_days",
    "called_off_days",
    "vehicle_trips",
    "truck_trips",
    "vehicles_per_household",
    "convoys",
    "convoy_days",
    "largest_day_households",
    "convoys_after_dark",
    "convoys_held_overnight",
    "carried_over_households",
    "flats_not_ready",
    "breakdowns",
    "illnesses",
    "followup_late",
    "max_slip_days",
)
RULES = ("night_departures", "moved_during_pause", "overtime_households")


def binding_resource(binding_days: dict[str, float]) -> str:
    """The resource that bound the most county days; "plan" when none bound any."""
    resources = {k: v for k, v in binding_days.items() if k != PLAN and v > 0}
    if not resources:
        return PLAN
    return max(sorted(resources), key=resources.get)


def _counts(result) -> dict[str, Any]:
    hh, conv, days = result.households, result.convoys, result.days
    m = result.moved
    trips = int(conv["trucks"].sum() + conv["buses"].sum()) if len(conv) else 0
    status = hh["status"].to_numpy()
    late = m["followup_day"] - m["moved_in_day"] > result.params.followup_days_target
    return {
        "households_moved": int(len(m)),
        "people_moved": int(m["size"].sum()),
        "households_not_moved": int(len(hh) - len(m)),
        "plan_kept_share": float((status == "kept").mean()) if len(hh) else 0.0,
        "late_households": int((status == "late").sum()),
        "left_behind_households": int((status == "left_behind").sum()),
        "overnight_stops": int(conv["overnight_stops"].sum()) if len(conv) else 0,
        "late_departures": int(conv["late_departure"].sum()) if len(conv) else 0,
        "disrupted_convoy_days": int((days["disruption"] != "").sum()),
        "called_off_days": int((days["disruption"] == "called off").sum()),
        "vehicle_trips": trips,
        "truck_trips": int(conv["trucks"].sum()) if len(conv) else 0,
        "vehicles_per_household": trips / len(m) if len(m) else 0.0,
        "convoys": int(len(conv)),
        "convoy_days": int((days["sent"] > 0).sum()),
        "largest_day_households": int(days["sent"].max()) if len(days) else 0,
        "convoys_after_dark": int(conv["after_dark"].sum()) if len(conv) else 0,
        "convoys_held_overnight": int(conv["held_overnight"].sum()) if len(conv) else 0,
        "carried_over_households": int(hh["carried_over"].sum()),
        "flats_not_ready": int((hh["flat_ready"] > hh["planned_day"] * DAY).sum()),
        "breakdowns": int(conv["breakdowns"].sum()) if len(conv) else 0,
        "illnesses": int(conv["illnesses"].sum()) if len(conv) else 0,
        "followup_late": int(late.sum()) if result.visits else math.nan,  # NaN: not simulated
        "max_slip_days": int(m["slip_days"].max()) if len(m) else 0,
    }


def run_row(result) -> dict[str, Any]:
    """The `runs` row of one `CampaignResult` (see MEANS and RULES for what it holds)."""
    p = result.params
    hh = result.households
    sent = hh["sent_day"].to_numpy()
    moved_in = result.moved["moved_in_day"].to_numpy()
    poor_day = result.registered_poor_all_in_day()
    binding = result.binding_days()
    row: dict[str, Any] = {
        "replication": result.replication,
        "campaign_days": result.campaign_days(),
        "first_convoy_day": int(sent[sent >= 0].min()) if (sent >= 0).any() else -1,
        "first_move_in_day": int(moved_in.min()) if len(moved_in) else -1,
        "last_move_in_day": int(moved_in.max()) if len(moved_in) else -1,
        "registered_poor_all_in_day": poor_day,
        "deadline_met": bool(poor_day <= p.deadline_day + 1),
    }
    row.update(_counts(result))
    row.update(rule_counts(p, result.convoys, hh))
    row["binding_resource"] = binding_resource(binding)
    row["events"] = int(result.events)
    return row
