"""Who may take which job, how well it is likely to last, and which laborers are alike.

Rules (all assumptions, documented in data/jobs/ and data/README.md):
- only laborers (working capacity) are matched;
- age within the employer's [age_min, age_max];
- sex, where the employer's row restricts it;
- a carer can only take a job in the new town (`carer_new_town_only`);
- special-group and disabled laborers ("special" below) cannot be sent away
  (`special_group = excluded`) and are steered to posts reserved for them
  (`priority`) by a retention bonus;
- skills: the employer's accepted experience classes (empty = any).

Suitability is the expected retention (share of hires still in the job after a year):
    base_retention + skill_match_bonus [skill preferred] + special_priority_bonus
    [special laborer on a priority post], capped at 1.
Expected income of a match is wage x suitability (yuan per month).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.jobs_inputs import AGE_BANDS, JobsParams

CLASS_ATTRIBUTES = ("county", "sex", "age_band", "carer", "special", "skill")


def is_special(people: pd.DataFrame) -> np.ndarray:
    """Special-group or disabled: steered to public-welfare posts, never sent away."""
    return (people["special_group"].to_numpy(bool)) | (people["disabled"].to_numpy(bool))


def eligibility(people: pd.DataFrame, params: JobsParams) -> tuple[np.ndarray, np.ndarray]:
    """(eligible, suitability), each people x employers, for laborers given as rows.

    Evaluated person by person from their own attributes, so that it is also the
    independent check of the aggregated model.
    """
    n, m = len(people), len(params.employers)
    age = people["age"].to_numpy()
    sex = people["sex"].to_numpy()
    carer = people["carer"].to_numpy(bool)
    special = is_special(people)
    skill = people["skill"].to_numpy()
    eligible = np.zeros((n, m), dtype=bool)
    suitability = np.zeros((n, m))
    for j, e in enumerate(params.employers):
        ok = (age >= e.age_min) & (age <= e.age_max)
        if e.sex != "any":
            ok &= sex == e.sex
        if e.location != "new_town" and params.carer_new_town_only:
            ok &= ~carer
        if e.special_group == "excluded":
            ok &= ~special
        if e.skills_accepted:
            ok &= np.isin(skill, e.skills_accepted)
        ok &= e.capacity > 0
        eligible[:, j] = ok
        score = np.full(n, e.base_retention)
        if e.skills_preferred:
            score += params.skill_match_bonus * np.isin(skill, e.skills_preferred)
        if e.special_group == "priority":
            score += params.special_priority_bonus * special
        suitability[:, j] = np.where(ok, np.minimum(score, 1.0), 0.0)
    return eligible, suitability


def age_cuts(params: JobsParams) -> list[int]:
    """Ages at which some rule changes: eligibility is constant between two cuts."""
    cuts = {e.age_min for e in params.employers} | {e.age_max + 1 for e in params.employers}
    if params.age_balance_floor > 0:
        cuts |= {lo for lo, _ in AGE_BANDS} | {hi + 1 for _, hi in AGE_BANDS}
    return sorted(cuts)


def age_band(age: np.ndarray) -> np.ndarray:
    """Index into AGE_BANDS (for the optional age balance); -1 outside every band."""
    band = np.full(len(age), -1)
    for k, (lo, hi) in enumerate(AGE_BANDS):
        band[(age >= lo) & (age <= hi)] = k
    return band


def classify(laborers: pd.DataFrame, params: JobsParams) -> tuple[np.ndarray, pd.DataFrame]:
    """Group laborers who are interchangeable for the model.

    Two laborers share a class when they agree on everything the model reads: the county
    (fairness floor), and only those of sex, age band, carer, special and skill that some
    rule or balance constraint actually uses. Returns each laborer's class index and one
    row per class (its key, its size and a representative laborer's attributes).
    """
    uses_sex = params.sex_balance_floor > 0 or any(e.sex != "any" for e in params.employers)
    uses_carer = params.carer_new_town_only and any(
        e.location != "new_town" for e in params.employers
    )
    uses_special = any(e.special_group != "allowed" for e in params.employers)
    uses_skill = any(e.skills_accepted or e.skills_preferred for e in params.employers)
    n = len(laborers)
    key = pd.DataFrame(
        {
            "county": laborers["county"].to_numpy(),
            "sex": laborers["sex"].to_numpy() if uses_sex else np.full(n, "*"),
            "age_band": np.searchsorted(age_cuts(params), laborers["age"].to_numpy(), "right"),
            "carer": laborers["carer"].to_numpy(bool) if uses_carer else np.zeros(n, bool),
            "special": is_special(laborers) if uses_special else np.zeros(n, bool),
            "skill": laborers["skill"].to_numpy() if uses_skill else np.full(n, "*"),
        }
    )
    codes = key.groupby(list(CLASS_ATTRIBUTES), sort=True).ngroup().to_numpy()
    classes = key.drop_duplicates().sort_values(list(CLASS_ATTRIBUTES)).reset_index(drop=True)
    classes["size"] = np.bincount(codes, minlength=len(classes))
    first = pd.Series(np.arange(n)).groupby(codes).first().to_numpy()
    rep = laborers.iloc[first].reset_index(drop=True)
    for column in ("age", "carer", "special_group", "disabled"):
        classes["rep_" + column] = rep[column].to_numpy()
    classes["rep_sex"] = rep["sex"].to_numpy()
    classes["rep_skill"] = rep["skill"].to_numpy()
    return codes.astype(int), classes


def class_people(classes: pd.DataFrame) -> pd.DataFrame:
    """The representative laborer of each class as a people-like table (for `eligibility`)."""
    return pd.DataFrame(
        {
            "county": classes["county"],
            "age": classes["rep_age"],
            "sex": classes["rep_sex"],
            "carer": classes["rep_carer"],
            "special_group": classes["rep_special_group"],
            "disabled": classes["rep_disabled"],
            "skill": classes["rep_skill"],
        }
    )
