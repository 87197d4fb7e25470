"""What each household's day came to, what bound each county convoy day, and the time
rules broken: the judgements made on a campaign's logs.

A household planned for a day is kept (in its flat that day), late (its convoy day went,
but it was in later) or left behind (it went on a later convoy day, or never). What bound
a county day is measured, not assumed: where households of the day were not kept (or their
reception work was carried past the end of the shift), the cause most of them share (the resource its convoys waited for longest, or daylight, or the
weather, or the move-in team they waited at longest); where all were kept, the road pool
(vehicles, drivers, route passes, escorts: held for a whole trip, so that one more
household would have had to wait for a return) whose peak load reached
`binding_load_share` of what the day had (the highest); else the plan itself ("plan").
Loading crews and move-in teams are busy in bursts every day, so they bind only through
a shortfall.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from simlib.moving.calendar import team_groups
from simlib.moving.convoys import REQUESTS
from simlib.moving.inputs import DAY, MovingParams

PLAN = "plan"  # nothing bound the day: it is as large as the plan made it


def shortfall(hh: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Status (kept | late | left_behind) and reason of every household."""
    planned = hh["planned_day"].to_numpy()
    sent = hh["sent_day"].to_numpy()
    moved = hh["moved_in_day"].to_numpy()
    dep = np.floor(hh["departure"].to_numpy() / DAY)
    arr = np.floor(hh["arrival"].to_numpy() / DAY)
    kept = (moved == planned) & (planned >= 0)
    late = ~kept & (sent == planned) & (planned >= 0)
    status = np.where(kept, "kept", np.where(late, "late", "left_behind"))
    reason = np.where(
        dep > planned,
        "late departure",
        np.where(
            arr > dep,
            "overnight stop",
            np.where(
                hh["flat_ready"].to_numpy() > hh["arrival"].to_numpy(),
                "flat not ready",
                "reception",
            ),  # fmt: skip
        ),
    )
    left = hh["left_reason"].to_numpy().astype(object)
    left = np.where(left == "", "horizon", left)
    return status, np.where(kept, "", np.where(late, reason, left))


def _team_waited(params: MovingParams, times: dict[str, np.ndarray], phase: str) -> np.ndarray:
    """For each household, the team of this phase it waited at longest."""
    groups = team_groups(params.steps, phase)
    waits = np.column_stack(
        [
            np.nan_to_num(times["start"][:, g.steps[0]] - times["ready"][:, g.steps[0]])
            for g in groups
        ]
    )
    names = np.array([g.resource for g in groups], dtype=object)
    return names[np.argmax(waits, axis=1)]


def _causes(c, hh: pd.DataFrame) -> np.ndarray:
    """Why each household was not kept (or had its reception work carried over), as a
    resource (or daylight, weather, pause, horizon)."""
    times = c.times()
    reception = _team_waited(c.params, times, "after")
    flats = _team_waited(c.params, times, "before")
    road = {}
    for log in c.county_days:
        waits = {k: v for k, v in (log.get("waits") or {}).items() if v > 0}
        cause = max(waits, key=waits.get) if waits else ("weather" if log["hold"] else "daylight")
        road[(log["day"], log["county"])] = cause
    status, reason = hh["status"].to_numpy(), hh["reason"].to_numpy()
    keys = zip(hh["planned_day"].to_numpy().tolist(), hh["county"].to_numpy().tolist(), strict=True)
    causes = np.where(status == "left_behind", reason, np.where(status == "kept", reception, ""))
    for i, key in enumerate(keys):
        if status[i] != "late":
            continue
        r = reason[i]
        causes[i] = road.get(key, "daylight") if r in ("late departure", "overnight stop") else (flats[i] if r == "flat not ready" else reception[i])  # fmt: skip
    return causes


def _binding(c, day: int, county: str, causes: list[str]) -> str:
    """The most common cause of the day's shortfall; on a day kept whole, the road pool
    with the highest peak load if it reached `binding_load_share` (ties in request
    order); else "plan"."""
    if causes:
        return Counter(causes).most_common(1)[0][0]
    peaks = {r: s for (d, cty, r), s in c.peak.items() if d == day and cty == county and r in REQUESTS}  # fmt: skip
    best = max(REQUESTS, key=lambda r: (peaks.get(r, 0.0), -REQUESTS.index(r)))
    if peaks.get(best, 0.0) >= c.params.binding_load_share - 1e-9:
        return best
    return PLAN


def _most(values: np.ndarray) -> str:
    return Counter(values.tolist()).most_common(1)[0][0] if len(values) else ""


def binding_of_days(c, hh: pd.DataFrame) -> pd.DataFrame:
    """One row per county convoy day that was planned or run: planned, carried_in, sent,
    arrived_as_planned, late, left_behind (with their most common reasons), carried_over
    (kept, but reception work carried past the shift end), disruption, replanned,
    finish_hour (the last family of its convoys in its flat, hours after the
    day's midnight) and binding."""
    p = c.params
    causes = _causes(c, hh)
    county, status = hh["county"].to_numpy(), hh["status"].to_numpy()
    planned, sent = hh["planned_day"].to_numpy(), hh["sent_day"].to_numpy()
    moved_in, reason = hh["moved_in"].to_numpy(), hh["reason"].to_numpy()
    carried = hh["carried_over"].to_numpy()
    rows = []
    for log in sorted(c.county_days, key=lambda x: (x["day"], x["county"])):
        day, cty = log["day"], log["county"]
        mine, went = (planned == day) & (county == cty), (sent == day) & (county == cty)
        row: dict[str, Any] = {"date": p.date(day), "day": day, "county": cty}
        row.update(planned=int(mine.sum()), carried_in=int((went & (planned < day)).sum()), sent=int(went.sum()))  # fmt: skip
        for name in ("kept", "late", "left_behind"):
            row["arrived_as_planned" if name == "kept" else name] = int((mine & (status == name)).sum())  # fmt: skip
        row["late_reason"] = _most(reason[mine & (status == "late")])
        row["left_behind_reason"] = _most(reason[mine & (status == "left_behind")])
        row.update(disruption=log["disruption"], replanned=log["replanned"])
        row["finish_hour"] = float(np.nanmax(moved_in[went]) - day * DAY) / 60 if went.any() else np.nan  # fmt: skip
        short = mine & ((status != "kept") | carried)
        row["carried_over"] = int((mine & carried).sum())
        row["binding"] = _binding(c, day, cty, causes[short].tolist())
        rows.append(row)
    return pd.DataFrame(rows)


def rule_counts(params: MovingParams, convoys: pd.DataFrame, hh: pd.DataFrame) -> dict[str, int]:
    """Time rules broken: convoys leaving at night, households on the road or at a move-in
    step on a pause day, households whose move-in ran past the end of the shift."""
    return {
        "night_departures": int(convoys["night_departure"].sum()) if len(convoys) else 0,
        "moved_during_pause": int(hh["moved_during_pause"].sum()),
        "overtime_households": int(hh["overtime"].sum()),
    }
