"""What the moving tests share: the rules at mean times, a plan from rows, and the
agreement between the check at mean times and the simulation (a helper module beside the
tests, not a test file)."""

from __future__ import annotations

import dataclasses

import pandas as pd

from simlib.moving import DAY, BatchPlan, run_campaign
from simlib.moving.plan import county_queues, plan_frame
from simlib.moving.timing import kept, time_plan


def calm(params):
    """The rules at mean times with no disruptions."""
    steps = tuple(dataclasses.replace(s, service_cv=0.0) for s in params.steps)
    return dataclasses.replace(
        params,
        steps=steps,
        loading_cv=0.0,
        travel_delay_sigma=0.0,
        breakdown_probability=0.0,
        illness_probability=0.0,
        weather_risk_factor=0.0,
    )


def plan_of(params, rows) -> BatchPlan:
    """A plan from (day, county, households) rows."""
    return BatchPlan(plan_frame(rows, params), "test")


def random_plan(p, households: pd.DataFrame, days) -> BatchPlan:
    """The (day, county, households) drawn, kept where they can be (no pause, one row a
    county day, no more than the county has), and the rest of each county on a day later."""
    counts = households.groupby("county").size().to_dict()
    rows, used = {}, dict.fromkeys(counts, 0)
    for day, county, n in days:
        if p.paused(day) or (day, county) in rows:
            continue
        n = min(n, counts[county] - used[county])
        if n > 0:
            rows[(day, county)] = n
            used[county] += n
    rows = [(d, c, n) for (d, c), n in rows.items()]
    rows += [(100 + i, c, counts[c] - used[c]) for i, c in enumerate(counts) if counts[c] > used[c]]
    return plan_of(p, rows)


def assert_check_agrees_with_simulation(p, households: pd.DataFrame, days) -> None:
    """On a random plan, where the check at mean times says a date keeps its plan, the
    simulation at mean times keeps it with no broken rule, and where it says not, the
    simulation shows the shortfall; for every planned county day both send as many households
    on each day and have as many in their flats on each day."""
    plan = random_plan(p, households, days)
    timed = time_plan(p, households, plan.rows, county_queues(households, p)).households
    sim = run_campaign(p, households, 1, plan=plan).households
    for column in ("sent_day", "moved_in_day"):
        keys = [timed["planned_day"], households["county"]]
        a = timed[column].groupby(keys).apply(lambda x: sorted(x))
        b = sim[column].groupby(keys).apply(lambda x: sorted(x))
        pd.testing.assert_series_equal(a, b, check_names=False)
    check = pd.Series(kept(timed, p)).groupby(timed["planned_day"]).all()
    night = (sim["departure"] % DAY < p.gather_start) | (sim["departure"] % DAY >= p.dark)
    done = (sim["status"] == "kept") & ~sim["carried_over"] & ~sim["overtime"] & ~sim["moved_during_pause"] & ~night & (sim["flat_ready"] <= sim["planned_day"] * DAY)  # fmt: skip
    pd.testing.assert_series_equal(check, done.groupby(sim["planned_day"]).all(), check_names=False)
