"""The study's answers, one recipe each: which domain `run` computes it, with which options.

`simlib.results.Study.answer(name)` computes an answer from these recipes once and keeps it;
the command line, the notebooks and the summary ask for answers by name and never run a
model themselves. A recipe takes the loaded `Inputs` and the run's `Options`; an answer
is a Result (or a table) of the domain, never a presentation of it.

The report build computes every answer its notebooks ask for before it runs them, two at
a time (simlib.report), so a notebook only reads: the summary and the sensitivity report
read the same sweep points, the summary and each domain's report the same Result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from simlib.inputs import Inputs, vary

# the grid counts the community report compares (around the 36 grids the source reports)
GRID_COUNTS = (30, 33, 36, 40)
# variants shown beside the main run with fewer replications: they are compared, not read alone
VARIANT_REPLICATIONS = 3
LOOKAHEAD_REPLICATIONS = 2
# seconds of wall time the plan optimiser may take (its own default, 10 s, ran out on the
# shared machine while the build's other answers ran beside it, and a plan stopped by the
# clock is not the optimum): a limit for a busy machine, not a model assumption
OPTIMISER_TIME_LIMIT = 120.0
# a Dask worker costs a few CPU-seconds to start (its imports): a sweep is given one more
# worker only for every this many points, so a small (smoke) sweep runs on one
POINTS_PER_WORKER = 16


def sweep_workers(spec_name: str, inputs: Inputs, workers: int | None) -> int | None:
    """The workers worth giving a sweep of data/sweeps/<spec_name> around the scenario:
    at most `workers`, one per POINTS_PER_WORKER points of its design."""
    from simlib.sweep.levels import design_size
    from simlib.sweep.spec import load_spec

    if workers is None:
        return None
    spec = load_spec(spec_name).on_scenario(inputs.scenario, seed=inputs.seed)
    points = design_size(spec.method, spec.settings, spec.factors, spec.overlays)
    return max(1, min(workers, points // POINTS_PER_WORKER))


@dataclass(frozen=True)
class Options:
    """What a run is asked for besides its inputs: replications behind every confidence
    interval, the matching's solver. `workers` changes how fast, never what, so it is
    not part of an answer's key."""

    replications: int = 10
    solver: str = "cbc"
    workers: int | None = field(default=None, compare=False)

    def key(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "workers"}


# --- moving --------------------------------------------------------------------------------


def moving(inputs: Inputs, options: Options) -> Any:
    """The moving campaign of the scenario's plan, over the replications."""
    from simlib.moving import run

    return run(inputs, replications=options.replications, workers=options.workers)


def moving_optimised(inputs: Inputs, options: Options) -> Any:
    """The campaign of the optimised plan (earliest finish), with the same random draws."""
    from simlib.moving import run
    from simlib.moving.optimize import optimise_plan

    households = inputs.population.households
    plan = optimise_plan(inputs.moving, households, "finish", OPTIMISER_TIME_LIMIT).plan
    return run(inputs, replications=options.replications, workers=options.workers, plan=plan)


def moving_planners(inputs: Inputs, options: Options) -> Any:
    """The campaign of the planner's plan (equal days), with the same random draws."""
    from simlib.moving import run
    from simlib.moving.generate import planners_plan

    plan = planners_plan(inputs)
    return run(inputs, replications=options.replications, workers=options.workers, plan=plan)


def moving_deadline(inputs: Inputs, options: Options) -> Any:
    """The least convoy day that meets the deadline, and what it needs county by county."""
    from simlib.moving.deadline import deadline_needs

    return deadline_needs(inputs, replications=options.replications, workers=options.workers or 1)


def moving_needs(inputs: Inputs, options: Options) -> Any:
    """What each county's largest convoy day of the plan needs (`simlib needs --json`)."""
    import pandas as pd

    from simlib.moving import make_plan
    from simlib.moving.needs import NeedsRequest, needs_summary

    plan = make_plan(inputs.moving, inputs.population.households)
    largest = plan.rows.sort_values("households").groupby("county").tail(1)
    dates = tuple(pd.to_datetime(largest["date"]).dt.date)
    request = NeedsRequest(
        replications=options.replications, workers=options.workers or 1, dates=dates
    )
    return needs_summary(inputs, request)


