"""Who may take which job, how likely the hire is to last, and which laborers are alike.

Rules (all assumptions, documented in data/jobs/ and data/README.md):
- only laborers (working capacity) are matched;
- age within the employer's [age_min, age_max];
- sex, where the employer's row restricts it;
- an away job (labour export) needs a laborer willing to migrate (population: by sex, age
  band, skill and household) who is not special-group or disabled (`special_group =
  excluded`); whether a household with care duties may send its last laborer away is the
  household-level care rule of the matching, not a personal rule;
- special-group and disabled laborers ("special" below) are steered to posts reserved for
  them (`priority`) by a retention bonus;
- skills: the employer's accepted experience classes (empty = any).

Success probability (the chance a hire is still in the job after `lasting_period_months`),
a small transparent model whose every coefficient is in data/jobs/parameters.csv:

    p = base_retention
        + skill_match_bonus          [skill preferred by the employer]
        + special_priority_bonus     [special laborer on a priority post]
        - young_worker_local_penalty [local job, age < young_worker_age]
        - older_worker_away_penalty  [away job, age >= older_worker_age]
        - care_duty_away_penalty     [away job, household with care duties]
        - distance_penalty_per_1000km * distance_km / 1000
    clipped to [0, 1].

Expected lasting employment is the sum of p over the employed; expected income of a match
is p x the wage net of migration costs (away jobs), in yuan per month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.jobs_inputs import JobsParams


def is_special(people: pd.DataFrame) -> np.ndarray:
    """Special-group or disabled: steered to public-welfare posts, never sent away."""
    return (people["special_group"].to_numpy(bool)) | (people["disabled"].to_numpy(bool))


def _column(people: pd.DataFrame, name: str) -> np.ndarray:
    return people[name].to_numpy(bool)


def eligibility(people: pd.DataFrame, params: JobsParams) -> tuple[np.ndarray, np.ndarray]:
    """(eligible, success probability), each people x employers, for laborers as rows:
    qualified (`qualifications`) for an employer that has places.

    Evaluated person by person from their own attributes, so that it is also the
    independent check of the aggregated model.
    """
    qualified, probability = qualifications(people, params)
    has_places = np.array([e.capacity > 0 for e in params.employers], dtype=bool)
    eligible = qualified & has_places[None, :]
    return eligible, np.where(eligible, probability, 0.0)


def qualifications(people: pd.DataFrame, params: JobsParams) -> tuple[np.ndarray, np.ndarray]:
    """(qualified, success probability), each people x employers: who the rules allow to
    take each employer's jobs, whether or not it has any places (a closed employer still
    says who *could* have worked there)."""
    n, m = len(people), len(params.employers)
    age = people["age"].to_numpy()
    sex = people["sex"].to_numpy()
    special = is_special(people)
    willing = _column(people, "willing_to_migrate")
    care = _column(people, "care_duty")
    skill = people["skill"].to_numpy()
    eligible = np.zeros((n, m), dtype=bool)
    probability = np.zeros((n, m))
    for j, e in enumerate(params.employers):
        away = e.location != "new_town"
        ok = (age >= e.age_min) & (age <= e.age_max)
        if e.sex != "any":
            ok &= sex == e.sex
        if away:
            ok &= willing
        if e.special_group == "excluded":
            ok &= ~special
        if e.skills_accepted:
            ok &= np.isin(skill, e.skills_accepted)
        eligible[:, j] = ok
        p = np.full(n, e.base_retention)
        if e.skills_preferred:
            p += params.skill_match_bonus * np.isin(skill, e.skills_preferred)
        if e.special_group == "priority":
            p += params.special_priority_bonus * special
        if away:
            p -= params.older_worker_away_penalty * (age >= params.older_worker_age)
            p -= params.care_duty_away_penalty * care
        else:
            p -= params.young_worker_local_penalty * (age < params.young_worker_age)
        p -= params.distance_penalty_per_1000km * e.distance_km / 1000.0
        probability[:, j] = np.where(ok, np.clip(p, 0.0, 1.0), 0.0)
    return eligible, probability


def net_wages(params: JobsParams) -> np.ndarray:
    """Wage per employer net of the cost of being away (yuan/month)."""
    return np.array(
        [
            e.wage - (params.migration_cost if e.location != "new_town" else 0.0)
            for e in params.employers
        ]
    )


def is_away(params: JobsParams) -> np.ndarray:
    return np.array([e.location != "new_town" for e in params.employers], dtype=bool)


def age_band(age: np.ndarray, params: JobsParams) -> np.ndarray:
    """Band of the optional age balance (the population's working-age bands, in
    `params.age_bands`); -1 outside every band."""
    age = np.asarray(age)
    band = np.full(len(age), -1)
    for k, (lo, hi) in enumerate(params.age_bands):
        band[(age >= lo) & (age <= hi)] = k
    return band


def age_band_names(params: JobsParams) -> tuple[str, ...]:
    return tuple(f"{lo}-{hi}" for lo, hi in params.age_bands)


def classify(
    laborers: pd.DataFrame, params: JobsParams, eligible: np.ndarray, probability: np.ndarray
) -> tuple[np.ndarray, pd.DataFrame]:
    """Group laborers who are interchangeable for the model.

    Two laborers share a class when they agree on everything the model reads: the county
    (fairness floor), the sex and age band where a balance floor uses them, and their whole
    row of eligibility and success probability over the employers. (The care rule is read
    per household, from the same rows.) Returns each laborer's class index and one row
    per class (its key, its size and a representative laborer's attributes).
    """
    n = len(laborers)
    key = pd.DataFrame(
        {
            "county": laborers["county"].to_numpy(),
            "sex": laborers["sex"].to_numpy() if params.sex_balance_floor > 0 else np.full(n, "*"),
            "age_band": age_band(laborers["age"].to_numpy(), params)
            if params.age_balance_floor > 0
            else np.zeros(n, int),
        }
    )
    rows = np.ascontiguousarray(np.column_stack([eligible, np.round(probability, 12)]))
    found = pd.factorize(pd.Series([r.tobytes() for r in rows], dtype=object))[0]
    _, first_of = np.unique(found, return_index=True)
    # number the distinct rows in their lexicographic order (stable, whatever the input order)
    rank = np.empty(len(first_of), dtype=int)
    if rows.shape[1]:
        rank[np.lexsort(rows[first_of].T[::-1])] = np.arange(len(first_of))
    else:  # no employers: everyone alike
        rank[:] = np.arange(len(first_of))
    key["signature"] = rank[found] if n else found
    columns = ["county", "sex", "age_band", "signature"]
    codes = key.groupby(columns, sort=True).ngroup().to_numpy() if n else np.zeros(0, int)
    classes = key.drop_duplicates().sort_values(columns).reset_index(drop=True)
    classes["size"] = np.bincount(codes, minlength=len(classes))
    first = pd.Series(np.arange(n)).groupby(codes).first().to_numpy().astype(int)
    rep = laborers.iloc[first].reset_index(drop=True)
    for column in ("age", "sex", "skill", "special_group", "disabled", "willing_to_migrate"):
        classes["rep_" + column] = rep[column].to_numpy()
    classes["special"] = is_special(rep)
    classes["willing"] = rep["willing_to_migrate"].to_numpy(bool)
    classes["first"] = first
    return codes.astype(int), classes
