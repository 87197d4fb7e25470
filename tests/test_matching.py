"""The job matching: optimal against brute force and the individual model, every rule
checked independently of the solver, honest statuses and failures, and the CLI."""

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
    REASON_CARE,
    REASON_FLOOR,
    REASON_FULL,
    REASON_NO_PLACES,
    REASON_NOWHERE,
    MatchFailed,
    build_instance,
    check_assignment,
    match_jobs,
    match_population,
)
from simlib.matching import solve as solve_module
from simlib.population import generate_population


def employer(name="e1", capacity=2, **kw) -> Employer:
    base = dict(
        employer=name, programme="workshop", product="bags", capacity=capacity,
        places="assumed", wage=2000.0, wage_low=1500.0, wage_high=2600.0,
        base_retention=0.75, location="new_town", distance_km=3.0, season="all_year",
        age_min=16, age_max=64, sex="any", skills_accepted=(), skills_preferred=(),
        special_group="allowed", provenance="assumed",
    )  # fmt: skip
    base.update(kw)
    return Employer(**base)


def away(name="away", capacity=2, **kw) -> Employer:
    kw = {"location": "away", "wage": 4000.0, "programme": "labour_export",
          "distance_km": 1500.0, "special_group": "excluded", **kw}  # fmt: skip
    return employer(name, capacity, **kw)


def person(pid, hh, county="A", **kw):
    base = dict(
        person_id=pid, household_id=hh, county=county, age=30, sex="F", carer=False,
        special_group=False, disabled=False, skill="factory", laborer=True,
        care_duty=False, willing_to_migrate=True,
    )  # fmt: skip
    base.update(kw)
    return base


@pytest.fixture(scope="module")
def smoke_scenario():
    from simlib.scenario import SMOKE_SCENARIO, load_scenario

    return load_scenario(SMOKE_SCENARIO)


@pytest.fixture(scope="module")
def base_params(smoke_scenario):
    return load_jobs_params(smoke_scenario)


@pytest.fixture(scope="module")
def smoke_population(smoke_scenario):
    return generate_population(smoke_scenario)


def run_smoke(scenario, population, **kw):
    return match_jobs(load_jobs_params(scenario), population, seed=scenario.seed, **kw)


@pytest.fixture(scope="module")
def smoke_cbc(smoke_scenario, smoke_population):
    return run_smoke(smoke_scenario, smoke_population)


def tiny(params, employers, people, **kw):
    p = dataclasses.replace(params, employers=tuple(employers), **kw)
    return p, pd.DataFrame(people)


def plan_value(inst, employer):
    """(stage 1, expected income) of a plan, as the model scores it."""
    p = inst.params
    rows = np.flatnonzero(employer >= 0)
    prob = inst.probability[rows, employer[rows]]
    income = float((prob * inst.net_wage[employer[rows]]).sum())
    household = inst.laborers["household_id"].to_numpy()
    covered = set(household[rows].tolist())
    uncovered = sum(h not in covered for h in inst.required.tolist())
    first = float(prob.sum()) - p.household_uncovered_penalty * uncovered
    if p.objective_mode == "weighted":
        return (round(first + p.income_weight / 1000 * income, 6),)
    return round(first, 6), round(income, 4)


def brute_force(inst):
    """Every way to give each laborer one eligible job or none: the best plan meeting every
    rule (lexicographic, or weighted), or None if none does."""
    n, _ = inst.eligible.shape
    options = [[-1] + np.flatnonzero(inst.eligible[i]).tolist() for i in range(n)]
    best = None
    for choice in itertools.product(*options):
        employer = np.array(choice, dtype=int)
        if any(v > 1e-9 for v in check_assignment(inst, employer).values()):
            continue
        key = plan_value(inst, employer)
        if best is None or key > best:
            best = key
    return best


def value(result):
    return plan_value(result.instance, result.assignments["employer_index"].to_numpy())


