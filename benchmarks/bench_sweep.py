"""The sweep runner: two Dask workers against one (goal: at least 1.7x faster), the runner
against the same points called directly in a loop (goal: under 10 % overhead, printed as a
ratio), and a variant that changes no population input does not rebuild the population.

All on data/sweeps/bench.yaml (32 points on the smoke scenario), measured in this run:
ROUNDS rounds (env SIMLIB_BENCH_ROUNDS, default 2) of loop, 1 worker, 2 workers in turn,
in alternating order, ratios of neighbouring runs and their medians reported, so that other
load on the machine hits all three alike; the load average is printed beside them. Wall
times include starting the local Dask cluster and writing every point file.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import simlib.inputs as inputs_module
from simlib.machine import usable_cpus
from simlib.sweep import design_points, evaluate_point, load_spec, run_points_here, run_sweep


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def rebuilds(spec) -> tuple[int, int]:
    """Populations built while making every point's inputs, without and with a population
    change."""
    built = []
    original = inputs_module.population_of

    def counting(scenario):
        built.append(scenario)
        return original(scenario)

    base = spec.load_base()
    inputs_module.population_of = counting
    try:
        for point in design_points(spec):
            inputs_module.vary(base, point.changes)
        without = len(built)
        inputs_module.vary(base, {"population.school_share_16_18": 0.5})
        return without, len(built) - without
    finally:
        inputs_module.population_of = original


def measure(spec, rounds: int, tmp: Path) -> tuple[dict[str, list[float]], list[float]]:
    """Wall seconds of each way to run the sweep, in rounds whose order alternates (loop,
    one, two; then two, one, loop), so that a trend in the machine's load falls on each
    way alike; and the 1-worker runs' own compute (the sum of their points' times)."""
    times: dict[str, list[float]] = {"loop": [], "one": [], "two": []}
    computes = []
    for r in range(rounds):
        order = ("loop", "one", "two") if r % 2 == 0 else ("two", "one", "loop")
        for key in order:
            if key == "loop":
                times["loop"].append(timed(lambda: run_points_here(spec))[0])
                continue
            workers = 1 if key == "one" else 2
            out = tmp / f"{key}-{r}"
            wall, run = timed(
                lambda out=out, workers=workers: run_sweep(
                    spec, out=out, workers=workers, progress=False
                )
            )
            assert run.failed == 0, run.failures
            times[key].append(wall)
            if workers == 1:
                computes.append(sum(run.table["wall_seconds"]))
    return times, computes


def main() -> None:
    spec = load_spec("bench.yaml")
    n = len(design_points(spec))
    evaluate_point(spec.load_base(), 1, spec.seed)  # warm up imports and caches
    rounds = int(os.environ.get("SIMLIB_BENCH_ROUNDS", "2"))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        times, computes = measure(spec, rounds, Path(tmp))
    load_after = os.getloadavg()[0]
    loop, one, two = (statistics.median(times[k]) for k in ("loop", "one", "two"))
    compute = statistics.median(computes)
    without, with_population = rebuilds(spec)
    # ratios of runs made next to each other, then their median: steadier than a ratio of
    # medians when the load of a shared machine drifts during the benchmark
    ratio = statistics.median(o / t for o, t in zip(times["one"], times["two"], strict=True))
    overhead = statistics.median(
        o / lp - 1 for o, lp in zip(times["one"], times["loop"], strict=True)
    )
    print(f"sweep: {n} points on the smoke scenario, {spec.replications} replications each")
    print(
        f"  {rounds} rounds, medians; load average {load_before:.1f} before, "
        f"{load_after:.1f} after, on {usable_cpus()} CPUs this process may use"
    )
    print(
        "  each run (s): "
        + "; ".join(f"{k} {', '.join(f'{t:.1f}' for t in v)}" for k, v in times.items())
    )
    print(f"  direct loop (no Dask, no files): {loop:.1f} s")
    print(f"  runner, 1 worker:  {one:.1f} s   (points' own compute {compute:.1f} s)")
    print(f"  runner, 2 workers: {two:.1f} s")
    print(
        f"  speed-up 2 vs 1 workers: {ratio:.2f}x   goal >= 1.7x: {'met' if ratio >= 1.7 else 'MISSED'}"
    )
    print(
        f"  runner / direct loop: {1 + overhead:.3f}  (overhead {100 * overhead:+.1f} %)   "
        f"goal < 10 %: {'met' if overhead < 0.10 else 'MISSED'}"
    )
    print(
        f"  runner's own overhead over its points' compute (1 worker): "
        f"{100 * (one - compute) / compute:+.1f} % (cluster start, scheduling, point files)"
    )
    print(
        f"  populations built for the {n} points (no population input changed): {without}; "
        f"for one population change: {with_population}   "
        f"goal 0 and 1: {'met' if (without, with_population) == (0, 1) else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
