"""The matching instance: laborers, their eligibility and success probabilities, who must
stay, and the aggregated classes and household types the formulation works on.

Household types group households whose laborers fall in the same set of classes. A
household is *care-bound* when its care for a young child, a very old or a disabled member
falls on its laborers (population: `care_on_laborers`), the care rule is on, and every one
of its laborers could be sent away: then one of them must stay. (A household with a
laborer who can never go away meets the rule by itself.) For care-bound types the key also
records, per class, whether the household has a single member of it, because a sole member
who is both the household's worker and its carer must work locally.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simlib.eligibility import (
    age_band,
    classify,
    eligibility,
    is_away,
    is_special,
    net_wages,
)
from simlib.jobs_inputs import AGE_BANDS, JobsParams

STAY_SPECIAL = "must stay: special group or disabled"
STAY_UNWILLING = "must stay: not willing to migrate"
STAY_NO_AWAY_JOB = "must stay: no away job fits (age, skill) or none offered"
STAY_SOLE_CARER = "must stay: the only laborer of a household with care duties"
GO_ONE_STAYS = "may go: one laborer of the household stays (care duties)"
GO = "may go"


@dataclass(frozen=True)
class HouseholdType:
    """Households alike for the model: the set of classes of their laborers, whether they
    are care-bound, and (care-bound only) which classes they have a single member of."""

    classes: tuple[int, ...]
    care: bool
    single: tuple[bool, ...]


@dataclass
class Instance:
    """Everything the formulations and the checks read, computed once from the people."""

    laborers: pd.DataFrame  # one row per laborer, in person_id order
    params: JobsParams
    eligible: np.ndarray  # laborers x employers
    probability: np.ndarray  # laborers x employers: success probability
    away: np.ndarray  # per employer: an away job
    net_wage: np.ndarray  # per employer, yuan/month (away: net of migration costs)
    class_of: np.ndarray  # class index per laborer
    classes: pd.DataFrame
    class_eligible: np.ndarray  # classes x employers
    class_probability: np.ndarray
    types: list[HouseholdType]
    type_households: list[np.ndarray]  # household ids per type (sorted)
    required: np.ndarray  # household ids that must get a worker
    hopeless: np.ndarray  # household ids with laborers none of whom is eligible anywhere
    care_bound: np.ndarray  # household ids the care rule binds
    status: np.ndarray  # stay-or-go status per laborer

    def type_label(self, t: int) -> str:
        """A planner's name for household type t: county, laborers in words, care duties."""
        key = self.types[t]
        words = [_class_words(row) for row in self.classes.iloc[list(key.classes)].itertuples()]
        county = self.classes["county"].iloc[key.classes[0]]
        care = ", care duties" if key.care else ""
        n = len(self.type_households[t])
        return f"{county}: {n} households of laborers ({'; '.join(words)}){care} [type {t}]"

    @property
    def employers(self):
        return self.params.employers

    @property
    def must_stay(self) -> np.ndarray:
        return np.array([s.startswith("must stay") for s in self.status], dtype=bool)

    def groups(self) -> dict[str, dict[str, np.ndarray]]:
        """Balance groups (name -> member mask over laborers) per kind of floor."""
        lab = self.laborers
        result = {"fairness": {c: (lab["county"] == c).to_numpy() for c in _counties(lab)}}
        if self.params.sex_balance_floor > 0:
            result["sex_balance"] = {s: (lab["sex"] == s).to_numpy() for s in ("F", "M")}
        if self.params.age_balance_floor > 0:
            band = age_band(lab["age"].to_numpy())
            result["age_balance"] = {
                f"{lo}-{hi}": band == k for k, (lo, hi) in enumerate(AGE_BANDS)
            }
        return result

    def floor(self, kind: str) -> float:
        return {
            "fairness": self.params.fairness_floor,
            "sex_balance": self.params.sex_balance_floor,
            "age_balance": self.params.age_balance_floor,
        }[kind]


def _counties(laborers: pd.DataFrame) -> list[str]:
    return sorted(laborers["county"].unique())