def test_tiny_instance_equals_brute_force(base_params):
    # household 1 has care duties and two laborers: one of them must stay
    params, people = tiny(
        base_params,
        [employer("town", 1), away("away", 3)],
        [
            person(1, 1, care_duty=True),
            person(2, 1, care_duty=True),
            person(3, 2, care_duty=True),  # the only laborer of a household with care duties
            person(4, 3, county="B"),
            person(5, 3, county="B", age=60, willing_to_migrate=False),
        ],
        fairness_floor=0.8,
    )
    result = match_population(people, None, params)
    assert result.log.status == "optimal"
    assert value(result) == brute_force(result.instance)
    a = result.assignments.set_index("person_id")
    # the sole carer can only work locally, so the one town job is hers
    assert a.loc[3, "employer"] == "town"
    assert a.loc[3, "stay_status"].startswith("must stay")
    assert (a.loc[[1, 2], "location"] == "away").sum() <= 1


@st.composite
def instances(draw):
    n_hh = draw(st.integers(1, 3))
    people = []
    pid = 0
    for hh in range(1, n_hh + 1):
        county = draw(st.sampled_from(["A", "B"]))
        care = draw(st.booleans())
        for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
            pid += 1
            people.append(
                person(
                    pid,
                    hh,
                    county,
                    age=draw(st.sampled_from([17, 25, 40, 58])),
                    sex=draw(st.sampled_from(["F", "M"])),
                    care_duty=care,
                    willing_to_migrate=draw(st.booleans()),
                    special_group=draw(st.booleans()),
                    skill=draw(st.sampled_from(["factory", "farming"])),
                )
            )
            if pid >= 6:
                break
        if pid >= 6:
            break
    employers = []
    for j in range(draw(st.integers(1, 3))):
        make = draw(st.sampled_from([employer, away]))
        employers.append(
            make(
                f"e{j}",
                draw(st.integers(0, 3)),
                age_max=draw(st.sampled_from([50, 64])),
                age_min=draw(st.sampled_from([16, 18])),
                sex=draw(st.sampled_from(["any", "any", "F", "M"])),
                wage=float(draw(st.sampled_from([1500, 2000, 2500, 4000]))),
                base_retention=draw(st.sampled_from([0.6, 0.75, 0.9])),
                skills_accepted=draw(st.sampled_from([(), (), ("farming",)])),
                skills_preferred=draw(st.sampled_from([(), ("farming",)])),
                special_group=draw(st.sampled_from(["allowed", "priority", "excluded"])),
            )
        )
    settings_ = dict(
        fairness_floor=draw(st.sampled_from([0.0, 0.8, 1.0])),
        sex_balance_floor=draw(st.sampled_from([0.0, 0.0, 0.7])),
        age_balance_floor=draw(st.sampled_from([0.0, 0.0, 0.7])),
        household_floor_hard=draw(st.booleans()),
        objective_mode=draw(st.sampled_from(["lexicographic", "lexicographic", "weighted"])),
        care_places=draw(st.sampled_from([0, 0, 1])),
        carer_new_town_only=draw(st.sampled_from([True, True, False])),
    )
    return employers, people, settings_


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_aggregated_equals_individual_and_brute_force(base_params, case):
    employers, people, settings_ = case
    params, people = tiny(base_params, employers, people, **settings_)
    inst = build_instance(people, params)
    best = brute_force(inst)
    if best is None:
        for formulation in ("aggregated", "individual"):
            with pytest.raises(MatchFailed) as failure:
                match_population(people, None, params, formulation=formulation, baselines=False)
            assert failure.value.status == "infeasible"
            assert failure.value.diagnosis  # the elastic re-solve names what gives way
        return
    if sum(e.capacity for e in employers) == 0:
        r = match_population(people, None, params, baselines=False)
        assert r.log.status == "no_places" and r.employed == 0
        return
    agg = match_population(people, None, params, baselines=False)
    ind = match_population(people, None, params, formulation="individual", baselines=False)
    assert agg.log.status == ind.log.status == "optimal"
    # equal to the solvers' tolerance (1e-7 on the reduced costs): two optimal plans may
    # differ in the sixth decimal of the weighted objective
    assert value(agg) == pytest.approx(best, abs=2e-6)
    assert value(ind) == pytest.approx(best, abs=2e-6)
    employer_index = agg.assignments["employer_index"].to_numpy()
    assert all(v <= 1e-9 for v in check_assignment(inst, employer_index).values())
    assert agg.max_constraint_violation <= 1e-9


