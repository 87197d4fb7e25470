"""The draw: which household gets which flat, many draws at once.

The public lottery's procedure (摇号) is modelled as the two-step draw such lotteries use:
the households of a unit type draw an order number, then in that order each draws one of
the flats left (a computer draw shown on screen). With no choice by the household, this is
a uniformly random matching of the type's households to its flats: every household of a
draw pool has the same chance of every flat in it, whatever its order number. Priority
comes first: households that asked for a low floor (`asks_low`) draw among the low-floor
flats of their type before anyone else; those left without one draw with everybody for
the flats that remain.

The `community` method draws the same way within what its model leaves open: flats
reserved for a village (its households of one type, low floors for those that asked) are
drawn among that village's households, and flats in the shared pool among the households
the model sent there.

Everything is vectorised over `draws` independent draws (rows of the arrays) so that the
fairness audit can run a thousand full draws in seconds; a single allocation is one row.
Random numbers come from the stream the caller passes (simlib.randomness.stream).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NONE = -1  # no flat / no pool


def ranks_within(groups: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each item's rank (0, 1, ...) among the items of its group, ordered by `keys`, and
    the sort order itself. `groups` (n,) or (draws, n) of ints; `keys` (draws, n)."""
    groups = np.broadcast_to(groups, keys.shape)
    order = np.argsort(groups + keys, axis=1, kind="stable")  # keys in [0, 1)
    sorted_groups = np.take_along_axis(groups, order, axis=1)
    position = np.broadcast_to(np.arange(keys.shape[1]), keys.shape)
    first = np.ones(keys.shape, dtype=bool)
    first[:, 1:] = sorted_groups[:, 1:] != sorted_groups[:, :-1]
    start = np.maximum.accumulate(np.where(first, position, 0), axis=1)
    ranks = np.empty(keys.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, position - start, axis=1)
    return ranks, order


def match_pools(
    household_pool: np.ndarray,
    flat_pool: np.ndarray,
    pools: int,
    rng: np.random.Generator,
    draws: int,
) -> np.ndarray:
    """A uniformly random matching within each pool, `draws` times: (draws, households)
    flat indices, NONE where a household is in no pool (NONE) or its pool ran out of
    flats. Pools are ints in [0, pools); NONE entries take part in nothing."""
    n, m = household_pool.shape[-1], flat_pool.shape[-1]
    h_pool = np.where(household_pool == NONE, pools, household_pool)  # pools: no flats
    f_pool = np.where(flat_pool == NONE, pools + 1, flat_pool)  # pools + 1: no households
    h_rank, _ = ranks_within(h_pool, rng.random((draws, n)))
    f_rank, f_order = ranks_within(f_pool, rng.random((draws, m)))
    f_pool = np.broadcast_to(f_pool, (draws, m))
    counts = np.zeros((draws, pools + 2), dtype=np.int64)
    np.add.at(counts, (np.arange(draws)[:, None], f_pool), 1)
    starts = np.cumsum(counts, axis=1) - counts
    h_pool = np.broadcast_to(h_pool, (draws, n))
    rows = np.arange(draws)[:, None]
    matched = (h_rank < counts[rows, h_pool]) & (h_pool < pools)
    slot = np.where(matched, starts[rows, h_pool] + h_rank, 0)
    return np.where(matched, f_order[rows, slot], NONE)


def _codes(values: pd.Series | np.ndarray, categories: list[str]) -> np.ndarray:
    """Integer codes of `values` in `categories` (NONE for a value not among them)."""
    # an index lookup, not pd.Categorical: pandas deprecates values outside its categories
    codes = pd.Index(categories).get_indexer(np.asarray(values))
    return np.where(codes < 0, NONE, codes).astype(np.int64)


def two_phases(
    first: tuple[np.ndarray, np.ndarray],
    then: tuple[np.ndarray, np.ndarray],
    pools: int,
    rng: np.random.Generator,
    draws: int,
) -> np.ndarray:
    """Phase one matches `first` (household pools, flat pools); whoever it leaves without
    a flat, and the flats it leaves, are matched again by `then`'s pools."""
    one = match_pools(first[0], first[1], pools, rng, draws)
    m = first[1].shape[-1]
    taken = np.zeros((draws, m), dtype=bool)
    rows, cols = np.nonzero(one >= 0)
    taken[rows, one[rows, cols]] = True
    h_pool = np.where(one >= 0, NONE, np.broadcast_to(then[0], one.shape))
    f_pool = np.where(taken, NONE, np.broadcast_to(then[1], taken.shape))
    two = match_pools(h_pool, f_pool, pools, rng, draws)
    return np.where(one >= 0, one, two)


def lottery_draw(
    households: pd.DataFrame,
    flats: pd.DataFrame,
    types: list[str],
    rng: np.random.Generator,
    draws: int = 1,
    priority: bool = True,
) -> np.ndarray:
    """The public draw alone, `draws` times: (draws, households) flat indices. Pools are
    unit types; with `priority`, households that asked for a low floor first draw among
    the low-floor flats of their type."""
    h_type = _codes(households["unit_type"], types)
    f_type = _codes(flats["unit_type"], types)
    asks = households["asks_low"].to_numpy(bool) & priority
    low = flats["low_floor"].to_numpy(bool)
    first = (np.where(asks, h_type, NONE), np.where(low, f_type, NONE))
    return two_phases(first, (h_type, f_type), len(types), rng, draws)


