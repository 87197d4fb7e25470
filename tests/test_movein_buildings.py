"""The move-in day tied to the housing allocation: each family goes to its own building,
stairwell and floor, queues at its building's unloading bays and stairwell (SimPy
resources), carries its belongings as far as its floor; the plan may call households
building by building; the check at mean times and the simulation agree."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moving_checks import assert_check_agrees_with_simulation, calm, plan_of

from simlib import housing
from simlib.cli import main
from simlib.inputs import load_inputs, vary
from simlib.moving import make_plan, run, run_campaign
from simlib.moving.homes import carry_minutes, make_homes
from simlib.moving.plan import county_queues
from simlib.provenance import DataError
from simlib.scenario import SMOKE_SCENARIO

AMPLE_TEAMS = {"unloading_bays": 200, "volunteer_squads": 200, "settling_staff": 200}
AMPLE_ROAD = {"leased_vehicles": 400, "coaches": 100, "drivers": 400, "route_vehicles": 400, "police_officers": 200, "police_cars": 100, "cadres": 200, "doctors": 100, "loading_crews": 200}  # fmt: skip


@pytest.fixture(scope="module")
def smoke_inputs():
    return load_inputs(SMOKE_SCENARIO)


@pytest.fixture(scope="module")
def fifth():
    """A fifth of the full scale: 13 buildings, about 1,660 households."""
    return load_inputs(SMOKE_SCENARIO).scenario.with_scale(0.2)


def ample(params):
    """Everything ample but the buildings: the road and the move-in teams."""
    return dataclasses.replace(params, **AMPLE_ROAD, resources={**params.resources, **AMPLE_TEAMS})


def homes_at(households: pd.DataFrame, flats: list[tuple[str, int, int]], buildings: pd.DataFrame):
    """Homes giving household i the flat flats[i] = (building, stairwell, floor)."""
    housed = pd.DataFrame(
        {
            "household": households["household_id"].to_numpy()[: len(flats)],
            "building": [f[0] for f in flats],
            "stairwell": [f[1] for f in flats],
            "floor": [f[2] for f in flats],
        }
    )
    housed["unit"] = [f"{b}-{s}-{f:02d}{i:02d}" for i, (b, s, f) in enumerate(flats)]
    return make_homes("test", ("test",), housed, housed.assign(household=housed["household"]), buildings)  # fmt: skip


def walkups(names: list[str]) -> pd.DataFrame:
    """Walk-ups of 6 floors, 3 stairwells and 3 unloading bays each."""
    return pd.DataFrame(
        {
            "building": names,
            "floors": 6,
            "stairwells": 3,
            "access": "stairs",
            "lifts": 0,
            "unloading_bays": 3,
        }
    )


def one_day(params, households, county: str, n: int):
    """A plan moving n of a county's households on day 0 (nobody else)."""
    return run_campaign(params, households, 1, plan=plan_of(params, [(0, county, n)]))


# --- the queues at the buildings ------------------------------------------------------------


