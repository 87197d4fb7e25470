"""The rules of thumb: plans that keep eligibility, capacity and the care rule by
construction, checked with the matching's own check; the best is the strongest that keeps
every hard rule, scored on the optimiser's own objective, and never beats the optimum where
it keeps what the optimum keeps."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlib.jobs_inputs import Employer, load_jobs_params
from simlib.matching import check_assignment, match_population, registration_order
from simlib.matching.baselines import HARD_RULES, ORDER, best_baseline, run_rule
from simlib.matching.solve import plan_objective
from simlib.study import run_matching


@pytest.fixture(scope="module")
def result(smoke):
    return run_matching(smoke)


def test_every_rule_keeps_eligibility_capacity_and_the_care_rule(result):
    assert tuple(result.rules) == ORDER
    assert {"mobility_aware", "county_quotas", "export_first"} <= set(ORDER)
    for base in result.rules.values():
        checks = check_assignment(result.instance, base.employer)
        assert checks["eligibility"] == 0 and checks["capacity"] == 0
        assert checks.get("care_rule", 0) == 0
        assert base.employed == int((base.employer >= 0).sum())
        # keeps_rules is the matching's own check, person by person
        assert base.checks == checks
        assert base.keeps_rules == all(checks.get(r, 0) == 0 for r in HARD_RULES)
        assert base.objective == pytest.approx(plan_objective(result.instance, base.employer))


def test_the_baselines_table_has_one_row_per_rule_and_the_runs_one_per_solve(result):
    table = result.baselines
    assert list(table["rule"]) == list(ORDER)
    assert table["rule"].is_unique and len(result.rule_plans) == len(ORDER) * len(
        result.assignments
    )
    for row in table.itertuples(index=False):
        plan = result.rule_plans.loc[result.rule_plans["rule"] == row.rule, "employer_index"]
        assert row.employed == int((plan.to_numpy() >= 0).sum())
        assert row.keeps_rules == result.rules[row.rule].keeps_rules
        assert row.seconds >= 0
    breaches = [c for c in table.columns if c.startswith("breach_")]
    assert {"breach_" + r for r in HARD_RULES} <= set(breaches)
    assert (
        table["keeps_rules"] == (table[["breach_" + r for r in HARD_RULES]] <= 1e-9).all(axis=1)
    ).all()
    runs = result.runs
    optimiser = runs[runs["solve"] == "optimiser"]
    assert list(optimiser["stage"]) == [st["stage"] for st in result.log.stages]
    assert list(runs.loc[runs["stage"] == "rule", "solve"]) == list(ORDER)
    assert set(runs["status"]) <= {"optimal", "time_limit_feasible", "keeps_rules",
                                   "breaks_rules"}  # fmt: skip
    assert optimiser["seconds"].sum() == pytest.approx(result.log.solve_seconds, abs=1e-3)
    assert result.model_size == result.summary()["model_size"]
    assert int(optimiser["constraints"].iloc[0]) == result.model_size["constraints"]


def test_a_rule_that_leaves_a_household_without_a_worker_is_not_best(result):
    s = result.summary()
    broken = [b for b in s["baselines"].values() if not b["keeps_rules"]]
    assert broken, "the smoke case should have a rule that breaks the household rule"
    for b in broken:
        assert "household_has_worker" in b["rules_broken"]
        assert b["name"] != s["best_baseline"]["name"]


def test_best_is_the_rule_keeping_one_with_the_highest_objective(result):
    best = best_baseline(result.rules)
    keeping = [b for b in result.rules.values() if b.keeps_rules]
    assert best is not None and best.keeps_rules
    assert best.objective == max(b.objective for b in keeping)
    s = result.summary()
    assert s["best_baseline"]["name"] == best.name
    gain = s["gain_over_best_baseline"]
    assert gain["expected_lasting"] == pytest.approx(
        s["expected_lasting_employed"] - best.expected_lasting_employed, abs=1e-3
    )
    assert gain["employed"] == s["employed"] - best.employed
    assert gain["nearly_as_good"] == (abs(gain["expected_lasting_percent"]) <= 1)


def test_the_optimum_beats_every_rule_that_keeps_what_it_keeps(result):
    """A rule keeping every rule the optimum keeps (county floors included) is a feasible
    plan of the same model, so its objective is no higher than the optimum's."""
    optimum = plan_objective(result.instance, result.assignments["employer_index"].to_numpy())
    fair = [b for b in result.rules.values() if b.keeps_floors]
    assert fair
    for b in fair:
        assert b.objective <= optimum + 1e-6
    s = result.summary()
    assert s["best_baseline_with_floors"]["keeps_floors"]
    assert s["gain_over_best_baseline_with_floors"]["expected_lasting"] >= -1e-6


