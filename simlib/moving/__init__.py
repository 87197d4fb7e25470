"""The moving campaign: the plan run as given, the road as resources, the move-in teams.

- `inputs`, `tables`: `load_moving_params(scenario)`, the only reader of data/moving.
- `plan`: the dated batch plan and the checks every plan passes; `generate`: plans from
  targets; `optimize`: the optimised plan (PuLP).
- `convoys`, `road`, `calendar`, `book`: the rules of the road and the day, the random
  road, the days still to come.
- `timing`: the plan at mean times by arithmetic; `feasibility`: the check built on it.
- `campaign`: the SimPy `Campaign`; `result`, `rules`, `runs`: one campaign's tables.
- `replications`: `run(inputs, ...) -> MovingResult`, R replications as tidy tables.
- `needs`: what each convoy day needs, found with the SimPy model.
"""

from simlib.moving.generate import generate_plan, make_plan
from simlib.moving.inputs import DAY, MovingParams, load_moving_params
from simlib.moving.plan import BatchPlan
from simlib.moving.replications import MovingResult, run, run_replications
from simlib.moving.result import CampaignResult, run_campaign

__all__ = [
    "DAY",
    "BatchPlan",
    "CampaignResult",
    "MovingParams",
    "MovingResult",
    "generate_plan",
    "load_moving_params",
    "make_plan",
    "run",
    "run_campaign",
    "run_replications",
]
