"""Verifiable randomness: the commitment made before the draw, the published list, and the
check anyone can run on it.

Before the draw, the run computes a commitment: the SHA-256 of canonical bytes of the
seed, the method, the rules, the households that draw (id, village, size, request) and
the stock (every flat: id, building, floor, type). Published with the seed, it fixes
every input: a different seed, household list, stock or rule gives another commitment.
The allocation list (allocation.csv) carries the seed, the method, the commitment and
separate digests of the stock, the households and the rules in comment lines above its
table; `simlib lottery --verify FILE` re-runs the draw from the published seed on the
scenario's inputs and confirms the list, or names the first household whose flat
differs (exit 1). A file that is not such a list, or one from another seed, for another
stock, for other households or under other rules, is bad input (exit 2, one line).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pandas as pd

from simlib.files import write_atomic
from simlib.housing.inputs import HousingParams
from simlib.provenance import DataError, RunFailed, read_text

VERSION = "simlib-housing-lottery/1"
COLUMNS = ("household", "village", "size", "unit_type", "building", "floor", "unit")
HEADER_KEYS = ("format", "scenario", "seed", "method", "scale", "households", "units",
               "stock", "households_digest", "rules", "commitment")  # fmt: skip
MAX_LIST_BYTES = 20_000_000  # a full list is about 400 kB


def _csv(frame: pd.DataFrame) -> bytes:
    """Canonical bytes of a table: UTF-8 CSV, '\\n' line ends, rows as given."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def stock_bytes(flats: pd.DataFrame, params: HousingParams) -> bytes:
    types = pd.DataFrame(
        [(t.unit_type, t.label, repr(t.floor_area_m2)) for t in params.unit_types],
        columns=["unit_type", "serves", "floor_area_m2"],
    )
    table = flats[["unit", "building", "stairwell", "floor", "unit_type", "low_floor"]]
    return _csv(types) + _csv(table.sort_values("unit", kind="stable"))


def households_bytes(households: pd.DataFrame) -> bytes:
    table = households[["household", "village", "size", "priority", "asks_low"]]
    return _csv(table.sort_values("household", kind="stable"))


def rules_bytes(params: HousingParams) -> bytes:
    rules = {
        "shortfall_rule": params.shortfall_rule,
        "low_floor_max": params.low_floor_max,
        "low_floor_priority": params.low_floor_priority,
        "community_window": params.community_window,
        "community_shared_pool_factor": params.community_shared_pool_factor,
    }
    return "".join(f"{k}={v}\n" for k, v in rules.items()).encode("utf-8")


def digests(
    seed: int, method: str, households: pd.DataFrame, flats: pd.DataFrame, params: HousingParams
) -> dict[str, str]:
    """The commitment and the digests of its parts (hex SHA-256)."""
    parts = {
        "stock": stock_bytes(flats, params),
        "households_digest": households_bytes(households),
        "rules": rules_bytes(params),
    }
    out = {k: hashlib.sha256(v).hexdigest() for k, v in parts.items()}
    commitment = hashlib.sha256()
    commitment.update(f"{VERSION}\nseed={seed}\nmethod={method}\n".encode())
    for name in ("rules", "households_digest", "stock"):
        commitment.update(parts[name])
    out["commitment"] = commitment.hexdigest()
    return out


def header(meta: dict[str, Any]) -> str:
    return "".join(f"# {key}: {meta[key]}\n" for key in HEADER_KEYS)


def allocation_text(meta: dict[str, Any], allocation: pd.DataFrame) -> str:
    table = allocation[list(COLUMNS)].copy()
    table["floor"] = table["floor"].map(lambda f: "" if pd.isna(f) or f < 0 else str(int(f)))
    return header(meta) + table.to_csv(index=False, lineterminator="\n")


