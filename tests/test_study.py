"""The summary tables: model columns come from the runs passed in, reported ones from data/."""

from __future__ import annotations

import pytest

from simlib.moving import run_replications
from simlib.study import (
    PROGRAMME_KEYS,
    assumption_effects,
    comparison_table,
    effects_text,
    headline_text,
    reported_figures,
)


@pytest.fixture(scope="module")
def moving(smoke):
    from simlib.moving import load_moving_params
    from simlib.population import generate_population

    return run_replications(
        load_moving_params(smoke),
        generate_population(smoke),
        seed=smoke.seed,
        replications=2,
        workers=1,
    ).summary()


def test_reported_figures_come_from_data(smoke):
    rep = reported_figures(smoke)
    assert int(rep.loc["employed_two_months", "value"]) == 17016
    assert rep.loc["registered_poor_deadline", "value"] == "2020-03-31"


def test_comparison_shows_the_run_not_fixed_numbers(smoke, moving):
    fake = dict(moving, campaign_days={"mean": 321.0, "ci95_low": 300.0, "ci95_high": 345.0})
    matching = {
        "employed": 1234,
        "employment_rate": 0.5,
        "exported": 99,
        "by_programme": {"public_welfare": {"assigned": 17}, "labour_export": {"assigned": 99}},
    }
    table = comparison_table(smoke, fake, matching, PROGRAMME_KEYS)
    model = table["model (mean)"]
    assert model["moving campaign length (days)"] == "321 days"
    assert table.loc["moving campaign length (days)", "model 95 % CI"] == "95 % CI 300-345"
    assert model["people employed"] == "1,234"
    assert model["employment rate (%)"] == "50.00 %"
    # capacities the model is given are shown as inputs, never compared with themselves
    assert model["public-welfare posts (公益岗位)"] == "input (a capacity), not a check"
    assert model["labour export by return-to-work bus (转移就业)"].startswith("input")
    assert model["people exported, all channels (model output)"] == "99"
    assert table.loc["people employed", "reported"] == "17,016"
    assert table.loc["people employed", "reported at this scale"] == f"{17016 * smoke.scale:,.0f}"


def test_without_matching_the_rows_say_so(smoke, moving):
    table = comparison_table(smoke, moving)
    assert table.loc["people employed", "model (mean)"] == "not run"


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    """A one-at-a-time sweep on the smoke scenario, run here (no Dask) for speed."""
    import yaml

    from simlib.scenario import SMOKE_SCENARIO
    from simlib.sweep import load_spec, run_points_here

    path = tmp_path_factory.mktemp("sweep") / "small.yaml"
    spec = {
        "name": "small",
        "scenario": str(SMOKE_SCENARIO),
        "replications": 2,
        "parameters": {"jobs.labour_export_factor": {"levels": [0.5]}},
        "overlays": [{"moving.pause_windows": []}],
    }
    path.write_text(yaml.safe_dump(spec))
    table = run_points_here(load_spec(path))
    return table.assign(status="ok")


def test_assumption_effects_are_differences_with_the_same_random_numbers(small_sweep):
    effects = assumption_effects(small_sweep)
    assert effects["change"].iloc[0].startswith("baseline")
    by = effects.set_index("change")
    export = by.loc["labour_export_factor 1 → 0.5"]
    assert export["campaign_days_delta"] == 0  # common random numbers: no noise
    assert export["employment_rate_delta"] < 0
    no_pause = by.loc["pause_windows 18 Jan 2020-08 Feb 2020 → none"]
    assert no_pause["campaign_days_delta"] < 0
    assert no_pause["employment_rate_delta"] == 0
    text = effects_text(effects)
    assert "pause_windows" in text and "No effect on the moving campaign: labour_export" in text


def test_headline_ranges_over_the_assumptions_beside_the_noise(moving, small_sweep):
    from simlib.study import uncertainty_table

    matching = {"employment_rate": 0.9, "households_without_worker": 3}
    table = uncertainty_table(moving, matching, small_sweep)
    row = table.loc["moving campaign (days)"]
    low, high = small_sweep["campaign_days"].min(), small_sweep["campaign_days"].max()
    assert row["range over the assumptions"] == f"{low:.0f} – {high:.0f}"
    assert row["lowest when"].startswith("pause_windows")
    assert row["noise (95 % CI over replications)"].startswith("95 % CI ")
    assert table.loc["employment rate (%)", "lowest when"].startswith("labour_export_factor")


def test_headline_states_the_deadline_verdict(moving):
    text = headline_text(moving)
    assert f"{moving['campaign_days']['mean']:.0f} days" in text
    assert "deadline" in text


def test_the_jobs_what_ifs_are_points_of_the_assumptions_sweep(smoke):
    """The what-ifs the job-matching tables show are the sweep's jobs points, not a list
    typed in code: each former hand-written change is among them."""
    from simlib.study import jobs_what_ifs

    changes = [c for _, c in jobs_what_ifs(smoke)]
    assert all(k.startswith("jobs.") for c in changes for k in c)
    for expected in (
        {"jobs.labour_export_factor": 0.5},
        {"jobs.labour_export_factor": 1.5},
        {"jobs.vegetable_workers_per_greenhouse": 2.0},
        {"jobs.carer_new_town_only": False},
        {"jobs.care_duty_away_penalty": 0.05},
        {"jobs.fairness_floor": 0.8},
    ):
        assert expected in changes
    assert any("jobs.closed_employers" in c for c in changes)


def test_matching_effects_resolve_each_what_if_on_the_same_people(smoke):
    from simlib.study import BASELINE_ROW, jobs_what_ifs, matching_effects

    table = matching_effects(smoke)
    labels = [label for label, _ in jobs_what_ifs(smoke)]
    assert list(table.index) == [BASELINE_ROW, *labels]
    assert table.loc[BASELINE_ROW, "change in employed"] == 0
    half = next(
        label for label, c in jobs_what_ifs(smoke) if c == {"jobs.labour_export_factor": 0.5}
    )
    assert table.loc[half, "exported"] < table.loc[BASELINE_ROW, "exported"]