def test_mobility_aware_covers_every_household_and_fills_the_local_places(result):
    base = result.rules["mobility_aware"]
    assert (
        base.households_without_worker == result.rules["household_first"].households_without_worker
    )
    assert base.keeps_rules
    inst = result.instance
    local = inst.away[np.maximum(base.employer, 0)] == 0
    used = np.bincount(base.employer[(base.employer >= 0) & local], minlength=len(inst.employers))
    caps = np.array([e.capacity for e in inst.employers])
    fits = inst.eligible[base.employer < 0][:, ~inst.away].any(axis=0)
    # a local place is left empty only if no one left without a job could take it
    assert ((used == caps)[~inst.away] | ~fits).all()


def test_the_household_first_rule_is_weaker_than_the_mobility_aware_one(result):
    """The rule that gives each household its best fit first puts mobile laborers in local
    places that those who must stay needed: fewer people employed."""
    b = result.rules
    assert b["mobility_aware"].employed > b["household_first"].employed
    assert b["mobility_aware"].objective > b["household_first"].objective


def test_county_quotas_keep_each_county_within_its_share_before_pooling(result):
    inst = result.instance
    order = registration_order(inst, result.households)
    base = run_rule(inst, "county_quotas", order)
    assert base.keeps_rules and base.employed > 0


def test_greedy_follows_registration_order(result):
    inst = result.instance
    order = registration_order(inst, result.households)
    greedy = run_rule(inst, "greedy", order)
    assert np.array_equal(greedy.employer, result.greedy.employer)
    first = order[0]
    assert not inst.eligible[first].any() or greedy.employer[first] >= 0


def test_random_baseline_is_seeded(result):
    inst = result.instance
    order = registration_order(inst, result.households)
    a, b = run_rule(inst, "random", order, 1), run_rule(inst, "random", order, 1)
    assert np.array_equal(a.employer, b.employer)
    assert not np.array_equal(a.employer, run_rule(inst, "random", order, 2).employer)


def test_a_household_first_rule_sends_the_wrong_people_away(smoke):
    # one local job, one export seat: the willing laborer should go, the carer stay
    params = load_jobs_params(smoke)
    base = dict(
        programme="workshop", product="bags", places="assumed", wage=2000.0, wage_low=1500.0,
        wage_high=2600.0, base_retention=0.75, distance_km=3.0, season="all_year",
        age_min=16, age_max=64, sex="any", skills_accepted=(), skills_preferred=(),
        special_group="allowed", provenance="assumed",
    )  # fmt: skip
    employers = (
        Employer(employer="town", capacity=1, location="new_town", **base),
        Employer(employer="away", capacity=1, location="away", **{**base, "base_retention": 0.9}),
    )
    people = pd.DataFrame(
        [
            dict(person_id=1, household_id=1, county="A", age=30, sex="F", carer=False,
                 special_group=False, disabled=False, skill="factory", laborer=True,
                 care_duty=False, willing_to_migrate=True),
            dict(person_id=2, household_id=2, county="A", age=30, sex="F", carer=True,
                 special_group=False, disabled=False, skill="factory", laborer=True,
                 care_duty=True, willing_to_migrate=True),
        ]
    )  # fmt: skip
    params = dataclasses.replace(params, employers=employers, fairness_floor=0.0)
    r = match_population(people, None, params)
    assert r.employed == 2
    inst = r.instance
    order = np.array([0, 1])
    assert run_rule(inst, "household_first", order).employed == 2
    assert run_rule(inst, "mobility_aware", order).employed == 2
    assert r.summary()["households_without_worker"] == 0


