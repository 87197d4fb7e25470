"""Employment timeline speed at full scale.

Goal: the whole timeline of one moving replication (the replication's arrival table and
every weekly matching batch of the rolling policy) in < 20 s of wall time. The reference,
measured in the same run, is one static full-scale matching (`match_population`, no
baselines, no duals): the ratio says how many static solves the timeline costs. The
greedy first-come run and the hindsight bounds (two static matchings) are timed too.
"""

from __future__ import annotations

import statistics
import time

from simlib.inputs import load_inputs
from simlib.matching import match_population
from simlib.matching.batch import bound
from simlib.timeline import replication_setup
from simlib.timeline.rolling import simulate_timeline

REPEATS = 2


def timeline(inputs, policy="rolling"):
    """Wall seconds of one replication's timeline (from its arrival table), and the run."""
    start = time.perf_counter()
    setup = replication_setup(inputs, 0)
    run = simulate_timeline(setup, policy, 0)
    return time.perf_counter() - start, run, setup


def main() -> None:
    inputs = load_inputs()
    people, households = inputs.population.people, inputs.population.households
    params, jobs = inputs.timeline, inputs.jobs

    def static():
        start = time.perf_counter()
        match_population(people, households, jobs, baselines=False)
        return time.perf_counter() - start

    static()  # warm up imports and caches
    reference = statistics.median(static() for _ in range(REPEATS))
    runs = [timeline(inputs) for _ in range(REPEATS)]
    wall = statistics.median(w for w, *_ in runs)
    _, run, setup = runs[0]
    b = run.batches
    print(
        f"timeline: {len(setup.laborers):,} laborers, {len(b)} batches every "
        f"{params.batch_interval_days} days (hold-back {params.holdback_policy}), last arrival "
        f"day {run.last_arrival}, {len(setup.openings.bus_day)} export buses"
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
    g_wall, g_run, _ = timeline(inputs, policy="greedy")
    print(f"  greedy first-come timeline ({len(g_run.batches)} daily batches): {g_wall:.2f} s")
    start = time.perf_counter()
    final = setup.openings.final_capacity()
    people_bound, _ = bound(setup.laborers, jobs, final, "employed")
    _, lasting_bound = bound(setup.laborers, jobs, final, "lasting")
    print(
        f"  hindsight bounds at the end (people, expected lasting): {time.perf_counter() - start:.2f} s"
    )
    at_end = int(run.employed_on([run.horizon])[0])
    print(
        f"  employed at the end: rolling {at_end:,}, greedy "
        f"{int(g_run.employed_on([g_run.horizon])[0]):,}, bound {people_bound:,} "
        f"(expected lasting bound {lasting_bound:,.0f})"
    )


if __name__ == "__main__":
    main()