def test_a_day_that_fills_one_building_queues_there_and_one_spread_out_does_not(smoke_inputs):
    """Forty families of one convoy day: all up one stairwell of one walk-up, they wait at
    its three bays and at the stairwell, and are in their flats later; the same families
    one to a building never wait at a building."""
    hh = smoke_inputs.population.households
    county = "Ludian"
    mine = hh[hh["county"] == county]
    order = county_queues(mine, smoke_inputs.moving)[county]
    day = mine.iloc[order[:40]].reset_index(drop=True)
    floors = [1 + i % 6 for i in range(40)]
    one = homes_at(day, [("W01", 1, f) for f in floors], walkups(["W01"]))
    names = [f"W{i + 1:02d}" for i in range(40)]
    many = homes_at(day, [(names[i], 1, f) for i, f in enumerate(floors)], walkups(names))
    base = ample(calm(smoke_inputs.moving))
    results = {}
    for label, homes in (("one", one), ("many", many)):
        p = dataclasses.replace(base, homes=homes)
        results[label] = one_day(p, day, county, 40)
    packed, spread = results["one"].households, results["many"].households
    assert (packed["building"] == "W01").all() and spread["building"].nunique() == 40
    assert packed["building_bays_wait"].sum() > 0 and packed["stairwells_wait"].sum() > 0
    assert spread["building_bays_wait"].sum() == 0 and spread["stairwells_wait"].sum() == 0

    def to_flat(t):  # minutes from arrival to in the flat
        return (t["moved_in"] - t["arrival"]).mean()

    assert to_flat(packed) > to_flat(spread) + 10
    waits = results["one"].step_waits().set_index("step")
    assert waits.loc["arrival", "at_building_p95"] > 0 and waits.loc["move_in", "at_building_p95"] > 0  # fmt: skip
    assert results["one"].days.iloc[0]["buildings"] == 1
    assert results["many"].days.iloc[0]["buildings"] == 40
    table = results["one"].building_waits()
    assert list(table["building"]) == ["W01"] and table.iloc[0]["households"] == 40


def test_a_walk_ups_top_floor_takes_longer_than_its_ground_floor(smoke_inputs):
    """At mean times, one family to a stairwell: the top floor of a walk-up takes the
    carry of five flights longer than the ground floor; a lift's top floor, the lift."""
    hh = smoke_inputs.population.households
    day = hh[hh["county"] == "Ludian"].iloc[:4].reset_index(drop=True)
    buildings = pd.concat([walkups(["W01"]), pd.DataFrame([{"building": "H01", "floors": 18, "stairwells": 3, "access": "lift", "lifts": 6, "unloading_bays": 3}])])  # fmt: skip
    homes = homes_at(day, [("W01", 1, 1), ("W01", 2, 6), ("H01", 1, 1), ("H01", 2, 18)], buildings)  # fmt: skip
    p = dataclasses.replace(ample(calm(smoke_inputs.moving)), homes=homes)
    r = one_day(p, day, "Ludian", 4).households.set_index("unit")
    took = r["move_in_end"] - r["move_in_start"]
    ground, top, lift_ground, lift_top = (took.iloc[i] for i in range(4))
    assert top - ground == pytest.approx(5 * p.carry_minutes_per_floor)
    assert lift_top - lift_ground == pytest.approx(p.lift_minutes + 17 * p.lift_minutes_per_floor)
    assert list(r["access"]) == ["stairs", "stairs", "lift", "lift"]
    assert r["carry_minutes"].iloc[0] == 0 and r["stairwells_wait"].sum() == 0


def test_the_tie_in_keeps_the_mean_move_in_time(smoke_inputs):
    """With `move_in_includes_carry`, the carrying step's mean over the families is the
    steps.csv time; without it the carry comes on top."""
    p = calm(smoke_inputs.moving)
    hh = smoke_inputs.population.households
    for includes, extra in ((True, 0.0), (False, None)):
        q = dataclasses.replace(p, move_in_includes_carry=includes)
        r = run_campaign(q, hh, 1)
        moved = r.moved
        took = (moved["move_in_end"] - moved["move_in_start"]).mean()
        homes = q.homes.households
        average = carry_minutes(q, homes["floor"], homes["lifts"]).mean()
        expected = 60.0 if extra == 0.0 else 60.0 + average
        assert took == pytest.approx(expected, rel=1e-9), includes
        assert average > 5  # the smoke stock is three high-rises: most carry by lift


# --- the allocation, drawn once ---------------------------------------------------------------


