"""Every input of a run, loaded once: the scenario, its population, the moving, the jobs,
the housing, the community and the timeline parameters, and the seed.

`load_inputs` is the entry point: it reads data/ (through each domain's own loader, which
validates) and builds the synthetic population. A variant is a copy made by `vary`, with
changes keyed "domain.parameter" (or "seed", "scale"); it re-validates only the domains that
changed and rebuilds the population only when a population input, the seed or the scale
changes, so one-at-a-time changes of moving or jobs assumptions share the same families.
Nothing below this module reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from simlib.community.inputs import CommunityParams, load_community_params
from simlib.housing.inputs import HousingParams, load_housing_params
from simlib.jobs_inputs import JobsParams, load_jobs_params
from simlib.moving import MovingParams, load_moving_params
from simlib.population import Population, generate_population
from simlib.provenance import DataError
from simlib.scenario import Scenario, load_scenario
from simlib.timeline.inputs import TimelineParams, load_timeline_params

TOP_LEVEL = ("seed", "scale")
STRUCTURED = {"moving": ("pause_windows",)}  # values a domain loader parses itself


@dataclass(frozen=True)
class Inputs:
    """One run's inputs. `seed` is the scenario's seed, from which the population is drawn."""

    scenario: Scenario
    population: Population
    moving: MovingParams
    jobs: JobsParams
    seed: int
    housing: HousingParams
    community: CommunityParams
    timeline: TimelineParams  # the employment timeline's (data/timeline)


def load_inputs(
    scenario: Scenario | str | Path | None = None, *, seed: int | None = None
) -> Inputs:
    """Load a scenario (a Scenario or a path; default: the baseline) and everything it names."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, seed=seed)
    else:
        scenario = scenario.with_seed(seed)
    housing = load_housing_params(scenario)
    jobs = load_jobs_params(scenario)
    return Inputs(
        scenario=scenario,
        population=generate_population(scenario),
        moving=load_moving_params(scenario),
        jobs=jobs,
        seed=scenario.seed,
        housing=housing,
        community=load_community_params(scenario, housing),
        timeline=load_timeline_params(scenario, jobs.employers),
    )


def split_key(key: str, scenario: Scenario, where: str | Path | None = None) -> tuple[str, str]:
    """("domain", "parameter") of a change key, checked against data/ (DataError if unknown)."""
    where = where or scenario.path
    if key in TOP_LEVEL:
        return "", key
    domain, dot, name = str(key).partition(".")
    domains = sorted(p.parent.name for p in scenario.data_dir.glob("*/parameters.csv"))
    if not dot or domain not in domains:
        raise DataError(
            where, str(key), None, f"unknown parameter; write domain.parameter, domain in {domains}"
        )
    known = scenario.parameters(domain)
    if name not in known:
        raise DataError(where, str(key), None, f"unknown parameter; {domain} has {sorted(known)}")
    return domain, name


def vary(inputs: Inputs, changes: Mapping[str, Any], where: str | Path | None = None) -> Inputs:
    """A copy of `inputs` with `changes` ({"moving.leased_vehicles_per_county_day": 150, "seed": 7, ...}).

    Each changed domain is re-loaded through its loader (so a bad value fails with a
    DataError naming the parameter); unchanged parts are shared with `inputs`, the
    population included unless a population input, the seed or the scale changed.
    """
    if not changes:
        return inputs
    scenario = inputs.scenario
    by_domain: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for key, value in changes.items():
        domain, name = split_key(key, scenario, where)
        if domain:
            by_domain.setdefault(domain, {})[name] = value
        else:
            top[name] = value
    for domain, values in by_domain.items():
        scenario = scenario.with_overrides(domain, **values)
    if "seed" in top:
        scenario = scenario.with_seed(top["seed"])
    if "scale" in top:
        scenario = scenario.with_scale(top["scale"], where)
    everything = bool(top)  # seed or scale: every domain depends on them
    try:
        loaded = _reload(inputs, scenario, set(by_domain), everything)
    except DataError as error:
        if where is None:
            raise
        raise DataError(where, error.field, error.value, error.problem) from None
    return replace(inputs, scenario=scenario, seed=scenario.seed, **loaded)


def _reload(inputs: Inputs, scenario: Scenario, changed: set[str], everything: bool) -> dict:
    """The domains a change touches, loaded again; the others shared with `inputs`."""
    population = (
        generate_population(scenario)
        if everything or "population" in changed
        else inputs.population
    )
    moving = (
        load_moving_params(scenario)
        if everything or "moving" in changed or "population" in changed
        else inputs.moving
    )
    jobs = load_jobs_params(scenario) if everything or "jobs" in changed else inputs.jobs
    housing = (
        load_housing_params(scenario) if everything or "housing" in changed else inputs.housing
    )
    community = (
        load_community_params(scenario, housing)
        if everything or "community" in changed or "housing" in changed
        else inputs.community
    )
    timeline = (
        load_timeline_params(scenario, jobs.employers)
        if everything or {"jobs", "timeline"} & changed
        else inputs.timeline
    )
    return {"population": population, "moving": moving, "jobs": jobs, "housing": housing,
            "community": community, "timeline": timeline}  # fmt: skip


def scenario_value(scenario: Scenario, key: str) -> Any:
    """The value a change key has in a scenario (its override, else data/'s value)."""
    domain, name = split_key(key, scenario)
    if not domain:
        return getattr(scenario, name)
    return scenario.values(domain, structured=STRUCTURED.get(domain, ()))[name]
