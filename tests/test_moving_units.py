"""The moving model's pieces, one at a time: inputs and tables, the road rules, the calendar
and the book of convoy days, the arithmetic at mean times, the plan generator and the
search helpers of `needs`."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from conftest import replace_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlib.moving import DAY, load_moving_params
from simlib.moving.book import Book
from simlib.moving.calendar import Calendar, in_flat_step
from simlib.moving.convoys import (
    REQUESTS,
    clock,
    convoy_needs,
    day_vehicles,
    depart_time,
    drive_mean,
    form_convoys,
    next_departure,
    vehicles,
)
from simlib.moving.generate import generate_plan
from simlib.moving.needs import gallop, smallest
from simlib.moving.plan import county_queues, moving_days
from simlib.moving.timing import _Pool
from simlib.population import generate_population
from simlib.provenance import DataError
from simlib.scenario import load_scenario


@pytest.fixture(scope="module")
def params(smoke):
    return load_moving_params(smoke)


@pytest.fixture(scope="module")
def households(smoke):
    return generate_population(smoke).households


# --- inputs and tables --------------------------------------------------------------------


def test_counts_scale_with_the_scenario(baseline, smoke, params):
    full = load_moving_params(baseline)
    assert (full.leased_vehicles, full.coaches, full.trucks) == (200, 40, 160)
    assert (params.leased_vehicles, params.route_vehicles) == (8, 6)  # 4 % scale
    assert params.resources["volunteer_squads"] == round(237 * 0.04)
    # a team's capacity is its count times its desks (5 working groups x 4 desks)
    assert full.resources["county_working_groups"] == 20
    assert full.resources["unloading_bays"] == 47
    assert all(v >= 1 for v in params.pools().values())


def test_roads_are_segments_that_add_up(baseline):
    p = load_moving_params(baseline)
    for road in p.roads.values():
        assert sum(s.km for s in road.segments) == pytest.approx(road.distance_km)
        assert road.travel_time == pytest.approx(sum(60 * s.km / {"township": 20, "county_road": 35, "expressway": 60}[s.kind] for s in road.segments))  # fmt: skip
    assert p.roads["Yongshan"].travel_time > p.roads["Ludian"].travel_time


def test_segments_that_do_not_add_up_are_refused(data_copy):
    replace_in(
        data_copy / "moving" / "roads.csv", "Ludian,60,mountain,25,", "Ludian,60,mountain,45,"
    )
    with pytest.raises(DataError, match="sum of its segments") as error:
        load_moving_params(load_scenario(data_copy / "scenarios" / "smoke.yaml"))
    assert error.value.field == "distance_km[Ludian]"


def test_weather_needs_every_county_and_month(data_copy):
    path = data_copy / "moving" / "weather.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("Yanjin,7,")) + "\n")
    with pytest.raises(DataError, match="every month"):
        load_moving_params(load_scenario(data_copy / "scenarios" / "smoke.yaml"))


def test_weather_outside_its_range_is_refused(data_copy):
    replace_in(data_copy / "moving" / "weather.csv", "Ludian,1,0.02,", "Ludian,1,0.5,")
    with pytest.raises(DataError, match="outside"):
        load_moving_params(load_scenario(data_copy / "scenarios" / "smoke.yaml"))


def test_weather_scales_with_the_risk_factor(params):
    winter = params.weather_on("Yongshan", params.day(params.campaign_start))
    assert winter.cancel > 0 and winter.delay > 0
    off = dataclasses.replace(params, weather_risk_factor=0.0).weather_on("Yongshan", 0)
    assert off.cancel == off.delay == 0
    double = dataclasses.replace(params, weather_risk_factor=2.0).weather_on("Yongshan", 0)
    assert double.cancel == pytest.approx(2 * winter.cancel)


def test_a_team_must_name_a_count(data_copy):
    replace_in(data_copy / "moving" / "resources.csv", "volunteer_squads,volunteer_squads,", "volunteer_squads,volunteer_squadz,")  # fmt: skip
    with pytest.raises(DataError, match="count in parameters.csv"):
        load_moving_params(load_scenario(data_copy / "scenarios" / "smoke.yaml"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"latest_departure": 1200}, "latest_departure"),  # after dark
        ({"coaches_per_county_day": 200}, "coaches_per_county_day"),
        ({"dark_rule": "fly"}, "dark_rule"),
        ({"police_officers_per_county": 0}, "police_officers_per_county"),
    ],
)
def test_values_are_checked_against_their_meaning(smoke, change, field):
    with pytest.raises(DataError) as error:
        load_moving_params(smoke.with_overrides("moving", **change))
    assert error.value.field == field


# --- the road ---------------------------------------------------------------------------


def test_a_convoy_needs_an_escort_in_proportion(params):
    need = convoy_needs(20, 5, params)
    assert need["drivers"] == need["route_vehicles"] == 25
    assert need["police_officers"] == math.ceil(25 / params.vehicles_per_police_officer)
    assert need["cadres"] == math.ceil(25 / params.vehicles_per_cadre)
    assert vehicles(5, 46, params) == (3, 2)  # 2 households a truck, 45 seats a coach


@given(
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=200),
    pools=st.fixed_dictionaries({k: st.integers(2, 60) for k in REQUESTS}),
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
def test_convoys_partition_the_day_within_one_days_pools(params, sizes, pools):
    convoys = form_convoys(sizes, params, pools)
    assert convoys[0][0] == 0 and convoys[-1][1] == len(sizes)
    assert all(a[1] == b[0] for a, b in zip(convoys, convoys[1:], strict=False))
    for first, stop, trucks, coaches in convoys:
        need = convoy_needs(trucks, coaches, params)
        if stop - first > 1:  # one household always goes, whatever the pools
            assert all(need[k] <= pools[k] for k in REQUESTS)
            assert trucks + coaches <= params.convoy_vehicles_max
    assert day_vehicles(sizes, params) >= len(sizes) / params.households_per_truck


@given(ready=st.floats(0, 5 * DAY), minutes=st.floats(1, 400))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
def test_departures_and_segments_keep_the_daylight_rules(params, ready, minutes):
    from simlib.moving.tables import Road, Segment

    road = Road("X", 100.0, "mountain", (Segment("township", 30, minutes), Segment("county_road", 70, 120.0)))  # fmt: skip
    t = depart_time(ready, road, params)
    assert t >= ready
    assert params.gather_start <= clock(t) < params.latest_departure
    if minutes <= params.dark - params.gather_start:
        assert clock(t) + minutes <= params.dark
    assert next_departure(t, params) == t
    arrive, nights = drive_mean(t, road, params)
    assert arrive >= t + road.travel_time - 1e-6 and nights >= 0
    drive = dataclasses.replace(params, dark_rule="drive")
    assert depart_time(ready, road, drive) == ready
    assert drive_mean(ready, road, drive) == (pytest.approx(ready + road.travel_time), 0)


# --- calendar and book ------------------------------------------------------------------


def test_flats_are_made_ready_on_a_moving_day_before_the_convoy_day(params):
    cal = Calendar(params)
    for day in moving_days(params):
        prep = cal.prepare_day(day)
        assert prep < day and not cal.paused(prep)
    after = params.day(params.pauses[0][1]) + 1  # the first day after the pause
    assert cal.prepare_day(after) == params.day(params.pauses[0][0]) - 1


def test_the_shift_rule(params):
    cal = Calendar(params)
    start, end = params.work_start, params.work_end
    assert cal.later_start(start, 30, "after") is None
    assert cal.later_start(end - 10, 30, "after") == DAY + start  # carried to the morning
    assert cal.later_start(start - 60, 30, "after") == start
    assert cal.within_shift(end - 10) and not cal.within_shift(end + 10)
    over = Calendar(dataclasses.replace(params, shift_end_rule="overtime"))
    assert over.later_start(end - 10, 30, "after") is None  # finished in overtime
    assert over.later_start(end + 10, 30, "after") == DAY + start  # nothing new after the end
    pause = params.day(params.pauses[0][0])
    assert cal.later_start(pause * DAY + start, 30, "before") is not None  # no flats in a pause
    assert cal.later_start(pause * DAY + start, 30, "after") is None  # families are received


def test_in_flat_is_after_move_in(params):
    assert params.steps[in_flat_step(params.steps)].step == "move_in"


def test_the_book_leaves_households_behind_for_the_next_convoy_day(params, households):
    plan = generate_plan(params, households).rows
    queues = county_queues(households, params)
    book = Book(plan, queues, Calendar(params))
    first = book.next_date()
    days = book.pop_date(first)
    cd = days[0]
    nxt = book.days[cd.county][0]
    before = len(nxt.due)
    assert book.leave_behind(cd.county, cd.day, cd.due[:3])
    assert nxt.due[:3] == cd.due[:3] and len(nxt.due) == before + 3


@given(st.integers(0, 40))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
def test_a_day_called_off_goes_to_the_next_free_day(params, households, skip):
    plan = generate_plan(params, households).rows
    book = Book(plan, county_queues(households, params), Calendar(params))
    for _ in range(skip % plan["day"].nunique()):
        book.pop_date(book.next_date())
    cd = book.pop_date(book.next_date())[0]
    assert book.call_off(cd)
    used = book.used[cd.county]
    new = [d for d in book.days[cd.county] if d.replanned][0]
    assert new.day > cd.day and not params.paused(new.day) and new.due == cd.due
    others = [d for d in used if d != new.day]
    assert all(abs(d - new.day) > params.rest_days for d in others)


# --- arithmetic ---------------------------------------------------------------------------


@given(
    capacity=st.integers(1, 20),
    asks=st.lists(
        st.tuples(st.integers(0, 30), st.integers(1, 20), st.integers(1, 50)),
        min_size=1,
        max_size=12,
    ),  # fmt: skip
)
def test_a_pool_grants_first_come_first_served(capacity, asks):
    """Against a direct replay: each ask (arrival offset, amount, hold) is granted in turn,
    once the amount is free, never before an earlier ask."""
    pool = _Pool(capacity)
    held: list[tuple[float, int]] = []
    last, t = -math.inf, 0.0
    for offset, amount, hold in asks:
        amount = min(amount, capacity)
        t += offset
        got = pool.grant(t, amount)
        # the replay: the earliest moment >= max(t, last) at which the level covers amount
        start = max(t, last)
        moments = sorted({start} | {end for end, _ in held if end > start})
        when = next(
            (w for w in moments if capacity - sum(a for end, a in held if end > w) >= amount),
            math.inf,
        )
        assert got == when
        last = got
        held.append((got + hold, amount))
        pool.give_back(got + hold, amount)


@given(threshold=st.integers(1, 200), low=st.integers(1, 50), span=st.integers(0, 200))
def test_search_helpers_find_the_smallest_passing_value(threshold, low, span):
    high = max(low, threshold) + span

    def test(v):
        return v >= threshold

    want = max(low, threshold)
    assert smallest(test, low, high) == want
    assert gallop(test, low, high) == want


def test_moving_days_skip_pauses(params):
    days = moving_days(params)
    assert not any(params.paused(d) for d in days)
    assert len(days) < params.max_campaign_days


def test_county_queues_call_registered_poor_first(params, households):
    queues = county_queues(households, params)
    poor = households["registered_poor"].to_numpy()
    for q in queues.values():
        assert (np.diff(poor[q].astype(int)) <= 0).all()  # True... then False...
    assert sum(len(q) for q in queues.values()) == len(households)


@pytest.mark.parametrize("policy", ["round_robin", "county_waves", "daily_quota", "even_days"])
def test_every_generator_plans_everyone_within_the_rules(params, households, policy):
    p = dataclasses.replace(params, policy=policy)
    plan = generate_plan(p, households).rows
    assert plan.groupby("county")["households"].sum().to_dict() == households.groupby("county").size().to_dict()  # fmt: skip
    assert not any(p.paused(d) for d in plan["day"])
    for _, g in plan.groupby("county"):
        assert (np.diff(g["day"].to_numpy()) >= p.rest_days + 1).all()
    assert plan["households"].max() <= p.day_households_max
    assert not plan.duplicated(["day", "county"]).any()


def test_waves_move_one_county_at_a_time(params, households):
    plan = generate_plan(dataclasses.replace(params, policy="county_waves"), households).rows
    last = plan.groupby("county")["day"].max().sort_values()
    first = plan.groupby("county")["day"].min()
    for earlier, later in zip(last.index[:-1], last.index[1:], strict=True):
        assert first[later] > last[earlier]


def test_the_generated_days_keep_their_plan_at_mean_times(params, households):
    from simlib.moving.plan import slack_params
    from simlib.moving.timing import kept, time_plan

    plan = generate_plan(params, households).rows
    strict = slack_params(params)
    table = time_plan(strict, households, plan, county_queues(households, params)).households
    assert kept(table, strict).all()
    assert isinstance(table, pd.DataFrame) and len(table) == len(households)


@given(
    cells=st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True).map(str),
            st.text(max_size=6),
            st.integers(-3, 10**18).map(str),
        ),  # fmt: skip
        min_size=4,
        max_size=4,
    )
)
@settings(max_examples=60, deadline=None)
def test_any_road_or_weather_cell_loads_or_is_refused_with_a_data_error(tmp_path_factory, cells):
    """The loader property test for the new tables: whatever a cell holds, roads.csv and
    weather.csv load into sensible values or are refused with a DataError naming the file."""
    from simlib.moving.tables import read_roads, read_weather

    folder = tmp_path_factory.mktemp("tables")
    counties = {"Ludian"}
    roads = folder / "roads.csv"
    roads.write_text(
        "county,distance_km,road_type,township_km,county_road_km,expressway_km,provenance,source\n"
        f'Ludian,"{cells[0]}",mountain,"{cells[1]}","{cells[2]}",0,assumed,x\n',
        encoding="utf-8",
    )
    try:
        road = read_roads(roads, counties, {"township": 20.0, "county_road": 35.0, "expressway": 60.0})["Ludian"]  # fmt: skip
        assert math.isfinite(road.travel_time) and road.travel_time > 0
    except DataError as error:
        assert error.file.endswith("roads.csv")
    weather = folder / "weather.csv"
    rows = "".join(
        f'Ludian,{m},"{cells[3] if m == 1 else 0.01}",0,0.5,0.05,0,0.5,60,assumed,x\n'
        for m in range(1, 13)
    )
    weather.write_text(
        "county,month,cancel_probability,cancel_low,cancel_high,delay_probability,delay_low,delay_high,delay_mean_minutes,provenance,source\n"  # fmt: skip
        + rows,
        encoding="utf-8",
    )
    try:
        w = read_weather(weather, counties)[("Ludian", 1)]
        assert 0 <= w.cancel <= 0.5
    except DataError as error:
        assert error.file.endswith("weather.csv")
