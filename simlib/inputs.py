"""Every input of a run, loaded once: the scenario, its population, the moving, the jobs,
the housing, the community and the timeline parameters, and the seed.

`load_inputs` is the entry point: it reads data/ (through each domain's own loader, which
validates) and builds the synthetic population. A variant is a copy made by `vary`, with
changes keyed "domain.parameter" (or "seed", "scale"); it re-validates only the domains that
changed and rebuilds the population only when a population input, the seed or the scale
changes, so one-at-a-time changes of moving or jobs assumptions share the same families.
The moving parameters carry the housing allocation the move-in day goes to
(`simlib.moving.homes.tie`): drawn once, whenever Inputs with a population are made, and
kept by a variant whose population, housing and seed are the same.
Nothing below this module reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simlib.jobs_inputs import JobsParams, load_jobs_params
from simlib.population import Population, generate_population, load_population_params
from simlib.provenance import DataError
from simlib.scenario import Scenario, load_scenario

if TYPE_CHECKING:  # imported where loaded: a command that uses no moving, housing,
    # community or timeline parameters does not import those packages (not a cycle)
    from simlib.community.inputs import CommunityParams
    from simlib.housing.inputs import HousingParams
    from simlib.moving import MovingParams
    from simlib.timeline.inputs import TimelineParams


# The domain loaders, each imported when first used (see the TYPE_CHECKING note above).


def load_moving_params(scenario: Scenario) -> MovingParams:
    from simlib.moving import load_moving_params as load

    return load(scenario)


def _tied(inputs: Inputs, moving: MovingParams) -> MovingParams:
    """`moving` with the move-in day's homes: the housing allocation of the inputs'
    population, drawn once (`simlib.moving.homes.tie`)."""
    from simlib.moving.homes import tie

    return tie(inputs, moving)


def load_housing_params(scenario: Scenario) -> HousingParams:
    from simlib.housing.inputs import load_housing_params as load

    return load(scenario)


def load_community_params(scenario: Scenario, housing: HousingParams) -> CommunityParams:
    from simlib.community.inputs import load_community_params as load

    return load(scenario, housing)


def load_timeline_params(scenario: Scenario, employers) -> TimelineParams:
    from simlib.timeline.inputs import load_timeline_params as load

    return load(scenario, employers)


TOP_LEVEL = ("seed", "scale")
STRUCTURED = {"moving": ("pause_windows",)}  # values a domain loader parses itself


DOMAINS = ("moving", "jobs", "housing", "community", "timeline")  # parameters an Inputs holds


class _Later:
    """A domain's parameters not loaded yet: loaded from the Inputs' scenario on first use."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<loaded on first use>"

    def __reduce__(self) -> str:
        return "LATER"  # unpickled as this module's one LATER, so `is LATER` still holds


LATER = _Later()


@dataclass(frozen=True)
class Inputs:
    """One run's inputs. `seed` is the scenario's seed, from which the population is drawn.
    `population` is None only when a caller builds it apart (a sweep, on its workers).

    A domain left out of `load_inputs(domains=...)` is loaded, through its own loader, the
    first time it is read, and kept: a short command (`simlib match`) reads only what it
    uses, and every domain reads the same as if it had been loaded at once."""

    scenario: Scenario
    population: Population | None
    moving: MovingParams
    jobs: JobsParams
    seed: int
    housing: HousingParams
    community: CommunityParams
    timeline: TimelineParams  # the employment timeline's (data/timeline)

    def __post_init__(self) -> None:
        # a copy made with moving parameters already loaded (a variant, a sweep's worker
        # given its population): the homes are drawn again only if what they were drawn
        # from changed (see `_tied`); not yet loaded, the loader ties them
        moving = object.__getattribute__(self, "moving")
        if moving is not LATER:
            object.__setattr__(self, "moving", _tied(self, moving))

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if value is LATER:
            value = _LOADERS[name](self)
            object.__setattr__(self, name, value)  # frozen to callers; filled in once here
        return value


_LOADERS = {
    "moving": lambda i: _tied(i, load_moving_params(i.scenario)),
    "jobs": lambda i: load_jobs_params(i.scenario),
    "housing": lambda i: load_housing_params(i.scenario),
    "community": lambda i: load_community_params(i.scenario, i.housing),
    "timeline": lambda i: load_timeline_params(i.scenario, i.jobs.employers),
}


def read_scenario(path: str | Path | None = None, *, seed: int | None = None) -> Scenario:
    """The scenario file alone (default: the baseline), for a caller that varies it before
    loading the rest (a sweep's specification, the report build): the one reader of
    scenario files outside simlib.scenario."""
    return load_scenario(path, seed=seed)


