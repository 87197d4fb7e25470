"""Unit tests of the moving package: inputs, calendar and plan, convoys, and the move-in
queue through the campaign's own code path against an exact formula."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.moving import DAY, load_moving_params
from simlib.moving.campaign import Campaign
from simlib.moving.convoys import day_vehicles, drive, fit_day, form_convoys, vehicles
from simlib.moving.inputs import scaled
from simlib.moving.plan import county_queues, generate_plan, moving_days
from simlib.population import generate_population
from simlib.randomness import stream


@pytest.fixture(scope="module")
def params(smoke):
    return load_moving_params(smoke)


@pytest.fixture(scope="module")
def households(smoke):
    return generate_population(smoke).households


# --- inputs ------------------------------------------------------------------------------


def test_counts_scale_with_the_scenario(baseline, smoke, params):
    full = load_moving_params(baseline)
    assert full.route_vehicles == 150 and params.route_vehicles == 6
    assert params.resources["volunteer_squads"] == round(237 * 0.04)
    assert scaled(10, 0.01) == 1 and scaled(10, 0.01, least=2) == 2
    assert params.convoy_vehicles_max == full.convoy_vehicles_max  # a convoy is a convoy


def test_deadline_day_and_pauses(params):
    assert params.date(params.deadline_day).isoformat() == "2020-03-31"
    assert params.paused(params.day(params.pauses[0][0]))
    assert not params.paused(0)


# --- calendar and plan -------------------------------------------------------------------


def test_moving_days_skip_pauses(params):
    days = moving_days(params)
    a, b = (params.day(d) for d in params.pauses[0])
    assert not any(a <= d <= b for d in days)
    assert a - 1 in days and b + 1 in days
    assert len(days) == params.max_campaign_days - (b - a + 1)


def test_county_queues_call_registered_poor_first(params, households):
    queues = county_queues(households, params)
    poor = households["registered_poor"].to_numpy()
    for q in queues.values():
        flags = poor[q]
        assert (np.diff(flags.astype(int)) <= 0).all()  # True... then False...
    assert sum(len(q) for q in queues.values()) == len(households)


def test_generated_plan_keeps_targets(params, households):
    plan = generate_plan(params, households).rows
    assert plan.groupby("county")["households"].sum().to_dict() == (
        households.groupby("county").size().to_dict()
    )
    assert not any(params.paused(d) for d in plan["day"])
    for _, g in plan.groupby("county"):
        assert (np.diff(g["day"].to_numpy()) >= params.rest_days + 1).all()
    assert plan["households"].max() <= params.day_households_max


def test_waves_move_one_county_at_a_time(params, households):
    plan = generate_plan(dataclasses.replace(params, policy="county_waves"), households).rows
    last = plan.groupby("county")["day"].max().sort_values()
    first = plan.groupby("county")["day"].min()
    for earlier, later in zip(last.index[:-1], last.index[1:], strict=True):
        assert first[later] > last[earlier]


# --- convoys -----------------------------------------------------------------------------


def test_vehicles_and_convoys(params):
    assert vehicles(5, 46, params) == (3, 2)  # 2 households a truck, 45 seats a coach
    sizes = [4] * 120
    convoys = form_convoys(sizes, params)
    assert sum(stop - first for first, stop, _, _ in convoys) == 120
    assert all(t + b <= params.convoy_vehicles_max for _, _, t, b in convoys)
    assert day_vehicles(sizes, params) == sum(t + b for _, _, t, b in convoys)


def test_fit_day_names_the_smallest_limit(params):
    n, limit = fit_day([4] * 100, params)
    assert limit == "route"
    assert day_vehicles([4] * n, params) <= params.route_vehicles
    assert day_vehicles([4] * (n + 1), params) > params.route_vehicles
    assert fit_day([4] * 2, params) == (2, None)
    p = dataclasses.replace(params, leased_vehicles=3, route_vehicles=6)
    assert fit_day([4] * 100, p)[1] == "fleet"


def test_drive_in_daylight_only(params):
    p = params
    arrive, nights = drive(p.gather_start + 60, 120, p)
    assert (arrive, nights) == (p.gather_start + 180, 0)
    # 2 h of daylight left, 5 h to drive: 2 h today, 3 h tomorrow from gathering time
    arrive, nights = drive(p.dark - 120, 300, p)
    assert nights == 1 and arrive == DAY + p.gather_start + 180
    # a departure after dark waits for the morning
    arrive, nights = drive(p.dark + 30, 60, p)
    assert nights == 1 and arrive == DAY + p.gather_start + 60


# --- the move-in queue, through Campaign.serve -------------------------------------------


def batch_waits(params, households, plan, servers, mean, n, replication):
    """n households released at once into one step with `servers` units and exponential
    service, through the campaign's own `serve` (shift rule included)."""
    campaign = Campaign(params, households, plan, seed=1, replication=replication)
    (k,) = campaign.after[0]
    campaign.step_team[k] = simpy.Resource(campaign.env, servers)
    rng = stream(11, "test", replication, "batch")
    campaign.service[k] = rng.exponential(mean, len(households)).tolist()
    campaign.group_minutes[(k,)] = campaign.service[k]
    t0 = params.work_start  # day 0 is a working day

    def release(h):
        yield campaign.env.timeout(t0)
        yield from campaign.serve(h, (k,))

    for h in range(n):
        campaign.env.process(release(h))
    campaign.env.run()
    times = campaign.times()
    return times["start"][:n, k] - times["ready"][:n, k]