def test_constant_probability_reduces_to_most_employed(base_params):
    # with every success probability the same, stage 1 is employment itself, and then
    # expected income picks among the plans that employ the most (the model before)
    flat = dict(
        skill_match_bonus=0.0, special_priority_bonus=0.0, young_worker_local_penalty=0.0,
        older_worker_away_penalty=0.0, care_duty_away_penalty=0.0,
        distance_penalty_per_1000km=0.0, fairness_floor=0.8,
    )  # fmt: skip
    employers = [
        employer("town", 2, base_retention=0.8, skills_preferred=("farming",)),
        away("away", 2, base_retention=0.8, distance_km=2000.0),
        employer("post", 1, base_retention=0.8, special_group="priority", wage=800.0),
    ]
    people = [
        person(1, 1, care_duty=True),
        person(2, 1, care_duty=True, skill="farming"),
        person(3, 2, age=55, willing_to_migrate=False),
        person(4, 3, county="B", special_group=True),
        person(5, 3, county="B", age=20),
        person(6, 4, county="B", sex="M"),
    ]
    params, frame = tiny(base_params, employers, people, **flat)
    result = match_population(frame, None, params)
    inst = result.instance
    assert np.allclose(inst.probability[inst.eligible], 0.8)
    # the old objective: most employed, then income (wage x 0.8)
    best = None
    options = [[-1] + np.flatnonzero(inst.eligible[i]).tolist() for i in range(len(people))]
    for choice in itertools.product(*options):
        e = np.array(choice)
        if any(v > 1e-9 for v in check_assignment(inst, e).values()):
            continue
        key = (int((e >= 0).sum()), round(plan_value(inst, e)[1], 4))
        best = key if best is None or key > best else best
    assert (result.employed, value(result)[1]) == best
    assert result.summary()["expected_lasting_employed"] == pytest.approx(0.8 * best[0])


def test_smoke_every_rule_holds_independently(smoke_population, smoke_cbc):
    r = smoke_cbc
    s = r.summary()
    assert s["status"] == "optimal" and s["optimal"]
    employer_index = r.assignments["employer_index"].to_numpy()
    checks = check_assignment(r.instance, employer_index)
    assert set(checks) >= {"eligibility", "capacity", "household_has_worker", "fairness"}
    assert max(checks.values()) == 0
    assert sorted(r.assignments["person_id"]) == sorted(smoke_population.laborers["person_id"])
    assert r.assignments["person_id"].is_unique
    by_prog = r.by_programme()
    assert (by_prog["assigned"] <= by_prog["capacity"]).all()
    assert s["employed"] == by_prog["assigned"].sum() == s["laborers"] - len(r.unemployed())
    assert s["employed"] == s["local_employed"] + s["exported"]
    assert s["households_without_worker"] == 0
    for c in s["by_county"].values():
        assert c["rate"] >= r.instance.params.fairness_floor * s["employment_rate"] - 1e-9
    # nobody who must stay is sent away; the carers' households keep someone local
    a = r.assignments
    assert not (a["stay_status"].str.startswith("must stay") & (a["location"] == "away")).any()
    assert s["must_stay_employed"] <= s["must_stay_laborers"]
    assert s["expected_lasting_employed"] == pytest.approx(a["success_probability"].sum(), abs=1e-3)
    assert s["expected_lasting_employed"] < s["employed"]


