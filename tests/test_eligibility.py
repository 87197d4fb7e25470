"""Eligibility rules person by person, and classes that really are interchangeable."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.eligibility import classify, eligibility
from simlib.jobs_inputs import load_jobs_params
from simlib.population import generate_population


def _person(**kw):
    base = dict(
        person_id=1, household_id=1, county="Ludian", age=30, sex="F", carer=False,
        special_group=False, disabled=False, skill="factory", laborer=True,
        care_duty=False, willing_to_migrate=True,
    )  # fmt: skip
    base.update(kw)
    return base


def _column(params, people, employer):
    eligible, suitability = eligibility(pd.DataFrame(people), params)
    j = [e.employer for e in params.employers].index(employer)
    return eligible[:, j], suitability[:, j]


def test_age_willingness_special_and_skill_rules(smoke):
    p = load_jobs_params(smoke)
    people = [
        _person(age=30),
        _person(age=17),  # too young for export (18+)
        _person(age=55),  # too old for organised export (<= 50)
        _person(willing_to_migrate=False),  # only the willing are sent away
        _person(special_group=True),  # special groups are not sent away
        _person(disabled=True),
    ]
    ok, _ = _column(p, people, "export_buses")
    assert ok.tolist() == [True, False, False, False, False, False]
    ok, _ = _column(p, people, "workshop_09")  # electronics: 16-45, factory/service/none
    assert ok.tolist() == [True, True, False, True, True, True]
    ok, _ = _column(p, [_person(skill="farming"), _person(skill="none")], "workshop_09")
    assert ok.tolist() == [False, True]


def test_special_group_people_are_steered_to_public_welfare(smoke):
    p = load_jobs_params(smoke)
    _, suit = _column(p, [_person(), _person(special_group=True)], "public_welfare")
    assert suit[1] > suit[0]
    assert suit[1] == min(1.0, suit[0] + p.special_priority_bonus)


def test_success_probability_terms_follow_the_data(smoke):
    p = load_jobs_params(smoke)
    away = next(e for e in p.employers if e.employer == "export_buses")
    distance = p.distance_penalty_per_1000km * away.distance_km / 1000
    _, prob = _column(
        p,
        [
            _person(age=30, skill="farming"),
            _person(age=50, skill="farming"),
            _person(age=30, skill="farming", care_duty=True),
            _person(age=30, skill="factory"),
        ],
        "export_buses",
    )
    base = away.base_retention - distance
    assert np.allclose(prob[0], base)
    assert np.allclose(prob[1], base - p.older_worker_away_penalty)
    assert np.allclose(prob[2], base - p.care_duty_away_penalty)
    assert np.allclose(prob[3], base + p.skill_match_bonus)
    _, local = _column(p, [_person(age=20), _person(age=35)], "workshop_07")
    assert np.isclose(local[1] - local[0], p.young_worker_local_penalty)


def test_suitability_rewards_preferred_skills_and_stays_a_share(smoke):
    p = load_jobs_params(smoke)
    _, suit = _column(p, [_person(skill="farming"), _person(skill="service")], "vegetable_donated")
    assert np.isclose(suit[0], suit[1] + p.skill_match_bonus)
    pop = generate_population(smoke)
    eligible, suitability = eligibility(pop.laborers, p)
    assert ((suitability > 0) == eligible).all()
    assert suitability.max() <= 1


def test_class_members_share_eligibility_and_probability(smoke):
    p = load_jobs_params(smoke)
    lab = generate_population(smoke).laborers.reset_index(drop=True)
    eligible, probability = eligibility(lab, p)
    codes, classes = classify(lab, p, eligible, probability)
    assert classes["size"].sum() == len(lab)
    first = classes["first"].to_numpy()
    assert (eligible == eligible[first][codes]).all()
    assert np.allclose(probability, probability[first][codes])
    # a class never spans two counties (the fairness floor needs them apart)
    assert (lab.groupby(codes)["county"].nunique() == 1).all()
    # and is as coarse as that allows: two classes of a county differ in some row
    per_county = classes.groupby("county")["first"].apply(list)
    for members in per_county:
        rows = np.column_stack([eligible[members], probability[members]])
        assert len(np.unique(rows, axis=0)) == len(members)
