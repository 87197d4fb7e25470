"""Moving campaign speed, each figure with a ratio to a bare SimPy reference measured in
the same run (these machines are noisy; none of this is a pass/fail test):

1. `simlib simulate --replications 1 --json` as a whole process (import, load, population,
   plan, simulation, summary) against `python benchmarks/bare_simpy.py` as a whole process
   moving the same households, from their planned convoy days, through eight resource
   steps (goal: within 3x);
2. one full-scale replication in one process (`run_campaign` and its summary) against
   the bare script's `run` in the same process (goal: within 2x);
3. 30 replications on the machine's cores (goal: under 30 s on 2 cores), next to 30 bare
   runs on as many worker processes.
Also: SimPy events, events per second, peak traced memory.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bare_simpy import run as bare_run  # noqa: E402

from simlib.moving import DAY, load_moving_params, make_plan, run_campaign  # noqa: E402
from simlib.moving.campaign import Campaign  # noqa: E402
from simlib.moving.replications import run_replications  # noqa: E402
from simlib.population import generate_population  # noqa: E402
from simlib.scenario import PROJECT_ROOT, load_scenario  # noqa: E402

REPEATS = 5
LOAD = (0.0, 0.0, 0.0)  # the machine's load average when the benchmark starts


def timed(function, repeats=REPEATS):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def process_time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, cwd=PROJECT_ROOT)
    return time.perf_counter() - start


def bare_inputs(params, households, seed):
    """Start times (the planned convoy day's working start), counts and mean service
    times of the model's eight steps."""
    plan = make_plan(params, households)
    day = Campaign(params, households, plan, seed).batch_day  # planned day of each household
    start = day * DAY + params.work_start
    counts = np.array([params.resources[s.resource] for s in params.steps])
    means = np.array([s.service_mean for s in params.steps])
    return start, counts, means


def main() -> None:
    global LOAD
    LOAD = os.getloadavg()
    scenario = load_scenario()
    params = load_moving_params(scenario)
    households = generate_population(scenario).households
    start, counts, means = bare_inputs(params, households, scenario.seed)

    # 1. whole processes, interleaved so that machine load hits both alike
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "bare.npz"
        np.savez(npz, start=start, counts=counts, means=means)
        cli = [sys.executable, "-m", "simlib", "simulate", "--replications", "1", "--json"]
        bare = [sys.executable, str(HERE / "bare_simpy.py"), str(npz)]
        cli_times, bare_times = [], []
        for _ in range(REPEATS):
            cli_times.append(process_time(cli))
            bare_times.append(process_time(bare))
    cli_wall, bare_wall = statistics.median(cli_times), statistics.median(bare_times)

    # 2. one replication in this process
    run_campaign(params, households, scenario.seed).summary()  # warm up
    one_times, ref_times = [], []
    for _ in range(REPEATS):
        t = time.perf_counter()
        result = run_campaign(params, households, scenario.seed)
        result.summary()
        one_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        bare_run(start, counts, means)
        ref_times.append(time.perf_counter() - t)
    one, ref = statistics.median(one_times), statistics.median(ref_times)

    tracemalloc.start()
    run_campaign(params, households, scenario.seed)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    # 3. thirty replications on every core
    cpu = os.times()
    t = time.perf_counter()
    reps = run_replications(
        params, households, seed=scenario.seed, replications=30, workers=os.cpu_count()
    )
    wall30 = time.perf_counter() - t
    after = os.times()
    cpu30 = sum(after[:4]) - sum(cpu[:4])  # this process and the workers, user + system
    # the reference under the same conditions: 30 bare runs on as many worker processes
    t = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        list(pool.map(bare_run, [start] * 30, [counts] * 30, [means] * 30, range(30)))
    bare30 = time.perf_counter() - t
    s = reps.summary()

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    print(f"moving: {len(result.households):,} households, {len(result.convoys):,} convoys")
    print(
        f"  simlib simulate --replications 1 --json (whole process, median of {REPEATS}): "
        f"{cli_wall:.2f} s; bare SimPy script (whole process): {bare_wall:.2f} s; "
        f"ratio {cli_wall / bare_wall:.2f}   goal <= 3: {verdict(cli_wall / bare_wall <= 3)}"
    )
    print(
        f"  one replication in-process (median of {REPEATS}): {one:.3f} s; bare SimPy run: "
        f"{ref:.3f} s; ratio {one / ref:.2f}   goal <= 2: {verdict(one / ref <= 2)}"
    )
    print(f"  SimPy events: {result.events:,}   events/s: {result.events / one:,.0f}")
    print(
        f"  30 replications on {os.cpu_count()} cores: {wall30:.1f} s   goal < 30 s: "
        f"{verdict(wall30 < 30)}; CPU time {cpu30:.1f} s ({cpu30 / 30:.2f} s a replication); "
        f"30 bare SimPy runs on as many workers: {bare30:.1f} s (ratio {wall30 / bare30:.2f}); "
        f"load average before: {LOAD[0]:.1f}"
    )
    print(f"  peak traced memory (one replication): {peak / 2**20:.1f} MiB")
    d = s["campaign_days"]
    print(
        f"  campaign days (30 replications): {d['mean']:.1f} [{d['ci95_low']:.1f}, "
        f"{d['ci95_high']:.1f}]; deadline met in {100 * s['deadline_met_share']:.0f} %"
    )


if __name__ == "__main__":
    main()
