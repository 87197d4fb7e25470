"""The sweep runner: its overhead over a plain loop of the same points (goal: under 10 %),
two Dask workers against one (goal: at least 1.7x faster), what the kept model summaries
save on a one-at-a-time sweep, and that a variant changing no population input does not
rebuild the population.

The overhead is measured honestly: the same points (data/sweeps/bench.yaml, 32 points on
the smoke scenario, every point computed: no summary kept), on one core each, and both
cold. The loop runs in a new Python process (`python benchmarks/bench_sweep.py --loop`:
interpreter start, imports, the inputs and population, every point); the runner starts a
new LocalCluster whose one worker process starts likewise, and writes every point file and
the combined table. Both are timed from this process, start to end. ROUNDS rounds (env
SIMLIB_BENCH_ROUNDS, default 2) run loop, 1 worker, 2 workers in turn, in alternating
order; ratios of neighbouring runs and their medians are reported, so that other load on
the machine hits all of them alike; the load average is printed beside them.

The kept summaries are measured on the report's one-at-a-time sweep
(data/sweeps/assumptions.yaml on the smoke scenario, 1 worker): every point computed
(`evaluate=evaluate_point`) against the default (each model's summary kept and reused),
one after the other, in fresh folders; both tables must be equal.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import simlib.inputs as inputs_module
from simlib.inputs import read_scenario
from simlib.machine import usable_cpus
from simlib.scenario import SMOKE_SCENARIO
from simlib.sweep import design_points, evaluate_point, load_spec, run_points_here, run_sweep

SPEC = "bench.yaml"


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


def cold_loop() -> float:
    """The plain loop in a new Python process, timed from here, start to exit."""
    command = [sys.executable, str(Path(__file__).resolve()), "--loop"]
    wall, done = timed(lambda: subprocess.run(command, capture_output=True, text=True))
    if done.returncode != 0:
        raise RuntimeError(f"the loop failed:\n{done.stderr}")
    return wall


def run_loop() -> None:
    """What `--loop` runs: every point in this process, one after the other, nothing kept."""
    table = run_points_here(load_spec(SPEC), evaluate=evaluate_point)
    print(len(table))


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
                times["loop"].append(cold_loop())
                continue
            workers = 1 if key == "one" else 2
            out = tmp / f"{key}-{r}"
            wall, run = timed(
                lambda out=out, workers=workers: run_sweep(
                    spec, out=out, workers=workers, progress=False, evaluate=evaluate_point
                )
            )
            assert run.failed == 0, run.failures
            times[key].append(wall)
            if workers == 1:
                computes.append(sum(run.table["wall_seconds"]))
    return times, computes


def kept_summaries(tmp: Path) -> tuple[int, float, float]:
    """The smoke one-at-a-time sweep on 1 worker, every point computed and then with the
    models' summaries kept: its points and both wall times (the tables must be equal)."""
    spec = load_spec("assumptions.yaml").on_scenario(read_scenario(SMOKE_SCENARIO))
    cold_wall, cold = timed(
        lambda: run_sweep(
            spec, out=tmp / "cold", workers=1, progress=False, evaluate=evaluate_point
        )
    )
    kept_wall, kept = timed(lambda: run_sweep(spec, out=tmp / "kept", workers=1, progress=False))
    assert cold.failed == kept.failed == 0, (cold.failures, kept.failures)
    columns = [c for c in cold.table.columns if c not in ("wall_seconds", "worker")]
    pd.testing.assert_frame_equal(cold.table[columns], kept.table[columns])
    return cold.points, cold_wall, kept_wall


def report(spec, times, computes, rounds, loads) -> None:
    n = len(design_points(spec))
    loop, one, two = (statistics.median(times[k]) for k in ("loop", "one", "two"))
    compute = statistics.median(computes)
    # ratios of runs made next to each other, then their median: steadier than a ratio of
    # medians when the load of a shared machine drifts during the benchmark
    ratio = statistics.median(o / t for o, t in zip(times["one"], times["two"], strict=True))
    overhead = statistics.median(
        o / lp - 1 for o, lp in zip(times["one"], times["loop"], strict=True)
    )
    print(f"sweep: {n} points on the smoke scenario, {spec.replications} replications each")
    print(
        f"  {rounds} rounds, medians; load average {loads[0]:.1f} before, "
        f"{loads[1]:.1f} after, on {usable_cpus()} CPUs this process may use"
    )
    print(
        "  each run (s): "
        + "; ".join(f"{k} {', '.join(f'{t:.1f}' for t in v)}" for k, v in times.items())
    )
    print(f"  plain loop, a new process (cold, no Dask, no files): {loop:.1f} s")
    print(
        f"  runner, 1 worker (cold, every point file): {one:.1f} s   (points' own {compute:.1f} s)"
    )
    print(f"  runner, 2 workers: {two:.1f} s")
    print(
        f"  speed-up 2 vs 1 workers: {ratio:.2f}x   goal >= 1.7x: {'met' if ratio >= 1.7 else 'MISSED'}"
    )
    print(
        f"  runner / plain loop: {1 + overhead:.3f}  (overhead {100 * overhead:+.1f} %, "
        f"{(one - loop) / n:+.3f} s a point)   goal < 10 %: {'met' if overhead < 0.10 else 'MISSED'}"
    )


def main() -> None:
    if "--loop" in sys.argv:
        run_loop()
        return
    spec = load_spec(SPEC)
    rounds = int(os.environ.get("SIMLIB_BENCH_ROUNDS", "2"))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        times, computes = measure(spec, rounds, Path(tmp))
        load_middle = os.getloadavg()[0]
        report(spec, times, computes, rounds, (load_before, load_middle))
        points, cold, kept = kept_summaries(Path(tmp))
    print(
        f"  one-at-a-time sweep (assumptions, smoke, {points} points, 1 worker): every point "
        f"computed {cold:.1f} s, summaries kept {kept:.1f} s: {cold / kept:.2f}x "
        f"(equal tables; load average {load_middle:.1f} before, {os.getloadavg()[0]:.1f} after)"
    )
    without, with_population = rebuilds(spec)
    print(
        f"  populations built for the {len(design_points(spec))} points (no population input "
        f"changed): {without}; for one population change: {with_population}   "
        f"goal 0 and 1: {'met' if (without, with_population) == (0, 1) else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
