"""Every number in data/ is labelled reported or assumed, and bad cells fail clearly."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import subprocess
import sys

import pytest

from simlib.provenance import (
    DataError,
    apply_overrides,
    check_real,
    check_text,
    flat,
    load_parameters,
    parse_value,
    read_table,
    read_yaml,
)
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


@pytest.mark.parametrize(
    ("text", "line", "extra"),
    [
        # every row one field longer: pandas would take the first column as the index and
        # shift every value one column left, silently
        ("name,value\n# a comment\na,1,EXTRA\nb,2,MORE\n", 3, "EXTRA"),
        ("name,value\na,1\nb,2,EXTRA\n", 3, "EXTRA"),  # one row only
        ("name,value\na,1,x,y\n", 2, ["x", "y"]),  # two fields more
        ('name,value\n"a, quoted",1\nb,"2",EXTRA\n', 3, "EXTRA"),
    ],
)
def test_a_row_with_more_fields_than_the_header_names_its_line(tmp_path, text, line, extra):
    path = _write(tmp_path / "t.csv", text)
    with pytest.raises(DataError) as error:
        read_table(path, {"name": "str", "value": "str"}, key="name", provenance=False)
    assert (error.value.file, error.value.field, error.value.value) == (
        str(path),
        f"line {line}",
        extra,
    )
    assert "more than the header's 2" in str(error.value)


def test_a_row_with_more_fields_exits_2(data_copy):
    """Through the command line: a damaged roads table is bad input (exit 2), no traceback."""
    roads = data_copy / "moving" / "roads.csv"
    lines = roads.read_text(encoding="utf-8").splitlines()
    body = [i for i, t in enumerate(lines) if t and not t.startswith("#")][1]
    lines[body] += ",EXTRA"
    roads.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scenario = data_copy / "scenarios" / "smoke.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "simlib", "plan", "--scenario", str(scenario)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert "roads.csv" in done.stderr and f"line {body + 1}" in done.stderr
    assert "EXTRA" in done.stderr and "Traceback" not in done.stderr


# --- dates, exact integers, non-finite numbers, lists where one value is expected ------------


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("2020-02-30", "is not a date that exists (February 2020 has 29 days)"),
        ("2019-02-29", "is not a date that exists (February 2019 has 28 days)"),
        ("2020-13-01", "is not a date that exists (there is no month 13)"),
        ("30/01/2020", "expected a date written YYYY-MM-DD"),
        ("2020-1-5", "expected a date written YYYY-MM-DD"),
        ("", "expected a date written YYYY-MM-DD"),
    ],
)
def test_a_date_column_names_a_date_that_does_not_exist(tmp_path, cell, words):
    path = _write(tmp_path / "plan.csv", f"date,county,households\n{cell},Ludian,10\n")
    columns = {"date": "date", "county": "str", "households": "int"}
    with pytest.raises(DataError) as error:
        read_table(path, columns, provenance=False)
    assert error.value.field == "date[row 2]"
    assert words in str(error.value) and "plan.csv" in str(error.value)


def test_a_date_column_gives_dates(tmp_path):
    path = _write(tmp_path / "plan.csv", "date,households\n2020-02-29,10\n2019-12-31,3\n")
    table = read_table(path, {"date": "date", "households": "int"}, provenance=False)
    assert list(table["date"]) == [dt.date(2020, 2, 29), dt.date(2019, 12, 31)]
    assert parse_value(dt.date(2020, 1, 18), "date", "s.yaml", "d") == dt.date(2020, 1, 18)


@pytest.mark.parametrize(
    "cell", ["9007199254740993", 9007199254740993, "9.007199254740993e15", "1e300", "-" + "9" * 30]
)
def test_integers_beyond_2_to_the_53_are_refused_not_rounded(cell):
    with pytest.raises(DataError, match="too large"):
        parse_value(cell, "int", "counties.csv", "households[Ludian]")


def test_integers_are_read_exactly():
    assert parse_value("9007199254740992", "int", "f", "n") == 2**53
    assert parse_value("  12 ", "int", "f", "n") == 12
    assert parse_value("1.0e3", "int", "f", "n") == 1000
    assert parse_value(7, "int", "f", "n") == 7


@pytest.mark.parametrize(
    ("value", "words"), [(math.nan, "not NaN (not a number)"), (math.inf, "not infinite")]
)
def test_non_finite_numbers_say_what_they_are(value, words):
    with pytest.raises(DataError, match=re.escape(words)):
        check_real(value, "s.yaml", "moving.loading_mean.low")
    with pytest.raises(DataError, match=re.escape(words)):
        parse_value(value, "float", "s.yaml", "x")


@pytest.mark.parametrize("value", [("a.csv", "b.csv"), ["a.csv", "b.csv"]])
def test_a_list_where_one_value_is_expected_is_named_as_a_list(value):
    parameters = {"batch_plan": _parameter("batch_plan", "", "str")}
    with pytest.raises(DataError) as error:
        apply_overrides(parameters, {"batch_plan": value}, "s.yaml")
    message = str(error.value)
    assert "must be one value of type str, not a list of 2" in message
    assert "('a.csv'" not in message  # never a Python tuple written out as a file name
    with pytest.raises(DataError, match="not a list of 2"):
        check_text(value, "s.yaml", "scenario", "one scenario file")


def _parameter(name, value, type_):
    from simlib.provenance import Parameter

    return Parameter(name, value, type_, "", "assumed", "why")


def test_yaml_errors_are_one_readable_line(tmp_path):
    path = _write(tmp_path / "s.yaml", 'name: "unclosed\nseed: 1\n')
    with pytest.raises(DataError) as error:
        read_yaml(path, "sweep specification")
    message = str(error.value)
    assert "\\n" not in message and "\n" not in message
    assert "is not valid YAML" in message and "line 3" in message
    assert flat("while scanning\n  a quoted scalar\n    ^") == "while scanning a quoted scalar ^"


def test_a_table_read_again_is_the_caller_s_own_and_follows_the_file(tmp_path):
    # read_table parses a file's content once per process: each caller still gets its own
    # copy, and a changed file is read as changed
    path = tmp_path / "t.csv"
    path.write_text("county,households\nLudian,3\n", encoding="utf-8")
    columns = {"county": "str", "households": "int"}
    first = read_table(path, columns, key="county", provenance=False)
    first.loc[0, "households"] = 99
    assert read_table(path, columns, key="county", provenance=False).loc[0, "households"] == 3
    path.write_text("county,households\nLudian,4\n", encoding="utf-8")
    assert read_table(path, columns, key="county", provenance=False).loc[0, "households"] == 4
