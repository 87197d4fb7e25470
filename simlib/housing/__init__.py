"""Housing: the unified public lottery (统一摇号分房) and the allocation of the 8,866 flats.

`run(inputs, method=...)` is the entry point: demand against supply (demand), the
commitment (verify), the draw (draw; with `community`, the PuLP model first), the
checks, and the lottery day (lottery_day), returned as a frozen HousingResult of tidy
tables (result). Modules:

- inputs: the stock and the rules from data/housing/ (`load_housing_params`);
- site: walking distances, neighbours and the site order;
- demand: households, villages, priority, and the unit type each one draws for;
- draw: the random matching (vectorised over many draws);
- community: the PuLP model that keeps villages together;
- chances: each class's chance of each building (how random the draw still is);
- audit: the fairness audit over many draws;
- verify: commitment, published list and its check;
- lottery_day: the day itself (SimPy).
"""

from __future__ import annotations

from simlib.housing.inputs import HousingParams, load_housing_params

METHODS = ("lottery", "community")

__all__ = [
    "METHODS",
    "HousingParams",
    "allocate",
    "joined",
    "load_housing_params",
    "prepare",
    "run",
]


def prepare(inputs, method: str):
    """The households that draw (with their unit type), the flats, and the commitment:
    everything fixed before the draw."""
    from simlib.housing.demand import assign_types, households_table
    from simlib.housing.inputs import flats_table
    from simlib.housing.verify import digests

    if method not in METHODS:
        raise ValueError(f"method(={method!r}) must be one of {METHODS}")
    params = inputs.housing
    households = assign_types(
        households_table(inputs.population, params, inputs.seed), params, inputs.seed
    )
    flats = flats_table(params)
    return households, flats, digests(inputs.seed, method, households, flats, params)


def allocate(inputs, method: str, households, flats):
    """The draw (after the community model for `community`): each household's flat index
    (-1: none), the class chances, and the model's solve record (None for `lottery`)."""
    from simlib.housing import chances
    from simlib.housing.draw import community_draw, lottery_draw
    from simlib.randomness import stream

    params = inputs.housing
    rng = stream(inputs.seed, "housing", "draw", method)
    priority = params.low_floor_priority
    drawing = households.assign(asks_low=households["asks_low"] & priority)
    if method == "lottery":
        index = lottery_draw(drawing, flats, list(params.type_names), rng, 1)[0]
        return index, chances.lottery_chances(drawing, flats, priority), None
    from simlib.housing.community import solve

    reservations, log = solve(drawing, flats, params)
    index = community_draw(drawing, flats, reservations, rng, 1)[0]
    record = {
        "status": log.status,
        "optimal": log.status == "optimal",
        "gap": log.gap,
        "objective_metres": log.objective,
        "build_seconds": round(log.build_seconds, 3),
        "solve_seconds": round(log.solve_seconds, 3),
        "max_constraint_violation": log.max_violation,
        "max_integrality_gap": log.max_fraction,
        "variables": log.variables,
        "constraints": log.constraints,
        "shared_pool_households": int(
            reservations.members.loc[reservations.members["pool"] == "*", "households"].sum()
        ),
    }
    return index, chances.community_chances(drawing, flats, reservations), record


def run(
    inputs,
    method: str = "lottery",
    replications: int | None = None,
    day: bool = True,
    announce=None,
):
    """Allocate the flats by `method` ("lottery" or "community") and simulate the lottery
    day (`replications`, default from data; `day=False` skips it). `announce(digests)` is
    called with the commitment before the draw. Raises RunFailed when the allocation
    breaks a rule (checked from the tables) or the model finds no plan."""
    import pandas as pd

    from simlib.housing.demand import by_type
    from simlib.housing.inputs import buildings_table
    from simlib.housing.lottery_day import simulate_day
    from simlib.housing.result import HousingResult, rule_check
    from simlib.provenance import RunFailed

    households, flats, digests = prepare(inputs, method)
    if announce is not None:
        announce(digests)
    index, chances, record = allocate(inputs, method, households, flats)
    households, flats = joined(households, flats, index)
    checks = rule_check(households, flats, inputs.housing)
    if any(checks.values()):
        raise RunFailed(f"the {method} allocation breaks a rule: {checks}")
    runs, rounds = (
        simulate_day(households, inputs.housing, inputs.seed, replications)
        if day
        else (pd.DataFrame(), pd.DataFrame())
    )
    return HousingResult(
        scenario=inputs.scenario.name,
        seed=inputs.seed,
        method=method,
        params=inputs.housing,
        households=households,
        flats=flats,
        buildings=buildings_table(inputs.housing),
        by_type=by_type(households, inputs.housing),
        chances=chances,
        runs=runs,
        rounds=rounds,
        digests=digests,
        solve=record,
        checks=checks,
    )


def joined(households, flats, index):
    """Households with their flat (building, stairwell, floor, unit; "" and -1 for none)
    and flats with their household (-1 for vacant)."""
    import numpy as np

    housed = index >= 0
    got = flats.iloc[np.where(housed, index, 0)].reset_index(drop=True)
    out = households.reset_index(drop=True).copy()
    for column, empty in (("building", ""), ("unit", "")):
        out[column] = np.where(housed, got[column].to_numpy(), empty)
    for column in ("stairwell", "floor"):
        out[column] = np.where(housed, got[column].to_numpy(), -1)
    out["low_floor"] = housed & got["low_floor"].to_numpy()
    flats = flats.copy()
    flats["household"] = -1
    flats.loc[index[housed], "household"] = out.loc[housed, "household"].to_numpy()
    return out, flats