def test_employment_is_an_output_not_the_capacity_sum(smoke_cbc):
    s = smoke_cbc.summary()
    assert s["employed"] < s["capacity"]
    assert s["local_places"]["reported"] + s["local_places"]["assumed"] >= s["local_employed"]
    assert (
        s["local_employed_reported_places"] + s["local_employed_assumed_places"]
        == s["local_employed"]
    )
    unfilled = s["unfilled_places"]
    assert unfilled["away"] == s["export_demand"] - s["exported"]
    assert "decided" not in s["employment_decided_by"] or s["employment_decided_by"]


def test_summary_keys_and_best_baseline(smoke_cbc):
    s = smoke_cbc.summary()
    for key in (
        "local_employed", "exported", "must_stay_laborers", "must_stay_employed",
        "expected_lasting_employed", "best_baseline", "gain_over_best_baseline",
        "greedy_employed", "gain_over_greedy", "households_gain_over_greedy",
        "employment_anatomy", "households_no_one_can_cover", "households_without_places",
    ):  # fmt: skip
        assert key in s
    for b in s["baselines"].values():
        assert isinstance(b["keeps_rules"], bool)
    best = s["best_baseline"]
    assert best["keeps_rules"]
    keeping = [b for b in s["baselines"].values() if b["keeps_rules"]]
    assert best["objective"] == max(b["objective"] for b in keeping)
    gain = s["gain_over_best_baseline"]
    assert list(gain)[0] == "expected_lasting"
    assert gain["employed"] == s["employed"] - best["employed"]
    assert gain["expected_lasting"] == pytest.approx(
        s["expected_lasting_employed"] - best["expected_lasting_employed"], abs=1e-3
    )


def test_the_rate_taken_apart_adds_up(smoke_cbc):
    s = smoke_cbc.summary()
    a = s["employment_anatomy"]
    assert a["local_reported"] + a["local_assumed"] + a["exported"] == s["employed"]
    assert (
        a["willing_and_able_to_go"] - a["care_keepers"] - a["mobile_not_exported_otherwise"]
        == a["exported"]
    )
    assert a["export_demand_unfilled"] == s["export_demand"] - s["exported"]
    assert a["local_places_unfilled"] == sum(s["local_places"].values()) - s["local_employed"]
    assert a["care_keepers"] >= s["households_care_bound"] - s["employment_anatomy"]["laborers"]
    basis = a["laborer_basis"]
    assert basis["implied_laborers_full_scale"] == round(
        basis["reported_employed"] / basis["reported_rate"]
    )


