"""From arrival to first wage: the employment timeline, with matching driven by the moving
simulation.

Each moving replication gives every household's day of moving in (`adapters.arrival_table`);
its laborers become available `settling_days` later; places open by programme over time
and, for labour export, with the return-to-work buses (`openings`); matching runs in
batches over the laborers available and the places still open (`rolling`, each batch the
matching package's own formulation: `simlib.matching.batch`), and the runs are gathered in
tidy tables (`result`). Two references come with every replication: a greedy first-come
policy (each laborer, the day they are available, takes the open job with the highest
expected income they may take, keeping the care rule) and the hindsight bound
(`simlib.matching.batch.bound`): the static matching, as if every arrival had been known
in advance, of everyone available by a given day against the places that can have
someone at work that day (the bus channel: the seats of the buses gone by then), keeping
only what every policy keeps by construction (eligibility, capacities, the care rule) and
relaxing what a batch may soften (the household rule, the floors). Training and the wait
for a batch are ignored. It is a relaxation of every rolling or greedy plan, so a policy's
percentage of it is at most 100: in people (`percent_of_hindsight`, maximising people) and
in expected lasting employment (`percent_of_hindsight_lasting`, maximising it), at the
two-month mark and at the end, with every place open (`percent_of_hindsight_final`).

`run(inputs)` is the entry point; `run(inputs, moving=...)` reads the arrivals from a moving
answer already run (`simlib.moving.run` on the same inputs) instead of simulating them again. Modules: `inputs` (data/timeline), `openings`,
`adapters` (the only calls into the moving model, and the matching's eligibility),
`rolling` (the SimPy run), `result`.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from simlib.matching.batch import bound
from simlib.timeline.adapters import (
    arrival_table,
    care_bound_households,
    eligible_jobs,
    recorded_arrivals,
)
from simlib.timeline.inputs import TimelineParams, load_timeline_params
from simlib.timeline.openings import Openings, build_openings
from simlib.timeline.result import TimelineResult
from simlib.timeline.rolling import (
    POLICIES,
    Setup,
    TimelineRun,
    available_laborers,
    simulate_timeline,
)

__all__ = [
    "Openings",
    "Setup",
    "TimelineParams",
    "TimelineResult",
    "TimelineRun",
    "load_timeline_params",
    "replication_setup",
    "run",
]


def _day_zero(arrivals) -> dt.date:
    first = arrivals.iloc[0]
    return first["arrival_date"] - dt.timedelta(days=int(first["arrival_day"]))


def replication_setup(inputs, replication: int, arrivals=None) -> Setup:
    """Moving replication `replication`'s arrivals (`arrivals`, else simulated), the places
    opening from its first day, the laborers as they become available and what each may
    earn where."""
    people, households = inputs.population.people, inputs.population.households
    if arrivals is None:
        arrivals = arrival_table(
            inputs.moving, households, seed=inputs.seed, replication=replication
        )
    day_zero = _day_zero(arrivals)
    params, jobs = inputs.timeline, inputs.jobs
    laborers = available_laborers(people, households, arrivals, params.settling_days)
    probability, income = eligible_jobs(laborers, jobs)
    return Setup(
        params=params,
        jobs=jobs,
        openings=build_openings(params, jobs, day_zero),
        laborers=laborers,
        probability=probability,
        income=income,
        care_bound=care_bound_households(laborers, jobs),
        day_zero=day_zero,
    )


def _bounds(setup: Setup, day: int | None, cache: dict, solve: dict) -> dict[str, float]:
    """The hindsight bounds on `day` (None: at the end, every place open): the most people
    and the most expected lasting employment any rolling or greedy plan can have at work."""
    lab = setup.laborers
    if day is not None:
        lab = lab[lab["available_day"] <= day]
    o = setup.openings
    capacity = o.final_capacity() if day is None else o.at_work_capacity(day)
    key = np.sort(lab["person_id"].to_numpy()).tobytes() + capacity.tobytes()
    if key not in cache:
        people, _ = bound(lab, setup.jobs, capacity, "employed", **solve)
        _, lasting = bound(lab, setup.jobs, capacity, "lasting", **solve)
        cache[key] = {"people": people, "lasting": lasting}
    return cache[key]


def _replication(args) -> tuple[list[TimelineRun], dict[str, float], Openings, dt.date]:
    """Both policies and the hindsight bounds of moving replication r (its arrivals given,
    or None: simulated)."""
    inputs, r, solve, cache, arrivals = args
    setup = replication_setup(inputs, r, arrivals)
    cache = {} if cache is None else cache
    memo = cache.setdefault("batches", {})  # rolling batches solved (`Timeline.match`)
    runs = [simulate_timeline(setup, policy, r, **solve, memo=memo) for policy in POLICIES]
    two = int(setup.laborers["arrival_day"].max()) + setup.params.two_months_days
    solved = cache.setdefault("bounds", {})
    at_two, final = _bounds(setup, two, solved, solve), _bounds(setup, None, solved, solve)
    bounds = {
        "two_months": at_two["people"],
        "lasting_two_months": at_two["lasting"],
        "final": final["people"],
        "lasting_final": final["lasting"],
    }
    return runs, bounds, setup.openings, setup.day_zero


def run(
    inputs,
    *,
    replications: int = 5,
    solver: str = "cbc",
    time_limit=None,
    workers: int = 1,
    moving=None,
) -> TimelineResult:
    """The rolling and greedy policies and the hindsight bounds over `replications` moving
    replications of the loaded inputs (replication r moves with the moving model's streams
    r under the inputs' seed), on `workers` processes (the result does not depend on it).

    `moving`: a `MovingResult` of the same inputs (the report's answer "moving"), whose
    replications give the arrivals instead of running the campaign again; a replication it
    lacks, or a result of other inputs, plan or seed, is simulated as without it."""
    if replications < 1:
        raise ValueError(f"replications (={replications}) must be >= 1")
    if workers < 1:
        raise ValueError(f"workers (={workers}) must be >= 1")
    solve = {"solver": solver, "time_limit": time_limit}
    arrivals = [_recorded(inputs, moving, r) for r in range(replications)]
    if workers == 1:
        cache: dict = {}  # replications with the same arrivals share batches and bounds
        done = [_replication((inputs, r, solve, cache, arrivals[r])) for r in range(replications)]
    else:
        tasks = [(inputs, r, solve, None, arrivals[r]) for r in range(replications)]
        with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
            done = list(pool.map(_replication, tasks))
    return TimelineResult.from_runs(inputs.scenario.name, inputs.seed, inputs.timeline, done)


def _recorded(inputs, moving, replication: int):
    """Replication `replication`'s arrivals as `moving` recorded them (None: to simulate)."""
    if moving is None:
        return None
    households = inputs.population.households
    return recorded_arrivals(
        moving, inputs.moving, households, seed=inputs.seed, replication=replication
    )
