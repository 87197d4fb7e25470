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

import multiprocessing
import os
import resource
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


def cpu_seconds() -> float:
    """CPU time of this process and of its children that ended (the loop's process, the
    LocalCluster's worker processes): what a run computes, whatever else loads the machine."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))  # fmt: skip
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def costed(function):
    """Wall seconds, CPU seconds (this process and its children) and the result."""
    cpu = cpu_seconds()
    wall, result = timed(function)
    alive = multiprocessing.active_children()  # waits for the ended ones, which counts them
    if alive:
        print(f"  note: {len(alive)} child processes still running; their CPU is not counted")
    return wall, cpu_seconds() - cpu, result


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


def cold_loop() -> tuple[float, float]:
    """The plain loop in a new Python process, timed from here, start to exit: wall and
    CPU seconds."""
    command = [sys.executable, str(Path(__file__).resolve()), "--loop"]
    wall, cpu, done = costed(lambda: subprocess.run(command, capture_output=True, text=True))
    if done.returncode != 0:
        raise RuntimeError(f"the loop failed:\n{done.stderr}")
    return wall, cpu


def run_loop() -> None:
    """What `--loop` runs: every point in this process, one after the other, nothing kept."""
    table = run_points_here(load_spec(SPEC), evaluate=evaluate_point)
    print(len(table))


def measure(spec, rounds: int, tmp: Path) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds of each way to run the sweep, in rounds whose order alternates
    (loop, one, two; then two, one, loop), so that a trend in the machine's load falls on
    each way alike."""
    walls: dict[str, list[float]] = {"loop": [], "one": [], "two": []}
    cpus: dict[str, list[float]] = {"loop": [], "one": [], "two": []}
    for r in range(rounds):
        order = ("loop", "one", "two") if r % 2 == 0 else ("two", "one", "loop")
        for key in order:
            if key == "loop":
                wall, cpu = cold_loop()
            else:
                out, workers = tmp / f"{key}-{r}", 1 if key == "one" else 2
                wall, cpu, run = costed(
                    lambda out=out, workers=workers: run_sweep(
                        spec, out=out, workers=workers, progress=False, evaluate=evaluate_point
                    )
                )
                assert run.failed == 0, run.failures
            walls[key].append(wall)
            cpus[key].append(cpu)
    return walls, cpus


def kept_summaries(tmp: Path) -> tuple[int, tuple[float, float], tuple[float, float]]:
    """The smoke one-at-a-time sweep on 1 worker, every point computed and then with the
    models' summaries kept: its points and both (wall, CPU) seconds; the tables must be
    equal."""
    spec = load_spec("assumptions.yaml").on_scenario(read_scenario(SMOKE_SCENARIO))
    cold_wall, cold_cpu, cold = costed(
        lambda: run_sweep(
            spec, out=tmp / "cold", workers=1, progress=False, evaluate=evaluate_point
        )
    )
    kept_wall, kept_cpu, kept = costed(
        lambda: run_sweep(spec, out=tmp / "kept", workers=1, progress=False)
    )
    assert cold.failed == kept.failed == 0, (cold.failures, kept.failures)
    columns = [c for c in cold.table.columns if c not in ("wall_seconds", "worker")]
    pd.testing.assert_frame_equal(cold.table[columns], kept.table[columns])
    return cold.points, (cold_wall, cold_cpu), (kept_wall, kept_cpu)


def paired(a: list[float], b: list[float]) -> float:
    """The median ratio of runs made next to each other: steadier than a ratio of medians
    when the load of a shared machine drifts during the benchmark."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def report(spec, walls, cpus, rounds, loads) -> None:
    n = len(design_points(spec))
    print(f"sweep: {n} points on the smoke scenario, {spec.replications} replications each")
    print(
        f"  {rounds} rounds, medians; load average {loads[0]:.1f} before, "
        f"{loads[1]:.1f} after, on {usable_cpus()} CPUs this process may use"
    )
    for what, values in (("wall", walls), ("CPU", cpus)):
        runs = "; ".join(f"{k} {', '.join(f'{t:.1f}' for t in v)}" for k, v in values.items())
        print(f"  each run, {what} s: {runs}")
    loop, one = statistics.median(walls["loop"]), statistics.median(walls["one"])
    print(f"  plain loop, a new process (cold, no Dask, no files): {loop:.1f} s")
    print(f"  runner, 1 worker (a new cluster, cold, every point file): {one:.1f} s")
    print(f"  runner, 2 workers: {statistics.median(walls['two']):.1f} s")
    ratio = paired(walls["one"], walls["two"])
    print(f"  speed-up 2 vs 1 workers (wall): {ratio:.2f}x   goal >= 1.7x: {'met' if ratio >= 1.7 else 'MISSED'}")  # fmt: skip
    for what, values in (("wall", walls), ("CPU", cpus)):
        overhead = paired(values["one"], values["loop"]) - 1
        extra = (statistics.median(values["one"]) - statistics.median(values["loop"])) / n
        print(
            f"  runner / plain loop, {what}: {1 + overhead:.3f} (overhead {100 * overhead:+.1f} %, "
            f"{extra:+.3f} s a point)   goal < 10 %: {'met' if overhead < 0.10 else 'MISSED'}"
        )


def main() -> None:
    if "--loop" in sys.argv:
        run_loop()
        return
    spec = load_spec(SPEC)
    rounds = int(os.environ.get("SIMLIB_BENCH_ROUNDS", "2"))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        walls, cpus = measure(spec, rounds, Path(tmp))
        load_middle = os.getloadavg()[0]
        report(spec, walls, cpus, rounds, (load_before, load_middle))
        points, cold, kept = kept_summaries(Path(tmp))
    print(
        f"  one-at-a-time sweep (assumptions, smoke, {points} points, 1 worker): every point "
        f"computed {cold[0]:.1f} s ({cold[1]:.1f} s CPU), summaries kept {kept[0]:.1f} s "
        f"({kept[1]:.1f} s CPU): {cold[0] / kept[0]:.2f}x wall, {cold[1] / kept[1]:.2f}x CPU "
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