def test_the_result_is_frozen_and_run_takes_the_inputs(smoke_scenario):
    from simlib.inputs import load_inputs
    from simlib.matching import run

    r = run(load_inputs(smoke_scenario), baselines=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.marginals = None
    assert r.summary()["optimal"] and "marginal_income_yuan_month" not in r.by_programme()
    assert len(r.run_figures()) == 1 and r.run_figures()["employed"].iloc[0] == r.employed
    # without the rules of thumb: one row per optimiser stage, no rule rows
    assert (r.runs["solve"] == "optimiser").all() and r.baselines.empty and r.rules == {}


def test_cbc_and_highs_agree_on_smoke(smoke_scenario, smoke_population, smoke_cbc):
    highs = run_smoke(smoke_scenario, smoke_population, solver="highs", baselines=False)
    assert highs.summary()["optimal"] and smoke_cbc.summary()["optimal"]
    assert highs.summary()["objectives"] == pytest.approx(smoke_cbc.summary()["objectives"])


def test_same_seed_same_assignments(smoke_scenario, smoke_population, smoke_cbc):
    again = run_smoke(smoke_scenario, smoke_population)
    pd.testing.assert_frame_equal(again.assignments, smoke_cbc.assignments)


def test_reasons_do_not_blame_the_laborers(smoke_cbc):
    idle = smoke_cbc.unemployed()
    assert set(idle["reason"]) <= {REASON_FULL, REASON_NOWHERE, REASON_CARE, REASON_FLOOR}


def test_marginal_values_are_resolves_from_a_verified_plan(base_params):
    employers = [employer("town", 1), away("away", 1)]
    people = [
        person(1, 1, care_duty=True),  # sole carer: only the town job
        person(2, 2),
        person(3, 2, sex="M"),
    ]
    params, frame = tiny(base_params, employers, people)
    result = match_population(frame, None, params, marginal=True)
    assert result.log.status == "optimal"
    first = result.log.stages[0]["objective"]
    mv = result.marginal
    assert mv["export_seat"] == {"away": mv["place"]["away"]}
    table = result.marginals  # the same, one row per re-solve
    assert list(table["kind"]) == ["place"] * len(employers) + ["care_place"]
    assert list(table.loc[table["away"], "employer"]) == ["away"]
    for i, e in enumerate(employers):
        grown = [*employers]
        grown[i] = dataclasses.replace(e, capacity=e.capacity + 1)
        again = match_population(
            frame, None, dataclasses.replace(params, employers=tuple(grown)), baselines=False
        )
        assert mv["place"][e.employer] == pytest.approx(
            again.log.stages[0]["objective"] - first, abs=1e-6
        )
        assert mv["place"][e.employer] > 0
    by_prog = result.by_programme().set_index("employer")
    assert by_prog.loc["away", "marginal_value"] == pytest.approx(mv["place"]["away"])


def test_one_more_care_place_frees_a_carer(base_params):
    # a household of two with care duties: one must stay, but the town has no job for her
    employers = [employer("town", 0), away("away", 2)]
    people = [person(1, 1, care_duty=True), person(2, 1, care_duty=True)]
    params, frame = tiny(base_params, employers, people)
    result = match_population(frame, None, params, marginal=True)
    assert result.exported if hasattr(result, "exported") else True
    assert result.employed == 1
    p_away = result.instance.probability[0, 1]
    assert result.marginal["care_place"] == pytest.approx(p_away, abs=1e-6)
    freed = match_population(frame, None, dataclasses.replace(params, care_places=1))
    assert freed.employed == 2


def test_no_places_is_reported_as_such(base_params):
    params, people = tiny(base_params, [employer("e1", 0)], [person(1, 1), person(2, 2)])
    r = match_population(people, None, params)
    s = r.summary()
    assert s["status"] == "no_places" and not s["optimal"] and r.employed == 0
    assert s["employment_decided_by"].startswith("there are no places")
    assert set(r.unemployed()["reason"]) == {REASON_NO_PLACES}
    assert set(r.households_without_worker()["reason"]) == {REASON_NO_PLACES}
    # they qualify for the (closed) employer: without places, not beyond anyone's help
    assert s["households_no_one_can_cover"] == 0 and s["households_without_places"] == 2
    params, people = tiny(base_params, [], [person(1, 1)])
    assert match_population(people, None, params).log.status == "no_places"
    params, people = tiny(base_params, [employer("e1", 3)], [person(1, 1, laborer=False)])
    r = match_population(people, None, params)
    assert r.summary()["laborers"] == 0 and r.log.status == "no_laborers"


def test_no_one_can_cover_counts_only_who_qualifies_for_nothing(base_params):
    # household 1 qualifies for no employer (too old); household 2 only for a closed one
    employers = [employer("open", 2, age_max=40), employer("closed", 0, age_min=45, age_max=55)]
    people = [person(1, 1, age=60, sex="M"), person(2, 2, age=50), person(3, 3, age=30)]
    params, frame = tiny(base_params, employers, people, fairness_floor=0.0)
    s = match_population(frame, None, params).summary()
    assert s["households_no_one_can_cover"] == 1
    assert s["households_without_places"] == 1
    assert s["households_without_worker"] == 2 and s["employed"] == 1


def test_infeasible_household_rule_fails_with_readable_diagnosis(base_params):
    params, people = tiny(
        base_params,
        [employer("young", 5, age_max=20), employer("open", 1)],
        [person(1, 1, age=40), person(2, 2, age=40)],
    )
    with pytest.raises(MatchFailed) as failure:
        match_population(people, None, params)
    assert failure.value.status == "infeasible"
    short = failure.value.diagnosis["household_has_worker"]
    assert short["shortfall"] == 1
    (name,) = short["by_constraint"]
    assert name.startswith("A: 2 households of laborers (woman 40 factory")
    assert "cannot all hold" in str(failure.value)


def test_fairness_floor_names_the_county(base_params):
    # equal rates are impossible: Qiaojia's second laborer has no job she can take
    params, people = tiny(
        base_params,
        [employer("men", 2, sex="M"), employer("any", 1)],
        [
            person(1, 1, county="Ludian", sex="M"),
            person(2, 2, county="Qiaojia"),
            person(3, 2, county="Qiaojia"),
        ],
        fairness_floor=1.0,
    )
    with pytest.raises(MatchFailed) as failure:
        match_population(people, None, params)
    short = failure.value.diagnosis["fairness"]["by_constraint"]
    assert short == {"fairness of Qiaojia": pytest.approx(1 / 3)}
    assert "fairness of Qiaojia" in str(failure.value)


def test_time_limit_without_a_plan_fails_and_with_one_reports_its_gap(monkeypatch, base_params):
    params, people = tiny(
        base_params, [employer("e1", 1)], [person(1, 1), person(2, 2)], household_floor_hard=False
    )
    monkeypatch.setattr(solve_module, "_integral", lambda variables: False)
    monkeypatch.setattr(solve_module, "_status", lambda problem: "time_limit_feasible")
    r = match_population(people, None, params, time_limit=5)
    s = r.summary()
    assert s["status"] == "time_limit_feasible" and s["optimal"] is False
    assert s["gap"] is not None and s["gap"] >= 0
    assert r.employed == 1  # the plan is still verified person by person
    assert match_population(people, None, params, marginal=True).marginal is None
    monkeypatch.setattr(solve_module, "_status", lambda problem: "time_limit_no_solution")
    with pytest.raises(MatchFailed) as failure:
        match_population(people, None, params, time_limit=5)
    assert failure.value.status == "time_limit_no_solution"
    assert "time limit" in str(failure.value)


def test_soft_household_rule_is_a_penalty(base_params):
    # one place, two households: the soft rule leaves one uncovered and says so
    params, people = tiny(
        base_params, [employer("e1", 1)], [person(1, 1), person(2, 2)], household_floor_hard=False
    )
    r = match_population(people, None, params)
    assert r.log.status == "optimal" and r.employed == 1
    assert r.summary()["households_without_worker"] == 1
    penalty = params.household_uncovered_penalty
    p = r.instance.probability.max()
    assert r.log.stages[0]["objective"] == pytest.approx(p - penalty)


def test_weighted_mode_solves_once(base_params):
    params, people = tiny(
        base_params, [employer("e1", 2)], [person(1, 1), person(2, 2)], objective_mode="weighted"
    )
    r = match_population(people, None, params)
    assert [s["stage"] for s in r.log.stages] == ["weighted"] and r.employed == 2


def test_bad_solver_is_refused(smoke_scenario, smoke_population):
    with pytest.raises(ValueError, match="solver"):
        run_smoke(smoke_scenario, smoke_population, solver="gurobi")


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
        "greedy_employed", "local_employed", "exported", "must_stay_laborers",
        "must_stay_employed", "expected_lasting_employed", "best_baseline",
        "gain_over_best_baseline",
    ):  # fmt: skip
        assert key in s
    for county in s["by_county"].values():
        assert {"laborers", "employed", "rate"} <= set(county)
    _, problem = pulp.LpProblem.fromMPS(str(mps))
    assert len(problem.constraints()) == s["model_size"]["constraints"]
    # another solver reading the file alone finds the same optimum
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(mps))
    h.run()
    assert h.getObjectiveValue() == pytest.approx(s["objective"], rel=1e-9)
    for name in ("assignments", "by_county", "by_programme", "by_status",
                 "households_without_worker", "unemployed"):  # fmt: skip
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


