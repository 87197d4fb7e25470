"""Community model speed at full scale, each figure with a ratio to a reference measured
in the same run (these machines are noisy; none of this is a pass/fail test):

1. `simlib community --replications 1 --json` as a whole process (import, load, one
   moving replication for the placement, the grid plan and the simple cuts, the
   checkpoints and the visits, the summary) against `simlib simulate --replications 1
   --json` as a whole process (goal: under 15 s);
2. the grid optimisation alone (candidates, the three stages, the check; 36 grids) against
   one full-scale moving replication (`run_campaign`) in the same process (goal: under
   30 s); and the grid plans for 30, 33, 36 and 40 grids;
3. one replication of the visits and checkpoints (`replicate`), with its SimPy events;
4. CPU seconds (process_time, with the load average: the machine is shared) of the
   report's answer `community.run(replications=10)` from nothing kept, and of points of
   the community sweep (data/sweeps/community.yaml) evaluated one after the other in one
   process, as a sweep worker does: the first computes the moving replication, the
   housing draw and the grid plan that the later points share (simlib/community/memo.py).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from simlib.community import memo, run
from simlib.community.grids import plan_grids
from simlib.community.result import prepare, replicate
from simlib.community.sweep import grid_counts
from simlib.inputs import load_inputs
from simlib.moving import run_campaign
from simlib.scenario import PROJECT_ROOT

REPEATS = 3


def timed(function, repeats: int = REPEATS):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def process_time(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "simlib", *args], check=True, capture_output=True, cwd=PROJECT_ROOT
    )
    return time.perf_counter() - start


def main() -> None:
    command = statistics.median(
        process_time("community", "--replications", "1", "--json") for _ in range(REPEATS)
    )
    reference = statistics.median(
        process_time("simulate", "--replications", "1", "--json", "--workers", "1")
        for _ in range(REPEATS)
    )
    print(f"simlib community --replications 1 --json (full scale, median of {REPEATS}):")
    print(f"  wall {command:.2f} s   goal < 15 s: {'met' if command < 15 else 'MISSED'}")
    print(f"  reference: simlib simulate --replications 1 --json {reference:.2f} s")
    print(f"  ratio community / simulate: {command / reference:.2f}")

    inputs = load_inputs()
    params = inputs.community
    town = prepare(inputs)
    households = inputs.population.households
    moving, _ = timed(lambda: run_campaign(inputs.moving, households, inputs.seed, 0))
    grids, plan = timed(lambda: plan_grids(params.site, town.table, params.grid))
    print(f"grid optimisation, {plan.grids} grids over {len(params.site)} buildings "
          f"(median of {REPEATS}):")  # fmt: skip
    print(f"  wall {grids:.2f} s   goal < 30 s: {'met' if grids < 30 else 'MISSED'}")
    print(f"  status {plan.status}, gap {plan.gap:.3g}, {plan.candidates} candidate grids, "
          f"{len(plan.stages)} solves, largest / mean {plan.measured.max_to_mean:.3f}")  # fmt: skip
    print(f"  reference: one full-scale moving replication (run_campaign) {moving:.2f} s")
    print(f"  ratio grid plan / moving replication: {grids / moving:.2f}")
    start = time.perf_counter()
    counts = grid_counts(inputs, [30, 33, 36, 40])
    sweep = time.perf_counter() - start
    statuses = dict(zip(counts["grids"], counts["status"], strict=True))
    print(f"  grid plans for 30, 33, 36, 40 grids: {sweep:.2f} s in all ({statuses})")

    def replicate_cold():
        memo.forget()  # the moving replication computed each time, as the figure says
        return replicate(inputs, town, 1)

    one, tables = timed(replicate_cold)
    print(f"one replication of the visits and checkpoints (moving replication included, "
          f"median of {REPEATS}): {one:.2f} s; {len(tables['grid_days']):,} grid-days, "
          f"{len(tables['checkpoint']):,} returning people")  # fmt: skip
    print(f"  ratio replication / moving replication: {one / moving:.2f}")
    cpu_seconds(inputs)


def cpu_seconds(inputs, points: int = 6) -> None:
    """Section 4: the CPU seconds of the report's community answer and of sweep points."""
    from simlib.community.sweep import evaluate_point
    from simlib.inputs import vary
    from simlib.sweep import load_spec
    from simlib.sweep.design import design_points

    memo.forget()
    start = time.process_time()
    run(inputs, replications=10)
    print(f"community.run(replications=10), nothing kept: {time.process_time() - start:.1f} "
          f"CPU-s (load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    memo.forget()
    spec = load_spec("community.yaml").on_scenario(inputs.scenario, seed=inputs.seed)
    seconds = []
    for point in design_points(spec)[:points]:
        start = time.process_time()
        evaluate_point(vary(inputs, point.changes, where=spec.path), 1, point.seed)
        seconds.append(time.process_time() - start)
    print(f"community sweep, its first {points} points in one process: first "
          f"{seconds[0]:.2f} CPU-s, then {statistics.median(seconds[1:]):.2f} CPU-s a point "
          f"(median; load average {os.getloadavg()[0]:.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
