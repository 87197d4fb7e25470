"""Arithmetic feasibility of a batch plan, before any simulation.

For every county convoy day: the vehicles it needs (trucks and coaches, formed into
convoys) against what the county can lease, what the police can direct along its route
and what its cadres and doctors can escort; whether its convoy, driving in daylight only,
would still be on the road on a pause day. For every day: the households arriving against
the move-in capacity of the new town (units x shift / mean service, per team). The first
day and resource that cannot cope are named, in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from simlib.moving.convoys import LIMITS, day_vehicles, expected_arrival
from simlib.moving.inputs import MovingParams
from simlib.moving.plan import BatchPlan, county_queues, reception_capacity


@dataclass(frozen=True)
class Feasibility:
    """The plan's load on each resource per county convoy day (`checks`), and the first
    overload: its date, county and resource (None when the plan fits)."""

    checks: pd.DataFrame
    first_date: str | None
    county: str | None
    resource: str | None
    detail: str

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
        }


def check_feasibility(
    params: MovingParams, plan: BatchPlan, households: pd.DataFrame
) -> Feasibility:
    """Check every convoy day of `plan` by arithmetic; see the module docstring."""
    sizes = households["size"].to_numpy()
    queues = county_queues(households, params)
    head = dict.fromkeys(queues, 0)
    limits = params.day_limits()
    reception, team = reception_capacity(params)
    rows = []
    arriving: dict[int, int] = {}
    for r in plan.rows.itertuples(index=False):
        q = queues[r.county]
        batch = sizes[q[head[r.county] : head[r.county] + r.households]].tolist()
        head[r.county] += r.households
        need = day_vehicles(batch, params)
        _, nights = expected_arrival(r.county, params)
        arrive = r.day + nights
        arriving[arrive] = arriving.get(arrive, 0) + r.households
        row = {"date": r.date, "day": r.day, "county": r.county, "households": r.households}
        row["vehicles"] = need
        for name in LIMITS:
            row[f"{name}_load"] = need / limits[name]
        row["overnight_stops"] = nights
        row["on_road_in_pause"] = any(params.paused(d) for d in range(r.day, arrive + 1))
        row["arrival_day"] = arrive
        rows.append(row)
    checks = pd.DataFrame(rows)
    if checks.empty:
        return Feasibility(checks, None, None, None, "the plan has no convoy days")
    checks["reception_load"] = checks["arrival_day"].map(arriving) / reception
    first: list[tuple[int, str, str, str]] = []
    for row in checks.itertuples(index=False):
        for name in LIMITS:
            load = getattr(row, f"{name}_load")
            if load > 1:
                first.append(
                    (
                        row.day,
                        row.county,
                        name,
                        f"{row.county} needs {row.vehicles} vehicles on {row.date}; the "
                        f"{name} allows {limits[name]}",
                    )
                )
        if row.on_road_in_pause:
            first.append(
                (
                    row.day,
                    row.county,
                    "pause",
                    f"{row.county}'s convoy of {row.date} is on the "
                    "road on a pause day (overnight stop)",
                )
            )
        if row.reception_load > 1:
            day = int(row.arrival_day)
            first.append(
                (
                    day,
                    row.county,
                    f"reception: {team}",
                    f"{arriving[day]} households arrive on {params.date(day)}; the "
                    f"{team.replace('_', ' ')} can take {reception:.0f} in a shift",
                )
            )
    if not first:
        return Feasibility(checks, None, None, None, "every convoy day fits its resources")
    day, county, resource, detail = min(first, key=lambda f: f[0])
    return Feasibility(checks, params.date(day).isoformat(), county, resource, detail)