def test_cli_no_plan_exits_1_with_the_diagnosis(tmp_path, capsys, smoke_scenario):
    closed = ";".join(
        [f"workshop_{i:02d}" for i in range(1, 12)]
        + ["export_buses", "export_organised_other", "export_self_found", "shops", "market_stalls"]
    )
    bad = tmp_path / "squeezed.yaml"
    bad.write_text(
        smoke_scenario.path.read_text().replace(
            "jobs: {}", f"jobs: {{closed_employers: '{closed}'}}"
        )
        + f"\ndata: {smoke_scenario.data_dir}\n"
    )
    assert main(["match", "--scenario", str(bad), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no plan" in captured.err and "household_has_worker" in captured.err
    assert "Traceback" not in captured.err


def test_cli_json_with_highs_prints_only_json(capfd, smoke_scenario):
    assert (
        main(["match", "--scenario", str(smoke_scenario.path), "--solver", "highs", "--json"]) == 0
    )
    s = json.loads(capfd.readouterr().out)
    assert s["solver"] == "highs" and s["optimal"]


def test_optional_sex_and_age_balance(smoke_scenario, smoke_population):
    scenario = smoke_scenario.with_overrides("jobs", sex_balance_floor=0.9, age_balance_floor=0.8)
    r = run_smoke(scenario, smoke_population, baselines=False)
    assert r.summary()["optimal"]
    checks = check_assignment(r.instance, r.assignments["employer_index"].to_numpy())
    assert {"sex_balance", "age_balance"} <= set(checks)
    assert max(checks.values()) <= 1e-9


def test_the_match_path_imports_neither_report_nor_notebooks():
    # `simlib match` builds every subparser; the report's defaults must not pull in
    # nbformat (seconds of imports) for a matching run
    import subprocess
    import sys

    code = (
        "import sys; from simlib.cli import build_parser; build_parser(); "
        "print('simlib.report' in sys.modules, 'nbformat' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    from simlib import report
    from simlib.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices["report"]
    defaults = {a.dest: a.default for a in sub._actions}
    assert str(defaults["out"]) == str(report.DEFAULT_OUT)
    assert str(defaults["notebooks"]) == str(report.NOTEBOOKS_DIR)


def _knapsack(n: int = 40) -> pulp.LpProblem:
    """A 0-1 knapsack with two weights and values close to the first weight: branch and
    bound needs more than one node to prove it."""
    rng = np.random.default_rng(3)
    w1, w2 = rng.integers(20, 100, n), rng.integers(20, 100, n)
    value = w1 + rng.integers(-5, 6, n)
    problem = pulp.LpProblem("knapsack", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{i}", cat="Binary") for i in range(n)]
    problem += pulp.lpSum(int(v) * xi for v, xi in zip(value, x, strict=True))
    for w in (w1, w2):
        problem += pulp.lpSum(int(a) * xi for a, xi in zip(w, x, strict=True)) <= int(w.sum()) // 2
    return problem


def test_branch_and_bound_stops_at_a_node_count_not_at_the_clock(monkeypatch):
    """The same inputs give the same plan whatever the machine's load: CBC's search ends at
    NODE_LIMIT nodes, and the plan it stopped at is not called optimal."""
    monkeypatch.setattr(solve_module, "NODE_LIMIT", 1)
    plans = []
    for seconds in (30, 300):
        problem = _knapsack()
        solve_module._run(problem, "cbc", seconds)
        assert solve_module._status(problem) == "time_limit_feasible"
        plans.append([v.varValue for v in problem.variables()])
    assert plans[0] == plans[1]
    monkeypatch.setattr(solve_module, "NODE_LIMIT", 10**6)
    problem = _knapsack()
    solve_module._run(problem, "cbc", 300)
    assert solve_module._status(problem) == "optimal"
