"""Employment timeline speed at full scale.

Goal: the whole timeline of one moving replication (the replication's arrival table and
every weekly matching batch of the rolling policy) in < 20 s of wall time. The reference,
measured in the same run, is one static full-scale matching (`match_population`, no
baselines, no duals): the ratio says how many static solves the timeline costs. The
greedy first-come run and the hindsight optimum (one static matching) are timed too.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from simlib.jobs_inputs import load_jobs_params
from simlib.matching import match_population
from simlib.moving import load_moving_params
from simlib.population import generate_population
from simlib.scenario import load_scenario
from simlib.timeline import load_timeline_params, replication_inputs, run_policy
from simlib.timeline.adapters import match_batch

REPEATS = 2


def timeline(scenario, population, moving, jobs, params, policy="rolling"):
    """Wall seconds of one replication's timeline (from its arrival table), and the run."""
    start = time.perf_counter()
    inputs = replication_inputs(
        params,
        jobs,
        population.people,
        population.households,
        moving,
        seed=scenario.seed,
        replication=0,
    )
    run = run_policy(params, jobs, inputs, policy)
    return time.perf_counter() - start, run, inputs.laborers, inputs.openings


def main() -> None:
    scenario = load_scenario()
    population = generate_population(scenario)
    moving = load_moving_params(scenario)
    jobs = load_jobs_params(scenario)
    params = load_timeline_params(scenario, jobs.employers)
    people, households = population.people, population.households

    def static():
        start = time.perf_counter()
        match_population(people, households, jobs, baselines=False)
        return time.perf_counter() - start

    static()  # warm up imports and caches
    reference = statistics.median(static() for _ in range(REPEATS))
    runs = [timeline(scenario, population, moving, jobs, params) for _ in range(REPEATS)]
    wall = statistics.median(w for w, *_ in runs)
    _, run, laborers, openings = runs[0]
    b = run.batches
    print(
        f"timeline: {len(laborers):,} laborers, {len(b)} batches every "
        f"{params.batch_interval_days} days (hold-back {params.holdback_policy}), last arrival "
        f"day {run.last_arrival}, {len(openings.bus_day)} export buses"
    )
    print(
        f"  rolling timeline, one moving replication (median of {REPEATS}): wall {wall:.2f} s "
        f"(batches {b['seconds'].sum():.2f} s, slowest batch {b['seconds'].max():.2f} s, "
        f"pool up to {b['pool'].max():,})"
    )
    print(f"  goal < 20 s: {'met' if wall < 20 else 'MISSED'}")
    print(f"  batch statuses: {b['status'].value_counts().to_dict()}")
    print(f"  reference: one static full-scale matching {reference:.2f} s")
    print(f"  ratio timeline / static matching: {wall / reference:.1f}")
    g_wall, g_run, *_ = timeline(scenario, population, moving, jobs, params, policy="greedy")
    print(f"  greedy first-come timeline ({len(g_run.batches)} daily batches): {g_wall:.2f} s")
    start = time.perf_counter()
    best = match_batch(laborers, jobs, openings.final_capacity(), np.array([], dtype=int)).employer
    print(f"  hindsight optimum: {time.perf_counter() - start:.2f} s")
    at_end = int(run.employed_on([run.horizon])[0])
    print(
        f"  employed at the end: rolling {at_end:,}, greedy "
        f"{int(g_run.employed_on([g_run.horizon])[0]):,}, hindsight {int((best >= 0).sum()):,}"
    )


if __name__ == "__main__":
    main()
