"""The sweep runner: two Dask workers against one (goal: at least 1.7x faster), the runner
against the same points called directly in a loop (goal: under 10 % overhead), and a
variant that changes no population input does not rebuild the population.

All on data/sweeps/bench.yaml (32 points on the smoke scenario), measured in this run.
Wall times include starting the local Dask cluster and writing every point file.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import simlib.inputs as inputs_module
from simlib.sweep import design_points, load_spec, run_points_here, run_sweep


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def rebuilds(spec) -> tuple[int, int]:
    """Populations built while making every point's inputs, without and with a population
    change."""
    built = []
    original = inputs_module.generate_population

    def counting(scenario):
        built.append(scenario)
        return original(scenario)

    base = spec.load_base()
    inputs_module.generate_population = counting
    try:
        for point in design_points(spec):
            inputs_module.vary(base, point.changes)
        without = len(built)
        inputs_module.vary(base, {"population.school_share_16_18": 0.5})
        return without, len(built) - without
    finally:
        inputs_module.generate_population = original


def main() -> None:
    spec = load_spec("bench.yaml")
    n = len(design_points(spec))
    run_points_here(load_spec("bench.yaml").on_scenario(spec.scenario))  # warm up imports
    with tempfile.TemporaryDirectory() as tmp:
        loop, _ = timed(lambda: run_points_here(spec))
        one, r1 = timed(lambda: run_sweep(spec, out=Path(tmp) / "one", workers=1, progress=False))
        two, r2 = timed(lambda: run_sweep(spec, out=Path(tmp) / "two", workers=2, progress=False))
    assert r1.failed == r2.failed == 0, (r1.failures, r2.failures)
    compute = sum(r1.table["wall_seconds"])
    without, with_population = rebuilds(spec)
    ratio = one / two
    overhead = (one - loop) / loop
    print(f"sweep: {n} points on the smoke scenario, {spec.replications} replications each")
    print(f"  direct loop (no Dask, no files): {loop:.1f} s")
    print(f"  runner, 1 worker:  {one:.1f} s   (points' own compute {compute:.1f} s)")
    print(f"  runner, 2 workers: {two:.1f} s")
    print(
        f"  speed-up 2 vs 1 workers: {ratio:.2f}x   goal >= 1.7x: {'met' if ratio >= 1.7 else 'MISSED'}"
    )
    print(
        f"  runner overhead over the direct loop: {100 * overhead:+.1f} %   "
        f"goal < 10 %: {'met' if overhead < 0.10 else 'MISSED'}"
    )
    print(
        f"  populations built for the {n} points (no population input changed): {without}; "
        f"for one population change: {with_population}   "
        f"goal 0 and 1: {'met' if (without, with_population) == (0, 1) else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
