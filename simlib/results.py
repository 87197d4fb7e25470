"""Every answer of the study, computed once for a scenario and kept.

The command line, the notebooks and the summary ask one `Study` for an answer by name
(`study.get("moving")`). The first ask computes it from the loaded `Inputs` with the
domain's own `run` (the recipes are `simlib.answers.RECIPES`); later asks, in this process or in
another process of the same report build, read it back from `results/cache/`, where it is
kept under a key made of the code that computes results, the scenario's data, its
overrides, seed and scale, the options and the answer's name. So a notebook never re-runs
what another one (or the build before it) already ran with the same code and data, and a
change of either is never served a stale answer.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

from simlib.answers import RECIPES, Options
from simlib.files import write_atomic
from simlib.inputs import Inputs, load_inputs
from simlib.scenario import PROJECT_ROOT, Scenario

CACHE_DIR = PROJECT_ROOT / "results" / "cache"


class Study:
    """One scenario's answers: computed on first ask, then read from memory or the cache."""

    def __init__(self, inputs: Inputs, options: Options, cache_dir: Path | None = CACHE_DIR):
        self.inputs = inputs
        self.options = options
        self.cache_dir = cache_dir
        self._memo: dict[str, Any] = {}

    @property
    def scenario(self) -> Scenario:
        return self.inputs.scenario

    def get(self, name: str) -> Any:
        """The answer `name` (a key of RECIPES)."""
        if name not in self._memo:
            self._memo[name] = self._read(name)
        return self._memo[name]

    def key(self, name: str) -> str:
        """The cache key of an answer: code, data, scenario, options and name."""
        from simlib.sweep.store import code_version, data_version

        s = self.scenario
        described = {
            "answer": name,
            "code": code_version(),
            "data": data_version(s),
            "overrides": json.loads(json.dumps(_plain(s.overrides), default=str)),
            "seed": self.inputs.seed,
            "scale": s.scale,
            "options": self.options.key(),
        }
        text = json.dumps(described, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def path(self, name: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{name}-{self.key(name)}.pkl"

    def _read(self, name: str) -> Any:
        if name not in RECIPES:
            raise KeyError(f"no answer named {name!r}; known: {sorted(RECIPES)}")
        path = self.path(name)
        if path is not None and path.is_file():
            try:
                return pickle.loads(path.read_bytes())
            except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, OSError):
                pass  # a damaged or outdated file is computed again and replaced
        value = RECIPES[name](self.inputs, self.options)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        return value


def _plain(value: Any) -> Any:
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def open_study(
    scenario: Scenario | str | Path | None = None,
    *,
    seed: int | None = None,
    replications: int = 10,
    solver: str = "cbc",
    cache: bool = True,
) -> Study:
    """Load a scenario's inputs once and open its answers (cached under results/cache/
    unless `cache` is false)."""
    options = Options(replications=replications, solver=solver)
    return Study(load_inputs(scenario, seed=seed), options, CACHE_DIR if cache else None)
