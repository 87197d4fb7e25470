"""The reference for the moving benchmark: bare SimPy, the same processes and no model.

The same processes as the campaign (`simlib.moving.campaign`), written as plain SimPy with
no rules, no logs and no tables: each household's flat prepared by three teams in turn
from its preparation time; each convoy, at its gathering time, takes its eight pools in
turn (Containers), waits for its loading, leaves after the convoy before it, drives its
road segments, sets its families down with the move-in teams (three groups in turn, then
a visit the next morning) and gives the pools back after its return trip. Run as a script
(`python bare_simpy.py INPUT.npz`) it is the whole-process reference of `simlib simulate
--replications 1 --json`; `run` is the in-process reference of one replication.
"""

from __future__ import annotations

import sys

import numpy as np
import simpy

DAY = 1440.0
POOLS = 8  # trucks, coaches, drivers, route passes, officers, police cars, cadres, doctors


def run(inputs: dict[str, np.ndarray], seed: int = 0) -> int:
    """One campaign of `inputs` (see `bench_moving.bare_inputs`); returns the households."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment(initial_time=float(inputs["prep"].min()))
    n = len(inputs["prep"])
    teams = [simpy.Resource(env, int(c)) for c in inputs["teams"]]  # 3 before, 3 after, visit
    service = [rng.exponential(m, n).tolist() for m in inputs["means"]]
    pools = {}

    def prepare(h, t):
        yield env.timeout(t - env.now)
        for k in range(3):
            with teams[k].request() as req:
                yield req
                yield env.timeout(service[k][h])

    def receive(h):
        for k in range(3, 6):
            with teams[k].request() as req:
                yield req
                yield env.timeout(service[k][h])
        yield env.timeout((env.now // DAY + 1) * DAY + 480.0 - env.now)
        with teams[6].request() as req:
            yield req
            yield env.timeout(service[6][h])

    def convoy(i, before, done):
        start, day = inputs["start"][i], int(inputs["day"][i])
        yield env.timeout(start - env.now)
        box = pools.setdefault(day, [simpy.Container(env, 10**6, init=10**6) for _ in range(POOLS)])
        need = inputs["need"][i]
        for k in range(POOLS):
            yield box[k].get(int(need[k]))
        yield env.timeout(inputs["loading"][i])
        if before is not None:
            yield before
        done.succeed()
        for minutes in inputs["segments"][i]:
            yield env.timeout(minutes)
        for h in inputs["members"][inputs["first"][i] : inputs["stop"][i]]:
            env.process(receive(int(h)))
        yield env.timeout(float(sum(inputs["segments"][i])))
        for k in range(POOLS):
            yield box[k].put(int(need[k]))

    for h, t in enumerate(inputs["prep"].tolist()):
        env.process(prepare(h, t))
    before = None
    for i in range(len(inputs["start"])):
        done = env.event()
        env.process(convoy(i, before if inputs["same_county"][i] else None, done))
        before = done
    env.run()
    return n


if __name__ == "__main__":
    data = dict(np.load(sys.argv[1]))
    print(f'{{"households_moved": {run(data)}}}')
