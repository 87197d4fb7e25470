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

from simlib.provenance import (
    LARGEST_INT,
    MAX_YAML_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    DataError,
    apply_overrides,
    check_real,
    check_text,
    load_parameters,
    read_table,
    read_yaml,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = PROJECT_ROOT / "data" / "scenarios" / "baseline.yaml"
SMOKE_SCENARIO = PROJECT_ROOT / "data" / "scenarios" / "smoke.yaml"
DEFAULT_SEED = 20191120  # the date of the housing lottery, 20 Nov 2019
TOP_LEVEL_KEYS = ("name", "description", "seed", "scale", "data", "sweep_design")
# which design a report sweep runs on this scenario: its full one, or the smaller `smoke:`
# block of its specification (data/sweeps/<name>.yaml), for a quick check of the whole path
SWEEP_DESIGNS = ("full", "smoke")


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
    sweep_design: str = "full"  # one of SWEEP_DESIGNS

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", _freeze(dict(self.overrides)))

    def __reduce__(self):
        # read-only mappings do not pickle: send plain dicts, __post_init__ freezes them again
        overrides = {d: dict(v) for d, v in self.overrides.items()}
        args = (self.name, self.path, self.data_dir, self.seed, self.scale, self.description)
        return (Scenario, (*args, overrides, self.sweep_design))

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
        return self if seed is None else replace(self, seed=check_seed(seed, self.path))

    def with_scale(self, scale: Any, where: str | Path | None = None) -> Scenario:
        """A copy at another scale, checked as the loader checks a scenario file's `scale`
        (`where` names the file an error is reported in; default: the scenario's)."""
        where = self.path if where is None else where
        _check_scale_type(where, scale)
        _check_scale(where, self.data_dir, float(scale))
        return replace(self, scale=float(scale))


def check_seed(seed: Any, file: str | Path, field: str = "seed") -> int:
    """A whole number in [0, 2^53]: larger seeds would not survive a result table."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= LARGEST_INT:
        problem = f"must be a non-negative integer of at most 2^53 ({LARGEST_INT:,})"
        raise DataError(file, field, seed, problem)
    return seed


# --- limits ---------------------------------------------------------------------------------

MAX_SCENARIO_BYTES = MAX_YAML_BYTES  # the YAML reader's limits (simlib.provenance.read_yaml)
MAX_SCENARIO_NODES = MAX_YAML_NODES
MAX_SCENARIO_DEPTH = MAX_YAML_DEPTH
MAX_NAME_CHARACTERS = 100
MAX_DESCRIPTION_CHARACTERS = 2_000
# Below this many households in its smallest county, a scaled population is a handful of
# households whose shares and queues mean nothing; `scale` must keep at least this many.
MIN_HOUSEHOLDS_PER_COUNTY = 10


# --- the scenario ---------------------------------------------------------------------------


def load_scenario(path: str | Path | None = None, *, seed: int | None = None) -> Scenario:
    """Read and validate a scenario file (default: data/scenarios/baseline.yaml).

    The file is refused if it is larger than MAX_SCENARIO_BYTES, not UTF-8, or expands past
    MAX_SCENARIO_NODES values; its data folder is the `data:` key (relative to the file) or,
    without one, the folder above a `scenarios/` folder the file is in.
    """
    path = Path(path) if path is not None else DEFAULT_SCENARIO
    raw = read_yaml(path, "scenario")
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise DataError(path, "(top level)", raw, "must be a mapping of key: value")

    name = check_text(raw.get("name", path.stem), path, "name", "a name")
    if len(name) > MAX_NAME_CHARACTERS:
        raise DataError(
            path, "name", name, f"must be one line of at most {MAX_NAME_CHARACTERS} characters"
        )
    description = raw.get("description", "")
    if description is None:
        description = ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARACTERS:
        raise DataError(
            path,
            "description",
            description,
            f"must be text of at most {MAX_DESCRIPTION_CHARACTERS} characters",
        )
    scale = raw.get("scale", 1.0)
    _check_scale_type(path, scale)
    scenario_seed = check_seed(raw.get("seed", DEFAULT_SEED), path)

    data_dir = _data_dir(path, raw)
    domains = sorted(p.parent.name for p in data_dir.glob("*/parameters.csv"))
    for key in raw:
        if key not in TOP_LEVEL_KEYS and key not in domains:
            raise DataError(
                path, str(key), raw[key], f"unknown key; use {TOP_LEVEL_KEYS + tuple(domains)}"
            )
    overrides = {}
    for domain in domains:
        section = raw.get(domain) or {}
        if not isinstance(section, Mapping):
            raise DataError(path, domain, section, "must be a mapping of parameter: value")
        overrides[domain] = dict(section)
    _check_scale(path, data_dir, float(scale))

    scenario = Scenario(
        name=name,
        path=path.resolve(),
        data_dir=data_dir,
        seed=scenario_seed,
        scale=float(scale),
        description=description,
        overrides=overrides,
        sweep_design=_sweep_design(path, raw),
    )
    return scenario.with_seed(seed)


def _sweep_design(path: Path, raw: Mapping[str, Any]) -> str:
    design = raw.get("sweep_design", "full")
    if design not in SWEEP_DESIGNS:
        raise DataError(path, "sweep_design", design, f"must be one of {SWEEP_DESIGNS}")
    return design


def _data_dir(path: Path, raw: Mapping[str, Any]) -> Path:
    """The data folder: `data:` (relative to the scenario file), else the parent of the
    scenarios/ folder the file is in. Never a guess that would blame the wrong key."""
    if "data" in raw:
        given = check_text(raw["data"], path, "data", "the path of one data folder")
        data_dir = (path.parent / given).resolve()
        if not data_dir.is_dir():
            raise DataError(path, "data", given, f"data folder {data_dir} not found")
    else:
        data_dir = path.resolve().parent.parent
        if path.resolve().parent.name != "scenarios" or not data_dir.is_dir():
            raise DataError(
                path,
                "data",
                "(not given)",
                "no data folder: the scenario is not in a <data>/scenarios/ folder, so it must "
                "say where the data are, e.g. `data: ../maojiawan/data` (relative to the file)",
            )
    if not any(data_dir.glob("*/parameters.csv")):
        raise DataError(
            path,
            "data",
            raw.get("data", str(data_dir)),
            f"{data_dir} is not a data folder (no <domain>/parameters.csv in it)",
        )
    return data_dir


def _check_scale_type(path: str | Path, scale: Any) -> None:
    if not 0 < check_real(scale, path, "scale") <= 1:
        raise DataError(path, "scale", scale, "must be a number in (0, 1]")


def _check_scale(path: str | Path, data_dir: Path, scale: float) -> None:
    """A scale that leaves the smallest county fewer than MIN_HOUSEHOLDS_PER_COUNTY households
    is refused with the smallest scale that works."""
    counties = data_dir / "population" / "counties.csv"
    if not counties.is_file():
        return  # the population's own loader reports the missing table
    table = read_table(counties, {"county": "str", "households": "int"}, key="county")
    if table.empty or (table["households"] < 1).any():
        return  # the population's own loader reports a bad table
    smallest = table.loc[table["households"].idxmin()]
    if smallest["households"] * scale < MIN_HOUSEHOLDS_PER_COUNTY:
        least = MIN_HOUSEHOLDS_PER_COUNTY / smallest["households"]
        raise DataError(
            path,
            "scale",
            scale,
            f"leaves {smallest['county']} ({smallest['households']} households at full scale) "
            f"with {smallest['households'] * scale:.1f}; a county needs at least "
            f"{MIN_HOUSEHOLDS_PER_COUNTY} households, so scale must be at least {least:.4f}",
        )
