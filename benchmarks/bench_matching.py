"""Job matching speed at full scale.

Goal: the aggregated model proven optimal in < 3 s of wall time, model building included,
with peak memory < 1 GB. The straightforward individual-level model (one binary per
eligible laborer x employer, CBC straight to branch and bound) is solved in the same run
as the reference: both objectives (employment, then expected income) are checked equal
and the time ratio is printed. The reference takes minutes; `--no-individual` skips it.

"Wall" is all of `match_population` except the baselines: eligibility, classes, model
building, every solve, verification and the per-person table. CBC runs as a child
process, so its memory is the children's peak resident set; Python's is measured with
tracemalloc on a separate run (tracing slows Python down).
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
import tracemalloc

from simlib.jobs_inputs import load_jobs_params
from simlib.matching import match_population
from simlib.population import generate_population
from simlib.scenario import load_scenario

REPEATS = 3


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
        time_limit=None if formulation == "aggregated" else 1800,
    )
    return time.perf_counter() - start, result


def line(name, wall, result):
    s = result.summary()
    return (
        f"  {name:<20} wall {wall:7.2f} s  (build {s['build_seconds']:.2f} s, solve "
        f"{s['solve_seconds']:.2f} s)  {s['status']}, optimal={s['optimal']}, "
        f"employed {s['employed']:,}, income {s['objectives'].get('income', float('nan')):,.0f}"
    )


def main(individual: bool = True) -> None:
    scenario = load_scenario()
    population = generate_population(scenario)
    params = load_jobs_params(scenario)
    people, households = population.people, population.households
    run(people, households, params, "aggregated", "cbc")  # warm up imports and caches

    runs = [run(people, households, params, "aggregated", "cbc") for _ in range(REPEATS)]
    wall = statistics.median(w for w, _ in runs)
    agg = runs[0][1]
    s = agg.summary()
    size = s["model_size"]
    print(
        f"matching: {s['laborers']:,} laborers, {s['households_with_laborers']:,} households "
        f"with laborers, {params.capacity:,} jobs at {len(params.employers)} employers"
    )
    print(
        f"  aggregated model: {size['classes']} classes, {size['household_types']:,} household "
        f"types, {size['variables']:,} variables, {size['constraints']:,} constraints, "
        f"{size['nonzeros']:,} nonzeros"
    )
    print(line(f"aggregated, CBC (median of {REPEATS})", wall, agg))
    print(f"    stages: {[(x['stage'], x['proof'], x['seconds']) for x in s['stages']]}")
    print(f"  goal < 3 s, proven optimal: {'met' if wall < 3 and s['optimal'] else 'MISSED'}")
    wall_h, agg_h = run(people, households, params, "aggregated", "highs")
    print(line("aggregated, HiGHS", wall_h, agg_h))

    tracemalloc.start()
    run(people, households, params, "aggregated", "cbc")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"  peak memory (aggregated): Python traced {peak / 2**20:.0f} MiB, process peak RSS "
        f"{rss:.0f} MiB, CBC child peak RSS {child:.0f} MiB   goal < 1 GB: "
        f"{'met' if max(rss, child) < 1024 else 'MISSED'}"
    )

    if individual:
        wall_i, ind = run(people, households, params, "individual", "cbc")
        si = ind.summary()
        print(
            f"  individual model: {si['model_size']['variables']:,} variables, "
            f"{si['model_size']['constraints']:,} constraints, "
            f"{si['model_size']['nonzeros']:,} nonzeros"
        )
        print(line("individual, CBC", wall_i, ind))
        income, income_i = s["objectives"].get("income", 0), si["objectives"].get("income", 0)
        same = si["employed"] == s["employed"] and abs(income - income_i) <= 1e-6 * max(
            1.0, abs(income)
        )
        print(f"  objectives equal: {same}")
        print(f"  time ratio individual / aggregated: {wall_i / wall:.0f}")
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"  CBC child peak RSS over both models: {child:.0f} MiB")


if __name__ == "__main__":
    main(individual="--no-individual" not in sys.argv)
