"""Community: the grids (网格), the daily visits of the grid workers and the epidemic
checkpoints of early 2020, after the families move in.

- `inputs`: `load_community_params(scenario, housing)`, the only reader of data/community;
- `site`: the site plan (walking distances, neighbours) the grids are drawn on;
- `grids`: the grid plan (PuLP, HiGHS), balanced, contiguous and compact; `cuts`: the
  simple cuts a community office would draw; `partition`: both measured alike;
- `visits`: the daily visits (SimPy); `epidemic`: who comes back and the checkpoints (SimPy);
- `adapters`: the only places that read the moving and housing models;
- `result`: `run(inputs, replications=R) -> CommunityResult`, tidy tables and a `runs`
  table that `summary()` aggregates.
"""

from simlib.community.inputs import CommunityParams, load_community_params
from simlib.community.result import CommunityResult, run

__all__ = ["CommunityParams", "CommunityResult", "load_community_params", "run"]
