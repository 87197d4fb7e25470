"""Each household's chance of each building and of a low floor, worked out from the draw's
pools (not sampled): how random the draw still is after a method's rules.

In a uniformly random matching of N households to F flats, each household gets each flat
with probability min(1, F/N)/F. The lottery's second phase draws among the flats the
first phase left; their number is fixed, so a household's chance of building b is the
expected number of b's flats left over that number. The community method's chances
follow from its reservations: a village's households of a type are spread over its
reserved flats (and the shared pool) by the same draw. A class is the set of households
the draw cannot tell apart: same unit type and same request (and, for `community`, same
village); each class has one row per building.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.housing.draw import Reservations


def _classes(households: pd.DataFrame, method: str, priority: bool) -> pd.DataFrame:
    """Households per class (village, unit type, asked)."""
    drawing = households[households["unit_type"] != ""]
    asks = drawing["asks_low"] & priority
    village = drawing["village"] if method == "community" else ""
    frame = pd.DataFrame({"village": village, "unit_type": drawing["unit_type"], "asks": asks})
    return frame.value_counts().rename("households").reset_index()


def lottery_chances(
    households: pd.DataFrame, flats: pd.DataFrame, priority: bool = True
) -> pd.DataFrame:
    """Rows (village "", unit_type, asks, households, building, chance, low_floor_chance)."""
    rows = []
    for c in _classes(households, "lottery", priority).itertuples():
        t = c.unit_type
        mine = flats[flats["unit_type"] == t]
        cap = mine.groupby("building").size()
        low = mine[mine["low_floor"]].groupby("building").size().reindex(cap.index, fill_value=0)
        drawing = households[households["unit_type"] == t]
        asked = int((drawing["asks_low"] & priority).sum())
        first = min(asked, int(low.sum()))
        left = cap - (first * low / low.sum() if low.sum() else 0)
        n2, f2 = len(drawing) - first, int(cap.sum()) - first
        get2 = min(1.0, f2 / n2) if n2 else 0.0
        p2 = left / f2 * get2 if f2 else left * 0
        low2 = (low.sum() - first) / f2 * get2 if f2 else 0.0
        if c.asks:
            share = first / asked
            chance = share * low / low.sum() + (1 - share) * p2
            low_chance = share + (1 - share) * low2
        else:
            chance, low_chance = p2, low2
        rows += [
            ("", t, bool(c.asks), int(c.households), b, float(p), float(low_chance))
            for b, p in chance.items()
        ]
    return pd.DataFrame(rows, columns=_COLUMNS)


_COLUMNS = ["village", "unit_type", "asks", "households", "building", "chance", "low_floor_chance"]


def community_chances(
    households: pd.DataFrame, flats: pd.DataFrame, reservations: Reservations
) -> pd.DataFrame:
    """The same for the community method, from its reservations."""
    slots, members = reservations.slots, reservations.members
    cap = flats.groupby(["building", "unit_type"]).size()
    low = flats[flats["low_floor"]].groupby(["building", "unit_type"]).size()
    low_slots = slots[slots["kind"] == "low"].groupby(["building", "unit_type"])["flats"].sum()
    room = (cap - low_slots.reindex(cap.index, fill_value=0)).astype(float)
    spare_low = low.reindex(cap.index, fill_value=0) - low_slots.reindex(cap.index, fill_value=0)
    rho = (spare_low / room.where(room > 0)).fillna(0.0)  # chance an "any" slot is low
    by_pool = slots.groupby(["pool", "unit_type", "kind", "building"])["flats"].sum()
    count = members.set_index(["village", "unit_type", "kind", "pool"])["households"]
    rows = []
    for c in _classes(households, "community", True).itertuples():
        v, t = c.village, c.unit_type
        n = {(k, p): int(count.get((v, t, k, v if p == "own" else "*"), 0)) for k in ("low", "any") for p in ("own", "shared")}  # fmt: skip
        any_chance = _pool_mix(by_pool, v, t, "any", n[("any", "own")], n[("any", "shared")])
        any_low = sum(p * rho.get((b, t), 0.0) for b, p in any_chance.items())
        if c.asks:
            asked = int(c.households)
            on_low = n[("low", "own")] + n[("low", "shared")]
            low_chance = _pool_mix(by_pool, v, t, "low", n[("low", "own")], n[("low", "shared")])
            rest = (asked - on_low) / asked
            chance = _add(_scale(low_chance, on_low / asked), _scale(any_chance, rest))
            low_p = on_low / asked + rest * any_low
        else:
            chance, low_p = any_chance, any_low
        rows += [(v, t, bool(c.asks), int(c.households), b, float(p), float(low_p)) for b, p in chance.items()]  # fmt: skip
    return pd.DataFrame(rows, columns=_COLUMNS)


def _pool_mix(by_pool: pd.Series, village: str, t: str, kind: str, own: int, shared: int) -> dict:
    """Chance of each building for one household of a village sent to the own pool or the
    shared pool of a kind in proportion to their sizes."""
    total = own + shared
    if not total:
        return {}
    out: dict[str, float] = {}
    for pool, weight in ((village, own / total), ("*", shared / total)):
        if not weight:
            continue
        try:
            flats = by_pool.loc[(pool, t, kind)]
        except KeyError:
            continue
        for b, k in flats.items():
            out[b] = out.get(b, 0.0) + weight * k / flats.sum()
    return out


def _scale(d: dict, factor: float) -> dict:
    return {k: v * factor for k, v in d.items()}


def _add(a: dict, b: dict) -> dict:
    return {k: a.get(k, 0.0) + b.get(k, 0.0) for k in set(a) | set(b)}


def randomness(chances: pd.DataFrame) -> pd.DataFrame:
    """Per class: households, the entropy of its building in bits, the number of equally
    likely buildings that entropy is worth (2^H), and the chance of a low floor."""
    p = chances["chance"].clip(lower=1e-300)
    entropy = (
        -(chances["chance"] * np.log2(p))
        .groupby([chances["village"], chances["unit_type"], chances["asks"]])
        .sum()
    )
    first = chances.groupby(["village", "unit_type", "asks"])[
        ["households", "low_floor_chance"]
    ].first()
    out = first.assign(building_entropy_bits=entropy, equally_likely_buildings=2.0**entropy)
    return out.reset_index()
