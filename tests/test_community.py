"""The daily visits and the epidemic checkpoints: directions (fewer workers, more
arrivals), a checkpoint against M/M/c theory through the model's own code, invariants,
reproducibility, the command's JSON and its tables."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from simlib.community import adapters, run
from simlib.community.epidemic import returning_people, run_checkpoints, staff_on_duty
from simlib.community.inputs import Checkpoint
from simlib.community.site import Building, Site
from simlib.community.visits import Setup, make_town, simulate_visits
from simlib.inputs import load_inputs, vary
from simlib.randomness import stream
from simlib.scenario import PROJECT_ROOT, SMOKE_SCENARIO
from simlib.stats import erlang_c_wait

JSON_KEYS = (
    "grids",
    "grid_status",
    "max_to_mean_workload",
    "best_simple_cut",
    "special_visit_coverage",
    "days_to_first_visit",
    "checkpoint_wait_minutes",
    "followups_on_time_share",
    "returning_people_followed_up",
)


@pytest.fixture(scope="module")
def quarter():
    """The baseline at a quarter of its scale: 9 grids over 21 buildings, ~2,000 households."""
    return vary(load_inputs(), {"scale": 0.25})


@pytest.fixture(scope="module")
def quarter_run(quarter):
    return run(quarter, replications=2)


# --- directions ------------------------------------------------------------------------------


def test_fewer_workers_visit_fewer_special_group_members(quarter, quarter_run):
    fewer = vary(
        quarter,
        {"community.grid_members_per_grid": 1, "community.party_member_active_share": 0.25},
    )
    few = run(fewer, replications=2)
    base, less = quarter_run.runs, few.runs
    assert less["coverage_mean"].mean() < base["coverage_mean"].mean()
    assert less["coverage_lowest"].mean() < base["coverage_lowest"].mean()
    assert less["days_to_first_visit_p95"].mean() >= base["days_to_first_visit_p95"].mean()
    assert less["utilisation_mean"].mean() > base["utilisation_mean"].mean()


def _small_town(inputs, extra_arrivals: int):
    """Two grids of two buildings; 40 special-group households moved in on day 0, and
    `extra_arrivals` more households moving in each day from day 1 to 10."""
    buildings = tuple(
        Building(f"B{i + 1:02d}", "residential", "x", 90.0 * i, 0.0, 1, i + 1, 100, 0.0)
        for i in range(4)
    )
    site = Site(buildings, 100.0)
    table = pd.DataFrame({"grid": [1, 1, 2, 2], "base": ["B01", "B01", "B03", "B03"],
                          "workload": [1.0, 1.0, 1.0, 1.0]})  # fmt: skip
    staff = replace(inputs.community.staff, party_members=0, staff_duty_share=1.0)
    town = make_town(site, table, staff)
    special = pd.DataFrame({"building_index": np.arange(40) % 4, "special_members": 2,
                            "moved_in_day": 0})  # fmt: skip
    days = np.repeat(np.arange(1, 11), extra_arrivals)
    arrivals = pd.DataFrame({"building_index": np.arange(len(days)) % 4, "special_members": 0,
                             "moved_in_day": days})  # fmt: skip
    households = pd.concat([special, arrivals], ignore_index=True)
    setup = Setup(staff, inputs.community.visits, 7, 20, 24.0, 20191120, 0)
    empty = pd.DataFrame({"building_index": [], "handover": []})
    return simulate_visits(town, households, empty, setup)


def test_more_arrivals_crowd_out_special_group_visits(quarter):
    """With the same workers and seed, more households arriving a day leave less time for
    the special groups (step-8 visits due today go first) and wait longer for their visit."""
    coverage, waits = [], []
    for extra in (0, 60, 120):
        visits = _small_town(quarter, extra)
        g = visits.grid_days_table()
        coverage.append(g["special_visited"].sum() / g["special_present"].sum())
        first, _ = visits.followups()
        moved = visits.moved
        late = (first - moved)[(moved > 0)]
        waits.append(np.quantile(np.where(first[moved > 0] < 0, 99, late), 0.95) if extra else 0)
    assert coverage[0] >= coverage[1] > coverage[2]
    assert waits[2] > waits[1]


# --- a checkpoint against M/M/c --------------------------------------------------------------


def test_a_checkpoint_queues_as_erlang_c_predicts(quarter):
    """Poisson arrivals, exponential service (cv 1, no registration), c = 3 staff on duty:
    the mean wait of the model's checkpoint equals the M/M/c (Erlang C) mean wait."""
    params = replace(
        quarter.community.epidemic,
        checkpoints=(Checkpoint("K1", "test road", 1.0),),
        team=9, team_share=1.0, shifts_per_day=3,
        health_check=6.0, registration=0.0, service_cv=1.0,
    )  # fmt: skip
    servers = int(staff_on_duty(params)[0])
    assert servers == 3
    rate = 0.8 * servers / params.health_check  # arrivals a minute: utilisation 0.8
    n = 60_000
    gaps = stream(7, "test", "mmc", "arrivals").exponential(1 / rate, n)
    people = pd.DataFrame({"person_id": np.arange(n), "household_id": np.arange(n),
                           "window": 0, "arrival": np.cumsum(gaps), "checkpoint": 0})  # fmt: skip
    queue = run_checkpoints(people, params, (7, 0))
    warm = 2_000
    simulated = queue["wait"].to_numpy()[warm:].mean()
    theory = erlang_c_wait(rate, params.health_check, servers)
    assert simulated == pytest.approx(theory, rel=0.08)
    assert (queue["wait"] >= -1e-9).all()
    assert np.allclose(queue["handover"], queue["start"] + queue["service"])


