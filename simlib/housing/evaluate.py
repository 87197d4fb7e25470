"""The housing outputs of one point of a sweep: the flat numbers a one-at-a-time sweep over
the housing assumptions records (data/sweeps/housing.yaml, run by notebook 07 through
simlib.sweep.runner.run_points_here with this evaluator).

The sweep runner's own evaluator (simlib.sweep.evaluate) records the moving campaign and
the job matching, which no housing assumption moves; this one records the allocation by
the public draw and the lottery day.
"""

from __future__ import annotations

from typing import Any

OUTPUTS = {
    "priority_low_floor_share": ("share", "households that asked for a low floor and got one"),
    "low_floor_share_not_asked": ("share", "other households on a low floor"),
    "households_asked": ("households", "households that asked for a low floor"),
    "without_flat": ("households", "households left without a flat by the shortfall rule"),
    "crowded": ("households", "households in a type smaller than their own"),
    "building_entropy_bits": ("bits", "how random a household's building is"),
    "day_hours": ("hours", "length of the lottery day, mean over replications"),
    "day_hours_ci95": ("hours", "95 % CI half-width of the day's length (noise)"),
    "rounds": ("rounds", "draw rounds"),
    "wait_mean_minutes": ("minutes", "mean wait to sign after a round's result"),
}


def evaluate_housing(inputs, replications: int, seed: int) -> dict[str, Any]:
    """Run the public draw and `replications` lottery days on `inputs` (the seed is the
    inputs'; `seed` is the sweep point's and picks nothing else here)."""
    from simlib import housing

    s = housing.run(inputs, "lottery", replications=max(2, replications)).summary()
    day = s["lottery_day"]
    hours = day["hours"]
    return {
        "priority_low_floor_share": s["priority_low_floor_share"],
        "low_floor_share_not_asked": s["low_floor_share_not_asked"],
        "households_asked": s["asked_low_floor"],
        "without_flat": s["without_flat"],
        "crowded": s["fit"]["smaller"],
        "building_entropy_bits": s["draw_randomness"]["building_entropy_bits"],
        "day_hours": hours["mean"],
        "day_hours_ci95": (hours["ci95_high"] - hours["ci95_low"]) / 2,
        "rounds": day["rounds"]["mean"],
        "wait_mean_minutes": day["wait_mean_minutes"]["mean"],
    }
