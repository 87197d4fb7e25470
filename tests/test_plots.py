"""Every figure: a title, labelled axes with units, the colour-blind-safe palette, report width,
and a PNG that a notebook shows once."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from simlib import plots
from simlib.moving import load_moving_params, run_campaign
from simlib.population import generate_population
from simlib.study import matching_baselines, run_matching

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def campaign(smoke):
    households = generate_population(smoke).households
    return run_campaign(load_moving_params(smoke), households, smoke.seed)


@pytest.fixture(scope="module")
def jobs(smoke):
    return run_matching(smoke, marginal=True)


@pytest.fixture(scope="module")
def figures(smoke, campaign, jobs):
    from simlib.study import assumption_effects

    population = generate_population(smoke)
    progress = campaign.daily_progress()
    sweep = pd.DataFrame(
        {
            "label": ["baseline (as assumed)", "a test change"],
            "campaign_days": [126.0, 130.0],
            "registered_poor_all_in_day": [117.0, 120.0],
            "deadline_met_share": [1.0, 0.0],
            "employment_rate": [0.94, 0.93],
            "households_without_worker": [0.0, 2.0],
        }
    )
    effects = assumption_effects(sweep)
    return {
        "household_sizes": plots.household_sizes(population.households),
        "age_pyramid": plots.age_pyramid(population.people),
        "households_per_day": plots.households_per_day(progress),
        "cumulative_progress": plots.cumulative_progress(progress, [progress]),
        "convoy_gantt": plots.convoy_gantt(campaign.convoy_timeline(), campaign.params.dark),
        "step_waits": plots.step_waits(campaign.step_waits()),
        "utilisation": plots.utilisation(campaign.utilization),
        "binding_days": plots.binding_days(campaign.days),
        "assumption_effects": plots.assumption_effects(effects),
        "employment_by_programme_county": plots.employment_by_programme_county(jobs.flows()),
        "county_programme_flows": plots.county_programme_flows(jobs.flows()),
        "wage_distribution": plots.wage_distribution(jobs.assignments),
        "marginal_value": plots.marginal_value(jobs.by_programme(), jobs.marginal["care_place"]),
        "stay_or_go": plots.stay_or_go(jobs.by_status()),
        "baseline_comparison": plots.baseline_comparison(matching_baselines(jobs.summary())),
    }


def test_every_figure_is_labelled_and_report_sized(figures):
    for name, fig in figures.items():
        ax = fig.axes[0]
        assert ax.get_title(), name
        assert ax.get_xlabel() and ax.get_ylabel(), name
        assert fig.get_figwidth() <= plots.WIDTH, name
        assert fig._repr_png_().startswith(PNG), name


def test_figures_stay_out_of_pyplot(figures):
    # a notebook shows each figure once (as the cell's value), never again at cell end
    assert plt.get_fignums() == []


def test_units_are_on_the_axes(figures):
    labels = {n: f.axes[0].get_xlabel() + " " + f.axes[0].get_ylabel() for n, f in figures.items()}
    assert "(minutes)" in labels["step_waits"]
    assert "(%)" in labels["utilisation"]
    assert "(h)" in labels["convoy_gantt"]
    assert "yuan per month" in labels["wage_distribution"]
    assert "(days" in labels["assumption_effects"]


def test_counties_keep_one_colour_from_the_palette(figures, campaign):
    c = plots.colours(list(campaign.households["county"].unique()))
    assert set(c.values()) <= set(plots.OKABE_ITO)
    assert len(set(c.values())) == len(c)
    bars = figures["households_per_day"].axes[0].containers
    for container in bars:
        colour = to_hex(container.patches[0].get_facecolor())
        assert colour.lower() == c[container.get_label()].lower()


def test_wages_leave_out_the_unemployed(jobs):
    fig = plots.wage_distribution(jobs.assignments)
    counts = sum(p.get_height() for p in fig.axes[0].patches)
    assert counts == (jobs.assignments["employer"] != "").sum()
