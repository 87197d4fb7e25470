"""The one place a sweep calls the models: inputs in, headline outputs out.

`evaluate_point` runs the moving campaign (its replications, serially: the sweep runs
points in parallel) and the job matching on already-loaded inputs and returns flat
numbers. Outputs are read from the models' summaries by key and defensively, so a model
that adds or renames a figure changes one line here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from simlib.inputs import Inputs

# name -> (unit, what it means); the sweep's analysis and report read these names
OUTPUTS = {
    "campaign_days": ("days", "moving campaign length, mean over replications"),
    "campaign_days_ci95": ("days", "95 % CI half-width of the campaign length (noise)"),
    "registered_poor_all_in_day": ("days", "day the last registered-poor household moves in"),
    "registered_poor_all_in_day_ci95": ("days", "95 % CI half-width of that day (noise)"),
    "registered_poor_deadline_day": ("day", "31 March 2020 counted from the campaign start"),
    "deadline_met_share": ("share", "replications with every registered-poor household in"),
    "deadline_missed": ("flag", "mean last registered-poor day after the deadline"),
    "households_not_moved": ("households", "not moved within the planning horizon"),
    "employed": ("people", "people given a job by the optimised plan"),
    "laborers": ("people", "people of working capacity"),
    "employment_rate": ("share", "employed / people of working capacity"),
    "employment_below_reported": ("flag", "employment rate below the reported 92.08 %"),
    "households_without_worker": ("households", "households with labour but no worker"),
    "matching_optimal": ("flag", "the plan is proven optimal"),
    "binding_resource": ("name", "the resource that bound the most convoy days"),
    "rule_violations": ("count", "night departures, moves during a pause, overtime households"),
    "matching_planned": ("flag", "the matching found a plan (else its outputs are NaN)"),
    "local_employed": ("people", "employed in the new town and near it"),
    "exported": ("people", "employed away (buses, other channels, self-found work)"),
    "expected_lasting_employed": ("people", "expected still employed after the lasting period"),
    "optimiser_gain_lasting": (
        "people",
        "expected lasting employment of the optimised plan less that of the best rule of thumb "
        "that keeps every hard rule (the plan's whole lasting employment if no rule keeps them)",
    ),
    "optimiser_gain_lasting_percent": ("%", "that gain as a share of the optimised plan's"),
    "optimiser_gain_households": (
        "households",
        "households the optimised plan covers that every rule of thumb leaves without a worker",
    ),
    "optimiser_matters": (
        "flag",
        "the optimiser beats the best rule by more than optimiser_matters_percent (1 %) of "
        "expected lasting employment, or keeps more households covered than any rule",
    ),
    "best_baseline": ("name", "the best rule of thumb that keeps every hard rule"),
    "local_places_per_household": ("places", "local places per household with labour"),
    "willing_and_able_share": ("share", "laborers willing and able to work away / laborers"),
    "export_demand_per_mobile": (
        "places",
        "export demand per laborer willing and able to work away (below 1: seats are scarce)",
    ),
    "care_keepers": ("people", "laborers able to go whom the care rule keeps home"),
    "export_demand_unfilled": ("places", "export demand left empty"),
}


def _mean(value: Any) -> float:
    """A figure that is a number or a {mean, ci95_low, ci95_high} mapping, as a float."""
    if isinstance(value, Mapping):
        value = value.get("mean")
    return math.nan if value is None else float(value)


def _half_width(value: Any) -> float:
    if isinstance(value, Mapping) and value.get("ci95_high") is not None:
        return (float(value["ci95_high"]) - float(value["ci95_low"])) / 2
    return math.nan


def run_moving(inputs: Inputs, replications: int, seed: int) -> dict[str, Any]:
    """`Replications.summary()` of the moving campaign on these inputs (no file read; the
    replications run serially, since the sweep runs its points in parallel)."""
    from simlib.moving import run_replications

    return run_replications(
        inputs.moving, inputs.population, seed=seed, replications=replications, workers=1
    ).summary()


def run_matching(inputs: Inputs, seed: int) -> dict[str, Any] | None:
    """`MatchResult.summary()` of the job matching on these inputs (no file read), or None
    when the matching ends without a plan (the point's matching outputs are then NaN)."""
    from simlib.matching import MatchFailed, match_jobs

    try:
        result = match_jobs(inputs.jobs, inputs.population, seed=seed)
    except MatchFailed:
        return None
    return result.summary()


def headline(moving: Mapping[str, Any], matching: Mapping[str, Any] | None) -> dict[str, Any]:
    """The flat headline outputs (see OUTPUTS) from the two models' summaries (`matching`
    None: the matching found no plan)."""
    poor = moving.get("registered_poor_all_in_day")
    deadline_day = moving.get("registered_poor_deadline_day")
    planned = matching is not None
    matching = matching or {}
    rate = matching.get("employment_rate")
    reported = matching.get("reported_rate")
    violations = moving.get("rule_violations") or {}
    return {
        "campaign_days": _mean(moving.get("campaign_days")),
        "campaign_days_ci95": _half_width(moving.get("campaign_days")),
        "registered_poor_all_in_day": _mean(poor),
        "registered_poor_all_in_day_ci95": _half_width(poor),
        "registered_poor_deadline_day": _mean(deadline_day),
        "deadline_met_share": _mean(moving.get("deadline_met_share")),
        "deadline_missed": bool(
            deadline_day is not None and poor is not None and _mean(poor) > _mean(deadline_day)
        ),
        "households_not_moved": _mean(moving.get("households_not_moved")),
        "binding_resource": str(moving.get("binding_resource", "")),
        "rule_violations": float(sum(_mean(v) for v in violations.values())),
        "matching_planned": planned,
        "employed": _mean(matching.get("employed")),
        "laborers": _mean(matching.get("laborers")),
        "employment_rate": _mean(rate),
        "employment_below_reported": bool(
            rate is not None and reported is not None and float(rate) < float(reported)
        ),
        "households_without_worker": _mean(matching.get("households_without_worker")),
        "local_employed": _mean(matching.get("local_employed")),
        "exported": _mean(matching.get("exported")),
        "expected_lasting_employed": _mean(matching.get("expected_lasting_employed")),
        "matching_optimal": bool(matching.get("optimal", False)),
        **optimiser_outputs(matching),
    }


def optimiser_outputs(matching: Mapping[str, Any]) -> dict[str, Any]:
    """What the optimiser adds over the strongest rule of thumb, and the quantities a
    planner reads the answer by (local places per household, who can go), from a
    `MatchResult.summary()` (empty: NaN)."""
    if not matching:
        nan = math.nan
        return {k: nan for k in OPTIMISER_KEYS} | {"optimiser_matters": False, "best_baseline": ""}
    best = matching.get("best_baseline")
    lasting = float(matching["expected_lasting_employed"])
    gain = lasting - (best["expected_lasting_employed"] if best else 0.0)
    rules = matching.get("baselines", {}).values()
    fewest = min((b["households_without_worker"] for b in rules), default=math.nan)
    anatomy = matching["employment_anatomy"]
    percent = 100.0 * gain / lasting if lasting else 0.0
    households = fewest - matching["households_without_worker"]
    threshold = (matching.get("gain_over_best_baseline") or {}).get("threshold_percent", 1.0)
    return {
        "optimiser_gain_lasting": gain,
        "optimiser_gain_lasting_percent": percent,
        "optimiser_gain_households": households,
        "optimiser_matters": bool(best is None or percent > threshold or households > 0),
        "best_baseline": best["name"] if best else "",
        "local_places_per_household": anatomy["local_places"]
        / max(matching["households_with_laborers"], 1),
        "willing_and_able_share": anatomy["willing_and_able_to_go"] / max(anatomy["laborers"], 1),
        "export_demand_per_mobile": anatomy["export_demand"]
        / max(anatomy["willing_and_able_to_go"], 1),
        "care_keepers": float(anatomy["care_keepers"]),
        "export_demand_unfilled": float(anatomy["export_demand_unfilled"]),
    }


OPTIMISER_KEYS = (
    "optimiser_gain_lasting",
    "optimiser_gain_lasting_percent",
    "optimiser_gain_households",
    "local_places_per_household",
    "willing_and_able_share",
    "export_demand_per_mobile",
    "care_keepers",
    "export_demand_unfilled",
)


def evaluate_point(inputs: Inputs, replications: int, seed: int) -> dict[str, Any]:
    """Headline outputs of both models for one point of a sweep."""
    return headline(run_moving(inputs, replications, seed), run_matching(inputs, seed))