def test_every_family_moves_into_the_flat_the_allocation_gave_it(smoke_inputs):
    result = run(smoke_inputs, replications=2, workers=1)
    allocation = housing.run(smoke_inputs, day=False).households.set_index("household")
    moved = result.households[result.households["moved_in_day"] >= 0]
    assert len(moved) == 2 * len(smoke_inputs.population.households)
    given_flat = allocation.loc[moved["household_id"], ["building", "stairwell", "floor", "unit"]]
    for column in ("building", "stairwell", "floor", "unit"):
        assert (moved[column].to_numpy() == given_flat[column].to_numpy()).all(), column
    assert (smoke_inputs.moving.homes.households["flat"] == "allocated").all()
    summary = result.summary()
    assert summary["building_waits"]["tied"] and summary["building_waits"]["allocation"] == "lottery"  # fmt: skip
    assert summary["building_waits"]["busiest_building"]["building"] in set(allocation["building"])


def test_the_allocation_is_drawn_once_and_kept_by_variants(smoke_inputs, monkeypatch):
    import simlib.housing as housing_module

    drawn = []
    real = housing_module.allocation
    monkeypatch.setattr(housing_module, "allocation", lambda *a, **k: drawn.append(1) or real(*a, **k))  # fmt: skip
    variant = vary(smoke_inputs, {"moving.county_rest_days": 8, "moving.call_order": "building"})
    assert variant.moving.homes is smoke_inputs.moving.homes and drawn == []
    again = load_inputs(SMOKE_SCENARIO)
    assert len(drawn) == 1
    pd.testing.assert_frame_equal(again.moving.homes.households, smoke_inputs.moving.homes.households)  # fmt: skip
    other = vary(smoke_inputs, {"seed": 7})
    assert other.moving.homes.key != smoke_inputs.moving.homes.key
    off = vary(smoke_inputs, {"moving.movein_buildings": False})
    assert off.moving.homes is None
    community = vary(smoke_inputs, {"housing.allocation_method": "community"})
    assert community.moving.homes.method == "community"


def test_same_seed_same_result(smoke_inputs):
    p, hh = smoke_inputs.moving, smoke_inputs.population.households
    a = run_campaign(p, hh, smoke_inputs.seed).households
    b = run_campaign(p, hh, smoke_inputs.seed).households
    pd.testing.assert_frame_equal(a, b)
    assert a["building_bays_wait"].sum() > 0  # the smoke day's families do meet at the bays


def test_without_the_tie_in_the_move_in_day_is_as_before(smoke_inputs):
    """`movein_buildings: false`: no building, no wait there, the steps' own times."""
    off = vary(smoke_inputs, {"moving.movein_buildings": False})
    r = run_campaign(off.moving, off.population.households, off.seed)
    hh = r.households
    assert (hh["building"] == "").all() and (hh["floor"] == -1).all()
    assert hh["building_bays_wait"].sum() == 0 and hh["stairwells_wait"].sum() == 0
    assert hh["carry_minutes"].isna().all()
    assert r.days["buildings"].eq(0).all()
    untied = dataclasses.replace(smoke_inputs.moving, homes=None)
    again = run_campaign(untied, off.population.households, off.seed).households
    pd.testing.assert_frame_equal(hh, again)


@pytest.mark.parametrize("scale", [0.0125, 0.02])
def test_every_scale_gives_every_family_a_building(smoke_inputs, scale):
    """At the smallest scale the stock is one building; at 2 % its 140 flats are fewer
    than the 166 households: the rest share flats, and every family has a building."""
    inputs = load_inputs(smoke_inputs.scenario.with_scale(scale))
    homes = inputs.moving.homes.households
    flats = sum(b.units for b in inputs.housing.buildings)
    assert len(homes) == len(inputs.population.households)
    assert (homes["building"] != "").all() and (homes["bay"] >= 0).all() and (homes["stair"] >= 0).all()  # fmt: skip
    assert (homes["flat"] == "allocated").sum() == min(flats, len(homes))
    r = run(inputs, replications=1, workers=1)
    assert (r.households["building"] != "").all()


# --- the call order ---------------------------------------------------------------------------


