"""Inputs with provenance: every number in data/ is *reported* or *assumed*.

A reported figure carries its source; an assumed one carries a reason and a plausible
low/high range that the sweeps explore. Loading is strict, so that a typo in data/ fails
loudly, naming the file, the field and the value, instead of quietly changing a result.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PROVENANCE = ("reported", "assumed")
TYPES = {"int": int, "float": float, "str": str, "bool": bool}
PARAMETER_COLUMNS = ("name", "value", "type", "unit", "provenance", "source", "low", "high")
# Optional columns of a parameters.csv: hard limits of meaning (a value outside them means
# nothing, unlike one outside the plausible low/high range, which a what-if may explore).
# A limit is a number or the name of another numeric parameter of the same file.
LIMIT_COLUMNS = ("min", "max")
# A message quotes at most this many characters of a value (and a few hundred of the field
# and the problem), so that a hostile or huge input cannot flood a terminal or a log.
MAX_SHOWN = 200
MAX_PROBLEM = 1000
LARGEST_INT = 2**53  # integers beyond this are not exact as floats, and no count is this large


class RunFailed(RuntimeError):
    """A run that ended without a result (a notebook failed, the matching found no plan):
    the command line prints its message and exits with status 1."""


class DataError(ValueError):
    """Bad input. Names the file, the field and the offending value, and says what is wrong.

    The message is one line of at most a couple of kilobytes: the value is shown as the user
    wrote it (2020-02-30, 1.5, 'text'), cut after a few hundred characters; `value` keeps
    the object itself.
    """

    def __init__(self, file: str | Path, field: str, value: Any, problem: str):
        self.file = str(file)
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(
            f"{one_line(file, 300)}: field '{one_line(field, MAX_SHOWN)}' = {show(value)}: "
            f"{one_line(problem, MAX_PROBLEM)}"
        )


def one_line(text: Any, limit: int) -> str:
    """`text` with control characters escaped (so it stays one line), cut to `limit`."""
    text = str(text)
    cut = len(text) > limit
    text = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[:limit]
    )
    return text + ("... (cut)" if cut else "")


def show(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value as a user wrote it, cut to `limit` characters.

    Dates print as 2020-01-18 and NumPy numbers as plain numbers, not as Python reprs; a
    nested value (say a YAML alias bomb) is only expanded as far as the limit needs.
    """
    out, size = [], 0
    for piece in _pieces(value, depth=0):
        out.append(piece)
        size += len(piece)
        if size > limit:
            return "".join(out)[:limit] + "... (cut)"
    return "".join(out)


def _pieces(value: Any, depth: int) -> Iterator[str]:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        yield repr(value[: MAX_SHOWN + 1])  # quoted, control characters escaped
    elif isinstance(value, bool | None):
        yield str(value)
    elif isinstance(value, int):
        yield (
            str(value) if value.bit_length() < 600 else f"<an integer of {value.bit_length()} bits>"
        )
    elif isinstance(value, float):
        yield repr(value)  # 1.5, inf, nan
    elif isinstance(value, dt.date | dt.time):
        yield value.isoformat()
    elif isinstance(value, Path):
        yield repr(str(value)[: MAX_SHOWN + 1])
    elif isinstance(value, Mapping | list | tuple | set | frozenset):
        if depth > 10:
            yield "..."
            return
        is_map = isinstance(value, Mapping)
        yield "{" if is_map else "["
        for i, item in enumerate(value.items() if is_map else value):
            if i:
                yield ", "
            if is_map:
                yield from _pieces(item[0], depth + 1)
                yield ": "
                item = item[1]
            yield from _pieces(item, depth + 1)
        yield "}" if is_map else "]"
    else:
        yield one_line(repr(value), MAX_SHOWN + 1)


