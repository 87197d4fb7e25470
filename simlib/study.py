"""What the notebooks call: the study's runs (the job matching and its what-ifs, the
assumptions sweep, the timeline) and, as thin wrappers kept for the notebooks' calls, the
tables and sentences that `simlib.present` words (`present.summary`, `present.moving`,
`present.jobs`, `present.timeline`).

Nothing here is hard-coded from a model run or from the record: the model columns come
from the summaries passed in, the reported figures from data/reported_figures.csv (through
`simlib.present.headlines`), and the assumption effects from the one-at-a-time sweep
(data/sweeps/assumptions.yaml) with common random numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from simlib.present.moving import (  # noqa: F401  (the notebooks' names, worded once there)
    convoys_by_county,
    feasibility_text,
    followup_delay,
    move_in_text,
    moving_headlines,
    plan_by_county,
)
from simlib.present.summary import effects_table, effects_text  # noqa: F401
from simlib.provenance import RunFailed
from simlib.scenario import Scenario


def reported_figures(scenario: Scenario) -> pd.DataFrame:
    """data/reported_figures.csv of the scenario's data folder, indexed by key."""
    path = scenario.data_dir / "reported_figures.csv"
    return pd.read_csv(path, comment="#", dtype={"value": str}).set_index("key")


# --- which assumptions matter -----------------------------------------------------------


ASSUMPTIONS_SWEEP = "assumptions"  # data/sweeps/assumptions.yaml: one at a time + what-ifs


def assumptions_sweep(
    scenario: Scenario, seed: int | None = None, workers: int | None = None
) -> pd.DataFrame:
    """The one-at-a-time sweep (data/sweeps/assumptions.yaml) around `scenario`, one row per
    point: run on Dask, or read from results/sweeps/ if it already ran with this code."""
    from simlib.sweep.runner import run_on_scenario

    run = run_on_scenario(ASSUMPTIONS_SWEEP, scenario, seed=seed, workers=workers)
    if run.failed:
        failures = "; ".join(f"{f['label']}: {f['error']}" for f in run.failures)
        raise RunFailed(f"the assumptions sweep had failed points: {failures}")
    return run.table


