"""The whole campaign: conservation, reproducibility, bounds, monotonicity, bad input."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import replace_in

from simlib.cli import main
from simlib.moving import run_campaign, run_replications, simulate_campaign
from simlib.moving_inputs import load_moving_params
from simlib.population import generate_population
from simlib.provenance import DataError
from simlib.scenario import PROJECT_ROOT, load_scenario


@pytest.fixture(scope="module")
def smoke_run(smoke):
    return simulate_campaign(smoke)


@pytest.fixture(scope="module")
def smoke_households(smoke):
    return generate_population(smoke).households


def test_conservation(smoke_run, smoke_households):
    hh = smoke_run.households
    assert len(hh) == len(smoke_households)
    assert (hh["batch_day"] >= 0).all()
    assert hh["household_id"].is_unique
    assert smoke_run.convoys["households"].sum() == len(hh)
    assert smoke_run.convoys["people"].sum() == smoke_households["size"].sum()
    s = smoke_run.summary()
    assert s["households_moved"] == len(smoke_households)
    assert s["people_moved"] == smoke_households["size"].sum()
    # each household passes every step once, in order, after arriving
    steps = smoke_run.steps
    counts = steps.groupby("household_id")["step"].nunique()
    assert (counts == 8).all() and len(steps) == 8 * len(hh)
    ordered = steps.sort_values(["household_id", "order"])
    after = ordered[ordered["order"] >= 4]
    assert (after.groupby("household_id")["start"].diff().dropna() >= 0).all()
    assert (hh["arrival"] > hh["departure"]).all()
    assert (hh["arrival_start"] >= hh["arrival"]).all()
    assert (hh["arrival_start"] >= hh["documents_end"]).all()
    assert (hh["followup_day"] > hh["moved_in_day"]).all()


def test_same_seed_same_tables(smoke, smoke_run):
    again = simulate_campaign(smoke)
    pd.testing.assert_frame_equal(again.households, smoke_run.households)
    pd.testing.assert_frame_equal(again.convoys, smoke_run.convoys)
    pd.testing.assert_frame_equal(again.steps, smoke_run.steps)
    other = simulate_campaign(smoke, replication=1)
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


def test_parallel_equals_serial(smoke):
    serial = run_replications(smoke, 3, workers=1).summary()
    parallel = run_replications(smoke, 3, workers=2).summary()
    assert serial == parallel
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
    }
    assert keys <= set(serial)
    assert set(serial["campaign_days"]) == {"mean", "ci95_low", "ci95_high"}


def test_more_volunteers_never_longer(smoke, smoke_households):
    params = load_moving_params(smoke)

    def mean_days(squads):
        p = dataclasses.replace(params, resources={**params.resources, "volunteer_squads": squads})
        runs = [run_campaign(p, smoke_households, smoke.seed, r) for r in range(4)]
        return np.mean([r.campaign_days() for r in runs]), np.mean(
            [r.step_waits().set_index("step").loc["guide", "p95"] for r in runs]
        )

    few_days, few_wait = mean_days(1)
    many_days, many_wait = mean_days(params.resources["volunteer_squads"])
    assert many_days <= few_days
    assert many_wait < few_wait  # one squad is a real bottleneck for the guide step


def test_policies_all_move_everyone(smoke, smoke_households):
    for policy in ("round_robin", "county_waves", "daily_quota"):
        s = smoke.with_overrides("moving", scheduling_policy=policy)
        r = simulate_campaign(s, households=smoke_households)
        assert r.summary()["households_moved"] == len(smoke_households)


def test_infeasible_horizon_is_reported_not_hung(smoke, smoke_households):
    s = smoke.with_overrides("moving", max_campaign_days=10)
    r = simulate_campaign(s, households=smoke_households)
    summary = r.summary()
    assert summary["households_not_moved"] > 0
    assert summary["households_moved"] + summary["households_not_moved"] == len(smoke_households)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trucks_per_county": 0}, "trucks_per_county"),
        ({"loading_mean": -5}, "loading_mean"),
        ({"pause_windows": [["2019-11-01", "2022-01-01"]]}, "pause_windows"),
        ({"county_batch_max": 500}, "county_batch_max"),
        ({"scheduling_policy": "lottery"}, "scheduling_policy"),
    ],
)
def test_bad_values_fail_clearly(baseline, change, field):
    with pytest.raises(DataError) as error:
        load_moving_params(baseline.with_overrides("moving", **change))
    assert error.value.field == field


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
    assert (
        main(
            [
                "simulate",
                "--scenario",
                "data/scenarios/smoke.yaml",
                "--replications",
                "2",
                "--workers",
                "1",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["replications"] == 2 and out["households_moved"] > 300
    assert 0 <= min(out["utilization"].values()) <= max(out["utilization"].values()) <= 1


def test_cli_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"name: bad\nscale: 0.04\ndata: {PROJECT_ROOT / 'data'}\nmoving:\n  trucks_per_county: 0\n"
    )
    assert main(["simulate", "--scenario", str(bad), "--json"]) == 2
    assert "trucks_per_county" in capsys.readouterr().err
