"""Every number in data/ is labelled reported or assumed, and bad cells fail clearly."""

from __future__ import annotations

import csv

import pytest

from simlib.provenance import DataError, load_parameters, parse_value, read_table
from simlib.scenario import PROJECT_ROOT

DATA = PROJECT_ROOT / "data"


def _rows(path):
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@pytest.mark.parametrize("path", sorted(DATA.glob("*/parameters.csv")), ids=lambda p: p.parent.name)
def test_every_parameter_has_provenance_and_assumptions_have_ranges(path):
    parameters = load_parameters(path)
    assert parameters
    for p in parameters.values():
        assert p.provenance in ("reported", "assumed")
        assert p.source
        if p.provenance == "assumed" and p.type in ("int", "float"):
            assert p.low is not None and p.high is not None and p.low <= p.value <= p.high


@pytest.mark.parametrize(
    "path",
    sorted(p for p in DATA.glob("*/*.csv") if p.name != "parameters.csv"),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_table_row_has_provenance(path):
    for row in _rows(path):
        assert row["provenance"] in ("reported", "assumed"), (path, row)
        assert row["source"].strip(), (path, row)


def test_reported_figures_are_all_reported_with_a_source():
    rows = _rows(DATA / "reported_figures.csv")
    keys = {r["key"]: r for r in rows}
    assert keys["households_moved"]["value"] == "8322"
    assert keys["people_moved"]["value"] == "35585"
    assert keys["employed_two_months"]["value"] == "17016"
    assert all(r["provenance"] == "reported" and r["source"] for r in rows)


def test_parse_value_names_file_field_and_value():
    with pytest.raises(DataError) as error:
        parse_value("4.5", "int", "f.csv", "households")
    message = str(error.value)
    assert "f.csv" in message and "households" in message and "4.5" in message


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "name,value,type,unit,provenance,source,low,high\n"


@pytest.mark.parametrize(
    ("row", "field", "problem"),
    [
        ("n,-3,int,people,reported,src,,\n", "n", "negative"),
        ("s,1.5,float,share,assumed,why,0,1\n", "s", "share"),
        ("x,abc,float,days,assumed,why,0,1\n", "x", "type float"),
        ("x,0.5,float,days,guessed,why,0,1\n", "provenance[x]", "must be one of"),
        ("x,0.5,float,days,assumed,,0,1\n", "source[x]", "needs a reason"),
        ("x,5,float,days,assumed,why,0,1\n", "x", "outside its range"),
    ],
)
def test_bad_parameter_rows(tmp_path, row, field, problem):
    path = _write(tmp_path / "parameters.csv", HEADER + row)
    with pytest.raises(DataError) as error:
        load_parameters(path)
    assert error.value.field == field
    assert problem in str(error.value)
    assert str(path) in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_parameters(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "nope.csv", {"a": "int"})


def test_table_cell_errors_name_the_row(tmp_path):
    path = _write(
        tmp_path / "t.csv",
        "county,households,share,provenance,source\nA,10,0.5,assumed,why\nB,-2,0.5,assumed,why\n",
    )
    with pytest.raises(DataError) as error:
        read_table(path, {"county": "str", "households": "int", "share": "float"}, key="county")
    assert error.value.field == "households[B]"
    assert error.value.value == -2
    path = _write(
        tmp_path / "t.csv",
        "county,households,share,provenance,source\nA,10,1.5,assumed,why\n",
    )
    with pytest.raises(DataError, match=r"share\[A\].*\[0, 1\]"):
        read_table(
            path,
            {"county": "str", "households": "int", "share": "float"},
            key="county",
            shares=["share"],
        )