def test_every_placing_function_is_a_rule_or_used_by_one():
    """No dead rule: each function that places people on a plan is in RULES or called by
    one (best_fit_first, never called, was deleted rather than added: measured as a rule
    it kept the hard rules but scored below export first and household first)."""
    import inspect

    from simlib.matching import baselines

    source = inspect.getsource(baselines)
    for name, fn in inspect.getmembers(baselines, inspect.isfunction):
        if fn.__module__ != baselines.__name__:
            continue
        if next(iter(inspect.signature(fn).parameters), None) != "plan":
            continue
        called = source.count(f"{name}(") > 1  # beyond its own definition
        assert fn in baselines.RULES.values() or called, f"{name} is neither a rule nor used"


def test_no_cycle_between_the_rules_and_the_matching():
    """The rules import the instance and the check; the matching imports the rules."""
    root = Path(__file__).parents[1] / "simlib"
    code = "import simlib.matching.baselines, simlib.matching.result"
    subprocess.run([sys.executable, "-c", code], check=True)
    for path in (root / "matching").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "TYPE_CHECKING" not in text, path
        assert "from simlib.matching import" not in text, path
    assert not (root / "baselines.py").exists()


PEOPLE = st.lists(
    st.tuples(
        st.integers(1, 4),  # household
        st.integers(16, 64),  # age
        st.sampled_from(["F", "M"]),
        st.booleans(),  # care duty
        st.booleans(),  # willing to migrate
        st.sampled_from(["factory", "farming", "none"]),
    ),
    min_size=1,
    max_size=7,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(people=PEOPLE, local=st.integers(0, 3), away=st.integers(0, 3), care=st.integers(0, 1))
def test_every_rule_keeps_its_rules_and_never_beats_an_optimum_that_keeps_more(
    people, local, away, care, smoke
):
    """On random small cases: every rule keeps eligibility, the places and the care rule;
    a rule that keeps the floors too is a plan of the optimiser's own model, so it never
    scores above the optimum."""
    from simlib.matching import MatchFailed
    from simlib.matching.solve import plan_objective

    params = load_jobs_params(smoke)
    base = params.employers[0]
    employers = (
        dataclasses.replace(base, employer="town", capacity=local, age_min=16, age_max=64,
                            skills_accepted=(), sex="any"),
        dataclasses.replace(params.employers[-1], employer="away", capacity=away, age_min=16,
                            age_max=64, skills_accepted=()),
    )  # fmt: skip
    params = dataclasses.replace(params, employers=employers, care_places=care)
    frame = pd.DataFrame(
        [
            dict(person_id=i, household_id=h, county="A" if h % 2 else "B", age=age, sex=sex,
                 carer=duty, special_group=False, disabled=False, skill=skill, laborer=True,
                 care_duty=duty, willing_to_migrate=willing)
            for i, (h, age, sex, duty, willing, skill) in enumerate(people)
        ]
    )  # fmt: skip
    from simlib.matching import build_instance

    inst = build_instance(frame, params)
    order = registration_order(inst, None)
    rules = [run_rule(inst, name, order, seed=1) for name in ORDER]
    for rule in rules:
        assert rule.checks["eligibility"] == 0 and rule.checks["capacity"] == 0
        assert rule.checks.get("care_rule", 0) == 0
    try:
        optimum = match_population(frame, None, params, baselines=False)
    except MatchFailed:
        return
    if optimum.log.status != "optimal":
        return
    best = plan_objective(inst, optimum.assignments["employer_index"].to_numpy())
    for rule in rules:
        if rule.keeps_floors:
            assert rule.objective <= best + 1e-6, rule.name
