"""Inputs with provenance: every number in data/ is *reported* or *assumed*.

A reported figure carries its source; an assumed one carries a reason and a plausible
low/high range that the sweeps explore. Loading is strict, so that a typo in data/ fails
loudly, naming the file, the field and the value, instead of quietly changing a result.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

PROVENANCE = ("reported", "assumed")
TYPES = {"int": int, "float": float, "str": str, "bool": bool}
PARAMETER_COLUMNS = ("name", "value", "type", "unit", "provenance", "source", "low", "high")


class DataError(ValueError):
    """Bad input. Names the file, the field and the offending value, and says what is wrong."""

    def __init__(self, file: str | Path, field: str, value: Any, problem: str):
        self.file = str(file)
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{file}: field '{field}' = {value!r}: {problem}")


@dataclass(frozen=True)
class Parameter:
    """One scalar input with its provenance.

    `source` is the reference for a reported figure, the reason for an assumed one.
    `low`/`high` bound the plausible range of an assumed number (None for reported ones).
    """

    name: str
    value: Any
    type: str
    unit: str
    provenance: str
    source: str
    low: float | None = None
    high: float | None = None


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
        if type_name == "int":
            if isinstance(text, bool):
                raise ValueError
            number = float(text)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if type_name == "float":
            if isinstance(text, bool):
                raise ValueError
            return float(text)
        if text is None or (isinstance(text, float) and pd.isna(text)):
            raise ValueError
        return str(text)
    except (TypeError, ValueError):
        raise DataError(file, field, text, f"expected a value of type {type_name}") from None


def check_number(value: Any, unit: str, file: str | Path, field: str) -> None:
    """Counts, times and rates are never negative; a share lies in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if value != value:  # NaN
        raise DataError(file, field, value, "is not a number")
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
    """Read a parameters.csv: one row per scalar input, with unit, provenance and range."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "(file)", str(path), "file not found")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    if rows:
        missing = [c for c in PARAMETER_COLUMNS if c not in rows[0]]
        if missing:
            raise DataError(path, "(columns)", missing, "required columns are missing")
    parameters: dict[str, Parameter] = {}
    for row in rows:
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
        )
    return parameters


def apply_overrides(
    parameters: Mapping[str, Parameter], overrides: Mapping[str, Any], file: str | Path
) -> dict[str, Any]:
    """Values by name, with a scenario's overrides checked against the parameter's type.

    An override may leave the assumed range (that is what a what-if does); it may not
    change a value's type, make a count negative or a share leave [0, 1].
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
    return values


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
    table = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
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
