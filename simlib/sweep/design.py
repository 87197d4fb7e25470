"""The points of a sweep: one-at-a-time (tornado), Morris, Sobol, Latin hypercube, grid.

Samplers come from kept libraries (SALib for Morris and Sobol, scipy.stats.qmc for the
Latin hypercube); this module only maps their unit samples onto the parameters' ranges and
types and labels each point from its values. Every point's seed derives from the master
seed and the point's index alone, so the points do not depend on how they are run.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simlib.inputs import scenario_value
from simlib.randomness import seed_sequence
from simlib.sweep.levels import Factor, grid_axis, oat_levels, show
from simlib.sweep.levels import design_size as size_of
from simlib.sweep.spec import SweepSpec

BASELINE_LABEL = "baseline (as assumed)"


@dataclass(frozen=True)
class Point:
    """One run of the models: the changes to the base inputs and the seed to run them with.

    `factor` and `level` name what a one-at-a-time point moved ("" for the baseline and
    overlays); `sample` holds the design's unrounded numbers for the analysis.
    """

    index: int
    changes: Mapping[str, Any]
    seed: int
    label: str
    factor: str = ""
    level: str = ""
    sample: tuple[float, ...] = field(default=())


def change_label(changes: Mapping[str, Any], baseline: Mapping[str, Any]) -> str:
    """'cadres_per_county 40 → 20, doctors_per_county 10 → 5', made from the values."""
    return ", ".join(
        f"{key.split('.', 1)[-1]} {show(baseline.get(key))} → {show(value)}"
        for key, value in changes.items()
    )


def point_seed(master: int, index: int, common: bool) -> int:
    """The master seed (common random numbers) or a seed derived from it and the index."""
    if common:
        return master
    return int(seed_sequence(master, "sweep", index).generate_state(1)[0])


def _problem(factors: tuple[Factor, ...]) -> dict[str, Any]:
    return {
        "num_vars": len(factors),
        "names": [f.key for f in factors],
        "bounds": [[f.low, f.high] for f in factors],
    }


def unit_sample(spec: SweepSpec) -> np.ndarray:
    """The design's numbers (one row per point, one column per factor), in the ranges."""
    factors = spec.factors
    s = spec.settings
    if spec.method == "morris":
        from SALib.sample import morris

        return morris.sample(
            _problem(factors),
            s.get("trajectories", 4),
            num_levels=s.get("levels", 4),
            seed=spec.seed % 2**32,
        )
    if spec.method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(
            _problem(factors),
            s.get("samples", 8),
            calc_second_order=s.get("second_order", False),
            scramble=True,
            seed=spec.seed % 2**32,
        )
    if spec.method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(factors), seed=np.random.default_rng(spec.seed)).random(
            s.get("samples", 16)
        )
        return qmc.scale(unit, [f.low for f in factors], [f.high for f in factors])
    raise ValueError(f"method(={spec.method!r}) has no unit sample")


def design_size(spec: SweepSpec) -> int:
    """How many points the specification's design has (`simlib.sweep.levels.design_size`)."""
    return size_of(spec.method, spec.settings, spec.factors, spec.overlays)


def design_points(spec: SweepSpec) -> list[Point]:
    """Every point of the specification, in a fixed order."""
    baseline = {f.key: f.baseline for f in spec.factors}
    for overlay in spec.overlays:
        for key in overlay.changes:
            baseline.setdefault(key, scenario_value(spec.scenario, key))
    rows: list[tuple[dict[str, Any], str, str, str, tuple[float, ...]]] = []
    if spec.method == "oat":
        rows.append(({}, BASELINE_LABEL, "", "", ()))
        for f in spec.factors:
            for level, value in oat_levels(f):
                if value == f.baseline:
                    continue
                changes = {f.key: value}
                rows.append((changes, change_label(changes, baseline), f.key, level, ()))
        for o in spec.overlays:
            label = change_label(o.changes, baseline)
            rows.append((dict(o.changes), f"{o.name}: {label}" if o.name else label, "", "", ()))
    elif spec.method == "grid":
        axes = [grid_axis(f, spec.settings.get("points", 3)) for f in spec.factors]
        for combo in itertools.product(*axes):
            changes = {f.key: v for f, v in zip(spec.factors, combo, strict=True)}
            rows.append((changes, change_label(changes, baseline), "", "", ()))
    else:
        for x in unit_sample(spec):
            changes = {f.key: f.value(v) for f, v in zip(spec.factors, x, strict=True)}
            rows.append(
                (changes, change_label(changes, baseline), "", "", tuple(float(v) for v in x))
            )
    return [
        Point(
            index=i,
            changes=changes,
            seed=point_seed(spec.seed, i, spec.common_random_numbers),
            label=label,
            factor=factor,
            level=level,
            sample=sample,
        )
        for i, (changes, label, factor, level, sample) in enumerate(rows)
    ]
