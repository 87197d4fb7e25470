"""Job matching speed at full scale: the aggregated model (goal: proven optimal in < 3 s
wall, model building included; peak memory < 1 GB) against the straightforward
individual-level model (one binary per eligible laborer x employer) solved in the same
run, with both objectives checked equal and the time ratio printed.

Times are build + solve of the matching itself (the population is generated once
beforehand, the baselines are not included). CBC runs as a child process, so its memory is
the children's peak resident set; Python's is measured with tracemalloc.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc

from simlib.jobs_inputs import load_jobs_params
from simlib.matching import match_population
from simlib.population import generate_population
from simlib.scenario import load_scenario


def run(people, households, params, formulation, solver):
    start = time.perf_counter()
    result = match_population(
        people,
        households,
        params,
        solver=solver,
        formulation=formulation,
        baselines=False,
        duals=formulation == "aggregated",  # the reference model only needs its optimum
        time_limit=None if formulation == "aggregated" else 900,
    )
    wall = time.perf_counter() - start
    return wall, result


def line(name, wall, result):
    s = result.summary()
    return (
        f"  {name:<24} wall {wall:6.2f} s  (build {s['build_seconds']:.2f} s, solve "
        f"{s['solve_seconds']:.2f} s)  {s['status']}, optimal={s['optimal']}, "
        f"employed {s['employed']:,}, income {s['objectives'].get('income', float('nan')):,.0f}"
    )


def main(individual: bool = True) -> None:
    scenario = load_scenario()
    population = generate_population(scenario)
    params = load_jobs_params(scenario)
    people, households = population.people, population.households
    run(people, households, params, "aggregated", "cbc")  # warm up imports and caches

    tracemalloc.start()
    wall, agg = run(people, households, params, "aggregated", "cbc")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    s = agg.summary()
    size = s["model_size"]
    print(
        f"matching: {s['laborers']:,} laborers, {s['households_with_laborers']:,} households "
        f"with laborers, {params.capacity:,} jobs at {len(params.employers)} employers"
    )
    print(
        f"  aggregated model: {size['classes']} classes, {size['household_types']} household "
        f"types, {size['variables']:,} variables, {size['constraints']:,} constraints, "
        f"{size['nonzeros']:,} nonzeros"
    )
    print(line("aggregated, CBC", wall, agg))
    print(f"    stages: {s['stages']}")
    print(f"  goal < 3 s proven optimal: {'met' if wall < 3 and s['optimal'] else 'MISSED'}")
    wall_h, agg_h = run(people, households, params, "aggregated", "highs")
    print(line("aggregated, HiGHS", wall_h, agg_h))
    if individual:
        wall_i, ind = run(people, households, params, "individual", "cbc")
        si = ind.summary()
        print(
            f"  individual model: {si['model_size']['variables']:,} variables, "
            f"{si['model_size']['constraints']:,} constraints"
        )
        print(line("individual, CBC", wall_i, ind))
        same = si["employed"] == s["employed"] and abs(
            si["objectives"].get("income", 0) - s["objectives"].get("income", 0)
        ) <= 1e-6 * max(1.0, abs(s["objectives"].get("income", 0)))
        print(f"  objectives equal: {same}")
        print(f"  time ratio individual / aggregated: {wall_i / wall:.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"  peak memory: Python traced {peak / 2**20:.0f} MiB (aggregated run); process peak "
        f"RSS {rss:.0f} MiB; solver child peak RSS {child:.0f} MiB   goal < 1 GB"
    )


if __name__ == "__main__":
    main(individual="--no-individual" not in sys.argv)
