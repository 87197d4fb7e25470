"""Sweep specifications: which assumptions to vary, over what range, with which design.

A specification is a YAML file under data/sweeps/:

    name: ci
    scenario: ../scenarios/smoke.yaml   # the base scenario, relative to this file
    seed: 20191120                      # master seed (default: the scenario's seed)
    replications: 2                     # moving replications per point
    budget: 16                          # most points the design may have
    common_random_numbers: true         # every point uses the master seed (default)
    design: {method: oat}               # oat | morris | sobol | lhs | grid (+ settings)
    parameters:
      moving.leased_vehicles_per_county_day: {}     # range: low/high recorded in data/
      moving.route_vehicles_per_day: {low: 75, high: 300}
      moving.scheduling_policy: {levels: [county_waves, daily_quota]}
      jobs.*: {exclude: [income_weight]}            # every assumed number with a range
    overlays:                           # oat only: what-ifs changing several at once
      - ../scenarios/more-escorts.yaml
      - {moving.cadres_per_county: 20, moving.doctors_per_county: 5}
    smoke:                              # the smaller design run on a scenario that says
      replications: 1                   # `sweep_design: smoke` (data/scenarios/smoke.yaml)
      design: {trajectories: 2}         # merged into `design`
      parameters: {moving.route_vehicles_per_day: {}}   # replace the lists above

A `smoke:` block is a quick check of the whole path, not a result: it is applied only when
the base scenario declares `sweep_design: smoke`, and `SweepSpec.design` says which ran.

The file is read by the same hardened reader as a scenario (simlib.provenance.read_yaml:
size, encoding, alias bombs, depth, keys given twice, dates that do not exist). The
design's size is worked out from its numbers before anything is sampled, so a design of
10^7 points is refused at once; then every value is checked through the domain loaders
before anything runs: an unknown parameter, a value of the wrong type, not finite or one
the loader refuses, an empty design or one larger than the budget is a DataError naming
the file, the field and the value.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from simlib.inputs import (
    Inputs,
    check_changes,
    load_inputs,
    read_scenario,
    scenario_value,
    split_key,
)
from simlib.provenance import (
    MAX_REPLICATIONS,
    DataError,
    check_real,
    check_text,
    check_whole,
    read_yaml,
)
from simlib.scenario import PROJECT_ROOT, Scenario, check_seed
from simlib.sweep.levels import Factor, Overlay, design_size
from simlib.sweep.store import data_version

SWEEPS_DIR = PROJECT_ROOT / "data" / "sweeps"
METHODS = ("oat", "morris", "sobol", "lhs", "grid")
TOP_KEYS = (
    "name",
    "description",
    "scenario",
    "seed",
    "replications",
    "budget",
    "common_random_numbers",
    "design",
    "parameters",
    "overlays",
    "report",
    "smoke",
)
# what a `smoke:` block may change: the design's size, never what a point computes
SMOKE_KEYS = ("replications", "budget", "design", "parameters", "overlays")
DESIGN_SETTINGS = {
    "oat": (),
    "morris": ("trajectories", "levels"),
    "sobol": ("samples", "second_order"),
    "lhs": ("samples",),
    "grid": ("points",),
}
DEFAULT_BUDGET = 1000
MAX_BUDGET = 100_000  # points; a full-scale point takes seconds, so this is days of work
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # a sweep's name is its folder's name


@dataclass(frozen=True)
class SweepSpec:
    name: str
    path: Path
    scenario: Scenario
    seed: int
    replications: int
    budget: int
    common_random_numbers: bool
    method: str
    settings: Mapping[str, Any]
    factors: tuple[Factor, ...]
    overlays: tuple[Overlay, ...] = ()
    description: str = ""
    report: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict)
    design: str = "full"  # which design ran: "full", or "smoke" (the spec's `smoke:` block)

    def fingerprint(self) -> str:
        """A hash of everything that decides the points: the scenario's settings and the
        content of its data (never a path, so a copy of the checkout elsewhere, or on
        another machine, resumes the same sweep), the design and its settings; not the
        file's comments."""
        doc = {
            "scenario": self.scenario.name,
            "data": data_version(self.scenario),
            "scale": self.scenario.scale,
            "overrides": {d: dict(v) for d, v in self.scenario.overrides.items()},
            "seed": self.seed,
            "replications": self.replications,
            "crn": self.common_random_numbers,
            "method": self.method,
            "settings": dict(self.settings),
            "factors": [f.__dict__ for f in self.factors],
            "overlays": [(o.name, dict(o.changes)) for o in self.overlays],
        }
        text = json.dumps(doc, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def load_base(self, population: bool = True) -> Inputs:
        """The base inputs, loaded once (population drawn from the master seed; without it,
        and only its parameters checked, with `population=False`)."""
        return load_inputs(self.scenario, seed=self.seed, population=population)

    def on_scenario(
        self, scenario: Scenario, seed: int | None = None, design: str | None = None
    ) -> SweepSpec:
        """The same design around another base scenario (e.g. the one a report runs on):
        the scenario's `sweep_design`, unless `design` ("full" or "smoke") says which."""
        if design is not None:
            scenario = replace(scenario, sweep_design=design)
        raw = dict(self.raw, scenario=str(scenario.path))
        if seed is not None:
            raw["seed"] = seed
        elif "seed" not in self.raw:
            raw["seed"] = scenario.seed
        return parse_spec(raw, self.path, base=scenario.with_seed(raw["seed"]))


def _bad(path: Path, field: str, value: Any, problem: str) -> DataError:
    return DataError(path, field, value, problem)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a sweep specification (DataError on anything wrong).

    The file goes through the same reader as a scenario (size, encoding, alias bombs,
    depth, keys given twice, dates that do not exist); `path` may also name a file in
    data/sweeps/ (e.g. "ci.yaml").
    """
    if not isinstance(path, Path):
        path = Path(check_text(path, "command line", "spec", "one sweep specification file"))
    with contextlib.suppress(OSError, ValueError):
        if not path.exists() and (SWEEPS_DIR / path).is_file():
            path = SWEEPS_DIR / path
    raw = read_yaml(path, "sweep specification")
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise _bad(path, "(top level)", raw, "must be a mapping of key: value")
    return parse_spec(raw, path.resolve())


@dataclass(frozen=True)
class _Top:
    """The scalar settings at the top of a specification, checked."""

    name: str
    seed: int
    replications: int
    budget: int
    crn: bool


def _top(raw: Mapping[str, Any], path: Path, base: Scenario) -> _Top:
    for key in raw:
        if key not in TOP_KEYS:
            raise _bad(path, str(key), raw[key], f"unknown key; use {TOP_KEYS}")
    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise _bad(
            path,
            "name",
            name,
            "must be a folder name: letters, digits, '-', '_' and '.', "
            "starting with a letter or digit, at most 100 characters",
        )
    crn = raw.get("common_random_numbers", True)
    if not isinstance(crn, bool):
        raise _bad(path, "common_random_numbers", crn, "must be true or false")
    return _Top(
        name=name,
        seed=check_seed(raw.get("seed", base.seed), path),
        replications=check_whole(
            raw.get("replications", 2), path, "replications", 1, MAX_REPLICATIONS
        ),
        budget=check_whole(raw.get("budget", DEFAULT_BUDGET), path, "budget", 1, MAX_BUDGET),
        crn=crn,
    )


def _design(raw: Mapping[str, Any], path: Path) -> tuple[str, dict[str, Any]]:
    design = raw.get("design", {"method": "oat"})
    if isinstance(design, str):
        design = {"method": design}
    if not isinstance(design, Mapping):
        raise _bad(path, "design", design, "must be a mapping with a method")
    method = design.get("method")
    if not isinstance(method, str) or method not in METHODS:
        raise _bad(path, "design.method", method, f"must be one of {METHODS}")
    settings = {k: v for k, v in design.items() if k != "method"}
    for key, value in settings.items():
        if key not in DESIGN_SETTINGS[method]:
            raise _bad(path, f"design.{key}", value, f"{method} takes {DESIGN_SETTINGS[method]}")
        if key == "second_order":
            if not isinstance(value, bool):
                raise _bad(path, f"design.{key}", value, "must be true or false")
        else:
            check_whole(value, path, f"design.{key}", 1, MAX_BUDGET)
    return method, settings


def parse_spec(raw: Mapping[str, Any], path: Path, base: Scenario | None = None) -> SweepSpec:
    """Check a specification's mapping; `base` replaces the scenario it names.

    The design's size is worked out from the numbers alone and checked against the budget
    before any value is checked or any point is made.
    """
    if base is None:
        if "scenario" not in raw:
            raise _bad(path, "scenario", None, "name the base scenario file")
        given = check_text(raw["scenario"], path, "scenario", "one scenario file")
        base = read_scenario((path.parent / given).resolve())
    written, (raw, design) = raw, _applied_design(raw, path, base)
    top = _top(raw, path, base)
    base = base.with_seed(top.seed)
    method, settings = _design(raw, path)
    view = _ScenarioView(base)
    factors = _factors(raw.get("parameters") or {}, view, path)
    overlays = _overlays(raw.get("overlays") or [], base, path)
    if overlays and method != "oat":
        raise _bad(path, "overlays", len(overlays), "overlays belong to the oat design only")
    for f in factors:
        if f.levels and method in ("morris", "sobol", "lhs"):
            raise _bad(path, f.key, list(f.levels), f"{method} needs a numeric low/high range")
    spec = SweepSpec(
        name=top.name,
        path=path,
        scenario=base,
        seed=top.seed,
        replications=top.replications,
        budget=top.budget,
        common_random_numbers=top.crn,
        method=method,
        settings=settings,
        factors=tuple(factors),
        overlays=tuple(overlays),
        description=_description(raw, path),
        report=bool(raw.get("report", False)),
        raw=dict(written),  # as written (smoke: block included), for on_scenario
        design=design,
    )
    _check_size(spec)
    _check_values(spec)
    return spec


def _applied_design(
    raw: Mapping[str, Any], path: Path, base: Scenario
) -> tuple[Mapping[str, Any], str]:
    """The specification to run on `base`, and which design it is: the `smoke:` block over
    the full design when the scenario asks for it (`sweep_design: smoke`) and the file has
    one; the full design otherwise."""
    block = raw.get("smoke")
    if block is not None and not isinstance(block, Mapping):
        raise _bad(path, "smoke", block, f"must be a mapping of {SMOKE_KEYS}")
    for key in block or {}:
        if key not in SMOKE_KEYS:
            raise _bad(path, f"smoke.{key}", block[key], f"unknown key; use {SMOKE_KEYS}")
    if not block or getattr(base, "sweep_design", "full") != "smoke":
        return raw, "full"
    merged = {k: v for k, v in raw.items() if k != "smoke"}
    merged.update(block)
    if isinstance(raw.get("design"), Mapping) and isinstance(block.get("design"), Mapping):
        merged["design"] = {**raw["design"], **block["design"]}
    return merged, "smoke"


def _description(raw: Mapping[str, Any], path: Path) -> str:
    text = raw.get("description", "")
    if text is None:
        return ""
    if not isinstance(text, str) or len(text) > 2000:
        raise _bad(path, "description", text, "must be text of at most 2,000 characters")
    return text


def _check_size(spec: SweepSpec) -> None:
    """The design's size from its arithmetic (simlib.sweep.levels.design_size), nothing built."""
    size = design_size(spec.method, spec.settings, spec.factors, spec.overlays)
    if size == 0 or (spec.method == "oat" and size == 1):
        raise _bad(
            spec.path, "parameters", None, "the design is empty: vary at least one parameter"
        )
    if size > spec.budget:
        raise _bad(
            spec.path,
            "budget",
            spec.budget,
            f"the {spec.method} design has {size:,} points, over budget",
        )


class _ScenarioView:
    """Parameter records of a scenario, read once per domain."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self._records: dict[str, Any] = {}

    def records(self, domain: str) -> dict[str, Any]:
        if domain not in self._records:
            self._records[domain] = self.scenario.parameters(domain)
        return self._records[domain]


def _factors(raw: Any, view: _ScenarioView, path: Path) -> list[Factor]:
    if not isinstance(raw, Mapping):
        raise _bad(path, "parameters", raw, "must be a mapping of domain.parameter: range")
    factors: list[Factor] = []
    for key, options in raw.items():
        options = options or {}
        if not isinstance(options, Mapping):
            raise _bad(path, str(key), options, "give {} or low/high or levels")
        if str(key).endswith(".*"):
            factors += _all_assumed(str(key)[:-2], options, view, path)
            continue
        factors.append(_factor(str(key), options, view, path))
    keys = [f.key for f in factors]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise _bad(path, "parameters", twice, "named twice")
    return factors


def _all_assumed(domain: str, options: Mapping[str, Any], view, path: Path) -> list[Factor]:
    """Every assumed number of a domain that records a range (minus `exclude`)."""
    scenario = view.scenario
    domains = sorted(p.parent.name for p in scenario.data_dir.glob("*/parameters.csv"))
    if domain not in domains:
        raise _bad(path, f"{domain}.*", None, f"unknown domain; use one of {domains}")
    exclude = options.get("exclude", [])
    if not isinstance(exclude, list):
        raise _bad(path, f"{domain}.*.exclude", exclude, "must be a list of parameter names")
    records = view.records(domain)
    for name in exclude:
        if name not in records:
            raise _bad(path, f"{domain}.*.exclude", name, "unknown parameter")
    return [
        _factor(f"{domain}.{name}", {}, view, path)
        for name, p in records.items()
        if p.provenance == "assumed" and p.low is not None and name not in exclude
    ]


def _factor(key: str, options: Mapping[str, Any], view: _ScenarioView, path: Path) -> Factor:
    scenario = view.scenario
    domain, name = split_key(key, scenario, path)
    if not domain:
        raise _bad(path, key, None, "seed and scale are set at the top of the specification")
    record = view.records(domain)[name]
    for option in options:
        if option not in ("low", "high", "levels"):
            raise _bad(path, f"{key}.{option}", options[option], "use low/high or levels")
    current = scenario_value(scenario, key)
    if "levels" in options:
        levels = options["levels"]
        if not isinstance(levels, list) or not levels:
            raise _bad(path, f"{key}.levels", levels, "must be a non-empty list")
        return Factor(key, record.type, current, levels=tuple(levels), unit=record.unit)
    if record.type in ("int", "float"):
        low = options.get("low", record.low)
        high = options.get("high", record.high)
        if low is None or high is None:
            raise _bad(
                path, key, None, f"{record.provenance} in data/ without a range: give low/high"
            )
        low = check_real(low, path, f"{key}.low")
        high = check_real(high, path, f"{key}.high")
        if not low < high:
            raise _bad(path, f"{key}.low", low, f"must be below high ({high})")
        return Factor(key, record.type, current, low=low, high=high, unit=record.unit)
    if record.type == "bool":
        return Factor(key, "bool", current, levels=(not current,), unit=record.unit)
    raise _bad(path, key, None, f"a {record.type} parameter needs a list of levels")


def _overlays(raw: Any, base: Scenario, path: Path) -> list[Overlay]:
    """What-ifs: scenario files (their domain overrides) or inline mappings of changes."""
    if not isinstance(raw, list):
        raise _bad(path, "overlays", raw, "must be a list of scenario files or mappings")
    overlays = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            other = read_scenario((path.parent / item).resolve())
            changes = {
                f"{domain}.{name}": value
                for domain, values in other.overrides.items()
                for name, value in values.items()
            }
            if not changes:
                raise _bad(path, f"overlays[{i}]", item, "changes nothing")
            overlays.append(Overlay(other.name, changes))
        elif isinstance(item, Mapping) and item:
            for key in item:
                split_key(str(key), base, path)
            overlays.append(Overlay("", dict(item)))
        else:
            raise _bad(path, f"overlays[{i}]", item, "must be a scenario file or a mapping")
    return overlays


def _check_values(spec: SweepSpec) -> None:
    """Every level, range end and overlay through the domain loaders, before anything runs."""
    scenario = spec.scenario
    checks: list[tuple[str, dict[str, Any]]] = []
    for f in spec.factors:
        values = f.levels if f.levels else (f.value(f.low), f.value(f.high))
        checks += [(f.key, {f.key: v}) for v in values]
    checks += [(f"overlays[{o.name or i}]", dict(o.changes)) for i, o in enumerate(spec.overlays)]
    for field_name, changes in checks:
        try:
            check_changes(scenario, changes)
        except DataError as error:
            raise DataError(
                spec.path, field_name, error.value, f"{error.problem} ({error.file})"
            ) from None