def load_inputs(
    scenario: Scenario | str | Path | None = None,
    *,
    seed: int | None = None,
    population: bool = True,
    domains: tuple[str, ...] = DOMAINS,
) -> Inputs:
    """Load a scenario (a Scenario or a path; default: the baseline) and everything it names.
    With `population=False` the population is left out (None) and only its parameters are
    checked: a sweep builds populations on its workers (`population_of`). Only `domains`
    are loaded (and checked) now; the others on first use."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, seed=seed)
    else:
        scenario = scenario.with_seed(seed)
    if not population:
        load_population_params(scenario)
    unknown = sorted(set(domains) - set(DOMAINS))
    if unknown:
        raise ValueError(f"unknown domains {unknown}; known: {DOMAINS}")
    inputs = Inputs(
        scenario=scenario,
        population=population_of(scenario) if population else None,
        seed=scenario.seed,
        **dict.fromkeys(DOMAINS, LATER),
    )
    for domain in DOMAINS:
        if domain in domains:
            getattr(inputs, domain)  # loaded and checked now, in dependency order
    return inputs


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


def population_of(scenario: Scenario) -> Population:
    """The synthetic population of a scenario, for a caller that builds it apart from the
    other inputs (a sweep's worker)."""
    return generate_population(scenario)


def vary(
    inputs: Inputs,
    changes: Mapping[str, Any],
    where: str | Path | None = None,
    *,
    population: bool = True,
) -> Inputs:
    """A copy of `inputs` with `changes` ({"moving.leased_vehicles_per_county_day": 150, "seed": 7, ...}).

    Each changed domain is re-loaded through its loader (so a bad value fails with a
    DataError naming the parameter); unchanged parts are shared with `inputs`, the
    population included unless a population input, the seed or the scale changed. With
    `population=False` a population that would be rebuilt is left out (None) and only its
    parameters are checked.
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
        parts = _reload(inputs, scenario, set(by_domain) | ({"*"} if everything else set()))
    except DataError as error:
        if where is None:
            raise
        raise DataError(where, error.field, error.value, error.problem) from None
    if parts.pop("rebuild_population"):
        parts["population"] = population_of(scenario) if population else None
    return replace(inputs, scenario=scenario, seed=scenario.seed, **parts)


def _reload(inputs: Inputs, scenario: Scenario, changed: set[str]) -> dict[str, Any]:
    """The parts of `inputs` that depend on the `changed` domains ("*": all of them), loaded
    again from `scenario`; the others shared. The population is only flagged (its
    parameters checked): building it is the caller's choice."""

    def hit(*domains: str) -> bool:
        return "*" in changed or bool(changed & set(domains))

    if hit("population"):
        load_population_params(scenario)
    housing = load_housing_params(scenario) if hit("housing") else inputs.housing
    jobs = load_jobs_params(scenario) if hit("jobs") else inputs.jobs
    moving = inputs.moving
    if hit("moving", "population"):  # the homes stay when what they were drawn from does
        kept = inputs.moving.homes if not hit("population", "housing") else None
        moving = replace(load_moving_params(scenario), homes=kept)
    return {
        "rebuild_population": hit("population"),
        "moving": moving,
        "jobs": jobs,
        "housing": housing,
        "timeline": (
            load_timeline_params(scenario, jobs.employers)
            if hit("jobs", "timeline")
            else inputs.timeline
        ),
        "community": (
            load_community_params(scenario, housing)
            if hit("community", "housing")
            else inputs.community
        ),
    }


def check_changes(scenario: Scenario, changes: Mapping[str, Any]) -> None:
    """Check changes keyed "domain.parameter" through their domains' loaders, drawing no
    population and loading no other domain (a sweep checks every level this way before
    anything runs). The population, moving and jobs parameters go through their loaders;
    another domain's values are parsed and range-checked by the scenario."""
    domains = set()
    for key, value in changes.items():
        domain, name = split_key(key, scenario)
        scenario = scenario.with_overrides(domain, **{name: value})
        domains.add(domain)
    loaders = {
        "population": load_population_params,
        "moving": load_moving_params,
        "jobs": load_jobs_params,
    }
    for domain in sorted(domains):
        if domain in loaders:
            loaders[domain](scenario)
        else:
            scenario.values(domain)


def scenario_value(scenario: Scenario, key: str) -> Any:
    """The value a change key has in a scenario (its override, else data/'s value)."""
    domain, name = split_key(key, scenario)
    if not domain:
        return getattr(scenario, name)
    return scenario.values(domain, structured=STRUCTURED.get(domain, ()))[name]
