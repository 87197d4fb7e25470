"""Moving campaign speed: one full-scale replication (goal < 1.5 s), 30 replications on both
cores (goal < 30 s), peak memory (goal < 1 GB), events per second, and the ratio to a bare
SimPy reference measured in the same run (goal <= 2).

The reference sends the same households, on the same batch days, through eight
resource-limited steps with the same resource counts and service times, as plain SimPy
processes with no convoys, no bookkeeping and no tables.
"""

from __future__ import annotations

import os
import statistics
import time
import tracemalloc

import numpy as np
import simpy
from simlib.batches import schedule
from simlib.moving_inputs import DAY, load_moving_params

from simlib.moving import run_campaign, run_replications
from simlib.population import generate_population
from simlib.scenario import load_scenario

REPEATS = 3


def timed(function, repeats=REPEATS):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def reference(params, households):
    """Bare SimPy: each household, from its batch day, through eight steps in turn."""
    counties = list(params.roads)
    day = schedule(households, params, counties)
    rng = np.random.default_rng(0)
    env = simpy.Environment()
    names = [s.resource for s in params.steps[:-1]] + ["volunteer_squads"]
    pool = {k: simpy.Resource(env, params.resources[k]) for k in set(names)}
    resources = [pool[k] for k in names]
    means = [s.service_mean for s in params.steps]
    service = [rng.exponential(m, len(households)) for m in means]

    def household(i, start):
        yield env.timeout(start)
        for k, res in enumerate(resources):
            with res.request() as req:
                yield req
                yield env.timeout(service[k][i])

    for i, d in enumerate(day):
        env.process(household(i, d * DAY + params.work_start))
    env.run()
    return next(env._eid)


def main() -> None:
    scenario = load_scenario()
    params = load_moving_params(scenario)
    households = generate_population(scenario).households
    run_campaign(params, households, scenario.seed)  # warm up
    wall, result = timed(lambda: run_campaign(params, households, scenario.seed))
    ref, ref_events = timed(lambda: reference(params, households))
    tracemalloc.start()
    run_campaign(params, households, scenario.seed)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    start = time.perf_counter()
    reps = run_replications(scenario, 30, workers=os.cpu_count())
    wall30 = time.perf_counter() - start
    s = reps.summary()
    print(f"moving: {len(result.households):,} households, {len(result.convoys):,} convoys")
    print(
        f"  one replication (median of {REPEATS}): {wall:.3f} s   goal < 1.5 s: "
        f"{'met' if wall < 1.5 else 'MISSED'}"
    )
    print(f"  SimPy events: {result.events:,}   events/s: {result.events / wall:,.0f}")
    print(f"  bare SimPy reference (8 steps, no bookkeeping): {ref:.3f} s, {ref_events:,} events")
    print(
        f"  ratio model/reference: {wall / ref:.2f}   goal <= 2: "
        f"{'met' if wall / ref <= 2 else 'MISSED'}"
    )
    print(
        f"  30 replications on {os.cpu_count()} cores: {wall30:.1f} s   goal < 30 s: "
        f"{'met' if wall30 < 30 else 'MISSED'}"
    )
    print(f"  peak traced memory (one replication): {peak / 2**20:.1f} MiB   goal < 1 GB")
    d = s["campaign_days"]
    print(f"  campaign days (30 reps): {d['mean']:.1f} [{d['ci95_low']:.1f}, {d['ci95_high']:.1f}]")


if __name__ == "__main__":
    main()
