"""The moving campaign: batch plan, county convoy days, move-in day, follow-up visits.

- `inputs`: `load_moving_params(scenario)`, the only reader of data/moving.
- `plan`: the dated batch plan (a planner's file, checked, or generated from targets).
- `convoys`: vehicles, convoys, day limits of a county, driving in daylight.
- `feasibility`: the plan against the resources by arithmetic, before simulating.
- `campaign`: the SimPy `Campaign` (convoy days, move-in steps, follow-up visits).
- `result`: tidy tables of one campaign, the per-day binding resource, its summary.
- `replications`: replications with common random numbers, their table and summary.
"""

from simlib.moving.inputs import DAY, MovingParams, load_moving_params
from simlib.moving.plan import BatchPlan, generate_plan, make_plan
from simlib.moving.replications import Replications, run_replications
from simlib.moving.result import CampaignResult, run_campaign

__all__ = [
    "DAY",
    "BatchPlan",
    "CampaignResult",
    "MovingParams",
    "Replications",
    "generate_plan",
    "load_moving_params",
    "make_plan",
    "run_campaign",
    "run_replications",
]
