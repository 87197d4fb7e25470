"""The matching instance: laborers, their eligibility and success probabilities, who must
stay, and the aggregated classes and household types the formulation works on.

Household types group households whose laborers fall in the same set of classes. A
household is *care-bound* when its care for a young child, a very old or a disabled member
falls on its laborers (population: `care_on_laborers`), the care rule is on, and every one
of its laborers could be sent away: then one of them must stay. (A household with a
laborer who can never go away meets the rule by itself.) For care-bound types the key also
records, per class, whether the household has a single member of it, because a sole member
who is both the household's worker and its carer must work locally.

A batch of a rolling plan (`simlib.matching.batch`) builds its instance with `covered`
households (they already have a worker: out of the household rule) and `local` ones (they
have a worker in the new town: out of the care rule too); a type records whether its
households still need a worker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from simlib.eligibility import (
    age_band,
    age_band_names,
    classify,
    is_away,
    is_special,
    net_wages,
    qualifications,
)
from simlib.jobs_inputs import JobsParams

STAY_SPECIAL = "must stay: special group or disabled"
STAY_UNWILLING = "must stay: not willing to migrate"
STAY_NO_AWAY_JOB = "must stay: no away job fits (age, skill) or none offered"
STAY_SOLE_CARER = "must stay: the only laborer of a household with care duties"
GO_ONE_STAYS = "may go: one laborer of the household stays (care duties)"
GO = "may go"
MOBILE = (GO, GO_ONE_STAYS, STAY_SOLE_CARER)  # able to take an away job, care aside


@dataclass(frozen=True)
class HouseholdType:
    """Households alike for the model: the set of classes of their laborers, whether they
    are care-bound, which classes they have a single member of (care-bound only), and
    whether they still need a worker (a batch's covered households do not)."""

    classes: tuple[int, ...]
    care: bool
    single: tuple[bool, ...]
    needs_worker: bool = True


@dataclass(frozen=True)
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
    types: tuple[HouseholdType, ...]
    type_households: tuple[np.ndarray, ...]  # household ids per type (sorted)
    required: np.ndarray  # household ids that must get a worker
    hopeless: np.ndarray  # household ids with laborers none of whom is eligible anywhere
    no_one_can_cover: np.ndarray  # of those: laborers qualified for no employer at all
    care_bound: np.ndarray  # household ids the care rule binds
    status: np.ndarray  # stay-or-go status per laborer

    def type_label(self, t: int) -> str:
        """A planner's name for household type t: county, laborers in words, care duties."""
        key = self.types[t]
        words, counties = self._class_words
        county = counties[key.classes[0]]
        care = ", care duties" if key.care else ""
        n = len(self.type_households[t])
        what = "; ".join(words[c] for c in key.classes)
        return f"{county}: {n} households of laborers ({what}){care} [type {t}]"

    @cached_property
    def _class_words(self) -> tuple[list[str], list]:
        """(each class in words, its county), read from the class table once: a label is
        asked for per household type, and a row lookup in pandas per type cost seconds."""
        columns = ("rep_sex", "rep_age", "rep_skill", "special", "rep_disabled", "willing")
        rows = zip(*(self.classes[name].tolist() for name in columns), strict=True)
        return [_class_words(*row) for row in rows], self.classes["county"].tolist()

    @property
    def employers(self):
        return self.params.employers

    @property
    def must_stay(self) -> np.ndarray:
        return np.array([s.startswith("must stay") for s in self.status], dtype=bool)

    @property
    def mobile(self) -> np.ndarray:
        """Laborers able to take an away job (the care rule aside)."""
        return np.isin(self.status, MOBILE)

    @property
    def without_places(self) -> np.ndarray:
        """Households whose laborers qualify for some employer, but none with places."""
        return np.setdiff1d(self.hopeless, self.no_one_can_cover)

    def groups(self) -> dict[str, dict[str, np.ndarray]]:
        """Balance groups (name -> member mask over laborers) per kind of floor."""
        return self._groups

    @cached_property
    def _groups(self) -> dict[str, dict[str, np.ndarray]]:
        lab = self.laborers
        result = {"fairness": {c: (lab["county"] == c).to_numpy() for c in _counties(lab)}}
        if self.params.sex_balance_floor > 0:
            result["sex_balance"] = {s: (lab["sex"] == s).to_numpy() for s in ("F", "M")}
        if self.params.age_balance_floor > 0:
            band = age_band(lab["age"].to_numpy(), self.params)
            names = age_band_names(self.params)
            result["age_balance"] = {name: band == k for k, name in enumerate(names)}
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


def _class_words(sex, age, skill, special, disabled, willing) -> str:
    parts = [{"F": "woman", "M": "man"}.get(sex, ""), f"{age}", skill]
    if special or disabled:
        parts.append("special group")
    if willing:
        parts.append("willing to go")
    return " ".join(p for p in parts if p)


def _care_bound(laborers: pd.DataFrame, params: JobsParams, can_go: np.ndarray) -> np.ndarray:
    """Households with care duties every laborer of which could be sent away."""
    if not params.carer_new_town_only or len(laborers) == 0:
        return np.zeros(0, dtype=int)
    household = laborers["household_id"].to_numpy()
    all_can_go = pd.Series(can_go).groupby(household).all()
    care_duty = laborers.groupby("household_id")["care_duty"].any()
    bound = care_duty & all_can_go
    return np.array(sorted(bound[bound].index), dtype=int)


def _types(
    household: np.ndarray, class_of: np.ndarray, care_bound: np.ndarray, covered: set[int]
) -> tuple[tuple[HouseholdType, ...], tuple[np.ndarray, ...]]:
    """Household types of the households given (laborers eligible somewhere, as rows)."""
    counts = pd.DataFrame({"h": household, "c": class_of}).groupby(["h", "c"]).size()
    hs = counts.index.get_level_values(0).to_numpy()
    cs = counts.index.get_level_values(1).to_numpy().tolist()
    ks = counts.to_numpy().tolist()
    starts = np.flatnonzero(np.r_[True, hs[1:] != hs[:-1]]).tolist() if len(hs) else []
    starts.append(len(hs))
    bound = set(care_bound.tolist())
    # keyed by the type's fields as a plain tuple (in their order), made a type once each
    by_type: dict[tuple, list[int]] = defaultdict(list)
    for a, b, h in zip(starts[:-1], starts[1:], hs[starts[:-1]].tolist(), strict=True):
        care, needs = h in bound, h not in covered
        if not (care or needs):
            continue  # a covered household the care rule does not bind: nothing to decide
        single = tuple(k == 1 for k in ks[a:b]) if care else ()
        by_type[tuple(cs[a:b]), care, single, needs].append(h)
    order = sorted(by_type)
    return (
        tuple(HouseholdType(*key) for key in order),
        tuple(np.array(sorted(by_type[key]), dtype=int) for key in order),
    )


def _status(laborers: pd.DataFrame, person_can_go: np.ndarray, care_bound: np.ndarray):
    """Stay-or-go status per laborer (module constants)."""
    household = laborers["household_id"].to_numpy()
    status = np.full(len(laborers), GO, dtype=object)
    size = laborers.groupby("household_id")["person_id"].transform("size").to_numpy()
    in_bound = np.isin(household, care_bound)
    status[in_bound] = GO_ONE_STAYS
    status[in_bound & (size == 1)] = STAY_SOLE_CARER
    special = is_special(laborers)
    unwilling = ~laborers["willing_to_migrate"].to_numpy(bool)
    stay = ~person_can_go
    status[stay] = np.where(
        special[stay], STAY_SPECIAL, np.where(unwilling[stay], STAY_UNWILLING, STAY_NO_AWAY_JOB)
    )
    return status


def build_instance(
    people: pd.DataFrame,
    params: JobsParams,
    covered: Iterable[int] = (),
    local: Iterable[int] = (),
) -> Instance:
    """Eligibility, probabilities, classes, household types and stay-or-go status.

    `covered`: households that already have a worker (out of the household rule);
    `local`: households with a worker in the new town (out of the care rule too)."""
    laborers = _with_household_columns(people)
    qualified, probability = qualifications(laborers, params)
    has_places = np.array([e.capacity > 0 for e in params.employers], dtype=bool)
    eligible = qualified & has_places[None, :]
    probability = np.where(eligible, probability, 0.0)
    away = is_away(params)
    class_of, classes = classify(laborers, params, eligible, probability)
    first = classes["first"].to_numpy()
    class_eligible, class_probability = eligible[first], probability[first]
    anywhere = class_eligible.any(axis=1)[class_of]
    person_can_go = eligible[:, away].any(axis=1)
    household = laborers["household_id"].to_numpy()
    local_set = np.array(sorted(set(local)), dtype=int)
    care_bound = np.setdiff1d(_care_bound(laborers, params, person_can_go), local_set)
    covered_set = set(covered)
    types, type_households = _types(
        household[anywhere], class_of[anywhere], care_bound, covered_set
    )
    with_labour = np.unique(household)
    reachable = np.unique(household[anywhere])
    qualified_somewhere = np.unique(household[qualified.any(axis=1)])
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
        required=np.setdiff1d(reachable, np.array(sorted(covered_set), dtype=int)),
        hopeless=np.setdiff1d(with_labour, reachable),
        no_one_can_cover=np.setdiff1d(with_labour, qualified_somewhere),
        care_bound=care_bound,
        status=_status(laborers, person_can_go, care_bound),
    )
