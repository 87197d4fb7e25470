"""The reference for the moving benchmark: bare SimPy, the same processes and no model.

The same processes as the campaign (`simlib.moving.campaign`), written as plain SimPy with
no rules, no logs and no tables: each household's flat prepared by three teams in turn
from its preparation time; each convoy, at its gathering time, takes its eight pools in
turn (Containers), waits for its loading, leaves after the convoy before it, drives its
road segments, sets its families down with the move-in teams (three groups in turn, then
a visit the next morning) and gives the pools back after its return trip. Tied to the
buildings (inputs `bay`, `stair`, `carry`), a family's truck waits for one of its
building's bays before the unloading team and holds it through the unloading, and its
squad, after the guide, waits at its stairwell and holds it while it carries up. Run as a script
(`python bare_simpy.py INPUT.npz`) it is the whole-process reference of `simlib simulate
--replications 1 --json`; `run` is the in-process reference of one replication. Like the
campaign, it pauses the cyclic garbage collector while the events run.
"""

from __future__ import annotations

import gc
import sys

import numpy as np
import simpy

DAY = 1440.0
POOLS = 8  # trucks, coaches, drivers, route passes, officers, police cars, cadres, doctors


def building_steps(env, inputs, rng, teams, unloading):
    """The two steps at the family's building, as processes: its truck waits for one of
    its building's bays before the unloading team and holds it through the unloading; its
    squad guides it, waits at its stairwell and holds it while it carries up, then works
    at the door. `unloading`: each household's unloading minutes."""
    n = len(inputs["prep"])
    bays = [simpy.Resource(env, int(c)) for c in inputs["bay_units"]]
    stairs = [simpy.Resource(env, int(c)) for c in inputs["stair_units"]]
    bay, stair, carry = (inputs[k].tolist() for k in ("bay", "stair", "carry"))
    guide = rng.exponential(float(inputs["guide_mean"]), n).tolist()
    door = rng.exponential(float(inputs["door_mean"]), n).tolist()

    def unload(h):
        spot = bays[bay[h]].request()
        yield spot
        with teams[3].request() as req:
            yield req
            yield env.timeout(unloading[h])
        bays[bay[h]].release(spot)

    def carry_up(h):
        with teams[4].request() as req:
            yield req
            yield env.timeout(guide[h])
            if stair[h] >= 0:
                with stairs[stair[h]].request() as up:
                    yield up
                    yield env.timeout(carry[h])
            yield env.timeout(door[h])

    return unload, carry_up


def run(inputs: dict[str, np.ndarray], seed: int = 0) -> int:
    """One campaign of `inputs` (see `bench_moving.bare_inputs`); returns the households."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment(initial_time=float(inputs["prep"].min()))
    n = len(inputs["prep"])
    teams = [simpy.Resource(env, int(c)) for c in inputs["teams"]]  # 3 before, 3 after, visit
    service = [rng.exponential(m, n).tolist() for m in inputs["means"]]
    pools = {}
    tied = "bay" in inputs
    if tied:
        unload, carry_up = building_steps(env, inputs, rng, teams, service[3])

    def prepare(h, t):
        yield env.timeout(t - env.now)
        for k in range(3):
            with teams[k].request() as req:
                yield req
                yield env.timeout(service[k][h])

    def receive(h):
        if tied:
            yield from unload(h)
            yield from carry_up(h)
        for k in range(5 if tied else 3, 6):
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
    collecting = gc.isenabled()
    gc.disable()  # as the campaign does while it runs: the ratio compares like with like
    try:
        env.run()
    finally:
        if collecting:
            gc.enable()
    return n


if __name__ == "__main__":
    data = dict(np.load(sys.argv[1]))
    print(f'{{"households_moved": {run(data)}}}')