def _with_household_columns(people: pd.DataFrame) -> pd.DataFrame:
    """Laborers with `care_duty` (household-level) and `willing_to_migrate`; a table that
    lacks them (a hand-made test case) gets them from `carer` / as willing."""
    laborers = people[people["laborer"]].sort_values("person_id").reset_index(drop=True)
    if "care_duty" not in laborers:
        care = laborers.groupby("household_id")["carer"].transform("any")
        laborers["care_duty"] = care.to_numpy(bool)
    if "willing_to_migrate" not in laborers:
        laborers["willing_to_migrate"] = True
    return laborers


def _class_words(row) -> str:
    sex = {"F": "woman", "M": "man"}.get(row.rep_sex, "")
    parts = [sex, f"{row.rep_age}", row.rep_skill]
    if row.special or row.rep_disabled:
        parts.append("special group")
    if row.willing:
        parts.append("willing to go")
    return " ".join(p for p in parts if p)


def build_instance(people: pd.DataFrame, params: JobsParams) -> Instance:
    """Eligibility, probabilities, classes, household types and stay-or-go status."""
    laborers = _with_household_columns(people)
    eligible, probability = eligibility(laborers, params)
    away = is_away(params)
    class_of, classes = classify(laborers, params, eligible, probability)
    first = classes["first"].to_numpy()
    class_eligible, class_probability = eligible[first], probability[first]
    anywhere = class_eligible.any(axis=1)
    can_go = class_eligible[:, away].any(axis=1) if away.any() else np.zeros(len(classes), bool)

    household = laborers["household_id"].to_numpy()
    frame = pd.DataFrame({"household_id": household, "c": class_of})
    all_can_go = pd.Series(can_go[class_of]).groupby(household).all()
    care_duty = laborers.groupby("household_id")["care_duty"].any()
    bound = care_duty & all_can_go if params.carer_new_town_only else care_duty & False
    care_bound = np.array(sorted(bound[bound].index), dtype=int)

    eligible_frame = frame[anywhere[class_of]]
    counts = eligible_frame.groupby(["household_id", "c"]).size()
    by_type: dict[HouseholdType, list[int]] = defaultdict(list)
    bound_set = set(care_bound.tolist())
    hs = counts.index.get_level_values(0).to_numpy()
    cs_all = counts.index.get_level_values(1).to_numpy().tolist()
    ks_all = counts.to_numpy().tolist()
    starts = np.flatnonzero(np.r_[True, hs[1:] != hs[:-1]]).tolist() if len(hs) else []
    starts.append(len(hs))
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        h = int(hs[a])
        care = h in bound_set
        single = tuple(k == 1 for k in ks_all[a:b]) if care else ()
        by_type[HouseholdType(tuple(cs_all[a:b]), care, single)].append(h)
    types = sorted(by_type, key=lambda t: (t.classes, t.care, t.single))
    type_households = [np.array(sorted(by_type[t]), dtype=int) for t in types]
    with_labour = np.unique(household)
    required = np.array(sorted(counts.index.get_level_values(0).unique()), dtype=int)

    person_can_go = eligible[:, away].any(axis=1) if away.any() else np.zeros(len(laborers), bool)
    status = np.full(len(laborers), GO, dtype=object)
    size = laborers.groupby("household_id")["person_id"].transform("size").to_numpy()
    in_bound = np.isin(household, care_bound)
    status[in_bound] = GO_ONE_STAYS
    status[in_bound & (size == 1)] = STAY_SOLE_CARER
    special = is_special(laborers)
    unwilling = ~laborers["willing_to_migrate"].to_numpy(bool)
    status[~person_can_go] = np.where(
        special[~person_can_go],
        STAY_SPECIAL,
        np.where(unwilling[~person_can_go], STAY_UNWILLING, STAY_NO_AWAY_JOB),
    )
    return Instance(
        laborers=laborers,
        params=params,
        eligible=eligible,
        probability=probability,
        away=away,
        net_wage=net_wages(params),
        class_of=class_of,
        classes=classes,
        class_eligible=class_eligible,
        class_probability=class_probability,
        types=types,
        type_households=type_households,
        required=required,
        hopeless=np.setdiff1d(with_labour, required),
        care_bound=care_bound,
        status=status,
    )
