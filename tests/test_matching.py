"""The job matching: optimal against brute force and the individual model, every
constraint checked independently of the solver, honest statuses, and the CLI."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pandas as pd
import pulp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlib.cli import main
from simlib.jobs_inputs import Employer, load_jobs_params
from simlib.matching import (
    REASON_FULL,
    REASON_HH_NOWHERE,
    REASON_NOWHERE,
    build_instance,
    check_assignment,
    match_jobs,
    match_population,
)
from simlib.population import generate_population


def employer(name="e1", capacity=2, **kw) -> Employer:
    base = dict(
        employer=name, programme="workshop", product="bags", capacity=capacity, wage=2000.0,
        wage_low=1500.0, wage_high=2600.0, base_retention=0.75, location="new_town",
        season="all_year", age_min=16, age_max=64, sex="any", skills_accepted=(),
        skills_preferred=(), special_group="allowed", provenance="assumed",
    )  # fmt: skip
    base.update(kw)
    return Employer(**base)


def person(pid, hh, county="A", **kw):
    base = dict(
        person_id=pid, household_id=hh, county=county, age=30, sex="F", carer=False,
        special_group=False, disabled=False, skill="factory", laborer=True,
    )  # fmt: skip
    base.update(kw)
    return base


@pytest.fixture(scope="module")
def base_params(smoke_scenario):
    return load_jobs_params(smoke_scenario)


@pytest.fixture(scope="module")
def smoke_scenario():
    from simlib.scenario import SMOKE_SCENARIO, load_scenario

    return load_scenario(SMOKE_SCENARIO)


@pytest.fixture(scope="module")
def smoke_cbc(smoke_scenario):
    return match_jobs(smoke_scenario)


def tiny(params, employers, people, **kw):
    p = dataclasses.replace(params, employers=tuple(employers), **kw)
    return p, pd.DataFrame(people)


def brute_force(inst):
    """Every way to give each laborer one eligible job or none: the lexicographic best
    (employed, income) among those meeting every constraint, or None if none does."""
    n, m = inst.eligible.shape
    options = [[-1] + np.flatnonzero(inst.eligible[i]).tolist() for i in range(n)]
    best = None
    for choice in itertools.product(*options):
        employer = np.array(choice, dtype=int)
        if any(v > 1e-9 for v in check_assignment(inst, employer).values()):
            continue
        rows = np.flatnonzero(employer >= 0)
        wages = np.array([e.wage for e in inst.employers])
        income = float((wages[employer[rows]] * inst.suitability[rows, employer[rows]]).sum())
        key = (len(rows), round(income, 6))
        if best is None or key > best:
            best = key
    return best


def objectives(result):
    a = result.assignments
    return (result.employed, round(float(a["expected_income"].sum()), 6))


def test_tiny_instance_equals_brute_force(base_params):
    # two households; the carer can only work in town; the town job has one place
    params, people = tiny(
        base_params,
        [
            employer("town", 1),
            employer("away", 3, location="away", wage=4000.0, programme="labour_export"),
        ],
        [
            person(1, 1, carer=True),
            person(2, 1),
            person(3, 2, carer=True),
            person(4, 3, county="B"),
            person(5, 3, county="B", age=60),
        ],
        fairness_floor=0.8,  # county B: 1 of 2 employed, 0.5 >= 0.8 x 3/5
    )
    result = match_population(people, None, params)
    inst = build_instance(people, params)
    assert result.log.status == "optimal"
    assert objectives(result) == brute_force(inst)
    # household 2 has only a carer, so the one town job must be hers
    a = result.assignments.set_index("person_id")
    assert a.loc[3, "employer"] == "town"


@st.composite
def instances(draw):
    n_hh = draw(st.integers(1, 4))
    people = []
    pid = 0
    for hh in range(1, n_hh + 1):
        county = draw(st.sampled_from(["A", "B"]))
        for _ in range(draw(st.integers(1, 2))):
            pid += 1
            people.append(
                person(
                    pid,
                    hh,
                    county,
                    age=draw(st.sampled_from([17, 30, 58])),
                    sex=draw(st.sampled_from(["F", "M"])),
                    carer=draw(st.booleans()),
                    special_group=draw(st.booleans()),
                    skill=draw(st.sampled_from(["factory", "farming"])),
                )
            )
    employers = []
    for j in range(draw(st.integers(1, 3))):
        employers.append(
            employer(
                f"e{j}",
                draw(st.integers(0, 3)),
                location=draw(st.sampled_from(["new_town", "away"])),
                age_max=draw(st.sampled_from([50, 64])),
                age_min=draw(st.sampled_from([16, 18])),
                wage=float(draw(st.sampled_from([1500, 2000, 2500]))),
                skills_preferred=draw(st.sampled_from([(), ("farming",)])),
                special_group=draw(st.sampled_from(["allowed", "priority", "excluded"])),
            )
        )
    floor = draw(st.sampled_from([0.0, 0.8, 1.0]))
    return employers, people, floor


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_aggregated_equals_individual_and_brute_force(base_params, case):
    employers, people, floor = case
    params, people = tiny(base_params, employers, people, fairness_floor=floor)
    agg = match_population(people, None, params, baselines=False)
    ind = match_population(people, None, params, formulation="individual", baselines=False)
    inst = agg.instance
    best = brute_force(inst)
    if best is None:
        assert agg.log.status == "infeasible" and ind.log.status == "infeasible"
        assert agg.log.elastic  # the elastic re-solve names what gives way
        return
    assert agg.log.status == ind.log.status == "optimal"
    assert objectives(agg) == objectives(ind) == best
    employer_index = agg.assignments["employer_index"].to_numpy()
    assert all(v <= 1e-9 for v in check_assignment(inst, employer_index).values())
    assert agg.max_constraint_violation <= 1e-9


def test_smoke_every_constraint_holds_independently(smoke_scenario, smoke_cbc):
    r = smoke_cbc
    pop = generate_population(smoke_scenario)
    s = r.summary()
    assert s["status"] == "optimal" and s["optimal"]
    employer_index = r.assignments["employer_index"].to_numpy()
    checks = check_assignment(r.instance, employer_index)
    assert set(checks) >= {"eligibility", "capacity", "household_has_worker", "fairness"}
    assert max(checks.values()) == 0
    # one row per laborer, each at most one job
    assert sorted(r.assignments["person_id"]) == sorted(pop.laborers["person_id"])
    assert r.assignments["person_id"].is_unique
    by_prog = r.by_programme()
    assert (by_prog["assigned"] <= by_prog["capacity"]).all()
    assert s["employed"] == by_prog["assigned"].sum() == s["laborers"] - len(r.unemployed())
    assert s["households_without_worker"] == 0
    rate = s["employment_rate"]
    for c in s["by_county"].values():
        assert c["rate"] >= r.instance.params.fairness_floor * rate - 1e-9


def test_cbc_and_highs_agree_on_smoke(smoke_scenario, smoke_cbc):
    highs = match_jobs(smoke_scenario, solver="highs")
    assert highs.summary()["optimal"] and smoke_cbc.summary()["optimal"]
    assert highs.summary()["objectives"] == pytest.approx(smoke_cbc.summary()["objectives"])


def test_same_seed_same_assignments(smoke_scenario, smoke_cbc):
    again = match_jobs(smoke_scenario)
    pd.testing.assert_frame_equal(again.assignments, smoke_cbc.assignments)


def test_marginal_values_and_reasons(smoke_cbc):
    by_prog = smoke_cbc.by_programme()
    assert by_prog["marginal_value"].notna().all()
    assert (by_prog["marginal_value"] >= -1e-9).all()
    assert (by_prog["marginal_income_yuan_month"] >= -1e-6).all()
    idle = smoke_cbc.unemployed()
    assert set(idle["reason"]) <= {REASON_FULL, REASON_NOWHERE}


def test_marginal_income_equals_the_gain_of_a_resolve_with_one_more_place(base_params):
    # every place is full and a laborer waits: one more place anywhere employs her, and the
    # income-stage dual must price that place as a re-solve with it does
    employers = [
        employer("town", 1, wage=2000.0),
        employer("away", 1, location="away", wage=4000.0, programme="labour_export"),
    ]
    people = [person(1, 1), person(2, 1, skill="farming", age=50), person(3, 2, sex="M")]
    params, frame = tiny(base_params, employers, people)
    result = match_population(frame, None, params)
    assert result.log.status == "optimal"
    income = objectives(result)[1]
    prices = result.by_programme().set_index("employer")["marginal_income_yuan_month"]
    for i, e in enumerate(employers):
        grown = [*employers]
        grown[i] = dataclasses.replace(e, capacity=e.capacity + 1)
        again = match_population(frame, None, dataclasses.replace(params, employers=tuple(grown)))
        assert again.employed == result.employed + 1
        assert prices[e.employer] == pytest.approx(objectives(again)[1] - income, abs=1e-6)
        assert prices[e.employer] > 0


def test_no_jobs_and_no_laborers(base_params):
    params, people = tiny(base_params, [employer("e1", 0)], [person(1, 1), person(2, 2)])
    r = match_population(people, None, params)
    # nobody is eligible anywhere: no household can be covered, reported with the reason
    assert r.log.status == "optimal" and r.employed == 0
    hh = r.households_without_worker()
    assert len(hh) == 2 and set(hh["reason"]) == {REASON_HH_NOWHERE}
    assert set(r.unemployed()["reason"]) == {REASON_NOWHERE}
    params, people = tiny(base_params, [employer("e1", 3)], [person(1, 1, laborer=False)])
    r = match_population(people, None, params)
    assert r.summary()["laborers"] == 0 and r.employed == 0 and r.log.status == "optimal"


def test_programme_nobody_is_eligible_for(base_params):
    params, people = tiny(
        base_params,
        [employer("young", 5, age_max=20), employer("open", 1)],
        [person(1, 1, age=40), person(2, 2, age=40)],
    )
    r = match_population(people, None, params)
    assert r.log.status == "infeasible"  # two households, one job they can take
    assert r.log.elastic["household_has_worker"]["shortfall"] == 1
    assert r.summary()["optimal"] is False
    assert r.by_programme().set_index("employer").loc["young", "assigned"] == 0


def test_capacity_below_household_floor_gives_elastic_report(smoke_scenario):
    scenario = smoke_scenario.with_overrides("jobs", labour_export_factor=0.0)
    squeezed = scenario.with_overrides(
        "jobs", closed_employers=";".join(f"workshop_{i:02d}" for i in range(1, 12))
    )
    r = match_jobs(squeezed)
    s = r.summary()
    assert s["status"] == "infeasible" and not s["optimal"]
    short = s["elastic"]["household_has_worker"]
    assert short["shortfall"] == s["households_without_worker"] > 0
    assert s["employed"] <= s["capacity"]


def test_time_limited_run_is_never_called_optimal(monkeypatch, base_params):
    params, people = tiny(base_params, [employer("e1", 1)], [person(1, 1)])
    import simlib.matching as m

    def fake_status(problem):
        return "time_limit_feasible"

    monkeypatch.setattr(m, "_integral", lambda problem: False)
    monkeypatch.setattr(m, "_status", fake_status)
    r = match_population(people, None, params)
    assert r.log.status == "time_limit_feasible"
    assert r.summary()["optimal"] is False
    monkeypatch.setattr(m, "_status", lambda problem: "time_limit_no_solution")
    r = match_population(people, None, params)
    assert r.summary()["optimal"] is False and r.employed == 0
    assert set(r.unemployed()["reason"]) == {"no plan: the solver returned time_limit_no_solution"}


def test_weighted_mode_solves_once(base_params):
    params, people = tiny(
        base_params, [employer("e1", 2)], [person(1, 1), person(2, 2)], objective_mode="weighted"
    )
    r = match_population(people, None, params)
    assert [s["stage"] for s in r.log.stages] == ["weighted"] and r.employed == 2


def test_bad_solver_is_refused(smoke_scenario):
    with pytest.raises(ValueError, match="solver"):
        match_jobs(smoke_scenario, solver="gurobi")


def test_cli_json_mps_and_out(tmp_path, capsys, smoke_scenario):
    mps = tmp_path / "model.mps"
    out = tmp_path / "out"
    code = main(
        ["match", "--scenario", str(smoke_scenario.path), "--json", "--write-mps", str(mps),
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    s = json.loads(capsys.readouterr().out)
    for key in (
        "status", "optimal", "laborers", "employed", "employment_rate",
        "households_with_laborers", "households_without_worker", "objective", "by_county",
        "by_programme", "build_seconds", "solve_seconds", "max_constraint_violation",
        "greedy_employed",
    ):  # fmt: skip
        assert key in s
    for county in s["by_county"].values():
        assert set(county) == {"laborers", "employed", "rate"}
    for programme in s["by_programme"].values():
        assert {"capacity", "assigned"} <= set(programme)
    _, problem = pulp.LpProblem.fromMPS(str(mps))
    # the final model: the employment stage's constraints plus employment_fixed
    assert len(problem.constraints()) == s["model_size"]["constraints"]
    assert "employment_fixed" in {c.name for c in problem.constraints()}
    # another solver reading the file alone finds the same optimum
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps))
    h.run()
    assert h.getObjectiveValue() == pytest.approx(s["objective"], rel=1e-9)
    for name in ("assignments", "by_county", "by_programme", "households_without_worker",
                 "unemployed"):  # fmt: skip
        assert (out / f"{name}.csv").is_file()
    assert len(pd.read_csv(out / "assignments.csv")) == s["laborers"]


def test_cli_bad_scenario_value(tmp_path, capsys, smoke_scenario):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        smoke_scenario.path.read_text().replace("jobs: {}", "jobs: {fairness_floor: 2}")
        + f"\ndata: {smoke_scenario.data_dir}\n"
    )
    assert main(["match", "--scenario", str(bad)]) == 2
    assert "fairness_floor" in capsys.readouterr().err


def test_cli_json_with_highs_prints_only_json(capfd, smoke_scenario):
    # HiGHS prints a banner from C++ straight to the file descriptor; it must not
    # end up in the JSON on stdout
    assert (
        main(["match", "--scenario", str(smoke_scenario.path), "--solver", "highs", "--json"]) == 0
    )
    s = json.loads(capfd.readouterr().out)
    assert s["solver"] == "highs" and s["optimal"]


def test_optional_sex_and_age_balance(smoke_scenario):
    scenario = smoke_scenario.with_overrides("jobs", sex_balance_floor=0.98, age_balance_floor=0.9)
    r = match_jobs(scenario)
    assert r.summary()["optimal"]
    checks = check_assignment(r.instance, r.assignments["employer_index"].to_numpy())
    assert {"sex_balance", "age_balance"} <= set(checks)
    assert max(checks.values()) <= 1e-9
    a = r.assignments
    overall = (a["employer"] != "").mean()
    for _, group in a.groupby("sex"):
        assert (group["employer"] != "").mean() >= 0.98 * overall - 1e-9