@dataclass(frozen=True)
class Reservations:
    """What the community model leaves to the draw: `slots` (pool, building, kind, flats):
    flats of a building reserved for a pool, `kind` "low" (low floors, for households that
    asked) or "any"; `members` (village, unit_type, kind, pool, households): how many of a
    village's households of a type draw in a pool. A pool is a village's own (its name)
    or the shared one of a type ("*")."""

    slots: pd.DataFrame
    members: pd.DataFrame


def _label_flats(
    flats: pd.DataFrame, slots: pd.DataFrame, pool_ids: dict, rng, draws: int
) -> np.ndarray:
    """(draws, flats) the household pool each flat is reserved for (NONE: vacant): in each
    building and type, the low-floor slots take low-floor flats at random, then the other
    slots take the flats left."""
    cells = sorted(set(zip(flats["building"], flats["unit_type"], strict=True)))
    cell_id = {c: i for i, c in enumerate(cells)}
    expanded = slots.loc[slots.index.repeat(slots["flats"])]
    s_cell = np.array(
        [cell_id[(b, t)] for b, t in zip(expanded["building"], expanded["unit_type"], strict=True)]
    )
    s_low = expanded["kind"].to_numpy() == "low"
    f_cell = np.array(
        [cell_id[(b, t)] for b, t in zip(flats["building"], flats["unit_type"], strict=True)]
    )
    f_low = flats["low_floor"].to_numpy(bool)
    first = (np.where(s_low, s_cell, NONE), np.where(f_low, f_cell, NONE))
    then = (np.where(s_low, NONE, s_cell), f_cell)
    flat_of_slot = two_phases(first, then, len(cells), rng, draws)
    s_pool = np.array([pool_ids[k] for k in zip(expanded["pool"], expanded["unit_type"], expanded["kind"], strict=True)])  # fmt: skip
    labels = np.full((draws, len(flats)), NONE)
    rows, cols = np.nonzero(flat_of_slot >= 0)
    labels[rows, flat_of_slot[rows, cols]] = s_pool[cols]
    return labels


def _household_pools(
    households: pd.DataFrame, members: pd.DataFrame, pool_ids: dict, rng, draws: int
) -> np.ndarray:
    """(draws, households) the pool each household draws in: within a village and type,
    a random order sends the households that asked to the low-floor pools (the village's,
    then the shared one) as far as they go, and everyone else to the village's other
    flats, then to the shared pool."""
    n = len(households)
    cell = pd.MultiIndex.from_arrays([households["village"], households["unit_type"]])
    codes = np.asarray(pd.factorize(cell)[0], dtype=np.int64)
    asks = households["asks_low"].to_numpy(bool)
    result = np.full((draws, n), NONE)
    ask_rank, _ = ranks_within(np.where(asks, codes, codes.max() + 1), rng.random((draws, n)))
    for kind, eligible in (("low", asks), ("any", None)):
        if kind == "any":
            eligible = result == NONE
            keys = rng.random((draws, n))
            rank, _ = ranks_within(np.where(eligible, codes, codes.max() + 1), keys)
        else:
            rank = np.where(eligible, ask_rank, np.iinfo(np.int64).max)
        lower = np.zeros(n, dtype=np.int64)
        for own in (True, False):
            size = _member_counts(households, members, kind, own)
            upper = lower + size
            inside = np.broadcast_to(eligible, (draws, n)) & (rank >= lower) & (rank < upper)
            pool = np.array(
                [
                    pool_ids.get((v if own else "*", t, kind), NONE)
                    for v, t in zip(households["village"], households["unit_type"], strict=True)
                ]
            )
            result = np.where(inside & (result == NONE), pool, result)
            lower = upper
    return result


def _member_counts(households: pd.DataFrame, members: pd.DataFrame, kind: str, own: bool):
    """Per household: how many of its village's households of its type draw in the
    village's own pool (`own`) or the shared pool of this kind."""
    keys = pd.DataFrame(
        {
            "village": households["village"].to_numpy(),
            "unit_type": households["unit_type"].to_numpy(),
            "kind": kind,
            "pool": households["village"].to_numpy() if own else "*",
        }
    )
    merged = keys.merge(members, on=["village", "unit_type", "kind", "pool"], how="left")
    return merged["households"].fillna(0).to_numpy(dtype=np.int64)


def community_draw(
    households: pd.DataFrame,
    flats: pd.DataFrame,
    reservations: Reservations,
    rng: np.random.Generator,
    draws: int = 1,
) -> np.ndarray:
    """The draw within what the community model leaves open, `draws` times: (draws,
    households) flat indices."""
    keys = sorted(
        set(
            zip(
                reservations.slots["pool"],
                reservations.slots["unit_type"],
                reservations.slots["kind"],
                strict=True,
            )
        )
    )
    pool_ids = {k: i for i, k in enumerate(keys)}
    labels = _label_flats(flats, reservations.slots, pool_ids, rng, draws)
    pools = _household_pools(households, reservations.members, pool_ids, rng, draws)
    return match_pools(pools, labels, len(keys), rng, draws)
