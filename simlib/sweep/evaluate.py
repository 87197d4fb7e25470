"""The one place a sweep calls the models: inputs in, headline outputs out.

`evaluate_point` runs the moving campaign (its replications, serially: the sweep runs
points in parallel) and the job matching on already-loaded inputs and returns flat
numbers. Each output is declared once, as the EMA Workbench declares a ScalarOutcome: a
name, a unit, a label and the function that reads it from the two models' summaries. The
functions read the summaries' keys directly: a model that renames a figure fails the point
with the missing key named, instead of recording NaN. A point whose matching finds no plan
is a failed point whose error says why (`MatchFailed`), not a row of NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simlib.inputs import Inputs
from simlib.sweep.memo import SummaryStore, kept_summary, summary_key

Summary = Mapping[str, Any]


@dataclass(frozen=True)
class Outcome:
    """One headline output of a point: `extract(moving, matching)` reads it from the moving
    campaign's `MovingResult.summary()` and the matching's `MatchResult.summary()`."""

    name: str
    unit: str
    label: str
    extract: Callable[[Summary, Summary], Any]


def _half_width(figure: Mapping[str, Any]) -> float:
    """Half the 95 % CI of a {mean, ci95_low, ci95_high} figure (NaN with one replication)."""
    if figure["ci95_high"] is None:
        return math.nan
    return (float(figure["ci95_high"]) - float(figure["ci95_low"])) / 2


def _deadline_missed(m: Summary, _: Summary) -> bool:
    return float(m["registered_poor_all_in_day"]["mean"]) > float(m["registered_poor_deadline_day"])


OUTCOMES = (
    Outcome("campaign_days", "days", "moving campaign length, mean over replications",
            lambda m, j: float(m["campaign_days"]["mean"])),
    Outcome("campaign_days_ci95", "days", "95 % CI half-width of the campaign length (noise)",
            lambda m, j: _half_width(m["campaign_days"])),
    Outcome("registered_poor_all_in_day", "days", "day the last registered-poor household moves in",
            lambda m, j: float(m["registered_poor_all_in_day"]["mean"])),
    Outcome("registered_poor_all_in_day_ci95", "days", "95 % CI half-width of that day (noise)",
            lambda m, j: _half_width(m["registered_poor_all_in_day"])),
    Outcome("registered_poor_deadline_day", "day", "the registered-poor deadline counted from the campaign start",
            lambda m, j: float(m["registered_poor_deadline_day"])),
    Outcome("deadline_met_share", "share", "replications with every registered-poor household in",
            lambda m, j: float(m["deadline_met_share"])),
    Outcome("deadline_missed", "flag", "mean last registered-poor day after the deadline",
            _deadline_missed),
    Outcome("households_not_moved", "households", "not moved within the planning horizon",
            lambda m, j: float(m["households_not_moved"])),
    Outcome("binding_resource", "name", "the resource that bound the most convoy days",
            lambda m, j: str(m["binding_resource"])),
    Outcome("rule_violations", "count", "night departures, moves during a pause, overtime households",
            lambda m, j: float(sum(m["rule_violations"].values()))),
    Outcome("plan_kept_share", "share", "households in their flat on their planned day",
            lambda m, j: float(m["plan_kept_share"])),
    Outcome("left_behind_households", "households", "left behind for a later convoy day",
            lambda m, j: float(m["left_behind_households"])),
    Outcome("employed", "people", "people given a job by the optimised plan",
            lambda m, j: float(j["employed"])),
    Outcome("laborers", "people", "people of working capacity",
            lambda m, j: float(j["laborers"])),
    Outcome("employment_rate", "share", "employed / people of working capacity",
            lambda m, j: float(j["employment_rate"])),
    Outcome("employment_below_reported", "flag", "employment rate below the reported rate (data/reported_figures.csv)",
            lambda m, j: bool(float(j["employment_rate"]) < float(j["reported_rate"]))),
    Outcome("households_without_worker", "households", "households with labour but no worker",
            lambda m, j: float(j["households_without_worker"])),
    Outcome("matching_optimal", "flag", "the plan is proven optimal",
            lambda m, j: bool(j["optimal"])),
    Outcome("local_employed", "people", "employed in the new town and near it",
            lambda m, j: float(j["local_employed"])),
    Outcome("exported", "people", "employed away (buses, other channels, self-found work)",
            lambda m, j: float(j["exported"])),
    Outcome("expected_lasting_employed", "people", "expected still employed after the lasting period",
            lambda m, j: float(j["expected_lasting_employed"])),
    # what the optimiser adds over the strongest rule of thumb, and what a planner reads it by
    Outcome("optimiser_gain_lasting", "people",
            "expected lasting employment of the optimised plan less that of the best rule of "
            "thumb that keeps every hard rule (all of it if no rule keeps them)",
            lambda m, j: _gain(j)),
    Outcome("optimiser_gain_lasting_percent", "%", "that gain as a share of the optimised plan's",
            lambda m, j: _gain_percent(j)),
    Outcome("optimiser_gain_households", "households",
            "households the optimised plan covers that every rule of thumb leaves without a worker",
            lambda m, j: _gain_households(j)),
    Outcome("optimiser_matters", "flag",
            "the optimiser beats the best rule by more than optimiser_matters_percent (1 %) of "
            "expected lasting employment, or keeps more households covered than any rule",
            lambda m, j: _matters(j)),
    Outcome("best_baseline", "name", "the best rule of thumb that keeps every hard rule",
            lambda m, j: j["best_baseline"]["name"] if j["best_baseline"] else ""),
    Outcome("local_places_per_household", "places", "local places per household with labour",
            lambda m, j: j["employment_anatomy"]["local_places"]
            / max(j["households_with_laborers"], 1)),
    Outcome("willing_and_able_share", "share", "laborers willing and able to work away / laborers",
            lambda m, j: j["employment_anatomy"]["willing_and_able_to_go"]
            / max(j["laborers"], 1)),
    Outcome("export_demand_per_mobile", "places",
            "export demand per laborer willing and able to work away (below 1: seats are scarce)",
            lambda m, j: j["employment_anatomy"]["export_demand"]
            / max(j["employment_anatomy"]["willing_and_able_to_go"], 1)),
    Outcome("care_keepers", "people", "laborers able to go whom the care rule keeps home",
            lambda m, j: float(j["employment_anatomy"]["care_keepers"])),
    Outcome("export_demand_unfilled", "places", "export demand left empty",
            lambda m, j: float(j["employment_anatomy"]["export_demand_unfilled"])),
)  # fmt: skip
OUTPUTS = {o.name: o for o in OUTCOMES}  # by name: the analysis and the report read these
OPTIMISER = tuple(o.name for o in OUTCOMES[OUTCOMES.index(OUTPUTS["optimiser_gain_lasting"]) :])


def _gain(j: Summary) -> float:
    best = j["best_baseline"]
    return float(j["expected_lasting_employed"]) - (
        best["expected_lasting_employed"] if best else 0.0
    )


def _gain_percent(j: Summary) -> float:
    lasting = float(j["expected_lasting_employed"])
    return 100.0 * _gain(j) / lasting if lasting else 0.0


def _gain_households(j: Summary) -> float:
    fewest = min(b["households_without_worker"] for b in j["baselines"].values())
    return float(fewest - j["households_without_worker"])


def _matters(j: Summary) -> bool:
    gain = j["gain_over_best_baseline"]
    threshold = gain["threshold_percent"] if gain else 1.0
    return bool(
        j["best_baseline"] is None or _gain_percent(j) > threshold or _gain_households(j) > 0
    )


def moving_summary(inputs: Inputs, replications: int, seed: int) -> Summary:
    """`MovingResult.summary()` of the moving campaign on these inputs (no file read; the
    replications run serially, since the sweep runs its points in parallel). The plan's
    feasibility check and the follow-up visits are left out (`lean`): no outcome reads
    them."""
    from simlib.moving import run_replications

    return run_replications(
        inputs.moving,
        inputs.population,
        seed=seed,
        replications=replications,
        workers=1,
        lean=True,
    ).summary()


def matching_summary(inputs: Inputs, seed: int) -> Summary:
    """`MatchResult.summary()` of the job matching on these inputs (no file read); raises
    `MatchFailed` (a RunFailed: the point fails, with the reason) when it finds no plan."""
    from simlib.matching import match_jobs

    return match_jobs(inputs.jobs, inputs.population, seed=seed).summary()  # rules included


def headline(moving: Summary, matching: Summary) -> dict[str, Any]:
    """Every declared output (OUTCOMES) from the two models' summaries."""
    return {o.name: o.extract(moving, matching) for o in OUTCOMES}


