"""From arrival to first wage: the employment timeline, with matching driven by the moving
simulation.

Each moving replication gives every household's day of moving in (`adapters.arrival_table`);
its laborers become available `settling_days` later; places open by programme over time
and, for labour export, with the return-to-work buses (`openings`); matching runs in
batches over the laborers available and the places still open (`rolling`), and the runs
are summarised over the replications (`result`). Two references come with every
replication: a greedy first-come policy (each laborer, the day they are available, takes
the best-paid open job they may take) and the hindsight optimum: the static matching of
every laborer who moved in against every place that opens by the end (export: at most
every bus seat), as if every arrival had been known in advance and time did not matter.
The hindsight optimum is an upper bound for any plan over time, so the rolling policy's
percentage of it is a conservative figure.

Modules: `inputs` (data/timeline), `openings`, `adapters` (the only calls into the moving
and matching models), `rolling` (the SimPy run), `result`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from simlib.jobs_inputs import JobsParams, load_jobs_params
from simlib.moving_inputs import MovingParams, load_moving_params
from simlib.population import Population, generate_population
from simlib.scenario import Scenario
from simlib.timeline.adapters import arrival_table, eligible_jobs, match_batch
from simlib.timeline.inputs import TimelineParams, load_timeline_params
from simlib.timeline.openings import Openings, build_openings
from simlib.timeline.result import TimelineResult
from simlib.timeline.rolling import POLICIES, TimelineRun, available_laborers, simulate_timeline

__all__ = [
    "Openings",
    "TimelineParams",
    "TimelineResult",
    "TimelineRun",
    "load_timeline_params",
    "run_scenario",
    "run_timeline",
]


def _day_zero(arrivals) -> dt.date:
    first = arrivals.iloc[0]
    return first["arrival_date"] - dt.timedelta(days=int(first["arrival_day"]))


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
) -> TimelineResult:
    """The rolling and greedy policies and the hindsight optimum over `replications` moving
    replications (replication r moves with the moving model's streams r under `seed`)."""
    if replications < 1:
        raise ValueError(f"replications (={replications}) must be >= 1")
    runs, hindsight, openings_by_rep = [], [], []
    best_for: dict[bytes, int] = {}
    day_zero = None
    for r in range(replications):
        arrivals = arrival_table(moving, population.households, seed=seed, replication=r)
        day_zero = _day_zero(arrivals)
        openings = build_openings(params, jobs, day_zero)
        laborers = available_laborers(
            population.people, population.households, arrivals, params.settling_days
        )
        solve = {"solver": solver, "time_limit": time_limit}
        _, income = eligible_jobs(laborers, jobs)
        for policy in POLICIES:
            runs.append(
                simulate_timeline(
                    params, jobs, openings, laborers, income, policy=policy, replication=r, **solve
                )
            )
        key = (
            np.sort(laborers["person_id"].to_numpy()).tobytes()
            + openings.final_capacity().tobytes()
        )
        if key not in best_for:
            employer, _ = match_batch(
                laborers, jobs, openings.final_capacity(), np.array([], dtype=int), **solve
            )
            best_for[key] = int((employer >= 0).sum())
        hindsight.append(best_for[key])
        openings_by_rep.append(openings)
    return TimelineResult(
        scenario=scenario_name,
        seed=seed,
        params=params,
        day_zero=day_zero,
        runs=tuple(runs),
        hindsight=tuple(hindsight),
        openings=tuple(openings_by_rep),
    )


def run_scenario(
    scenario: Scenario, *, replications: int = 5, solver: str = "cbc"
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
    )