# --- who comes back --------------------------------------------------------------------------


def test_more_people_away_means_a_superset_comes_back(quarter):
    moves = adapters.move_in_days(quarter, 0)
    moved = moves.set_index("household_id")["moved_in_day"]
    windows = adapters.pause_windows(quarter)
    params = quarter.community.epidemic
    few = returning_people(quarter.population.people, moved, windows, params, (1, 0))
    more = returning_people(
        quarter.population.people, moved, windows, replace(params, away_share=0.7), (1, 0)
    )
    assert set(few["person_id"]) < set(more["person_id"])
    first_window = windows[0][0]
    assert (few["arrival"] >= first_window * 1440).all()
    home = moved.reindex(few["household_id"]).to_numpy()
    assert (home >= 0).all() and (home < few["arrival"].to_numpy() // 1440).all()
    one_household = few.groupby("household_id")[["arrival", "checkpoint"]].nunique()
    assert (one_household == 1).all().all()  # a household travels together


def test_no_pause_no_returning_people(quarter):
    calm = vary(quarter, {"moving.pause_windows": []})
    result = run(calm, replications=1)
    assert len(result.checkpoint) == 0
    assert result.summary()["returning_people_followed_up"]["mean"] == 0


# --- invariants and reproducibility ----------------------------------------------------------


def test_arrival_order_puts_every_household_in_one_building_within_its_flats(quarter):
    inputs = vary(quarter, {"community.placement_rule": "arrival_order"})
    moves = adapters.move_in_days(inputs, 0)
    placed = adapters.household_buildings(inputs, inputs.community.site, moves)
    ids = inputs.population.households["household_id"]
    assert sorted(placed["household_id"]) == sorted(ids)
    units = {b.building: b.units for b in inputs.community.site.buildings}
    counts = placed["building"].value_counts()
    assert all(counts[b] <= units[b] for b in counts.index)
    # arrival order: the first building's families moved in no later than the last one's
    day = moves.set_index("household_id")["moved_in_day"]
    first = placed[placed["building"] == inputs.community.site.ids[0]]["household_id"]
    last = placed[placed["building"] == placed["building"].iloc[-1]]["household_id"]
    assert day.reindex(first).max() <= day.reindex(last).min()


def test_at_full_scale_households_live_where_the_housing_lottery_puts_them():
    from simlib import housing

    inputs = load_inputs()
    assert adapters.placement_used(inputs) == "housing_lottery"
    placed = adapters.household_buildings(inputs, inputs.community.site, pd.DataFrame())
    households, flats, _ = housing.prepare(inputs, "lottery")
    index, _, _ = housing.allocate(inputs, "lottery", households, flats)
    housed, _ = housing.joined(households, flats, index)
    drawn = dict(zip(housed["household"], housed["building"], strict=True))
    assert len(placed) == 8322 and placed["household_id"].is_unique
    assert all(
        drawn[h] == b for h, b in zip(placed["household_id"], placed["building"], strict=True)
    )
    units = {b.building: b.units for b in inputs.community.site.buildings}
    counts = placed["building"].value_counts()
    assert all(counts[b] <= units[b] for b in counts.index)
    # below full scale the lottery's buildings are spread: a random placement is used
    assert adapters.placement_used(vary(inputs, {"scale": 0.25})) == "random"


def test_the_tables_keep_their_invariants(quarter_run):
    r = quarter_run
    g = r.grid_days
    assert g["utilisation"].between(0, 1).all()
    assert (g["special_visited"] <= g["special_present"]).all()
    assert r.coverage["coverage"].between(0, 1).all()
    v = r.visits
    assert not v.duplicated(["replication", "household_id"]).any()
    done = v[v["first_visit_day"] >= 0]
    assert (done["first_visit_day"] > done["moved_in_day"]).all()
    q = r.checkpoint
    assert (q["wait"] >= -1e-9).all()
    followed = q[q["followup"].notna()]
    assert (followed["followup"] >= followed["handover"]).all()
    assert list(r.runs["replication"]) == [0, 1]
    assert len(r.buildings) == len(r.params.site) and r.buildings["grid"].nunique() == len(r.grids)


def test_the_same_seed_gives_the_same_answer(quarter, quarter_run):
    again = run(quarter, replications=2)
    pd.testing.assert_frame_equal(again.runs, quarter_run.runs)
    other = run(vary(quarter, {"seed": 7}), replications=1)
    assert not other.runs.iloc[0].equals(quarter_run.runs.iloc[0])


def test_the_summary_is_computed_from_the_runs_table(quarter_run):
    s = quarter_run.summary()
    assert s["special_visit_coverage"]["mean"] == pytest.approx(
        quarter_run.runs["coverage_mean"].mean()
    )
    followed = s["returning_people_followed_up"]
    assert followed["mean"] == pytest.approx(
        quarter_run.runs["returning_people_followed_up"].mean()
    )
    assert followed["ci95_low"] < followed["mean"] < followed["ci95_high"]
    assert followed["assumption_range"]["low"] < followed["assumption_range"]["high"]
    assert "not calibrated" in followed["basis"]


# --- the command -----------------------------------------------------------------------------


def test_the_command_prints_the_named_json_and_writes_its_tables(tmp_path):
    out = tmp_path / "tables"
    result = subprocess.run(
        [sys.executable, "-m", "simlib", "community", "--scenario", str(SMOKE_SCENARIO),
         "--replications", "2", "--json", "--out", str(out)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in JSON_KEYS:
        assert key in data
    assert set(data["best_simple_cut"]) >= {"name", "max_to_mean_workload"}
    assert set(data["special_visit_coverage"]) >= {"mean", "lowest_day"}
    assert set(data["days_to_first_visit"]) >= {"p50", "p95"}
    assert "p95" in data["checkpoint_wait_minutes"]
    assert {"mean", "ci95_low", "ci95_high"} <= set(data["returning_people_followed_up"])
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{n}.csv" for n in ("buildings", "grids", "simple_cuts",
        "grid_stages", "coverage", "grid_days", "visits", "checkpoint", "runs"))  # fmt: skip
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 2
    assert data["special_visit_coverage"]["mean"] == pytest.approx(runs["coverage_mean"].mean())


def test_the_community_notebook_is_published():
    from simlib.report import notebook_paths

    assert "08-community.ipynb" in [p.name for p in notebook_paths()]


def test_the_community_sweep_records_the_community_outputs(tmp_path):
    from simlib.sweep.store import load_results

    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        f"name: tiny\nscenario: {SMOKE_SCENARIO}\nreplications: 1\nbudget: 5\n"
        "design: {method: oat}\nparameters:\n  community.grid_members_per_grid: {}\n",
        encoding="utf-8",
    )
    out = tmp_path / "sweep"
    result = subprocess.run(
        [sys.executable, "-m", "simlib", "community", "--sweep", str(spec), "--out", str(out),
         "--workers", "1", "--json"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["points"] == summary["completed"] == 3 and summary["failed"] == 0
    table = load_results(out)
    assert {"coverage_mean", "returning_people_followed_up", "max_to_mean_workload"} <= set(
        table.columns
    )
    by_label = table.set_index("label")["coverage_mean"]
    low = by_label[[label for label in by_label.index if "→ 1" in label][0]]
    high = by_label[[label for label in by_label.index if "→ 4" in label][0]]
    assert low <= by_label["baseline (as assumed)"] <= high


def _tables(result):
    """Every table of a community result but the grid solver's timings."""
    tables = {n: t for n, t in vars(result).items() if isinstance(t, pd.DataFrame)}
    return {
        n: t.drop(columns=[c for c in t.columns if "seconds" in str(c)]) for n, t in tables.items()
    }


def test_move_in_days_read_from_the_moving_answer_are_the_ones_run_here():
    from simlib import moving
    from simlib.community.memo import forget

    inputs = load_inputs(SMOKE_SCENARIO)
    answer = moving.run(inputs, replications=2, workers=1)
    other = moving.run(vary(inputs, {"moving.weather_risk_factor": 2.0}), replications=2, workers=1)
    forget()
    alone = _tables(run(inputs, replications=2))
    for stand_in in (answer, other):  # read from the first; the second is another campaign
        forget()
        got = _tables(run(inputs, replications=2, moving=stand_in))
        for name, table in alone.items():
            pd.testing.assert_frame_equal(got[name], table, obj=name)
    days = adapters.move_in_days(inputs, 1, answer)
    forget()
    pd.testing.assert_frame_equal(days, adapters.move_in_days(inputs, 1))
    assert adapters.move_in_days(inputs, 1, other) is not None  # run here, not read