def evaluate_point(inputs: Inputs, replications: int, seed: int) -> dict[str, Any]:
    """Headline outputs of both models for one point of a sweep."""
    return headline(moving_summary(inputs, replications, seed), matching_summary(inputs, seed))


@dataclass(frozen=True)
class Memoised:
    """`evaluate_point` with each model's summary kept in `folder` (simlib.sweep.memo) and
    reused by any point, worker or sweep whose inputs that model reads are the same: a
    point that changes only a jobs assumption runs no moving campaign, and the other way
    round. The moving campaign reads the population's households table alone
    (`run_replications`), so a change of who is willing to work away keeps it too. Its
    outputs are those `evaluate_point` gives."""

    folder: Path

    def __call__(self, inputs: Inputs, replications: int, seed: int) -> dict[str, Any]:
        store, population = SummaryStore(self.folder), inputs.population
        moving = kept_summary(
            store,
            "moving",
            lambda: summary_key(
                "moving", inputs.moving, population.households, seed=seed, replications=replications
            ),
            lambda: moving_summary(inputs, replications, seed),
        )
        matching = kept_summary(
            store,
            "matching",
            lambda: summary_key("matching", inputs.jobs, population, seed=seed),
            lambda: matching_summary(inputs, seed),
        )
        return headline(moving, matching)
