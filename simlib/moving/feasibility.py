"""The feasibility of a batch plan at mean times, before any simulation.

The check is the campaign's arithmetic at mean times with no disruptions
(`simlib.moving.timing`): for every county convoy day, the households kept, late and left
behind, and for the first day that is not kept whole, the date, county, the cause (a
resource, daylight, the reception, the flats) and a sentence. A plan whose registered-poor
households are planned after the deadline is reported too (it still runs: the simulation
shows by how much it misses). The simulation at mean times agrees with it (a property
test), so a day the check passes is kept by the simulation when nothing goes wrong.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simlib.moving.inputs import MovingParams
from simlib.moving.plan import BatchPlan, county_queues, poor_deadline_misses
from simlib.moving.timing import kept, time_plan

ROAD_REASONS = ("late departure", "overnight stop")


@dataclass(frozen=True)
class Feasibility:
    """The plan at mean times: one row per planned county day (`checks`), and the first
    day not kept whole: its date, county, cause and a sentence (None when all are kept)."""

    checks: pd.DataFrame
    first_date: str | None
    county: str | None
    resource: str | None
    detail: str
    deadline_misses: dict[str, str]

    @property
    def feasible(self) -> bool:
        return self.resource is None

    def summary(self) -> dict[str, Any]:
        return {
            "feasible": self.feasible,
            "first_date": self.first_date,
            "county": self.county,
            "resource": self.resource,
            "detail": self.detail,
            "registered_poor_after_deadline": self.deadline_misses,
        }


def _reasons(table: pd.DataFrame, ok: np.ndarray) -> np.ndarray:
    """Why a household is not kept at mean times (as `simlib.moving.rules.shortfall`)."""
    planned = table["planned_day"].to_numpy()
    dep = np.floor(table["departure"].to_numpy() / 1440.0)
    arr = np.floor(table["arrival"].to_numpy() / 1440.0)
    late = np.where(
        dep > planned,
        "late departure",
        np.where(
            arr > dep,
            "overnight stop",
            np.where(table["flat_ready"] > planned * 1440.0, "flats", "reception"),
        ),  # fmt: skip
    )
    left = table["left_reason"].to_numpy().astype(object)
    broke = np.where(
        table["overtime"],
        "overtime",
        np.where(
            table["moved_during_pause"],
            "pause",
            np.where(table["carried_over"], "reception carried past the shift", "night departure"),
        ),  # fmt: skip
    )
    moved_ok = table["moved_in_day"].to_numpy() == planned
    why = np.where(table["sent_day"].to_numpy() != planned, np.where(left == "", "horizon", left), np.where(moved_ok, broke, late))  # fmt: skip
    return np.where(ok, "", why)


def _cause(reason: str, waits: dict[str, float]) -> str:
    """A road shortfall is put on the resource its convoys waited for longest, else on
    daylight."""
    if reason not in ROAD_REASONS:
        return reason
    waits = {k: v for k, v in waits.items() if v > 0}
    return max(waits, key=waits.get) if waits else "daylight"


def check_feasibility(
    params: MovingParams, plan: BatchPlan, households: pd.DataFrame
) -> Feasibility:
    """Check every convoy day of `plan` at mean times; see the module docstring."""
    households = households.reset_index(drop=True)
    timed = time_plan(params, households, plan.rows, county_queues(households, params))
    table = timed.households
    ok = kept(table, params)
    why = _reasons(table, ok)
    waits: dict[tuple[int, str], Counter] = {}
    for c in timed.convoys.itertuples(index=False):
        waits.setdefault((c.day, c.county), Counter()).update({k: v * c.households for k, v in c.waits.items()})  # fmt: skip
    county = households["county"].to_numpy()
    rows = []
    for r in plan.rows.itertuples(index=False):
        mine = (table["planned_day"].to_numpy() == r.day) & (county == r.county)
        reasons = Counter(why[mine & ~ok].tolist())
        main = reasons.most_common(1)[0][0] if reasons else ""
        rows.append(
            {"date": r.date, "day": r.day, "county": r.county, "households": int(mine.sum()),
             "kept": int((mine & ok).sum()), "not_kept": int((mine & ~ok).sum()),
             "cause": _cause(main, waits.get((r.day, r.county), {})) if main else "",
             "last_in_hour": float(np.nanmax(table["moved_in"].to_numpy()[mine]) / 60 - r.day * 24) if mine.any() else np.nan}
        )  # fmt: skip
    checks = pd.DataFrame(rows)
    misses = poor_deadline_misses(params, households, plan)
    bad = checks[checks["not_kept"] > 0] if len(checks) else checks
    if not len(bad):
        return Feasibility(checks, None, None, None, "every convoy day keeps its plan at mean times", misses)  # fmt: skip
    first = bad.iloc[0]
    detail = (
        f"{first['county']}'s convoy day of {first['date']}: {first['not_kept']} of "
        f"{first['households']} households not in their flats that day at mean times "
        f"({first['cause']})"
    )
    return Feasibility(checks, str(first["date"]), str(first["county"]), str(first["cause"]), detail, misses)  # fmt: skip