CALL_ORDERS = ("registration", "building")  # the move-in report's two ways of calling households


def moving_call_orders(inputs: Inputs, options: Options, moving_result: Any) -> dict[str, Any]:
    """The campaign with the move-in day tied to the buildings, households called in each
    of CALL_ORDERS, on the plan of `moving_result` (the answer "moving") and with its random
    draws; where the scenario already calls that way, that is the answer "moving" itself."""
    from simlib.moving import run

    orders = {}
    for order in CALL_ORDERS:
        if inputs.moving.call_order == order and inputs.moving.movein_buildings:
            orders[order] = moving_result  # the same inputs, plan and seed: the same run
            continue
        changed = vary(inputs, {"moving.call_order": order, "moving.movein_buildings": True})
        orders[order] = run(
            changed,
            replications=options.replications,
            workers=options.workers,
            plan=moving_result.plan,
        )
    return orders


moving_call_orders.reads = ("moving",)  # computed on that answer (simlib.results.Study)


# --- jobs ----------------------------------------------------------------------------------


def matching(inputs: Inputs, options: Options) -> Any:
    """The job matching, with the value of one more place, export seat and care place."""
    from simlib import matching

    return matching.run(inputs, solver=options.solver, marginal=True)


def matching_effects(inputs: Inputs, options: Options) -> Any:
    """The job matching re-solved with one assumption changed at a time (same people)."""
    from simlib import study

    return study.matching_effects(inputs.scenario, solver=options.solver, seed=inputs.seed)


def timeline(inputs: Inputs, options: Options, moving_result: Any) -> Any:
    """The employment timeline over the moving replications, whose arrivals are read from
    `moving_result` (the answer "moving": the same inputs, plan, seed and replications)."""
    from simlib import timeline

    return timeline.run(
        inputs, replications=options.replications, solver=options.solver, moving=moving_result
    )


timeline.reads = ("moving",)  # its arrivals (simlib.results.Study)


def timeline_lookahead(inputs: Inputs, options: Options, moving_result: Any) -> Any:
    """The timeline with the look-ahead hold-back policy, beside the rolling one (the
    moving inputs unchanged: its arrivals are the first replications of "moving")."""
    from simlib import timeline

    ahead = vary(inputs, {"timeline.holdback_policy": "lookahead"})
    reps = min(options.replications, LOOKAHEAD_REPLICATIONS)
    return timeline.run(ahead, replications=reps, solver=options.solver, moving=moving_result)


timeline_lookahead.reads = ("moving",)  # its arrivals (simlib.results.Study)


# --- housing -------------------------------------------------------------------------------


def housing(inputs: Inputs, options: Options) -> Any:
    """The housing lottery (the public draw) and its lottery day."""
    from simlib import housing

    return housing.run(inputs, "lottery", replications=options.replications)


def housing_variants(inputs: Inputs, options: Options) -> dict[str, Any]:
    """The allocation by community and both methods without the low-floor priority (no
    lottery day: the price of each rule is read from the allocation alone)."""
    from simlib import housing

    plain = vary(inputs, {"housing.low_floor_priority": False})
    return {
        "community": housing.run(inputs, "community", day=False),
        "lottery, no priority": housing.run(plain, "lottery", day=False),
        "community, no priority": housing.run(plain, "community", day=False),
    }


def housing_audit(inputs: Inputs, options: Options) -> Any:
    """The lottery's fairness audit: each class's chances, drawn again and again."""
    from simlib.housing.audit import fairness_audit

    return fairness_audit(inputs, "lottery")


def housing_sweep(inputs: Inputs, options: Options) -> Any:
    """data/sweeps/housing.yaml around the scenario, one row per point."""
    from simlib.housing.evaluate import evaluate_housing
    from simlib.sweep.runner import run_points_here
    from simlib.sweep.spec import load_spec

    spec = load_spec("housing.yaml").on_scenario(inputs.scenario, seed=inputs.seed)
    return run_points_here(spec, evaluate=evaluate_housing)


# --- community -----------------------------------------------------------------------------


