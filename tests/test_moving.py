"""The whole campaign: conservation, reproducibility, bounds, time rules, binding resource,
the planner's plan file, bad input and the command line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import replace_in

from simlib.cli import main
from simlib.moving import load_moving_params, run_campaign, run_replications
from simlib.population import generate_population
from simlib.provenance import DataError
from simlib.scenario import PROJECT_ROOT, load_scenario


@pytest.fixture(scope="module")
def smoke_params(smoke):
    return load_moving_params(smoke)


@pytest.fixture(scope="module")
def smoke_households(smoke):
    return generate_population(smoke).households


@pytest.fixture(scope="module")
def smoke_run(smoke_params, smoke_households, smoke):
    return run_campaign(smoke_params, smoke_households, smoke.seed)


def test_conservation(smoke_run, smoke_households):
    hh = smoke_run.households
    assert len(hh) == len(smoke_households)
    assert (hh["moved_in_day"] >= 0).all()
    assert hh["household_id"].is_unique
    assert smoke_run.convoys["households"].sum() == len(hh)
    assert smoke_run.convoys["people"].sum() == smoke_households["size"].sum()
    s = smoke_run.summary()
    assert s["households_moved"] == len(smoke_households)
    assert s["people_moved"] == smoke_households["size"].sum()
    assert s["vehicles_per_household"] == pytest.approx(s["vehicle_trips"] / len(hh))
    # each household passes every step once, in order, after arriving
    steps = smoke_run.steps
    counts = steps.groupby("household_id")["step"].nunique()
    assert (counts == 8).all() and len(steps) == 8 * len(hh)
    ordered = steps.sort_values(["household_id", "order"])
    assert (ordered.groupby("household_id")["start"].diff().dropna() >= 0).all()
    assert (hh["arrival"] > hh["departure"]).all()
    assert (hh["arrival_start"] >= hh["arrival"]).all()
    assert (hh["arrival_start"] >= hh["documents_end"]).all()
    assert (hh["followup_day"] > hh["moved_in_day"]).all()
    # the plan is kept: every household on its planned day or later, never earlier
    assert (hh["departure_day"] >= hh["batch_day"]).all()
    assert smoke_run.plan.rows["households"].sum() == len(hh)


def test_same_seed_same_tables(smoke_params, smoke_households, smoke, smoke_run):
    again = run_campaign(smoke_params, smoke_households, smoke.seed)
    pd.testing.assert_frame_equal(again.households, smoke_run.households)
    pd.testing.assert_frame_equal(again.convoys, smoke_run.convoys)
    pd.testing.assert_frame_equal(again.steps, smoke_run.steps)
    other = run_campaign(smoke_params, smoke_households, smoke.seed, replication=1)
    assert not np.allclose(other.households["move_in_end"], smoke_run.households["move_in_end"])


def test_waits_non_negative_and_utilisation_bounded(smoke_run):
    assert (smoke_run.steps["wait"] >= -1e-9).all()
    u = smoke_run.utilization["utilization"]
    assert ((u >= 0) & (u <= 1)).all()
    assert (u > 0).all()


def test_registered_poor_move_first_within_county(smoke_run):
    hh = smoke_run.households
    for _, g in hh.groupby("county"):
        assert (
            g.loc[g["registered_poor"], "batch_day"].max()
            <= g.loc[~g["registered_poor"], "batch_day"].min()
        )


def test_time_rules_kept(smoke_run, smoke_params):
    """Zero violations, and the rules can be read off the tables directly."""
    p = smoke_params
    assert smoke_run.rule_violations() == {
        "night_departures": 0,
        "moved_during_pause": 0,
        "overtime_households": 0,
    }
    c = smoke_run.convoys
    clock = c["departure"] % 1440
    assert (clock >= p.gather_start).all() and (clock < p.dark).all()
    assert not c["after_dark"].any()
    for day in smoke_run.households["moved_in_day"].unique():
        assert not p.paused(int(day))


def test_overtime_is_a_scenario_choice_and_counted(smoke, smoke_households):
    """Late arrivals with few move-in teams: carried to the next morning, or overtime."""
    params = load_moving_params(smoke)
    few = {**params.resources, "settling_staff": 1, "volunteer_squads": 1}
    carry = dataclasses.replace(params, resources=few, work_end=900.0)
    over = dataclasses.replace(carry, shift_end_rule="overtime")
    a = run_campaign(carry, smoke_households, smoke.seed)
    b = run_campaign(over, smoke_households, smoke.seed)
    assert a.rule_violations()["overtime_households"] == 0
    assert a.summary()["carried_over_households"] > 0
    assert b.rule_violations()["overtime_households"] > 0
    # overtime runs on into the evening; only work still queued at midnight waits
    assert b.summary()["carried_over_households"] < a.summary()["carried_over_households"]


def test_convoys_that_cannot_arrive_before_dark_stop_overnight(smoke, smoke_households):
    params = load_moving_params(smoke)
    late = dataclasses.replace(params, dark=params.gather_start + 240.0)
    r = run_campaign(late, smoke_households, smoke.seed)
    c = r.convoys
    assert c["held_overnight"].any()
    assert not c["after_dark"].any() and not c["night_departure"].any()
    far = c[c["held_overnight"]]
    assert ((far["arrival"] // 1440) > (far["departure"] // 1440)).all()
    assert "daylight" in r.households["slip_reason"].tolist()


def test_rule_counters_catch_each_kind(smoke_run, smoke_params):
    """Each counter catches a broken rule planted in otherwise clean logs."""
    from simlib.moving.result import rule_violations

    p = smoke_params
    convoys = smoke_run.convoys.copy()
    convoys.loc[0, "departure"] = convoys.loc[0, "batch_day"] * 1440 + 60  # 01:00
    pause_day = p.day(p.pauses[0][0]) + 1
    convoys.loc[1, "departure"] = pause_day * 1440 + 500
    convoys.loc[1, "arrival"] = pause_day * 1440 + 700
    times = {k: v.copy() for k, v in smoke_run.times.items()}
    h = 5
    times["end"][h, 6] = np.floor(times["start"][h, 6] / 1440) * 1440 + p.work_end + 30
    v = rule_violations(p, convoys, smoke_run.households, times)
    assert v["night_departures"] == 1
    assert v["moved_during_pause"] == int(convoys.loc[1, "households"])
    assert v["overtime_households"] == 1


def test_smoke_is_bound_like_the_baseline(baseline, smoke):
    """Resources scale with the scenario: the smoke campaign binds where the baseline does."""

    def binding(scenario):
        params = load_moving_params(scenario)
        pop = generate_population(scenario)
        return run_replications(params, pop, seed=scenario.seed, replications=1).summary()

    full, small = binding(baseline), binding(smoke)
    assert small["binding_resource"] == full["binding_resource"]
    assert full["binding_resource"] not in ("plan",)


def test_binding_table(smoke_run):
    days = smoke_run.days()
    assert {"date", "planned", "departed", "moved", "slipped", "bound_by"} <= set(days.columns)
    assert days["planned"].sum() == days["moved"].sum() == len(smoke_run.households)
    assert set(days["bound_by"]) <= {
        "plan",
        "route",
        "fleet",
        "cadres",
        "doctors",
        "daylight",
        *(f"reception: {r}" for r in smoke_run.params.resources),
        "reception",
        "no convoy day",
    }
    assert sum(smoke_run.binding_days().values()) == (days["planned"] > 0).sum()
    assert (days.loc[days["planned"] == 0, "bound_by"] == "no convoy day").all()


def test_a_slower_route_binds_and_lengthens(smoke, smoke_households):
    params = load_moving_params(smoke)
    narrow = dataclasses.replace(params, route_vehicles=2)
    a = run_campaign(params, smoke_households, smoke.seed).summary()
    b = run_campaign(narrow, smoke_households, smoke.seed).summary()
    assert b["campaign_days"] > a["campaign_days"]
    assert b["binding_resource"] == "route"
    assert b["largest_day_households"] < a["largest_day_households"]


def test_parallel_equals_serial_and_keys(smoke, smoke_params, smoke_households):
    serial = run_replications(
        smoke_params, smoke_households, seed=smoke.seed, replications=3, workers=1
    )
    parallel = run_replications(
        smoke_params, smoke_households, seed=smoke.seed, replications=3, workers=2
    )
    assert serial.summary() == parallel.summary()
    s = serial.summary()
    keys = {
        "campaign_days",
        "households_moved",
        "people_moved",
        "registered_poor_all_in_day",
        "step_wait_minutes",
        "utilization",
        "vehicle_trips",
        "convoys_after_dark",
        "replications",
        "seed",
        "first_move_in_date",
        "last_move_in_date",
        "convoy_days",
        "largest_day_households",
        "vehicles_per_household",
        "rule_violations",
        "binding_days",
        "deadline_met_share",
    }
    assert keys <= set(s)
    assert set(s["rule_violations"]) == {
        "night_departures",
        "moved_during_pause",
        "overtime_households",
    }
    assert set(s["campaign_days"]) == {"mean", "ci95_low", "ci95_high"}
    assert s["campaign_days"]["ci95_low"] <= s["campaign_days"]["mean"]
    assert len(serial.frame()) == 3


def test_one_replication_has_no_confidence_interval(smoke, smoke_params, smoke_households):
    s = run_replications(smoke_params, smoke_households, seed=smoke.seed, replications=1).summary()
    assert s["campaign_days"]["ci95_low"] is None and s["campaign_days"]["ci95_high"] is None
    assert "one replication" in s["ci_note"]


def test_infeasible_horizon_is_reported_not_hung(smoke, smoke_households):
    params = dataclasses.replace(load_moving_params(smoke), max_campaign_days=20)
    r = run_campaign(params, smoke_households, smoke.seed)
    summary = r.summary()
    assert summary["households_not_moved"] > 0
    assert summary["households_moved"] + summary["households_not_moved"] == len(smoke_households)


def test_planner_plan_file_runs(tmp_path, smoke, smoke_params, smoke_households):
    """The generated plan, written by `simlib plan`, edited and run back."""
    out = tmp_path / "plan.csv"
    assert main(["plan", "--scenario", str(smoke.path), "--out", str(out), "--json"]) == 0
    plan = pd.read_csv(out, comment="#")
    assert plan["households"].sum() == len(smoke_households)
    # a planner moves Ludian's first convoy day one day later
    first = plan.index[plan["county"] == "Ludian"][0]
    plan.loc[first, "date"] = "2019-12-03"
    plan.to_csv(out, index=False)
    scenario = tmp_path / "mine.yaml"
    scenario.write_text(
        f"name: mine\nscale: 0.04\ndata: {PROJECT_ROOT / 'data'}\n"
        f"moving:\n  batch_plan: {out.name}\n",
        encoding="utf-8",
    )
    s = load_scenario(scenario)
    r = run_campaign(load_moving_params(s), smoke_households, s.seed)
    assert r.plan.source == str(out)
    ludian = r.households[r.households["county"] == "Ludian"]
    assert ludian["batch_day"].min() == 2
    assert r.summary()["households_moved"] == len(smoke_households)


def _plan_scenario(tmp_path: Path, rows: str) -> Path:
    plan = tmp_path / "plan.csv"
    plan.write_text("date,county,households\n" + rows, encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"name: s\nscale: 0.04\ndata: {PROJECT_ROOT / 'data'}\nmoving:\n  batch_plan: plan.csv\n",
        encoding="utf-8",
    )
    return scenario


@pytest.mark.parametrize(
    ("rows", "field", "words"),
    [
        ("2019-12-01,Atlantis,10\n", "county[row 2]", "unknown county"),
        ("2020-01-20,Ludian,10\n", "date[row 2]", "pause"),
        ("2019-10-01,Ludian,10\n", "date[row 2]", "outside the campaign"),
        ("2019-12-01,Ludian,10\n", "households[Ludian]", "the county has"),
    ],
)
def test_bad_plan_files_fail_clearly(tmp_path, smoke_households, rows, field, words):
    s = load_scenario(_plan_scenario(tmp_path, rows))
    with pytest.raises(DataError) as error:
        run_campaign(load_moving_params(s), smoke_households, s.seed)
    assert error.value.field == field and words in error.value.problem
    assert error.value.file.endswith("plan.csv")


def test_registered_poor_after_the_deadline_is_rejected(tmp_path, smoke, smoke_households):
    counts = smoke_households.groupby("county").size()
    rows = "".join(f"2020-04-{10 + i},{c},{n}\n" for i, (c, n) in enumerate(counts.items()))
    s = load_scenario(_plan_scenario(tmp_path, rows))
    with pytest.raises(DataError, match="after the deadline"):
        run_campaign(load_moving_params(s), smoke_households, s.seed)


def test_feasibility_names_first_day_and_resource(smoke, smoke_params, smoke_households):
    from simlib.moving.feasibility import check_feasibility
    from simlib.moving.plan import generate_plan

    plan = generate_plan(smoke_params, smoke_households)
    ok = check_feasibility(smoke_params, plan, smoke_households)
    assert ok.feasible and ok.resource is None
    narrow = dataclasses.replace(smoke_params, route_vehicles=3)
    bad = check_feasibility(narrow, plan, smoke_households)
    assert not bad.feasible and bad.resource == "route"
    assert bad.first_date == plan.rows.loc[bad.checks["route_load"].gt(1).idxmax(), "date"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"leased_vehicles_per_county_day": 0}, "leased_vehicles_per_county_day"),
        ({"loading_mean": -5}, "loading_mean"),
        ({"pause_windows": [["2019-11-01", "2022-01-01"]]}, "pause_windows"),
        ({"scheduling_policy": "lottery"}, "scheduling_policy"),
        ({"shift_end_rule": "sometimes"}, "shift_end_rule"),
        ({"registered_poor_deadline": "2019-11-01"}, "registered_poor_deadline"),
        ({"campaign_start": "2019-11-01"}, "campaign_start"),
        ({"pause_windows": [["2022-01-01", "2022-01-05"]]}, "pause_windows"),
        ({"max_campaign_days": 100}, "registered_poor_deadline"),
        ({"lottery_date": "2020-01-01"}, "campaign_start"),
    ],
)
def test_bad_values_fail_clearly(baseline, change, field):
    with pytest.raises(DataError) as error:
        load_moving_params(baseline.with_overrides("moving", **change))
    assert error.value.field == field


def test_deadline_before_start_says_so(baseline):
    with pytest.raises(DataError) as error:
        load_moving_params(baseline.with_overrides("moving", registered_poor_deadline="2019-11-01"))
    assert "before" in error.value.problem and "campaign_start" in error.value.problem


def test_unknown_county_in_roads(data_copy: Path):
    replace_in(data_copy / "moving" / "roads.csv", "Yanjin,170", "Atlantis,170")
    with pytest.raises(DataError) as error:
        load_moving_params(load_scenario(data_copy / "scenarios" / "smoke.yaml"))
    assert error.value.field == "county" and error.value.value == "Atlantis"


def test_negative_step_time_in_table(data_copy: Path):
    replace_in(
        data_copy / "moving" / "steps.csv",
        "before,inspection_teams,30",
        "before,inspection_teams,-30",
    )
    with pytest.raises(DataError, match="negative"):
        load_moving_params(load_scenario(data_copy / "scenarios" / "smoke.yaml"))


def test_cli_json(capsys):
    args = ["simulate", "--scenario", "data/scenarios/smoke.yaml", "--replications", "2"]
    assert main([*args, "--workers", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["replications"] == 2 and out["households_moved"] > 300
    assert 0 <= min(out["utilization"].values()) <= max(out["utilization"].values()) <= 1


def test_cli_one_replication_ci_is_null(capsys):
    args = ["simulate", "--scenario", "data/scenarios/smoke.yaml", "--replications", "1"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["campaign_days"]["ci95_low"] is None
    assert main(args) == 0
    assert "no CI: one replication" in capsys.readouterr().out


def test_cli_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"name: bad\nscale: 0.04\ndata: {PROJECT_ROOT / 'data'}\nmoving:\n"
        "  leased_vehicles_per_county_day: 0\n"
    )
    assert main(["simulate", "--scenario", str(bad), "--json"]) == 2
    assert "leased_vehicles_per_county_day" in capsys.readouterr().err


def test_the_command_line_imports_only_what_simulate_needs():
    """Building the parser and running `simulate` never import the report machinery."""
    import subprocess
    import sys

    code = (
        "import sys; from simlib.cli import build_parser; build_parser(); "
        "heavy = [m for m in ('simlib.report', 'nbformat', 'papermill', 'matplotlib', "
        "'simlib.plots', 'simlib.study', 'pulp') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    )
    assert out.stdout.strip() == "[]"


def test_cli_bad_plan_exits_2_naming_the_file(tmp_path, capsys):
    scenario = _plan_scenario(tmp_path, "2020-01-20,Ludian,10\n")
    assert main(["simulate", "--scenario", str(scenario), "--replications", "1", "--json"]) == 2
    err = capsys.readouterr().err
    assert "plan.csv" in err and "2020-01-20" in err and "pause" in err


def test_move_in_days_table(smoke_run):
    table = smoke_run.move_in_days()
    assert table["households"].sum() == len(smoke_run.households)
    assert {"wait_p50", "wait_p95", "last_in_hour", "carried_over", "overtime"} <= set(table)
    assert "settle_wait_p95" in table and (table["last_in_hour"] > 8).all()


def test_calibrated_assumptions_are_named(smoke, smoke_params):
    """The record the baseline was calibrated to is then not counted as a check."""
    from simlib.study import comparison_table

    assert smoke_params.calibrated == ("county_rest_days",)
    assert load_moving_params(smoke.with_overrides("moving", county_rest_days=5)).calibrated == ()
    pop = generate_population(smoke)
    s = run_replications(smoke_params, pop, seed=smoke.seed, replications=2).summary()
    table = comparison_table(smoke, s)
    assert "county_rest_days" in table.loc["moving campaign length (days)", "note"]
    assert (
        "not an independent check" in table.loc["all registered-poor households moved in", "note"]
    )
    assert table.loc["what binds the campaign", "model (mean)"] == s["binding_resource"]


def test_a_convoy_on_the_road_in_a_pause_is_flagged_and_counted(smoke, smoke_households):
    """A plan the generator would never make: a far county's convoy day just before the
    pause, with an early dark, so the convoy stops overnight into the pause."""
    from simlib.moving.plan import BatchPlan

    params = load_moving_params(smoke)
    p = dataclasses.replace(params, dark=params.gather_start + 300.0)
    day = p.day(p.pauses[0][0]) - 1
    rows = pd.DataFrame(
        {"date": [p.date(day).isoformat()], "day": [day], "county": ["Yongshan"], "households": [8]}
    )
    r = run_campaign(p, smoke_households, smoke.seed, plan=BatchPlan(rows, "test"))
    assert r.feasibility.resource == "pause" and r.feasibility.first_date == rows["date"][0]
    assert r.rule_violations()["moved_during_pause"] == 8
    assert r.summary()["households_moved"] == 8  # the unplanned rest never moves
