"""One seed, many independent streams.

Every random input draws from its own stream, named by keys such as
("moving", replication, "loading"). The stream depends on the seed and the keys alone,
never on the order in which streams are created, so two scenarios compared side by side
see the same draws for the same input (common random numbers), and adding a new random
input does not shift the existing ones. `simlib` never touches a global random state.
"""

from __future__ import annotations

import zlib

import numpy as np


def _key(part: str | int) -> int:
    if isinstance(part, bool) or not isinstance(part, int | str):
        raise TypeError(f"stream key part must be str or int, not {part!r}")
    if isinstance(part, int):
        if part < 0:
            raise ValueError(f"stream key part (={part}) must be >= 0")
        return part
    return zlib.crc32(part.encode("utf-8"))


def seed_sequence(seed: int, *keys: str | int) -> np.random.SeedSequence:
    """The SeedSequence of the stream named by `keys` under `seed`."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed (={seed!r}) must be a non-negative integer")
    return np.random.SeedSequence(int(seed), spawn_key=tuple(_key(k) for k in keys))


def stream(seed: int, *keys: str | int) -> np.random.Generator:
    """A generator for one random input, e.g. stream(seed, "population", "sizes")."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, *keys)))
