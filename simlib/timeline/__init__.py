"""From arrival to first wage: the employment timeline, with matching driven by the moving
simulation.

Each moving replication gives every household's day of moving in (`adapters.arrival_table`);
its laborers become available `settling_days` later; places open by programme over time
and, for labour export, with the return-to-work buses (`openings`); matching runs in
batches over the laborers available and the places still open (`rolling`), and the runs
are summarised over the replications (`result`). Two references come with every
replication: a greedy first-come policy (each laborer, the day they are available, takes
the open job with the highest expected income they may take, keeping the care rule) and
the hindsight optimum: the static matching, as if every arrival had been known in
advance, of everyone available by a given day against the places that can have someone at
work that day (the bus channel: the seats of the buses gone by then). It ignores training
and the wait for a batch, so it bounds the rolling policy, which keeps the same rules, and
the rolling policy's percentage of it is a conservative figure (the greedy policy, which
may leave a household without a worker, is not bound by it). It is computed at the
two-month mark (the reported figure's day: `percent_of_hindsight`, in people, and
`percent_of_hindsight_lasting`, in expected lasting employment, the matching's objective)
and at the end, with every place open (`percent_of_hindsight_final`).

Modules: `inputs` (data/timeline), `openings`, `adapters` (the only calls into the moving
and matching models), `rolling` (the SimPy run), `result`.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple

import numpy as np
import pandas as pd

from simlib.jobs_inputs import JobsParams, load_jobs_params
from simlib.moving import MovingParams, load_moving_params
from simlib.population import Population, generate_population
from simlib.scenario import Scenario
from simlib.timeline.adapters import (
    arrival_table,
    care_bound_households,
    eligible_jobs,
    match_batch,
)
from simlib.timeline.inputs import TimelineParams, load_timeline_params
from simlib.timeline.openings import Openings, build_openings
from simlib.timeline.result import TimelineResult
from simlib.timeline.rolling import POLICIES, TimelineRun, available_laborers, simulate_timeline

__all__ = [
    "Openings",
    "TimelineParams",
    "TimelineResult",
    "TimelineRun",
    "ReplicationInputs",
    "load_timeline_params",
    "replication_inputs",
    "run_policy",
    "run_scenario",
    "run_timeline",
]


def _day_zero(arrivals) -> dt.date:
    first = arrivals.iloc[0]
    return first["arrival_date"] - dt.timedelta(days=int(first["arrival_day"]))


def _hindsight(laborers, jobs, openings, day, cache, solve) -> tuple[int, float]:
    """People employed by the static matching, every arrival known in advance: on `day`,
    everyone available by then against the places at work that day (an upper bound for
    any plan's people at work on that day: training and the batches are ignored); with
    `day` None, everyone against every place that ever opens. Returns the people employed
    and the expected lasting employment (the objective it maximises)."""
    if day is not None:
        laborers = laborers[laborers["available_day"] <= day]
    capacity = openings.final_capacity() if day is None else openings.at_work_capacity(day)
    key = np.sort(laborers["person_id"].to_numpy()).tobytes() + capacity.tobytes()
    if key not in cache:
        batch = match_batch(laborers, jobs, capacity, np.array([], dtype=int), **solve)
        cache[key] = int((batch.employer >= 0).sum()), batch.expected_lasting
    return cache[key]


class ReplicationInputs(NamedTuple):
    """What every policy of one moving replication runs on."""

    day_zero: dt.date  # the first arrival's campaign day 0
    openings: Openings
    laborers: pd.DataFrame  # one row per laborer, with the day they become available
    probability: np.ndarray  # success probability, laborer x employer
    income: np.ndarray  # expected income, laborer x employer


def replication_inputs(
    params: TimelineParams,
    jobs: JobsParams,
    people: pd.DataFrame,
    households: pd.DataFrame,
    moving: MovingParams,
    *,
    seed: int,
    replication: int,
) -> ReplicationInputs:
    """Moving replication `replication`'s arrivals, the places opening from its first day,
    the laborers as they become available and what each may earn where."""
    arrivals = arrival_table(moving, households, seed=seed, replication=replication)
    day_zero = _day_zero(arrivals)
    openings = build_openings(params, jobs, day_zero)
    laborers = available_laborers(people, households, arrivals, params.settling_days)
    probability, income = eligible_jobs(laborers, jobs)
    return ReplicationInputs(day_zero, openings, laborers, probability, income)


def run_policy(
    params: TimelineParams, jobs: JobsParams, inputs: ReplicationInputs, policy: str, **solve
) -> TimelineRun:
    """One policy's timeline (the greedy one keeps the care rule by its own bookkeeping)."""
    return simulate_timeline(
        params,
        jobs,
        inputs.openings,
        inputs.laborers,
        inputs.income,
        probability=inputs.probability,
        care_bound=care_bound_households(inputs.laborers, jobs) if policy == "greedy" else None,
        policy=policy,
        **solve,
    )


def _replication(args) -> tuple[list[TimelineRun], dict[str, float], Openings, dt.date]:
    """Both policies and the hindsight optima of moving replication r."""
    params, jobs, people, households, moving, seed, r, solve, cache = args
    inputs = replication_inputs(params, jobs, people, households, moving, seed=seed, replication=r)
    day_zero, openings, laborers = inputs.day_zero, inputs.openings, inputs.laborers
    runs = [run_policy(params, jobs, inputs, policy, replication=r, **solve) for policy in POLICIES]
    cache = {} if cache is None else cache
    two_months = int(laborers["arrival_day"].max()) + params.two_months_days
    two, lasting_two = _hindsight(laborers, jobs, openings, two_months, cache, solve)
    final, lasting_final = _hindsight(laborers, jobs, openings, None, cache, solve)
    hindsight = {
        "two_months": two,
        "final": final,
        "lasting_two_months": lasting_two,
        "lasting_final": lasting_final,
    }
    return runs, hindsight, openings, day_zero


def run_timeline(
    params: TimelineParams,
    jobs: JobsParams,
    population: Population,
    moving: MovingParams,
    *,
    seed: int,
    replications: int = 5,
    solver: str = "cbc",
    time_limit: float | None = None,
    scenario_name: str = "",
    workers: int = 1,
) -> TimelineResult:
    """The rolling and greedy policies and the hindsight optimum over `replications` moving
    replications (replication r moves with the moving model's streams r under `seed`), on
    `workers` processes (the result does not depend on it)."""
    if replications < 1:
        raise ValueError(f"replications (={replications}) must be >= 1")
    if workers < 1:
        raise ValueError(f"workers (={workers}) must be >= 1")
    solve = {"solver": solver, "time_limit": time_limit}
    tables = (population.people, population.households)  # the tables travel, not the params
    if workers == 1:
        cache: dict[
            bytes, tuple[int, float]
        ] = {}  # replications with the same arrivals share a solve
        tasks = [
            (params, jobs, *tables, moving, seed, r, solve, cache) for r in range(replications)
        ]
        done = [_replication(t) for t in tasks]
    else:
        tasks = [(params, jobs, *tables, moving, seed, r, solve, None) for r in range(replications)]
        with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
            done = list(pool.map(_replication, tasks))
    return TimelineResult(
        scenario=scenario_name,
        seed=seed,
        params=params,
        day_zero=done[-1][3],
        runs=tuple(run for runs, *_ in done for run in runs),
        hindsight=tuple(h for _, h, *_ in done),
        openings=tuple(o for _, _, o, _ in done),
    )


def run_scenario(
    scenario: Scenario, *, replications: int = 5, solver: str = "cbc", workers: int = 1
) -> TimelineResult:
    """Load every input once (population, moving, jobs, timeline) and run the timeline."""
    population = generate_population(scenario)
    moving = load_moving_params(scenario)
    jobs = load_jobs_params(scenario)
    params = load_timeline_params(scenario, jobs.employers)
    return run_timeline(
        params,
        jobs,
        population,
        moving,
        seed=scenario.seed,
        replications=replications,
        solver=solver,
        scenario_name=scenario.name,
        workers=workers,
    )