def community(inputs: Inputs, options: Options, moving_result: Any) -> Any:
    """The community grids, the daily visits and the epidemic checkpoints, with the days of
    moving in read from `moving_result` (the answer "moving": the same inputs and seed)."""
    from simlib.community import run

    return run(inputs, replications=options.replications, moving=moving_result)


community.reads = ("moving",)  # its days of moving in (simlib.results.Study)


def community_arrival_order(inputs: Inputs, options: Options, moving_result: Any) -> Any:
    """The community with households placed in arrival order, for comparison (the moving
    inputs unchanged: its days of moving in are the first replications of "moving")."""
    from simlib.community import run

    filled = vary(inputs, {"community.placement_rule": "arrival_order"})
    reps = min(options.replications, VARIANT_REPLICATIONS)
    return run(filled, replications=reps, moving=moving_result)


community_arrival_order.reads = ("moving",)  # its days of moving in (simlib.results.Study)


def community_grid_counts(inputs: Inputs, options: Options) -> Any:
    """The grid plans for each of GRID_COUNTS grids, with one replication of the visits."""
    from simlib.community.sweep import grid_counts

    return grid_counts(inputs, GRID_COUNTS, replications=1)


def community_sweep(inputs: Inputs, options: Options) -> Any:
    """data/sweeps/community.yaml around the scenario (its points kept by the sweep store)."""
    from simlib.community.sweep import sweep_on_scenario

    workers = sweep_workers("community.yaml", inputs, options.workers)
    return sweep_on_scenario(inputs.scenario, seed=inputs.seed, workers=workers)


# --- the report sweeps ---------------------------------------------------------------------


def sweep(name: str) -> Callable[[Inputs, Options], Any]:
    """The sweep data/sweeps/<name>.yaml around the scenario (its points are kept by the
    sweep's own store as well, under results/sweeps/<name>-<scenario>/)."""

    def compute(inputs: Inputs, options: Options) -> Any:
        from simlib.provenance import RunFailed
        from simlib.sweep.runner import run_on_scenario

        workers = sweep_workers(f"{name}.yaml", inputs, options.workers)
        run = run_on_scenario(name, inputs.scenario, seed=inputs.seed, workers=workers)
        if name in CHECKED_SWEEPS and run.failed:  # the summary's table must be whole
            failures = "; ".join(f"{f['label']}: {f['error']}" for f in run.failures)
            raise RunFailed(f"the {name} sweep had failed points: {failures}")
        return run

    compute.__doc__ = f"data/sweeps/{name}.yaml around the scenario."
    return compute


CHECKED_SWEEPS = ("assumptions",)
Recipe = Callable[..., Any]  # (inputs, options, *the answers named in its `reads`)
RECIPES: dict[str, Recipe] = {
    "moving": moving,
    "moving:optimised": moving_optimised,
    "moving:planners": moving_planners,
    "moving:deadline": moving_deadline,
    "moving:needs": moving_needs,
    "moving:call_orders": moving_call_orders,
    "matching": matching,
    "matching:effects": matching_effects,
    "timeline": timeline,
    "timeline:lookahead": timeline_lookahead,
    "housing": housing,
    "housing:variants": housing_variants,
    "housing:audit": housing_audit,
    "housing:sweep": housing_sweep,
    "community": community,
    "community:arrival_order": community_arrival_order,
    "community:grid_counts": community_grid_counts,
    "community:sweep": community_sweep,
    **{f"sweep:{name}": sweep(name) for name in ("assumptions", "morris", "discovery")},
}

# answers that read a sweep specification (data/sweeps/*.yaml): their cache key holds the
# specifications' version, so a changed design or what-if is computed again
READS_SPECS = frozenset(
    {
        "matching:effects",
        *(name for name in RECIPES if name.endswith("sweep") or name.startswith("sweep:")),
    }
)

# answers that read no option (each sweep states its own replications): one answer whatever
# the report's replications and solver, so every report of a scenario shares it
OPTIONLESS = frozenset(
    {
        "housing:variants",
        "housing:audit",
        "housing:sweep",
        "community:grid_counts",
        "community:sweep",
        *(name for name in RECIPES if name.startswith("sweep:")),
    }
)