def write_outputs(out: str | Path, meta: dict[str, Any], allocation: pd.DataFrame) -> None:
    """allocation.csv and commitment.txt in `out` (made if needed), each written atomically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "allocation.csv", allocation_text(meta, allocation))
    write_atomic(out / "commitment.txt", header(meta))


def read_list(path: str | Path) -> tuple[dict[str, str], pd.DataFrame]:
    """The header and the table of a published list; DataError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "(file)", str(path), "allocation list not found")
    text = read_text(path, limit=MAX_LIST_BYTES)
    meta: dict[str, str] = {}
    lines = text.splitlines()
    for line in lines:
        if not line.startswith("#"):
            break
        key, colon, value = line[1:].partition(":")
        if colon:
            meta[key.strip()] = value.strip()
    missing = [k for k in HEADER_KEYS if k not in meta]
    if missing or meta.get("format") != VERSION:
        what = f"has no {missing[0]} line" if missing else f"format {meta.get('format')!r}"
        raise DataError(path, "(header)", missing[0] if missing else meta.get("format"),
                        f"is not an allocation list written by simlib lottery ({what})")  # fmt: skip
    try:
        table = pd.read_csv(io.StringIO(text), comment="#", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DataError(path, "(table)", str(error)[:200], "cannot be read as CSV") from None
    if tuple(table.columns) != COLUMNS:
        raise DataError(path, "(columns)", list(table.columns), f"must be {list(COLUMNS)}")
    for column, empty_ok in (("household", False), ("size", False), ("floor", True)):
        cells = table[column].str.strip()
        bad = ~cells.str.fullmatch(r"\d+") & ~((cells == "") & empty_ok)
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise DataError(
                path,
                f"{column}[row {row + 1}]",
                table[column].iloc[row],
                "must be a whole number" + (" or empty" if empty_ok else ""),
            )
    return meta, table


def check_meta(path: str | Path, meta: dict[str, str], expected: dict[str, Any]) -> None:
    """The list was drawn for these inputs: same stock, households, rules, and a
    commitment that matches its seed; DataError (exit 2) naming what differs."""
    whats = {
        "stock": "another stock than these inputs",
        "households_digest": f"other households than seed {meta['seed']} gives on these "
        "inputs (another seed, or another population)",
        "rules": "other rules than these inputs",
    }
    for key, what in whats.items():
        if meta[key] != expected[key]:
            raise DataError(
                path,
                key,
                meta[key][:16],
                f"the list was drawn for {what} (scenario {expected['scenario']}, {key} "
                f"{expected[key][:16]}...)",
            )
    if meta["commitment"] != expected["commitment"]:
        raise DataError(
            path,
            "commitment",
            meta["commitment"][:16],
            f"does not match seed {meta['seed']}, method {meta['method']} and these inputs: the "
            "list is from another seed or method (or its header was changed)",
        )


def compare(path: str | Path, table: pd.DataFrame, allocation: pd.DataFrame, seed: int) -> int:
    """Compare the published rows with a re-run; RunFailed (exit 1) naming the first
    household (in household order) that differs. Returns the households confirmed."""
    mine = allocation[list(COLUMNS)].copy()
    mine["floor"] = mine["floor"].map(lambda f: "" if pd.isna(f) or f < 0 else str(int(f)))
    mine = mine.astype(str).set_index("household")
    theirs = table.astype(str)
    duplicated = theirs["household"].duplicated()
    if duplicated.any():
        first = theirs.loc[duplicated, "household"].iloc[0]
        raise RunFailed(f"{path}: household {first} is listed twice")
    theirs = theirs.set_index("household")
    extra = theirs.index.difference(mine.index)
    if len(extra):
        raise RunFailed(f"{path}: household {extra[0]} is not among the households that drew")
    aligned = theirs.reindex(mine.index)
    differs = aligned.isna().any(axis=1) | (aligned.fillna("") != mine).any(axis=1)
    if differs.any():
        household = differs.index[differs.to_numpy().argmax()]
        b = mine.loc[household]
        if aligned.loc[household].isna().any():
            raise RunFailed(f"{path}: household {household} is missing from the list")
        raise RunFailed(
            f"{path}: household {household} (village {b['village']}) differs: the list "
            f"gives {_where(aligned.loc[household])}, the draw from seed {seed} gives {_where(b)}"
        )
    return len(mine)


def _where(row: pd.Series) -> str:
    if not row["unit"]:
        return f"no flat ({row['unit_type'] or 'no type'})"
    return (
        f"{row['unit_type']} flat {row['unit']} (building {row['building']}, floor {row['floor']})"
    )
