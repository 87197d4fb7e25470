"""Inputs with provenance: every number in data/ is *reported* or *assumed*.

A reported figure carries its source; an assumed one carries a reason and a plausible
low/high range that the sweeps explore. Loading is strict, so that a typo in data/ fails
loudly, naming the file, the field and the value, instead of quietly changing a result.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import functools
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

PROVENANCE = ("reported", "assumed")
TYPES = {"int": int, "float": float, "str": str, "bool": bool, "date": dt.date}
PARAMETER_COLUMNS = ("name", "value", "type", "unit", "provenance", "source", "low", "high")
# Optional columns of a parameters.csv: hard limits of meaning (a value outside them means
# nothing, unlike one outside the plausible low/high range, which a what-if may explore).
# A limit is a number or the name of another numeric parameter of the same file, inclusive;
# a number written `>0` in `min` (or `<1` in `max`) is exclusive: a count or a time that
# must be positive.
LIMIT_COLUMNS = ("min", "max")
STRICT_SIGN = {"min": ">", "max": "<"}
# A message quotes at most this many characters of a value (and a few hundred of the field
# and the problem), so that a hostile or huge input cannot flood a terminal or a log.
MAX_SHOWN = 200
MAX_PROBLEM = 1000
LARGEST_INT = 2**53  # integers beyond this are not exact as floats, and no count is this large
MAX_REPLICATIONS = 1000  # a full-scale replication takes about a second; 1000 is a long run


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
        raise DataError(
            path,
            "(encoding)",
            f"byte 0x{data[error.start]:02x} on line {line}",
            f"is not UTF-8 text (at byte {error.start:,} of the file); save the file as UTF-8",
        ) from None


@dataclass(frozen=True)
class Exclusive:
    """A hard limit the value may not reach (`>0` in a `min` cell: must be > 0)."""

    bound: float


@dataclass(frozen=True)
class Parameter:
    """One scalar input with its provenance.

    `source` is the reference for a reported figure, the reason for an assumed one.
    `low`/`high` bound the plausible range of an assumed number (None for reported ones).
    `min`/`max` are hard limits of meaning (None: only the unit's), a number, the name of
    another parameter whose value is the limit, or an `Exclusive` number (written `>0`);
    no value, however overridden, may leave them.
    """

    name: str
    value: Any
    type: str
    unit: str
    provenance: str
    source: str
    low: float | None = None
    high: float | None = None
    min: float | str | Exclusive | None = None
    max: float | str | Exclusive | None = None


def parse_value(text: Any, type_name: str, file: str | Path, field: str) -> Any:
    """Parse one cell as `type_name`, or raise a DataError naming file, field and value.

    Integers are read exactly (2^53 + 1 is refused, not rounded to 2^53); a `date` is
    YYYY-MM-DD and must exist (2020-02-30 is reported as a date that does not exist, not as
    a format error); a list or mapping is never turned into text.
    """
    if type_name not in TYPES:
        raise DataError(file, field, type_name, f"unknown type; use one of {sorted(TYPES)}")
    if isinstance(text, list | tuple | set | frozenset | Mapping):
        what = "a mapping" if isinstance(text, Mapping) else f"a list of {len(text)}"
        raise DataError(file, field, text, f"must be one value of type {type_name}, not {what}")
    if isinstance(text, str):
        text = text.strip()
    if type_name == "date":
        return parse_date(text, file, field)
    try:
        if type_name == "bool":
            if isinstance(text, bool):
                return text
            if str(text).lower() in ("true", "yes", "1"):
                return True
            if str(text).lower() in ("false", "no", "0"):
                return False
            raise ValueError
        if type_name == "int":
            return _integer(text, file, field)
        if type_name == "float":
            if isinstance(text, bool | bytes | bytearray):
                raise ValueError
            number = float(text)
            if not math.isfinite(number):
                problem = f"must be a finite number, not {_nonfinite(number)}"
                raise DataError(file, field, text, problem)
            return number
        if text is None or (isinstance(text, float) and pd.isna(text)):
            raise ValueError
        return str(text)
    except (TypeError, ValueError, OverflowError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(file, field, text, f"expected a value of type {type_name}") from None


def _nonfinite(number: float) -> str:
    return "NaN (not a number)" if math.isnan(number) else "infinite"


def _integer(text: Any, file: str | Path, field: str) -> int:
    """An integer read exactly: from an int, a whole float, or text such as 12 or 1.0e3."""
    if isinstance(text, bool | bytes | bytearray):
        raise ValueError
    too_large = f"is too large (more than {LARGEST_INT:,})"
    if isinstance(text, int):
        number = text
    elif isinstance(text, str) and WHOLE.fullmatch(text):
        if len(text.lstrip("+-0")) > 17:  # 2^53 has 16 digits
            raise DataError(file, field, text, too_large)
        number = int(text)  # exact: no detour through a float
    else:
        value = float(text)
        if not math.isfinite(value):
            problem = f"must be a whole number, not {_nonfinite(value)}"
            raise DataError(file, field, text, problem)
        if not value.is_integer():
            raise ValueError
        if abs(value) >= LARGEST_INT:  # a float this large no longer holds every integer
            raise DataError(file, field, text, too_large)
        number = int(value)
    if abs(number) > LARGEST_INT:
        raise DataError(file, field, text, too_large)
    return number


DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
WHOLE = re.compile(r"[+-]?\d+")


def parse_date(text: Any, file: str | Path, field: str) -> dt.date:
    """A calendar date written YYYY-MM-DD (or a date YAML already read); one that does not
    exist (2020-02-30, 2019-13-01) is named as such."""
    if isinstance(text, dt.datetime):
        raise DataError(file, field, text, "must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(text, dt.date):
        return text
    if not isinstance(text, str) or not DATE_FORMAT.fullmatch(text):
        raise DataError(file, field, text, "expected a date written YYYY-MM-DD")
    year, month, day = (int(part) for part in text.split("-"))
    try:
        return dt.date(year, month, day)
    except ValueError:
        if not 1 <= month <= 12:
            problem = f"is not a date that exists (there is no month {month})"
        elif 1 <= year <= 9999:
            last = calendar.monthrange(year, month)[1]
            problem = (
                f"is not a date that exists ({calendar.month_name[month]} {year} has {last} days)"
            )
        else:
            problem = "is not a date that exists"
        raise DataError(file, field, text, problem) from None


def check_whole(
    value: Any, file: str | Path, field: str, low: int = 0, high: int = LARGEST_INT
) -> int:
    """A whole number in [low, high] as a user wrote it (YAML or a command line): not a
    bool, not 3.0, not 2^53 + 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError(file, field, value, f"must be a whole number in [{low:,}, {high:,}]")
    if not low <= value <= high:
        raise DataError(file, field, value, f"must lie in [{low:,}, {high:,}]")
    return value


def check_real(value: Any, file: str | Path, field: str) -> float:
    """A finite number as a user wrote it: `.nan` is not a number, `.inf` is infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DataError(file, field, value, "must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise DataError(file, field, value, f"must be a finite number, not {_nonfinite(value)}")
    if isinstance(value, int) and abs(value) > LARGEST_INT:
        raise DataError(file, field, value, f"is too large (more than {LARGEST_INT:,})")
    return float(value)


def check_text(value: Any, file: str | Path, field: str, what: str = "a name") -> str:
    """One non-empty line of text where a file or a name is expected (a YAML list there is
    named as a list, not written out as a Python tuple)."""
    if isinstance(value, list | tuple):
        raise DataError(file, field, value, f"must be {what}, not a list of {len(value)}")
    if isinstance(value, Mapping):
        raise DataError(file, field, value, f"must be {what}, not a mapping")
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise DataError(file, field, value, f"must be {what} (one line of text)")
    return value


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
    (and, in the optional `min`/`max` columns, its hard limits). A file read before with
    the same content is not checked again (as `read_table`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "(file)", str(path), "file not found")
    # the records are frozen; the mapping is the caller's
    return dict(_parse_parameters(path, read_text(path)))


@functools.lru_cache(maxsize=64)  # parameter files read, by path and content
def _parse_parameters(path: Path, text: str) -> dict[str, Parameter]:
    """`text` (the content of `path`) parsed and checked row by row (see `load_parameters`)."""
    lines = io.StringIO(text, newline="")
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
            **{c: _read_limit(row.get(c), c, path, f"{name}.{c}") for c in LIMIT_COLUMNS},
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
        value = parse_value(raw, parameter.type, file, name)
        check_number(value, parameter.unit, file, name)
        values[name] = value
    _check_limits(parameters, values, file, changed=set(overrides))
    return values


# --- hard limits (the optional `min`/`max` columns) -----------------------------------------


def _read_limit(
    cell: str | None, column: str, path: Path, field: str
) -> float | str | Exclusive | None:
    """A `min`/`max` cell: empty, a number, the name of another parameter, or a number
    after `>` (in `min`) or `<` (in `max`): an exclusive limit."""
    cell = (cell or "").strip()
    if not cell or cell.isidentifier():
        return cell or None
    if cell.startswith(STRICT_SIGN[column]):
        return Exclusive(parse_value(cell[1:], "float", path, field))
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
            bound = _bound(limit) if other is None else getattr(other, far)
            bound = other.value if bound is None else bound
            if _outside(getattr(p, end), bound, column, isinstance(limit, Exclusive)):
                problem = f"leaves its {column} {_shown(limit, column) if other is None else limit}"
                if other is not None:
                    reach = "as high as" if column == "min" else "as low as"
                    problem += f", which its own range lets be {reach} {_number(bound)}"
                raise DataError(path, f"{name}.{end}", getattr(p, end), problem)


def _bound(limit: float | Exclusive) -> float:
    return limit.bound if isinstance(limit, Exclusive) else limit


def _shown(limit: float | Exclusive, column: str) -> str:
    """16, or >0 for an exclusive limit (as the cell is written)."""
    if isinstance(limit, Exclusive):
        return f"{STRICT_SIGN[column]}{_number(limit.bound)}"
    return _number(limit)


def _outside(value: float, bound: float, column: str, strict: bool = False) -> bool:
    if strict:
        return value <= bound if column == "min" else value >= bound
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
            value = values[name]
            if isinstance(limit, Exclusive):
                if _outside(value, limit.bound, column, strict=True):
                    sign = STRICT_SIGN[column]
                    raise DataError(file, name, value, f"must be {sign} {_number(limit.bound)}")
                continue
            bound = values[limit] if isinstance(limit, str) else limit
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
    `key` names the column used to point at a row in error messages. A table read before
    with the same content and columns is not parsed and checked again (a sweep loads the
    same tables for each of its points); the caller gets its own copy.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "(file)", str(path), "file not found")
    text = read_text(path)
    pairs = tuple(columns.items())
    return _parse_table(path, text, pairs, key, frozenset(shares), provenance).copy()


@functools.lru_cache(maxsize=256)  # tables read, by path, content and columns
def _parse_table(
    path: Path, text: str, columns: tuple, key, shares: frozenset, provenance: bool
) -> pd.DataFrame:
    """`text` (the content of `path`) parsed and checked cell by cell (see `read_table`)."""
    _check_row_lengths(text, path)
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, comment="#")
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
    parsed: dict[str, list[Any]] = {c: [] for c in table.columns}
    # rows counted by position: a row with one field more than the header makes pandas
    # take its first column as the index, whose labels need not be numbers
    for i, (_, row) in enumerate(table.iterrows()):
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


def _check_row_lengths(text: str, path: Path) -> None:
    """A row with more fields than the header is refused, naming its line and the extra
    value: pandas would otherwise take the first column as the index and shift every value
    one column left without a word (when every row has the extra field), or stop with a
    tokenizer message. Comment lines (#) and blank lines are skipped, as pandas skips them."""
    numbers: list[int] = []  # the file's line number of each line the reader has taken

    def kept() -> Iterator[str]:
        for number, line in enumerate(io.StringIO(text, newline=""), start=1):
            if line.strip() and not line.startswith("#"):
                numbers.append(number)
                yield line

    reader = csv.reader(kept())
    try:
        header = next(reader, [])
        for row in reader:
            if len(row) > len(header):
                extra = row[len(header) :]
                raise DataError(
                    path,
                    f"line {numbers[-1]}",
                    extra[0] if len(extra) == 1 else extra,
                    f"has {len(row)} fields, {len(extra)} more than the header's {len(header)}",
                )
    except csv.Error:
        return  # pandas names what it cannot read


# --- YAML a user writes (scenarios, sweep specifications): small, plain and finite ----------

MAX_YAML_BYTES = 64_000  # a scenario or a sweep is a few hundred bytes; this leaves room
MAX_YAML_NODES = 10_000  # values in the document once every alias is expanded
MAX_YAML_DEPTH = 20  # levels of nesting (a scenario needs three or four)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses, before building anything, a document that would
    expand past MAX_YAML_NODES values (an alias bomb of a few hundred bytes expands to
    billions), nests too deep, refers to itself, gives a key twice, or writes a date that
    does not exist (2020-02-30, which PyYAML would fail on with a bare ValueError)."""

    file: Path
    what: str

    # Nesting is also limited while scanning: PyYAML's scanner slows down with the square
    # of the depth, so 5,000 opening brackets would take seconds before any node exists.
    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= MAX_YAML_DEPTH:
            raise self._too_deep()
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column: int) -> bool:
        if len(self.indents) >= MAX_YAML_DEPTH:
            raise self._too_deep()
        return super().add_indent(column)

    def _too_deep(self) -> yaml.MarkedYAMLError:
        problem = f"nests more than {MAX_YAML_DEPTH} levels"
        return yaml.scanner.ScannerError(None, None, problem, self.get_mark())

    def construct_document(self, node: yaml.Node) -> Any:
        _check_tree(node, self.file, self.what)
        return super().construct_document(node)


def _check_tree(root: yaml.Node, file: Path, what: str) -> None:
    size: dict[int, int] = {}  # expanded size of each node already walked (aliases share nodes)
    stack: list[tuple[yaml.Node, str, int]] = [(root, "(top level)", 0)]
    on_path: set[int] = set()
    while stack:
        node, key, depth = stack.pop()
        if depth < 0:  # every child has been sized: this node's own size is now known
            on_path.discard(id(node))
            size[id(node)] = 1 + sum(size[id(c)] for c in _children(node))
            if size[id(node)] > MAX_YAML_NODES:
                raise DataError(
                    file,
                    key,
                    f"{size[id(node)]:,}+ values",
                    f"expands past {MAX_YAML_NODES:,} values (aliases included); "
                    f"a {what} is a few dozen",
                )
            continue
        if id(node) in size:
            continue
        if id(node) in on_path:
            raise DataError(file, key, _mark(node), "refers to itself (a recursive alias)")
        if depth > MAX_YAML_DEPTH:
            raise DataError(file, key, _mark(node), f"nests more than {MAX_YAML_DEPTH} levels")
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _TIMESTAMP:
                _check_timestamp(node, key, file)
            size[id(node)] = 1
            continue
        on_path.add(id(node))
        stack.append((node, key, -1))
        stack += _child_entries(node, key, depth, file)


def _child_entries(
    node: yaml.Node, key: str, depth: int, file: Path
) -> list[tuple[yaml.Node, str, int]]:
    if not isinstance(node, yaml.MappingNode):
        return [(child, key, depth + 1) for child in node.value]
    entries, seen = [], set()
    for k, v in node.value:
        name = key  # a value is named by its path of keys: moving.pause_windows
        if isinstance(k, yaml.ScalarNode):
            name = k.value if key == "(top level)" else f"{key}.{k.value}"
        if isinstance(k, yaml.ScalarNode) and k.value != "<<":
            if k.value in seen:
                raise DataError(file, name, _mark(k), "is given twice")
            seen.add(k.value)
        entries += [(k, name, depth + 1), (v, name, depth + 1)]
    return entries


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _mark(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}"


def _check_timestamp(node: yaml.ScalarNode, key: str, file: Path) -> None:
    where = f" (line {node.start_mark.line + 1})"
    if DATE_FORMAT.fullmatch(node.value):
        try:
            parse_date(node.value, file, key)
        except DataError as error:
            raise DataError(file, key, node.value, error.problem + where) from None
        return
    try:
        yaml.SafeLoader.construct_yaml_timestamp(yaml.SafeLoader(""), node)
    except ValueError:
        raise DataError(file, key, node.value, f"is not a date that exists{where}") from None


def flat(text: Any) -> str:
    """A multi-line message (PyYAML's, with its context and a caret under the column) as
    one readable line: runs of white space, line breaks included, become one space."""
    return " ".join(str(text).split())


def read_yaml(path: Path, what: str = "scenario", limit: int = MAX_YAML_BYTES) -> Any:
    """The YAML document a user wrote in `path` (a `what`: scenario, sweep specification),
    or a DataError naming what is wrong and where: not a file, larger than `limit` bytes,
    not UTF-8, not valid YAML (one line, with line and column), an alias bomb, too deep,
    a key given twice, a date that does not exist, a number too large to read."""
    _check_file(path, what)
    text = read_text(path, limit=limit)
    loader = None
    try:
        loader = _StrictLoader(text)  # checks the characters already
        loader.file, loader.what = path, what
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        lines = text.splitlines()
        line = lines[mark.line] if mark and mark.line < len(lines) else ""
        problem = flat(error.problem or error.context or "cannot be parsed")
        raise DataError(path, "(yaml)", line, f"is not valid YAML: {problem}{where}") from None
    except yaml.YAMLError as error:
        raise DataError(path, "(yaml)", flat(error), "is not valid YAML") from None
    except RecursionError:
        raise DataError(path, "(yaml)", "", "is nested too deeply") from None
    except (ValueError, OverflowError) as error:  # e.g. an integer of thousands of digits
        if isinstance(error, DataError):
            raise
        raise DataError(path, "(yaml)", flat(error), "has a value that cannot be read") from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_file(path: Path, what: str) -> None:
    try:
        if path.is_dir():
            raise DataError(path, "(file)", str(path), f"is a folder, not a {what} file")
        if not path.is_file():
            raise DataError(path, "(file)", str(path), f"{what} file not found")
    except (OSError, ValueError) as error:  # a name too long, a NUL byte
        if isinstance(error, DataError):
            raise
        raise DataError(path, "(file)", str(path), f"cannot be used: {error}") from None