def comparison_table(
    scenario: Scenario,
    moving: Mapping[str, Any],
    matching: Mapping[str, Any] | None = None,
    programme_keys: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The reported figures next to the model's (`simlib.present.summary.comparison_table`;
    `programme_keys` is accepted for callers and not used)."""
    from simlib.present import summary

    return summary.comparison_table(scenario.data_dir, scenario.scale, moving, matching)


def headline_text(moving: Mapping[str, Any], matching: Mapping[str, Any] | None = None) -> str:
    """The headline answers as Markdown (`simlib.present.summary.headline_text`)."""
    from simlib.present import summary

    return summary.headline_text(moving, matching_text(matching) if matching else None)


def assumption_effects(sweep: pd.DataFrame) -> pd.DataFrame:
    """One row per change of the one-at-a-time sweep, the baseline first
    (`simlib.present.summary.assumption_effects`)."""
    from simlib.present import summary
    from simlib.sweep.design import BASELINE_LABEL

    return summary.assumption_effects(sweep, BASELINE_LABEL)


def uncertainty_table(
    moving: Mapping[str, Any], matching: Mapping[str, Any] | None, sweep: pd.DataFrame
) -> pd.DataFrame:
    """Each headline answer's noise next to its range over the assumptions
    (`simlib.present.summary.uncertainty_table`)."""
    from simlib.present import summary
    from simlib.sweep.analysis import ranges

    outputs = ["campaign_days", "registered_poor_all_in_day"]
    if matching is not None:
        outputs += ["employment_rate", "households_without_worker"]
    return summary.uncertainty_table(moving, matching, ranges(sweep, tuple(outputs)))


# --- tables for the job-matching reports ----------------------------------------------------

PROGRAMME_KEYS = {
    "public_welfare_posts": "public_welfare",
    "export_workers_by_bus": "labour_export",
}  # kept for callers; these figures are capacities, shown as inputs, not compared


def run_matching(
    scenario: Scenario,
    solver: str = "cbc",
    seed: int | None = None,
    population=None,
    marginal: bool = False,
):
    """The job matching of a scenario through the one loader (simlib.inputs), the
    population reused when given (the reports' one call)."""
    from simlib import matching
    from simlib.inputs import load_inputs

    inputs = load_inputs(scenario, seed=seed, population=population is None)
    if population is not None:
        inputs = replace(inputs, population=population)
    return matching.run(inputs, solver=solver, marginal=marginal)


def matching_baselines(matching: Mapping[str, Any]) -> pd.DataFrame:
    """The optimised plan next to every rule of thumb (`simlib.present.jobs`)."""
    from simlib.present.jobs import baselines_table

    return baselines_table(matching)


BASELINE_ROW = "baseline (as assumed)"


def jobs_what_ifs(
    scenario: Scenario, seed: int | None = None, sweep: str = ASSUMPTIONS_SWEEP
) -> list[tuple[str, dict[str, Any]]]:
    """The what-ifs of the job matching, as (label, changes): the points of
    data/sweeps/<sweep>.yaml that change job-matching assumptions only (its one-at-a-time
    range ends and its overlays), labelled by the sweep's design."""
    from simlib.sweep import design_points, load_spec

    # the full design's points, whatever the scenario asks of its sweeps (`sweep_design`)
    spec = load_spec(f"{sweep}.yaml").on_scenario(scenario, seed=seed, design="full")
    return [
        (point.label, dict(point.changes))
        for point in design_points(spec)
        if point.changes and all(key.startswith("jobs.") for key in point.changes)
    ]


def _effect_row(label: str, inputs, solver: str) -> dict[str, Any]:
    """One what-if's matching (the optimised plan alone, no rules of thumb) as a row."""
    from simlib import matching

    row: dict[str, Any] = {"assumption changed": label}
    try:
        s = matching.run(inputs, solver=solver, baselines=False).summary()
    except matching.MatchFailed as failure:
        return row | {"solver status": f"no plan ({failure.status})"}
    return row | {
        "employed": s["employed"],
        "local": s["local_employed"],
        "exported": s["exported"],
        "expected lasting employment": round(s["expected_lasting_employed"], 1),
        "households without a worker": s["households_without_worker"],
        "solver status": s["status"],
    }


def matching_effects(
    scenario: Scenario,
    solver: str = "cbc",
    seed: int | None = None,
    sweep: str = ASSUMPTIONS_SWEEP,
) -> pd.DataFrame:
    """Re-solve the job matching with one assumption changed at a time (same people): the
    job-matching points of the assumptions sweep (`jobs_what_ifs`), the matching alone."""
    from simlib.inputs import load_inputs, vary

    inputs = load_inputs(scenario, seed=seed)
    what_ifs = [(BASELINE_ROW, {}), *jobs_what_ifs(inputs.scenario, inputs.seed, sweep)]
    rows = [_effect_row(label, vary(inputs, changes), solver) for label, changes in what_ifs]
    table = pd.DataFrame(rows).set_index("assumption changed")
    table.insert(1, "change in employed", table["employed"] - table["employed"].iloc[0])
    return table


def matching_text(matching: Mapping[str, Any]) -> str:
    """The job-matching headline as Markdown bullets (`simlib.present.jobs`)."""
    from simlib.present.jobs import matching_text as text

    return text(matching)


# --- the employment timeline ------------------------------------------------------------------


def timeline_table(timeline: Mapping[str, Any]) -> pd.DataFrame:
    """The timeline's headline figures (`simlib.present.timeline`)."""
    from simlib.present.timeline import timeline_table as table

    return table(timeline)


def timeline_text(timeline: Mapping[str, Any]) -> str:
    """The timeline's headline as Markdown bullets (`simlib.present.timeline`)."""
    from simlib.present.timeline import timeline_text_md

    return timeline_text_md(timeline)


def timeline_summary(
    scenario: Scenario, replications: int, solver: str = "cbc", seed: int | None = None
) -> dict[str, Any]:
    """`TimelineResult.summary()` of the scenario (the summary report's timeline section)."""
    from simlib import timeline
    from simlib.inputs import load_inputs

    inputs = load_inputs(scenario.with_seed(seed))
    return timeline.run(inputs, replications=replications, solver=solver).summary()
