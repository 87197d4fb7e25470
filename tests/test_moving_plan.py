"""Plans: the same checks whichever way a plan comes in (written by `simlib plan --out`,
read back as a scenario's `batch_plan`), the hardened reader of plan files, the optimised
plan, and the command line's answers to bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlib.cli import OBJECTIVES as CLI_OBJECTIVES
from simlib.cli import main
from simlib.inputs import load_inputs
from simlib.moving import load_moving_params, make_plan, run
from simlib.moving.optimize import OBJECTIVES, optimise_plan
from simlib.moving.tables import MAX_PLAN_BYTES, read_batch_plan
from simlib.population import generate_population
from simlib.provenance import DataError
from simlib.scenario import PROJECT_ROOT, SMOKE_SCENARIO, load_scenario

COUNTIES = {"Ludian", "Qiaojia", "Yongshan", "Yiliang", "Yanjin"}


def _scenario(folder: Path, moving: str = "") -> Path:
    path = folder / "s.yaml"
    path.write_text(f"name: s\nscale: 0.04\ndata: {PROJECT_ROOT / 'data'}\nmoving:\n{moving or '  {}'}\n", encoding="utf-8")  # fmt: skip
    return path


def _run_json(capsys, argv: list[str]) -> tuple[int, dict | None, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, (json.loads(out) if status == 0 and out.strip().startswith("{") else None), err


# --- the same checks both ways --------------------------------------------------------------


def test_a_written_plan_runs_back_the_same(tmp_path, capsys):
    """A generated plan that misses the deadline (a late campaign start) runs, and written
    out and read back it runs the same: no check refuses it either way."""
    scenario = _scenario(tmp_path, "  campaign_start: '2020-01-10'")
    out = tmp_path / "plan.csv"
    status, plan, _ = _run_json(capsys, ["plan", "--scenario", str(scenario), "--out", str(out), "--json"])  # fmt: skip
    assert status == 0 and plan["feasibility"]["registered_poor_after_deadline"]
    (tmp_path / "back").mkdir()
    back = _scenario(tmp_path / "back", f"  campaign_start: '2020-01-10'\n  batch_plan: {out}")
    a = run(load_inputs(scenario), replications=1, workers=1)
    b = run(load_inputs(back), replications=1, workers=1)
    pd.testing.assert_frame_equal(a.plan.rows, b.plan.rows)
    assert a.summary()["campaign_days"] == b.summary()["campaign_days"]
    assert a.summary()["deadline_met_share"] == b.summary()["deadline_met_share"] == 0.0


def test_a_plan_date_that_does_not_exist_says_so(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_text("# a comment\ndate,county,households\n2019-12-01,Ludian,10\n2020-02-30,Ludian,5\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(DataError) as error:
        read_batch_plan(path, COUNTIES)
    assert "not a date that exists" in error.value.problem
    assert error.value.field == "date[line 4]" and "2020-02-30" in str(error.value)
    path.write_text("date,county,households\n1 Dec 2019,Ludian,10\n", encoding="utf-8")
    with pytest.raises(DataError, match="YYYY-MM-DD"):
        read_batch_plan(path, COUNTIES)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"date,county,households\n2019-12-01,Ludian,9007199254740993\n", "too large"),
        (b"date,county,households\n2019-12-01,Ludian,inf\n", "whole number"),
        (b"date,county,households\n2019-12-01,Ludian,2.5\n", "whole number"),
        (b"date,county,households\n2019-12-01,Lu\xe9dian,10\n", "UTF-8"),
        (b"date,county,households\n2019-12-01,Ludian,0\n", "must be > 0"),
        (b"date,county,households\n", "no convoy days"),
        (b"date,county\n2019-12-01,Ludian\n", "required columns"),
    ],
)
def test_bad_plan_files_fail_clearly(tmp_path, body, words):
    path = tmp_path / "plan.csv"
    path.write_bytes(body)
    with pytest.raises(DataError, match=words) as error:
        read_batch_plan(path, COUNTIES)
    assert error.value.file.endswith("plan.csv")


def test_a_huge_plan_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_bytes(b"date,county,households\n" + b"2019-12-01,Ludian,1\n" * (MAX_PLAN_BYTES // 20 + 10))  # fmt: skip
    with pytest.raises(DataError, match="larger than"):
        read_batch_plan(path, COUNTIES)


@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.dates().map(str), st.text(max_size=12)),
            st.one_of(st.sampled_from(sorted(COUNTIES)), st.text(max_size=8)),
            st.one_of(
                st.integers(-5, 10**17).map(str), st.sampled_from(["nan", "1.5", "", "1e400"])
            ),
        ),
        max_size=6,
    )
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
def test_any_plan_file_loads_or_is_refused_with_a_data_error(tmp_path, rows):
    """The loader property test for batch plans: whatever the cells, a plan file either
    loads into valid rows or is refused with a DataError naming the file; nothing else."""
    path = tmp_path / "plan.csv"
    text = "date,county,households\n" + "".join(f'"{d}","{c}",{n}\n' for d, c, n in rows)
    path.write_text(text, encoding="utf-8")
    try:
        plan = read_batch_plan(path, COUNTIES)
    except DataError as error:
        assert error.file.endswith("plan.csv")
        return
    assert all(p.county in COUNTIES and 0 < p.households <= 2**53 for p in plan)


@pytest.mark.parametrize(
    ("rows", "field", "words"),
    [
        ("2019-12-01,Atlantis,10\n", "county[line 2]", "unknown county"),
        ("2020-01-20,Ludian,10\n", "date[Ludian]", "pause"),
        ("2019-10-01,Ludian,10\n", "date[Ludian]", "outside the campaign"),
        ("2019-12-01,Ludian,10\n", "households[Ludian]", "the county has"),
        ("2019-12-01,Ludian,10\n2019-12-01,Ludian,10\n", "date[Ludian]", "two rows"),
    ],
)
def test_plan_files_are_checked_against_the_calendar_and_the_population(tmp_path, rows, field, words):  # fmt: skip
    (tmp_path / "plan.csv").write_text("date,county,households\n" + rows, encoding="utf-8")
    s = load_scenario(_scenario(tmp_path, "  batch_plan: plan.csv"))
    with pytest.raises(DataError) as error:
        make_plan(load_moving_params(s), generate_population(s).households)
    assert error.value.field == field and words in error.value.problem
    assert error.value.file.endswith("plan.csv")


# --- outputs checked before the work ----------------------------------------------------------


@pytest.mark.parametrize("target", ["/proc/plan.csv", "{tmp}/no/such/folder/plan.csv", "{tmp}"])
def test_plan_out_into_a_bad_place_is_refused_before_the_work(tmp_path, capsys, target):
    argv = ["plan", "--scenario", str(SMOKE_SCENARIO), "--out", target.replace("{tmp}", str(tmp_path))]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# --- the optimised plan ---------------------------------------------------------------------


def test_the_optimised_plan_is_verified_and_runs_back(tmp_path, capsys):
    out = tmp_path / "best.csv"
    argv = ["plan", "--scenario", str(SMOKE_SCENARIO), "--optimize", "--out", str(out), "--json"]
    status, s, _ = _run_json(capsys, argv)
    assert status == 0
    assert s["status"] in ("optimal", "time_limit_feasible") and s["objective"] == "finish"
    assert s["status"] == "optimal" or s["gap"] is not None
    assert s["max_constraint_violation"] <= 1e-6 and s["feasibility"]["feasible"]
    assert s["last_move_in_date"] and s["last_registered_poor_date"] <= "2020-03-31"
    scenario = _scenario(tmp_path, f"  batch_plan: {out.name}")
    result = run(load_inputs(scenario), replications=2, workers=1)
    assert result.plan.source == str(out)
    assert result.summary()["deadline_met_share"] == 1.0


def test_the_optimised_plan_finishes_no_later_than_the_generated_one(baseline):
    inputs = load_inputs(baseline)
    optimised = optimise_plan(inputs.moving, inputs.population.households, "finish")
    generated = make_plan(inputs.moving, inputs.population.households)
    assert optimised.status == "optimal"
    assert optimised.plan.rows["day"].max() <= generated.rows["day"].max()
    assert optimised.plan.rows["households"].sum() == 8322
    slack = optimise_plan(inputs.moving, inputs.population.households, "slack")
    assert slack.last_registered_poor_date <= optimised.last_registered_poor_date


def test_the_objectives_are_named_alike():
    assert CLI_OBJECTIVES == OBJECTIVES


@pytest.mark.parametrize(
    ("extra", "status", "words"),
    [
        (["--optimize", "--objective", "cheapest"], 2, "--objective"),
        (["--objective", "slack"], 2, "goes with --optimize"),
        (["--optimize", "--time-limit", "nan"], 2, "--time-limit"),
        (["--optimize", "--time-limit", "-1"], 2, "--time-limit"),
    ],
)
def test_bad_optimize_options_are_one_line(capsys, extra, status, words):
    assert main(["plan", "--scenario", str(SMOKE_SCENARIO), *extra]) == status
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_no_plan_meets_an_impossible_deadline(tmp_path, capsys):
    scenario = _scenario(tmp_path, "  registered_poor_deadline: '2019-12-15'")
    assert main(["plan", "--scenario", str(scenario), "--optimize", "--json"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("simlib plan: no plan moves every registered-poor household by 2019-12-15")  # fmt: skip
