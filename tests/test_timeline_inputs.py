"""The employment timeline's and the matching's inputs, checked against their meaning: each
case a bad input that once ran (or crashed) and is now refused with one line naming the
field, or gives a correct result; and a property test of the timeline tables."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from conftest import replace_in
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlib.cli import main
from simlib.jobs_inputs import load_jobs_params
from simlib.provenance import DataError
from simlib.scenario import SMOKE_SCENARIO, load_scenario
from simlib.timeline import load_timeline_params


def scenario_with(tmp_path: Path, data: Path | None = None, **domains) -> Path:
    """The smoke scenario with overrides per domain, written beside its data folder."""
    body = yaml.safe_load(SMOKE_SCENARIO.read_text(encoding="utf-8"))
    for domain, values in domains.items():
        body[domain] = {**(body.get(domain) or {}), **values}
    body["data"] = str(data or SMOKE_SCENARIO.parents[1])
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def refused(argv: list[str], capsys, *words: str) -> str:
    """The command exits 2 with one line naming `words`, and no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)
    return err


def timeline_json(path: Path, capsys) -> dict:
    argv = ["timeline", "--scenario", str(path), "--replications", "1", "--json"]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_no_buses_means_no_bus_channel(tmp_path, capsys):
    s = timeline_json(scenario_with(tmp_path, timeline={"export_buses": 0}), capsys)
    assert s["export_buses"]["buses"] == 0
    assert s["export_buses"]["riders"]["mean"] == 0
    assert "labour_export" in s["by_programme_two_months"]  # the other export channels
    assert s["percent_of_hindsight"]["mean"] <= 100


def test_a_two_month_day_beyond_the_modelled_window_is_refused(tmp_path, capsys):
    path = scenario_with(tmp_path, timeline={"two_months_days": 120})
    argv = ["timeline", "--scenario", str(path), "--replications", "1"]
    refused(argv, capsys, "two_months_days", "120", "report_days_after_last_arrival")


def test_a_local_employer_is_not_the_bus_channel(tmp_path, capsys):
    path = scenario_with(tmp_path, timeline={"export_bus_channel": "workshop_01"})
    argv = ["timeline", "--scenario", str(path), "--replications", "1"]
    refused(argv, capsys, "export_bus_channel", "workshop_01", "local")


def test_absurd_settling_is_refused_and_a_long_one_gives_nobody_at_work(tmp_path, capsys):
    path = scenario_with(tmp_path, timeline={"settling_days": 100000})
    refused(["timeline", "--scenario", str(path), "--replications", "1"], capsys, "settling_days")
    s = timeline_json(scenario_with(tmp_path, timeline={"settling_days": 1000}), capsys)
    assert s["employed_two_months"]["mean"] == 0 and s["employed_final"]["mean"] == 0
    assert s["percent_of_hindsight"]["mean"] is None  # nothing to be a share of
    assert s["by_programme_two_months"] == {}


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_a_time_limit_that_is_not_a_positive_number_is_bad_input(value, capsys):
    argv = ["match", "--scenario", str(SMOKE_SCENARIO), f"--time-limit={value}"]
    refused(argv, capsys, "--time-limit")


def test_a_programmes_table_without_rows_is_refused(data_copy, capsys):
    table = data_copy / "jobs" / "programmes.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    table.write_text("\n".join(line for line in lines if line.startswith(("#", "employer,"))))
    scenario = data_copy / "scenarios" / "smoke.yaml"
    refused(["match", "--scenario", str(scenario)], capsys, "programmes.csv", "no rows")


def test_a_timeline_table_without_rows_is_refused(data_copy, capsys):
    table = data_copy / "timeline" / "programmes.csv"
    lines = table.read_text(encoding="utf-8").splitlines()
    table.write_text("\n".join(line for line in lines if line.startswith(("#", "unit,"))))
    scenario = data_copy / "scenarios" / "smoke.yaml"
    argv = ["timeline", "--scenario", str(scenario), "--replications", "1"]
    refused(argv, capsys, "programmes.csv", "no rows")


def test_timeline_tables_go_through_the_hardened_reader(data_copy, capsys):
    """Not UTF-8, a date that does not exist, a share above 1: one line each."""
    table = data_copy / "timeline" / "programmes.csv"
    scenario = data_copy / "scenarios" / "smoke.yaml"
    argv = ["timeline", "--scenario", str(scenario), "--replications", "1"]
    text = table.read_text(encoding="utf-8")
    table.write_bytes(text.replace("workshops hire", "workshops hire \xe9").encode("latin-1"))
    refused(argv, capsys, "programmes.csv", "UTF-8")
    table.write_text(text.replace("vegetable,2020-02-17", "vegetable,2020-02-30"), "utf-8")
    refused(argv, capsys, "open_date[vegetable]", "2020-02-30", "not a date that exists")
    table.write_text(text.replace("0.4,45,20,90", "1.4,45,20,90"), "utf-8")
    refused(argv, capsys, "initial_share[vegetable]", "1.4")
    table.write_text(text, "utf-8")
    params = data_copy / "timeline" / "parameters.csv"
    replace_in(params, "export_first_departure,2020-02-17", "export_first_departure,2020-02-30")
    refused(argv, capsys, "export_first_departure", "not a date that exists")


CELLS = st.one_of(
    st.sampled_from(["", "nan", "inf", "-1", "1e308", "2020-02-30", "x", "0", "9" * 20]),
    st.text(max_size=12),
    st.integers(-(10**6), 10**6).map(str),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(row=st.integers(0, 12), column=st.integers(1, 10), cell=CELLS)
def test_any_timeline_table_loads_or_fails_with_a_data_error(row, column, cell, tmp_path_factory):
    """A random cell of data/timeline/programmes.csv replaced by junk: the loader gives valid
    parameters or a DataError, never another exception."""
    data = tmp_path_factory.mktemp("data")
    source = SMOKE_SCENARIO.parents[1]
    for name in ("parameters.csv", "programmes.csv"):
        (data / "timeline").mkdir(exist_ok=True)
        (data / "timeline" / name).write_text((source / "timeline" / name).read_text("utf-8"))
    lines = (data / "timeline" / "programmes.csv").read_text("utf-8").splitlines()
    body = [k for k, line in enumerate(lines) if line and not line.startswith("#")][1:]
    k = body[row % len(body)]
    cells = lines[k].split(",")
    cells[column] = cell.replace(",", ";").replace("\n", " ").replace('"', "")
    lines[k] = ",".join(cells)
    (data / "timeline" / "programmes.csv").write_text("\n".join(lines), "utf-8")
    scenario = load_scenario(SMOKE_SCENARIO)
    jobs = load_jobs_params(scenario)
    moved = dataclasses.replace(scenario, data_dir=data)
    try:
        params = load_timeline_params(moved, jobs.employers)
    except DataError:
        return
    assert all(0 <= o.initial_share <= 1 and o.ramp_days >= 0 for o in params.openings)


def test_the_counts_hard_limits_are_rows_of_data():
    """Every whole-number timeline input has its limits of meaning in data/ (min/max), not in
    the loader; a day count may be limited by another parameter."""
    from simlib.provenance import load_parameters
    from simlib.scenario import PROJECT_ROOT

    rows = load_parameters(PROJECT_ROOT / "data" / "timeline" / "parameters.csv")
    counts = {n: p for n, p in rows.items() if p.type == "int" and p.provenance == "assumed"}
    assert counts and all(p.min is not None and p.max is not None for p in counts.values())
    assert rows["two_months_days"].max == "report_days_after_last_arrival"
