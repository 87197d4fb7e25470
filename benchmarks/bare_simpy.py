"""The reference for the moving benchmark: bare SimPy, no model.

Each household, from the start of its convoy day, goes through eight resource-limited
steps in turn (the same resource counts and mean service times as the model's eight
steps, exponential service), as plain SimPy processes with no convoys, no shift rules, no
bookkeeping and no tables. Run as a script (`python bare_simpy.py INPUT.npz`) it is the
whole-process reference of `simlib simulate --replications 1 --json`; `run` is the
in-process reference of one replication.
"""

from __future__ import annotations

import sys

import numpy as np
import simpy

DAY = 1440.0


def run(start: np.ndarray, counts: np.ndarray, means: np.ndarray, seed: int = 0) -> int:
    """Move households (start times, minutes) through len(counts) steps; returns households."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    resources = [simpy.Resource(env, int(c)) for c in counts]
    service = [rng.exponential(m, len(start)).tolist() for m in means]

    def household(i, t):
        yield env.timeout(t)
        for k, res in enumerate(resources):
            with res.request() as req:
                yield req
                yield env.timeout(service[k][i])

    for i, t in enumerate(start.tolist()):
        env.process(household(i, t))
    env.run()
    return len(start)


if __name__ == "__main__":
    data = np.load(sys.argv[1])
    n = run(data["start"], data["counts"], data["means"])
    print(f'{{"households_moved": {n}}}')
