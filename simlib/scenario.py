"""Scenarios: which data, which seed, what scale, and which parameters differ from data/.

A scenario file (YAML, under data/scenarios/) names a seed and a scale and overrides
parameters by domain; the parameters themselves, with provenance, live in
data/<domain>/parameters.csv. A Scenario is immutable: a variant is made with
`scenario.with_overrides(...)` (a copy), never by changing a shared object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from simlib.provenance import DataError, apply_overrides, load_parameters

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = PROJECT_ROOT / "data" / "scenarios" / "baseline.yaml"
SMOKE_SCENARIO = PROJECT_ROOT / "data" / "scenarios" / "smoke.yaml"
DEFAULT_SEED = 20191120  # the date of the housing lottery, 20 Nov 2019
TOP_LEVEL_KEYS = ("name", "description", "seed", "scale", "data")


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class Scenario:
    """A named set of inputs.

    `scale` multiplies every count of people, households, resources and jobs (1.0 is the
    reported case); `overrides` maps a domain (a folder of data/) to parameter values.
    """

    name: str
    path: Path
    data_dir: Path
    seed: int = DEFAULT_SEED
    scale: float = 1.0
    description: str = ""
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", _freeze(dict(self.overrides)))

    def __reduce__(self):
        # read-only mappings do not pickle: send plain dicts, __post_init__ freezes them again
        overrides = {d: dict(v) for d, v in self.overrides.items()}
        args = (self.name, self.path, self.data_dir, self.seed, self.scale, self.description)
        return (Scenario, (*args, overrides))

    def parameters(self, domain: str) -> dict[str, Any]:
        """Parameter records (value, unit, provenance, range) of one domain, as in data/."""
        return load_parameters(self.data_dir / domain / "parameters.csv")

    def values(self, domain: str, structured: Iterable[str] = ()) -> dict[str, Any]:
        """Parameter values of one domain with this scenario's overrides applied.

        Keys in `structured` (per-county factors, dated pauses...) are passed through
        as given, for the domain's own loader to validate.
        """
        structured = set(structured)
        overrides = self.overrides.get(domain, {})
        scalar = {k: v for k, v in overrides.items() if k not in structured}
        values = apply_overrides(self.parameters(domain), scalar, self.path)
        values.update({k: v for k, v in overrides.items() if k in structured})
        return values

    def table(self, domain: str, name: str) -> Path:
        """Path of a data table, e.g. table("population", "counties")."""
        return self.data_dir / domain / f"{name}.csv"

    def with_overrides(self, domain: str, **changes: Any) -> Scenario:
        """A copy with some parameters of one domain changed."""
        merged = {k: dict(v) for k, v in self.overrides.items()}
        merged.setdefault(domain, {}).update(changes)
        return replace(self, overrides=merged)

    def with_seed(self, seed: int | None) -> Scenario:
        return self if seed is None else replace(self, seed=_check_seed(seed, self.path))


def _check_seed(seed: Any, file: Path) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DataError(file, "seed", seed, "must be a non-negative integer")
    return seed


def load_scenario(path: str | Path | None = None, *, seed: int | None = None) -> Scenario:
    """Read and validate a scenario file (default: data/scenarios/baseline.yaml)."""
    path = Path(path) if path is not None else DEFAULT_SCENARIO
    if not path.is_file():
        raise DataError(path, "(file)", str(path), "scenario file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise DataError(path, "(yaml)", str(path), f"is not valid YAML: {error}") from None
    if not isinstance(raw, Mapping):
        raise DataError(path, "(top level)", type(raw).__name__, "must be a mapping")

    data_dir = (path.parent / str(raw.get("data", ".."))).resolve()
    if not data_dir.is_dir():
        raise DataError(path, "data", raw.get("data"), f"data folder {data_dir} not found")
    domains = sorted(p.parent.name for p in data_dir.glob("*/parameters.csv"))
    for key in raw:
        if key not in TOP_LEVEL_KEYS and key not in domains:
            raise DataError(
                path, key, raw[key], f"unknown key; use {TOP_LEVEL_KEYS + tuple(domains)}"
            )

    name = raw.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise DataError(path, "name", name, "must be a non-empty string")
    scale = raw.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale <= 1:
        raise DataError(path, "scale", scale, "must be a number in (0, 1]")
    overrides = {}
    for domain in domains:
        section = raw.get(domain) or {}
        if not isinstance(section, Mapping):
            raise DataError(path, domain, section, "must be a mapping of parameter: value")
        overrides[domain] = dict(section)

    scenario = Scenario(
        name=name,
        path=path.resolve(),
        data_dir=data_dir,
        seed=_check_seed(raw.get("seed", DEFAULT_SEED), path),
        scale=float(scale),
        description=str(raw.get("description", "")),
        overrides=overrides,
    )
    return scenario.with_seed(seed)