def test_batch_into_c_servers_matches_the_exact_mean_wait(params, households):
    """FIFO, all n arrive at once, c exponential servers of mean m: customer i >= c waits
    for i-c+1 completions at rate c/m, so the mean wait is m (n-c)(n-c+1) / (2 c n)."""
    servers, mean, n = 3, 10.0, 40
    plan = generate_plan(params, households)
    p = dataclasses.replace(params, work_end=DAY)  # the whole batch fits in the shift
    means = [
        float(batch_waits(p, households, plan, servers, mean, n, r).mean()) for r in range(200)
    ]
    exact = mean * (n - servers) * (n - servers + 1) / (2 * servers * n)
    half = 1.96 * np.std(means, ddof=1) / math.sqrt(len(means))
    assert abs(np.mean(means) - exact) <= half, (np.mean(means), exact, half)
    # and a wrong formula (twice the servers) is rejected by the same test
    wrong = mean * (n - 2 * servers) * (n - 2 * servers + 1) / (4 * servers * n)
    assert abs(np.mean(means) - wrong) > half


# --- properties of the convoy arithmetic -------------------------------------------------

SIZES = st.lists(st.integers(1, 10), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(sizes=SIZES, per_truck=st.integers(1, 3), seats=st.integers(12, 55), most=st.integers(2, 80))
def test_convoys_partition_the_day_within_the_convoy_size(params, sizes, per_truck, seats, most):
    p = dataclasses.replace(
        params, households_per_truck=per_truck, bus_seats=seats, convoy_vehicles_max=most
    )
    convoys = form_convoys(sizes, p)
    assert [c[0] for c in convoys][0] == 0 and convoys[-1][1] == len(sizes)
    assert all(a[1] == b[0] for a, b in zip(convoys[:-1], convoys[1:], strict=True))
    for first, stop, trucks, buses in convoys:
        assert stop > first
        assert (trucks, buses) == vehicles(stop - first, sum(sizes[first:stop]), p)
        assert trucks + buses <= most or stop - first == 1


@settings(max_examples=60, deadline=None)
@given(sizes=SIZES, route=st.integers(2, 200))
def test_fit_day_is_the_largest_prefix_that_fits(params, sizes, route):
    p = dataclasses.replace(params, route_vehicles=route)
    n, limit = fit_day(sizes, p)
    cap = min(p.day_limits().values())
    assert n == 0 or day_vehicles(sizes[:n], p) <= cap
    if n < len(sizes):
        assert limit is not None and day_vehicles(sizes[: n + 1], p) > cap
    else:
        assert limit is None


@settings(max_examples=100, deadline=None)
@given(depart=st.floats(0, 3 * DAY), travel=st.floats(1, 2000))
def test_driving_happens_in_daylight_only(params, depart, travel):
    p = params
    arrive, nights = drive(depart, travel, p)
    assert arrive >= depart + travel - 1e-6
    clock = arrive - math.floor(arrive / DAY) * DAY
    assert p.gather_start - 1e-6 <= clock <= p.dark + 1e-6
    assert math.floor(arrive / DAY) - math.floor(depart / DAY) >= nights - 1


def test_flats_are_made_ready_on_a_moving_day_before_the_convoy(params, households):
    campaign = Campaign(params, households, generate_plan(params, households), seed=1)
    first_after = params.day(params.pauses[0][1]) + 1
    assert campaign.prepare_day(5) == 4
    assert campaign.prepare_day(first_after) == params.day(params.pauses[0][0]) - 1
    assert campaign.prepare_day(0) == 0


@pytest.mark.parametrize("policy", ["round_robin", "county_waves", "daily_quota"])
def test_every_generator_plans_everyone_within_the_limits(params, households, policy):
    from simlib.moving.feasibility import check_feasibility

    p = dataclasses.replace(params, policy=policy)
    plan = generate_plan(p, households)
    assert plan.rows["households"].sum() == len(households)
    assert check_feasibility(p, plan, households).feasible
