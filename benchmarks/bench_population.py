"""Full-scale population build time (goal: under 2 s), against a bare reference.

The reference draws the same number of random values and builds a DataFrame of the same
shape with numpy and pandas alone: the least any generator of these tables must spend.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd

from simlib.inputs import population_of, read_scenario

REPEATS = 5


def timed(function, repeats=REPEATS):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def reference(n_people: int, n_households: int, columns: int):
    rng = np.random.default_rng(0)
    people = pd.DataFrame({f"c{i}": rng.random(n_people) for i in range(columns)})
    households = pd.DataFrame({f"c{i}": rng.random(n_households) for i in range(8)})
    return people, households


def main() -> None:
    scenario = read_scenario()
    population_of(scenario)  # warm up imports and caches
    wall, population = timed(lambda: population_of(scenario))
    n_people, n_households = len(population.people), len(population.households)
    ref, _ = timed(lambda: reference(n_people, n_households, population.people.shape[1]))
    tracemalloc.start()
    population_of(scenario)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"population: {n_households:,} households, {n_people:,} people")
    print(
        f"  build (median of {REPEATS}): {wall:.3f} s   goal < 2 s: {'met' if wall < 2 else 'MISSED'}"
    )
    print(f"  reference (bare numpy/pandas tables of the same shape): {ref:.4f} s")
    print(f"  ratio build/reference: {wall / ref:.1f}")
    print(f"  peak traced memory: {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
