"""The study's answers, one recipe each: which domain `run` computes it, with which options.

`simlib.results.Study.get(name)` computes an answer from these recipes once and keeps it;
the command line, the notebooks and the summary ask for answers by name and never run a
model themselves. A recipe takes the loaded `Inputs` and the run's `Options`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from simlib.inputs import Inputs


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


def moving(inputs: Inputs, options: Options) -> Any:
    """The moving campaign of the scenario's plan, over the replications."""
    from simlib.moving import run

    return run(inputs, replications=options.replications, workers=options.workers)


def matching(inputs: Inputs, options: Options) -> Any:
    """The job matching, with the value of one more place, export seat and care place."""
    from simlib import matching

    return matching.run(inputs, solver=options.solver, marginal=True)


def timeline(inputs: Inputs, options: Options) -> Any:
    """The employment timeline over the moving replications."""
    from simlib import timeline

    return timeline.run(inputs, replications=options.replications, solver=options.solver)


def housing(inputs: Inputs, options: Options) -> Any:
    """The housing lottery (the public draw) and its lottery day."""
    from simlib import housing

    return housing.run(inputs, "lottery", replications=options.replications)


def community(inputs: Inputs, options: Options) -> Any:
    """The community grids, the daily visits and the epidemic checkpoints."""
    from simlib.community import run

    return run(inputs, replications=options.replications)


def sweep(name: str) -> Callable[[Inputs, Options], Any]:
    """The sweep data/sweeps/<name>.yaml around the scenario (its points are kept by the
    sweep's own store as well)."""

    def compute(inputs: Inputs, options: Options) -> Any:
        from simlib.sweep.runner import run_on_scenario

        return run_on_scenario(name, inputs.scenario, seed=inputs.seed)

    return compute


Recipe = Callable[[Inputs, Options], Any]
RECIPES: dict[str, Recipe] = {
    "moving": moving,
    "matching": matching,
    "timeline": timeline,
    "housing": housing,
    "community": community,
    **{f"sweep:{name}": sweep(name) for name in ("assumptions", "morris", "discovery")},
}
