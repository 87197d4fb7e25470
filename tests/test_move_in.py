"""The move-in steps: queueing theory and a hand-computed day."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import simpy

from simlib.move_in import StepLog, followup_visits, pass_steps
from simlib.moving import run_campaign
from simlib.moving_inputs import load_moving_params
from simlib.randomness import stream
from simlib.stats import erlang_c_wait, mean_ci


def mmc(rate, mean, servers, customers, replication):
    """Poisson arrivals through one exponential step with `servers` units (pass_steps)."""
    rng = stream(7, "test", replication, "mmc")
    gaps = rng.exponential(1 / rate, customers)
    service = rng.exponential(mean, customers)[None, :]
    env = simpy.Environment()
    res = simpy.Resource(env, servers)
    log = StepLog.empty(customers, 1)

    def source():
        for i in range(customers):
            yield env.timeout(gaps[i])
            env.process(pass_steps(env, i, [0], [res], service, log))

    env.process(source())
    env.run()
    return log


def test_mmc_matches_erlang_c():
    rate, mean, servers = 0.1, 25.0, 3
    waits = []
    for r in range(30):
        log = mmc(rate, mean, servers, 3000, r)
        w = log.start[:, 0] - log.ready[:, 0]
        waits.append(w[300:].mean())  # drop a warm-up from the empty start
    ci = mean_ci(waits)
    theory = erlang_c_wait(rate, mean, servers)
    assert ci["ci95_low"] <= theory <= ci["ci95_high"], (ci, theory)


def test_littles_law_on_a_queue():
    log = mmc(0.1, 25.0, 3, 5000, 0)
    ready, start = log.ready[:, 0], log.start[:, 0]
    horizon = start.max()
    # time-average number waiting, from an event sweep
    times = np.concatenate([ready, start])
    steps = np.concatenate([np.ones_like(ready), -np.ones_like(start)])
    order = np.lexsort((steps, times))
    t, d = times[order], steps[order]
    n = np.cumsum(d)
    area = float(np.sum(n[:-1] * np.diff(t)))
    L = area / horizon
    lam = len(ready) / horizon
    W = float((start - ready).mean())
    assert L > 1  # a real queue
    assert abs(L - lam * W) < 1e-6 * L


def test_hand_computed_timeline(smoke):
    params = load_moving_params(smoke)
    fixed = {"service_cv": 0.0}
    steps = tuple(dataclasses.replace(s, **fixed) for s in params.steps)
    p = dataclasses.replace(
        params,
        steps=steps,
        loading_cv=0.0,
        travel_delay_sigma=0.0,
        breakdown_probability=0.0,
        trucks=5,
        buses=2,
        convoy_trucks=10,
        daily_quota=10,
        county_batch_max=10,
        resources={
            **params.resources,
            "inspection_teams": 1,
            "county_working_groups": 5,
            "document_desks": 5,
            "unloading_bays": 5,
            "volunteer_squads": 5,
            "settling_staff": 5,
        },
    )
    hh = pd.DataFrame(
        {
            "household_id": [1, 2],
            "county": ["Ludian", "Ludian"],
            "registered_poor": [True, True],
            "size": [4, 3],
            "registration_order": [0, 1],
        }
    )
    r = run_campaign(p, hh, seed=1)
    h = r.households.set_index("household_id")
    # gather 07:00 (420); loading 45 min on parallel trucks -> depart 465; road 120 -> 585
    assert list(h["departure"]) == [465.0, 465.0]
    assert list(h["arrival"]) == [585.0, 585.0]
    # one inspection team: 480-510 then 510-540; hand-over 10, documents 10
    assert list(h["inspect_start"]) == [480.0, 510.0]
    assert list(h["documents_end"]) == [530.0, 560.0]
    # after arrival: reception 30, guide 15, move in 90, settle 30, no queues
    assert list(h["arrival_start"]) == [585.0, 585.0]
    assert list(h["door_reached"]) == [720.0, 720.0]
    assert list(h["moved_in"]) == [750.0, 750.0]
    assert list(h["followup_day"]) == [1, 1]
    c = r.convoys.iloc[0]
    assert (c["households"], c["people"], c["trucks"], c["buses"]) == (2, 7, 2, 1)
    assert not c["after_dark"] and not c["held_overnight"]
    assert r.campaign_days() == 1


def test_followup_backlog_carries_over():
    settled = np.array([100.0, 200.0, 300.0, 1500.0])
    day, time = followup_visits(
        settled, cadres=1, visits_per_cadre_day=2, work_start=480, visit_minutes=20
    )
    assert list(day) == [1, 1, 2, 2]
    assert time[1] == 1440 + 480 + 20
