"""The housing lottery end to end on the smoke scenario: the published list obeys every
rule (checked from allocation.csv alone), --verify confirms it and catches two families
swapped, bad input is one line and exit 2, and the community method keeps more village
neighbours while both methods give every household that asked a low floor where the
stock allows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import replace_in
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib import housing
from simlib.cli import main
from simlib.housing.demand import _transfers, assign_types, households_table
from simlib.housing.draw import NONE, match_pools
from simlib.housing.inputs import flats_table, load_housing_params
from simlib.housing.site import neighbours, site_order, walking_distances
from simlib.inputs import load_inputs
from simlib.randomness import stream
from simlib.scenario import SMOKE_SCENARIO, load_scenario

SMOKE = str(SMOKE_SCENARIO)


@pytest.fixture(scope="module")
def inputs():
    return load_inputs(SMOKE_SCENARIO)


@pytest.fixture(scope="module", params=["lottery", "community"])
def published(request, tmp_path_factory):
    """(method, folder) of a list published with `simlib lottery --out`."""
    out = tmp_path_factory.mktemp(request.param)
    argv = ["lottery", "--scenario", SMOKE, "--method", request.param, "--out", str(out)]
    assert main([*argv, "--replications", "2"]) == 0
    return request.param, out


@pytest.fixture(scope="module")
def lottery_list(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("list")
    assert main(["lottery", "--scenario", SMOKE, "--out", str(out), "--replications", "2"]) == 0
    return out / "allocation.csv"


def read_allocation(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)


# --- the published list obeys the rules ----------------------------------------------------


def test_every_rule_holds_in_the_published_list(published, inputs):
    method, out = published
    table = read_allocation(out / "allocation.csv")
    assert list(table.columns) == ["household", "village", "size", "unit_type", "building", "floor", "unit"]  # fmt: skip
    params = inputs.housing
    flats = flats_table(params).set_index("unit")
    households = inputs.population.households
    # every household appears once: at most one flat each
    assert table["household"].is_unique
    assert sorted(table["household"].astype(int)) == sorted(households["household_id"])
    housed = table[table["unit"] != ""]
    # no flat given twice, and each flat is the one the stock has at that building and floor
    assert housed["unit"].is_unique
    stock = flats.loc[housed["unit"]]
    assert (stock["building"].to_numpy() == housed["building"].to_numpy()).all()
    assert (stock["floor"].to_numpy() == housed["floor"].astype(int).to_numpy()).all()
    assert (stock["unit_type"].to_numpy() == housed["unit_type"].to_numpy()).all()
    # every unit type fits its household by the data's rule (larger_then_smaller): its own
    # type, or another one only once every flat of its own type is taken
    order = {t.unit_type: i for i, t in enumerate(params.unit_types)}
    own = housed["size"].astype(int).map(params.type_of_size)
    given = housed["unit_type"]
    taken = housed["unit_type"].value_counts()
    supply = flats["unit_type"].value_counts()
    for o, g in zip(own, given, strict=True):
        if o != g:
            assert params.shortfall_rule == "larger_then_smaller"
            assert taken.get(o, 0) == supply[o], f"{o} flats left but a household got {g}"
            if order[g] < order[o]:  # smaller only when no larger flat is left
                larger = [t for t in order if order[t] > order[o]]
                assert all(taken.get(t, 0) == supply[t] for t in larger)


def test_both_methods_give_low_floors_to_those_who_asked_where_the_stock_allows(published, inputs):
    method, out = published
    table = read_allocation(out / "allocation.csv")
    params = inputs.housing
    drew = households_table(inputs.population, params, inputs.seed)
    asked = set(drew.loc[drew["asks_low"], "household"].astype(str))
    flats = flats_table(params)
    low = flats[flats["low_floor"]].groupby("unit_type").size()
    rows = table[table["household"].isin(asked) & (table["unit"] != "")]
    on_low = rows["floor"].astype(int) <= params.low_floor_max
    for t, group in rows.groupby("unit_type"):
        assert on_low[group.index].sum() == min(len(group), low.get(t, 0)), t


def test_community_keeps_more_village_neighbours_than_the_lottery(inputs):
    lottery = housing.run(inputs, "lottery", day=False).summary()
    community = housing.run(inputs, "community", day=False).summary()
    assert community["village_cohesion"] > 2 * lottery["village_cohesion"]
    assert community["community"]["status"] == "optimal"
    assert community["community"]["max_constraint_violation"] <= 1e-6
    # the price: the building is far less a matter of chance
    assert (
        community["draw_randomness"]["building_entropy_bits"]
        < lottery["draw_randomness"]["building_entropy_bits"]
    )
    for s in (lottery, community):
        assert s["priority_low_floor_share"] == s["priority_low_floor_possible_share"]
        assert not any(s["rule_check"].values())


def test_same_seed_same_list_another_seed_another(inputs):
    a = housing.run(inputs, day=False)
    b = housing.run(inputs, day=False)
    pd.testing.assert_frame_equal(a.allocation, b.allocation)
    assert a.commitment == b.commitment
    from simlib.inputs import vary

    c = housing.run(vary(inputs, {"seed": 7}), day=False)
    assert c.commitment != a.commitment
    assert c.digests["stock"] == a.digests["stock"]


def test_json_has_the_issue_keys(capsys):
    assert main(["lottery", "--scenario", SMOKE, "--json", "--replications", "3"]) == 0
    out = capsys.readouterr()
    s = json.loads(out.out)
    for key in ("households", "units", "method", "by_type", "priority_low_floor_share",
                "village_cohesion", "lottery_day", "commitment"):  # fmt: skip
        assert key in s
    assert s["method"] == "lottery"
    assert {"type", "households", "units", "shortfall"} <= set(s["by_type"][0])
    assert sum(t["units"] for t in s["by_type"]) == s["units"]
    for key in ("hours", "rounds", "households_per_round"):
        assert {"mean", "ci95_low", "ci95_high"} <= set(s["lottery_day"][key])
    # the commitment is printed before the draw (on stderr with --json)
    assert s["commitment"] in out.err
    assert s["planned_households"] == 8489


# --- verification ---------------------------------------------------------------------------


def test_verify_confirms_an_untouched_list(published, capsys):
    method, out = published
    assert main(["lottery", "--scenario", SMOKE, "--verify", str(out / "allocation.csv")]) == 0
    assert "verified" in capsys.readouterr().out


def _swap_two_families(source: Path, target: Path) -> tuple[str, str]:
    """Swap the flats of two households of one unit type in different buildings."""
    lines = source.read_text(encoding="utf-8").splitlines()
    head = [line for line in lines if line.startswith("#")]
    table = read_allocation(source)
    for _, group in table[table["unit"] != ""].groupby("unit_type"):
        first = group.iloc[0]
        other = group[group["building"] != first["building"]]
        if len(other):
            i, j = first.name, other.index[0]
            break
    cols = ["building", "floor", "unit"]
    table.loc[[i, j], cols] = table.loc[[j, i], cols].to_numpy()
    target.write_text("\n".join(head) + "\n" + table.to_csv(index=False), encoding="utf-8")
    return table.at[i, "household"], table.at[j, "household"]


def test_verify_refuses_two_families_swapped(published, tmp_path, capsys):
    method, out = published
    a, b = _swap_two_families(out / "allocation.csv", tmp_path / "swapped.csv")
    assert main(["lottery", "--scenario", SMOKE, "--verify", str(tmp_path / "swapped.csv")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    first = min(a, b, key=int)
    assert f"household {first} " in err and "differs" in err


@pytest.mark.parametrize(
    ("damage", "argv", "words"),
    [
        (lambda t: "not a list\n", [], "not an allocation list"),
        (lambda t: t.replace("household,village", "family,village"), [], "(columns)"),
        (lambda t: t.replace("# seed: 20191120", "# seed: 20191121"), [], "another seed"),
        (lambda t: t, ["--seed", "7"], "from seed 20191120, not --seed 7"),
        (lambda t: t, ["--scenario", "BASELINE"], "another stock"),
        (lambda t: t.replace("# method: lottery", "# method: community"), [], "another seed"),
        (lambda t: t.replace("# seed: 20191120", "# seed: many"), [], "whole number"),
        (lambda t: t.replace("\n1,", "\none,", 1), [], "household[row 1]"),
    ],
)
def test_a_malformed_or_foreign_list_is_bad_input(lottery_list, tmp_path, capsys, damage, argv, words):  # fmt: skip
    path = tmp_path / "list.csv"
    path.write_text(damage(lottery_list.read_text(encoding="utf-8")), "utf-8")
    from simlib.scenario import DEFAULT_SCENARIO

    argv = [str(DEFAULT_SCENARIO) if a == "BASELINE" else a for a in argv]
    scenario = [] if "--scenario" in argv else ["--scenario", SMOKE]
    assert main(["lottery", *scenario, *argv, "--verify", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err


# --- bad input ---------------------------------------------------------------------------------


def _case(data: Path) -> Path:
    path = data / "scenarios" / "case.yaml"
    path.write_text("name: case\nscale: 0.04\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("file", "old", "new", "words"),
    [
        (
            "buildings.csv",
            "W6,6,3,6,T1 T2 / T2 T3 / T1 T3,12,12,12,0,0,0,36",
            "W6,5,3,6,T1 T2 / T2 T3 / T1 T3,10,10,10,0,0,0,30",
            "8,866",
        ),  # fmt: skip
        ("buildings.csv", "T1 T2 / T2 T3", "T1 T7 / T2 T3", "served by no rule"),
        ("unit_types.csv", "T6,six or more,6+,", "T6,six or more,,", "no rule says"),
    ],
)
def test_bad_stock_is_exit_2_with_one_line(data_copy, capsys, file, old, new, words):
    replace_in(data_copy / "housing" / file, old, new)
    assert main(["lottery", "--scenario", str(_case(data_copy)), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and words in err and file in err


def test_out_that_is_a_file_is_bad_input(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["lottery", "--scenario", SMOKE, "--out", str(blocker)]) == 2
    assert "--out" in capsys.readouterr().err


# --- pieces ----------------------------------------------------------------------------------


def test_the_shortfall_rule_moves_households_to_the_nearest_type_with_flats_left():
    short = np.array([0, 2, 0, 5])
    left = np.array([3, 0, 1, 0])
    moves = _transfers(short, left, "larger_then_smaller")
    assert moves[1, 2] == 1  # larger first: one of type 1 takes the one flat of type 2
    # then smaller, largest own type first: type 3 takes type 0's three flats, none is left
    # for type 1's second household
    assert moves[3, 0] == 3 and moves[1, 0] == 0
    assert moves.sum() == 4
    assert _transfers(short, left, "none").sum() == 0
    assert _transfers(short, left, "larger").sum() == 1


def test_who_runs_short_is_drawn_and_counted_by_type(inputs):
    hh = assign_types(
        households_table(inputs.population, inputs.housing, inputs.seed),
        inputs.housing,
        inputs.seed,
    )
    supply = flats_table(inputs.housing)["unit_type"].value_counts()
    drawn = hh["unit_type"].value_counts()
    for t, n in drawn.items():
        if t:
            assert n <= supply[t]
    assert set(hh["fit"]) <= {"own", "larger", "smaller", "none"}


@settings(max_examples=60, deadline=None)
@given(
    households=st.lists(st.integers(min_value=-1, max_value=3), min_size=1, max_size=40),
    flats=st.lists(st.integers(min_value=-1, max_value=3), min_size=1, max_size=40),
    draws=st.integers(min_value=1, max_value=4),
)
def test_a_random_matching_gives_each_household_at_most_one_flat_of_its_pool(households, flats, draws):  # fmt: skip
    h, f = np.array(households), np.array(flats)
    got = match_pools(h, f, 4, stream(1, "test"), draws)
    for row in got:
        used = row[row != NONE]
        assert len(np.unique(used)) == len(used)  # no flat twice
        assert (f[used] == h[row != NONE]).all()  # only flats of the household's pool
        for pool in range(4):
            n, m = (h == pool).sum(), (f == pool).sum()
            assert ((row != NONE) & (h == pool)).sum() == min(n, m)
        assert (row[h == NONE] == NONE).all()


def test_site_plan_helpers(inputs):
    params = load_housing_params(load_scenario())
    d = walking_distances(params)
    assert (d.to_numpy() == d.to_numpy().T).all() and (np.diag(d.to_numpy()) == 0).all()
    pairs = neighbours(params)
    assert (pairs["walking_m"] >= pairs["straight_m"] - 1e-9).all()
    assert (pairs["straight_m"] <= params.adjacency_max_m).all()
    order = site_order(params)
    assert sorted(order) == sorted(b.building for b in params.buildings)
    # consecutive buildings of the walk stand close (within a quarter: neighbours)
    steps = [d.at[a, b] for a, b in zip(order, order[1:], strict=False)]
    assert np.median(steps) <= params.adjacency_max_m