def read_text(path: Path, limit: int | None = None) -> str:
    """A text file's content: UTF-8, with or without a byte-order mark.

    Anything else (a spreadsheet saved as GBK or Latin-1, a binary file) is bad input that
    names the first byte that is not UTF-8 and its line. With `limit`, a larger file is
    refused before it is read.
    """
    try:
        size = path.stat().st_size
        if limit is not None and size > limit:
            raise DataError(path, "(file)", f"{size:,} bytes", f"is larger than {limit:,} bytes")
        data = path.read_bytes()
    except OSError as error:
        raise DataError(path, "(file)", str(path), f"cannot be read: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.start + 4]
        raise DataError(
            path,
            "(encoding)",
            f"byte 0x{data[error.start]:02x} on line {line}",
            f"is not UTF-8 text ({bad!r} at byte {error.start}); save the file as UTF-8",
        ) from None


@dataclass(frozen=True)
class Parameter:
    """One scalar input with its provenance.

    `source` is the reference for a reported figure, the reason for an assumed one.
    `low`/`high` bound the plausible range of an assumed number (None for reported ones).
    `min`/`max` are hard limits of meaning (None: only the unit's), a number or the name of
    another parameter whose value is the limit; no value, however overridden, may leave them.
    """

    name: str
    value: Any
    type: str
    unit: str
    provenance: str
    source: str
    low: float | None = None
    high: float | None = None
    min: float | str | None = None
    max: float | str | None = None


def parse_value(text: Any, type_name: str, file: str | Path, field: str) -> Any:
    """Parse one cell as `type_name`, or raise a DataError naming file, field and value."""
    if type_name not in TYPES:
        raise DataError(file, field, type_name, f"unknown type; use one of {sorted(TYPES)}")
    if isinstance(text, str):
        text = text.strip()
    try:
        if type_name == "bool":
            if isinstance(text, bool):
                return text
            if str(text).lower() in ("true", "yes", "1"):
                return True
            if str(text).lower() in ("false", "no", "0"):
                return False
            raise ValueError
        if type_name in ("int", "float"):
            if isinstance(text, bool | bytes | bytearray):
                raise ValueError
            number = float(text)
        if type_name == "int":
            if not number.is_integer():
                raise ValueError
            if abs(number) > LARGEST_INT:
                raise DataError(file, field, text, f"is too large (more than {LARGEST_INT:,})")
            return int(number)
        if type_name == "float":
            if not math.isfinite(number):
                raise DataError(file, field, text, "must be a finite number")
            return number
        if text is None or (isinstance(text, float) and pd.isna(text)):
            raise ValueError
        return str(text)
    except (TypeError, ValueError, OverflowError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(file, field, text, f"expected a value of type {type_name}") from None


def check_number(value: Any, unit: str, file: str | Path, field: str) -> None:
    """Counts, times and rates are never negative; a share lies in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if not math.isfinite(value):
        raise DataError(file, field, value, "must be a finite number")
    if value < 0:
        raise DataError(file, field, value, "must not be negative")
    if unit == "share" and value > 1:
        raise DataError(file, field, value, "is a share and must lie in [0, 1]")


def _check_provenance(row: Mapping[str, Any], file: Path, where: str) -> None:
    label = str(row.get("provenance", "")).strip()
    if label not in PROVENANCE:
        raise DataError(file, f"provenance[{where}]", label, f"must be one of {PROVENANCE}")
    if not str(row.get("source", "") or "").strip():
        need = "a source" if label == "reported" else "a reason"
        raise DataError(file, f"source[{where}]", row.get("source"), f"{label} needs {need}")


def load_parameters(path: str | Path) -> dict[str, Parameter]:
    """Read a parameters.csv: one row per scalar input, with unit, provenance and range
    (and, in the optional `min`/`max` columns, its hard limits)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "(file)", str(path), "file not found")
    lines = io.StringIO(read_text(path), newline="")
    try:
        rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    except csv.Error as error:
        raise DataError(path, "(table)", str(error), "cannot be read as CSV") from None
    if rows:
        missing = [c for c in PARAMETER_COLUMNS if c not in rows[0]]
        if missing:
            raise DataError(path, "(columns)", missing, "required columns are missing")
    parameters: dict[str, Parameter] = {}
    for row in rows:
        _check_cells(row, path)
        name = (row["name"] or "").strip()
        if not name:
            raise DataError(path, "name", row["name"], "every parameter needs a name")
        if name in parameters:
            raise DataError(path, name, name, "parameter defined twice")
        value = parse_value(row["value"], row["type"].strip(), path, name)
        check_number(value, row["unit"].strip(), path, name)
        _check_provenance(row, path, name)
        low = high = None
        if row["provenance"].strip() == "assumed" and row["type"].strip() in ("int", "float"):
            low = parse_value(row["low"], "float", path, f"{name}.low")
            high = parse_value(row["high"], "float", path, f"{name}.high")
            if not low <= value <= high:
                raise DataError(path, name, value, f"lies outside its range [{low}, {high}]")
        parameters[name] = Parameter(
            name=name,
            value=value,
            type=row["type"].strip(),
            unit=row["unit"].strip(),
            provenance=row["provenance"].strip(),
            source=row["source"].strip(),
            low=low,
            high=high,
            **{c: _read_limit(row.get(c), path, f"{name}.{c}") for c in LIMIT_COLUMNS},
        )
    _check_limit_rows(parameters, path)
    _check_limits(parameters, {name: p.value for name, p in parameters.items()}, path)
    return parameters


def _check_cells(row: Mapping[Any, Any], path: Path) -> None:
    """A row with more or fewer cells than the header is named, not half-read."""
    name = row.get("name")
    if None in row:
        raise DataError(path, f"row {name}", row[None], "has more cells than the header")
    short = [column for column, cell in row.items() if cell is None]
    if short:
        raise DataError(path, f"row {name}", short, "has fewer cells than the header")


def apply_overrides(
    parameters: Mapping[str, Parameter], overrides: Mapping[str, Any], file: str | Path
) -> dict[str, Any]:
    """Values by name, with a scenario's overrides checked against the parameter's type.

    An override may leave the assumed range (that is what a what-if does); it may not
    change a value's type, make a count negative, a share leave [0, 1] or any value leave
    its hard limits (`min`/`max`).
    """
    values = {name: p.value for name, p in parameters.items()}
    for name, raw in overrides.items():
        if name not in parameters:
            raise DataError(file, name, raw, f"unknown parameter; known: {sorted(parameters)}")
        parameter = parameters[name]
        if isinstance(raw, Mapping | list):
            raise DataError(file, name, raw, f"expected a value of type {parameter.type}")
        value = parse_value(raw, parameter.type, file, name)
        check_number(value, parameter.unit, file, name)
        values[name] = value
    _check_limits(parameters, values, file, changed=set(overrides))
    return values


# --- hard limits (the optional `min`/`max` columns) -----------------------------------------


def _read_limit(cell: str | None, path: Path, field: str) -> float | str | None:
    """A `min`/`max` cell: empty, a number, or the name of another parameter."""
    cell = (cell or "").strip()
    if not cell or cell.isidentifier():
        return cell or None
    return parse_value(cell, "float", path, field)


def _check_limit_rows(parameters: Mapping[str, Parameter], path: Path) -> None:
    """Limits stand on numbers and name numeric parameters, and the plausible range lies
    within them for every value the limiting parameter's own range allows: no combination
    of plausible values (what a sweep draws) is refused."""
    for name, p in parameters.items():
        for column in LIMIT_COLUMNS:
            limit = getattr(p, column)
            if limit is None:
                continue
            field = f"{name}.{column}"
            if p.type not in ("int", "float"):
                raise DataError(path, field, limit, f"a limit needs a number, not type {p.type}")
            other = parameters.get(limit) if isinstance(limit, str) else None
            if isinstance(limit, str) and (other is None or other.type not in ("int", "float")):
                raise DataError(path, field, limit, "names no numeric parameter of this file")
            if limit == name:
                raise DataError(path, field, limit, "a parameter cannot limit itself")
            end = "low" if column == "min" else "high"  # this range's end nearest the limit
            if getattr(p, end) is None:
                continue  # no range: the value itself is checked by _check_limits
            # the tightest the limit gets: the far end of the limiting parameter's range
            far = "high" if column == "min" else "low"
            bound = limit if other is None else getattr(other, far)
            bound = other.value if bound is None else bound
            if _outside(getattr(p, end), bound, column):
                problem = f"leaves its {column} {_number(limit) if other is None else limit}"
                if other is not None:
                    reach = "as high as" if column == "min" else "as low as"
                    problem += f", which its own range lets be {reach} {_number(bound)}"
                raise DataError(path, f"{name}.{end}", getattr(p, end), problem)


def _outside(value: float, bound: float, column: str) -> bool:
    return value < bound if column == "min" else value > bound


def _check_limits(
    parameters: Mapping[str, Parameter],
    values: Mapping[str, Any],
    file: str | Path,
    changed: set[str] | None = None,
) -> None:
    """Every value within its hard limits. When the limit is another parameter and only that
    one was `changed` (by a scenario or a sweep), the error names the changed one."""
    for name, p in parameters.items():
        for column in LIMIT_COLUMNS:
            limit = getattr(p, column)
            if limit is None:
                continue
            bound = values[limit] if isinstance(limit, str) else limit
            value = values[name]
            if not _outside(value, bound, column):
                continue
            side = "at least" if column == "min" else "at most"
            if isinstance(limit, str) and changed and limit in changed and name not in changed:
                other = "at most" if column == "min" else "at least"
                problem = f"must be {other} {name} ({_number(value)}), whose {column} it is"
                raise DataError(file, limit, bound, problem)
            shown = f"{limit} ({_number(bound)})" if isinstance(limit, str) else _number(bound)
            raise DataError(file, name, value, f"must be {side} {shown} (its {column})")


def _number(value: float) -> str:
    """16 rather than 16.0; 0.3 as 0.3."""
    return str(int(value)) if float(value).is_integer() else str(value)


def read_table(
    path: str | Path,
    columns: Mapping[str, str],
    *,
    key: str | None = None,
    shares: Iterable[str] = (),
    provenance: bool = True,
) -> pd.DataFrame:
    """Read a CSV table whose columns have the given types, checking every cell.

    Every numeric cell must be non-negative, every column in `shares` must lie in [0, 1],
    and (with `provenance`) every row says whether it is reported or assumed and why.
    `key` names the column used to point at a row in error messages.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "(file)", str(path), "file not found")
    try:
        table = pd.read_csv(
            io.StringIO(read_text(path)), dtype=str, keep_default_na=False, comment="#"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as error:
        problem = one_line(error, MAX_SHOWN)
        raise DataError(path, "(table)", problem, "cannot be read as CSV") from None
    wanted = dict(columns)
    if provenance:
        wanted.setdefault("provenance", "str")
        wanted.setdefault("source", "str")
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        raise DataError(path, "(columns)", missing, "required columns are missing")
    shares = set(shares)
    parsed: dict[str, list[Any]] = {c: [] for c in table.columns}
    for i, row in table.iterrows():
        where = f"{row[key]}" if key else f"row {i + 2}"
        if provenance:
            _check_provenance(row, path, where)
        for column in table.columns:
            type_name = wanted.get(column, "str")
            field = f"{column}[{where}]"
            value = parse_value(row[column], type_name, path, field)
            check_number(value, "share" if column in shares else "", path, field)
            parsed[column].append(value)
    result = pd.DataFrame(parsed, columns=list(table.columns))
    if key and result[key].duplicated().any():
        dup = result.loc[result[key].duplicated(), key].iloc[0]
        raise DataError(path, key, dup, "appears twice")
    return result