def test_calling_by_building_fills_fewer_buildings_and_queues_there(fifth):
    """The same plan, its households called by registration or building by building: by
    building a convoy day fills fewer buildings, its families wait longer at them, and
    its last family is in later."""
    inputs = load_inputs(fifth)
    plan = make_plan(inputs.moving, inputs.population.households)
    by = {}
    for order in ("registration", "building"):
        v = vary(inputs, {"moving.call_order": order})
        by[order] = run(v, replications=2, workers=1, plan=plan)
    reg, bld = (by[k].days_summary() for k in ("registration", "building"))
    assert bld["buildings"].mean() < 0.6 * reg["buildings"].mean()
    assert bld["building_wait_mean"].mean() > 3 * reg["building_wait_mean"].mean()
    assert bld["finish_hour"].mean() > reg["finish_hour"].mean()
    waits = {k: by[k].summary()["building_waits"] for k in by}
    assert waits["building"]["building_bays"]["p95"] > waits["registration"]["building_bays"]["p95"]  # fmt: skip
    assert waits["building"]["call_order"] == "building"


def test_the_building_order_calls_a_county_building_by_building(smoke_inputs):
    v = vary(smoke_inputs, {"moving.call_order": "building", "moving.registered_poor_first": False})  # fmt: skip
    hh = v.population.households
    homes = v.moving.homes.households.set_index("household_id")
    for county, queue in county_queues(hh, v.moving).items():
        bays = homes.loc[hh["household_id"].to_numpy()[queue], "bay"].to_numpy()
        assert (np.diff(bays) >= 0).all(), county


# --- the check at mean times agrees with the simulation ---------------------------------------


@given(
    days=st.lists(
        st.tuples(
            st.integers(0, 40),
            st.sampled_from(["Ludian", "Qiaojia", "Yongshan", "Yiliang", "Yanjin"]),
            st.integers(5, 60),
        ),  # fmt: skip
        min_size=1,
        max_size=5,
    ),
    order=st.sampled_from(["registration", "building"]),
    teams=st.integers(1, 6),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
def test_the_check_and_the_simulation_agree_at_the_buildings(smoke_inputs, days, order, teams):
    """Random plans with the move-in day tied to the buildings: the check at mean times
    and the simulation at mean times send and move in as many households each day, and
    keep the same days."""
    base = calm(vary(smoke_inputs, {"moving.call_order": order}).moving)
    p = dataclasses.replace(base, resources={**base.resources, "unloading_bays": teams, "volunteer_squads": 2 * teams})  # fmt: skip
    assert_check_agrees_with_simulation(p, smoke_inputs.population.households, days)


# --- the command line and bad input -----------------------------------------------------------


def test_simulate_json_reports_the_buildings(capsys):
    assert main(["simulate", "--scenario", str(SMOKE_SCENARIO), "--replications", "2", "--json"]) == 0  # fmt: skip
    s = json.loads(capsys.readouterr().out)
    b = s["building_waits"]
    assert b["tied"] and set(b) >= {"building_bays", "stairwells", "busiest_building"}
    assert {"buildings", "building_wait_mean"} <= set(s["days"][0])
    assert {"campaign_days", "deadline_met_share", "days", "step_wait_minutes"} <= set(s)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"moving.call_order": "by_floor"}, "call_order"),
        ({"moving.lift_minutes": -1.0}, "lift_minutes"),
        ({"moving.squads_per_stairwell": 0}, "squads_per_stairwell"),
        ({"housing.allocation_method": "raffle"}, "allocation_method"),
    ],
)
def test_bad_tie_in_values_are_refused(smoke_inputs, change, field):
    with pytest.raises(DataError) as error:
        vary(smoke_inputs, change)
    assert field in str(error.value)


def test_a_facility_the_steps_do_not_know_is_refused(data_copy):
    from conftest import replace_in

    from simlib.moving import load_moving_params
    from simlib.scenario import load_scenario

    replace_in(data_copy / "moving" / "steps.csv", "volunteer_squads,stairwells", "volunteer_squads,lifts_only")  # fmt: skip
    with pytest.raises(DataError) as error:
        load_moving_params(load_scenario(data_copy / "scenarios" / "smoke.yaml"))
    assert "facility[move_in]" in str(error.value)
