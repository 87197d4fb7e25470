"""What each convoy day needs (`simlib needs`): the answer on the smoke plan, its minimality,
the files it writes, the 600-household day of the farthest county kept by the resources
it asks for, the least that meets the deadline, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from simlib.cli import main
from simlib.inputs import load_inputs, vary
from simlib.moving import make_plan, run
from simlib.moving.deadline import deadline_needs, poor_done_day, smallest_day
from simlib.moving.needs import SEARCH, DaySearch, day_cases, size_day
from simlib.scenario import PROJECT_ROOT, SMOKE_SCENARIO

COLUMNS = ["date", "county", "households", "trucks", "coaches", "drivers", "police_officers", "police_cars", "cadres", "doctors", "loading_crews", "reception_teams", "finish_time"]  # fmt: skip


@pytest.fixture(scope="module")
def smoke_needs(tmp_path_factory):
    out = tmp_path_factory.mktemp("needs")
    argv = ["needs", "--scenario", str(SMOKE_SCENARIO), "--workers", "2", "--json", "--out", str(out)]  # fmt: skip
    return main, argv, out


def test_needs_names_every_resource_for_every_convoy_day(smoke_needs, capsys):
    main_, argv, out = smoke_needs
    assert main_(argv) == 0
    s = json.loads(capsys.readouterr().out)
    inputs = load_inputs(SMOKE_SCENARIO)
    plan = make_plan(inputs.moving, inputs.population.households)
    assert len(s["days"]) == len(plan.rows)
    for day in s["days"]:
        assert list(day)[:13] == COLUMNS
        assert all(day[k] >= 1 for k in COLUMNS[3:-1])
        assert day["drivers"] <= day["trucks"] + day["coaches"]
        assert len(day["finish_time"]) == 5 and day["finish_time"][2] == ":"
    assert s["most"]["trucks"] == max(d["trucks"] for d in s["days"])
    # the files: the table, the plan, and a scenario that runs the plan with the most any day needs
    assert {p.name for p in out.iterdir()} >= {"needs.csv", "plan.csv", "resources.yaml"}
    scenario = yaml.safe_load((out / "resources.yaml").read_text(encoding="utf-8"))
    assert scenario["moving"]["batch_plan"] == "plan.csv"
    assert scenario["moving"]["leased_vehicles_per_county_day"] >= 1
    rerun = run(load_inputs(out / "resources.yaml"), replications=2, workers=1)
    assert rerun.summary()["plan_kept_share"] >= 0.9


def test_one_less_of_any_resource_is_not_enough(smoke):
    """The answer is minimal: with one less of a resource the day no longer finishes in 90 %
    of replications."""
    inputs = load_inputs(smoke)
    plan = make_plan(inputs.moving, inputs.population.households)
    case = day_cases(inputs.moving, inputs.population.households, plan, inputs.seed, 10, 0.9)[2]
    found = size_day(case)
    search = DaySearch(case)
    values = {k: found[k] for k in SEARCH}
    assert search.enough(lambda r: search.whole(values, r))
    for name in ("trucks", "loading_crews", "reception_teams"):
        if values[name] > 1:
            fewer = {**values, name: values[name] - 1}
            assert not search.enough(lambda r, v=fewer: search.whole(v, r)), name


def _plan_with_a_big_day(folder: Path, county: str, size: int) -> tuple[Path, str]:
    """The baseline plan with the county's first convoy day made `size` households (taken
    from its next days)."""
    inputs = load_inputs(PROJECT_ROOT / "data" / "scenarios" / "baseline.yaml")
    plan = make_plan(inputs.moving, inputs.population.households).rows.copy()
    days = plan.index[plan["county"] == county]
    extra = size - int(plan.loc[days[0], "households"])
    plan.loc[days[0], "households"] = size
    for i in days[1:]:
        take = min(extra, int(plan.loc[i, "households"]) - 1)
        plan.loc[i, "households"] -= take
        extra -= take
    plan[["date", "county", "households"]].to_csv(folder / "plan.csv", index=False)
    (folder / "s.yaml").write_text(f"name: big-day\ndata: {PROJECT_ROOT / 'data'}\nmoving:\n  batch_plan: plan.csv\n", encoding="utf-8")  # fmt: skip
    return folder / "s.yaml", str(plan.loc[days[0], "date"])


def test_what_needs_asks_keeps_a_600_household_day_of_the_farthest_county(tmp_path, capsys):
    scenario, date = _plan_with_a_big_day(tmp_path, "Yongshan", 600)
    out = tmp_path / "needs"
    argv = ["needs", "--scenario", str(scenario), "--date", date, "--out", str(out), "--json"]
    assert main(argv) == 0
    day = json.loads(capsys.readouterr().out)["days"][0]
    assert (day["county"], day["households"]) == ("Yongshan", 600)
    # giving the run what needs asks (the weather aside: no resource makes up for a closed road)
    inputs = vary(load_inputs(out / "resources.yaml"), {"moving.weather_risk_factor": 0.0})
    result = run(inputs, replications=4, workers=2)
    d = result.days[
        (result.days["county"] == "Yongshan") & (result.days["date"].astype(str) == date)
    ]
    assert len(d) == 4 and (d["planned"] == 600).all()
    assert d["arrived_as_planned"].mean() >= 0.9 * 600


def test_the_least_that_meets_the_deadline(smoke):
    inputs = load_inputs(smoke)
    k = smallest_day(inputs.moving, inputs.population)
    households = inputs.population.households
    poor = households[households["registered_poor"]].groupby("county").size().to_dict()
    assert poor_done_day(inputs.moving, poor, k) <= inputs.moving.deadline_day
    assert k == 1 or poor_done_day(inputs.moving, poor, k - 1) > inputs.moving.deadline_day
    least = deadline_needs(inputs, replications=4)
    assert least.day_households == k and set(least.needs["county"]) == set(poor)
    assert least.most()["trucks"] >= 1


@pytest.mark.parametrize(
    ("extra", "status", "words"),
    [
        (["--range", "trucks=5:2"], 2, "is empty"),
        (["--range", "lorries=1:5"], 2, "names no resource"),
        (["--range", "trucks=a:b"], 2, "whole numbers"),
        (["--share", "1.5"], 2, "--share"),
        (["--date", "2020-02-30"], 2, "not a date that exists"),
        (["--date", "2019-12-02"], 1, "no convoy day on 2019-12-02"),
        (["--out", "/proc/needs"], 2, "--out"),
        (["--range", "trucks=1:1", "--date", "2019-12-01"], 1, "within the ranges asked for"),
    ],
)
def test_bad_input_to_needs_is_one_line(capsys, extra, status, words):
    argv = ["needs", "--scenario", str(SMOKE_SCENARIO), "--replications", "3", *extra]
    assert main(argv) == status
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_plan_no_resources_can_meet_exits_1(tmp_path, capsys):
    """Dark at 10:00: the farthest county cannot arrive the same day with any resources."""
    inputs = load_inputs(SMOKE_SCENARIO)
    plan = make_plan(inputs.moving, inputs.population.households)
    plan.to_csv(tmp_path / "plan.csv")
    far = plan.rows[plan.rows["county"] == "Yongshan"]["date"].iloc[0]
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nscale: 0.04\ndata: {PROJECT_ROOT / 'data'}\nmoving:\n  batch_plan: plan.csv\n  latest_departure: 540\n  dark: 600\n", encoding="utf-8")  # fmt: skip
    assert main(["needs", "--scenario", str(path), "--date", far, "--replications", "3"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not finish inside the time rules" in err[0]
