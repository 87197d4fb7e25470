"""The synthetic population: households and people who move, and who can work.

The source reports totals only (households, people, registered-poor, special groups,
employed and the employment rate). Everything below the totals (the split between
counties, household sizes, ages, who can work, who cares for whom) is an assumption from
data/population/, so the generator is built to reproduce every reported total *exactly*
at full scale and to fill in the rest from labelled assumptions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from simlib.provenance import DataError
from simlib.randomness import stream
from simlib.scenario import Scenario

SKILLS = ("factory", "farming", "construction", "service", "none")
# The age bands of the willingness to migrate as the parameters' names give them
# (migrate_share_M_16_29, ...); their edges are data: laborer_min_age,
# middle_age_band_from, older_age_band_from and laborer_max_age.
MIGRATE_BAND_NAMES = ("16_29", "30_44", "45_64")
COUNTY_TOTALS = (
    "households",
    "people",
    "registered_poor_households",
    "registered_poor_people",
)


@dataclass(frozen=True)
class County:
    """Households and people one county sends (registered-poor and co-moving)."""

    name: str
    name_zh: str
    households: int
    people: int
    registered_poor_households: int
    registered_poor_people: int
    townships: int

    @property
    def comoving_households(self) -> int:
        return self.households - self.registered_poor_households

    @property
    def comoving_people(self) -> int:
        return self.people - self.registered_poor_people


@dataclass(frozen=True)
class PopulationParams:
    """Everything the generator needs, validated; see data/population/ for units and sources."""

    counties: tuple[County, ...]
    size_shares: tuple[tuple[int, float], ...]  # (household size, share)
    skill_table: tuple[tuple[str, int, int, tuple[float, ...]], ...]  # sex, age band, shares
    special_group_people: int
    laborers_target: int
    laborer_tolerance: float
    values: Any  # the remaining scalar parameters, by name (a read-only mapping)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "values":  # during unpickling: not a parameter
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __reduce__(self):
        # a read-only mapping does not pickle (sweeps send populations to other processes)
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["values"] = dict(self.values)
        return (_population_params, (fields,))

    @property
    def county_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.counties)

    @property
    def age_bands(self) -> tuple[tuple[int, int], ...]:
        """The working-age bands as (first age, last age), young, middle and older: from
        laborer_min_age, split at middle_age_band_from and older_age_band_from, to
        laborer_max_age. The willingness to migrate is assumed by these bands; the job
        matching's age balance uses the same ones."""
        edges = (
            self.laborer_min_age,
            self.middle_age_band_from,
            self.older_age_band_from,
            self.laborer_max_age + 1,
        )
        return tuple((first, end - 1) for first, end in pairwise(edges))


def _population_params(fields: dict[str, Any]) -> PopulationParams:
    return PopulationParams(**dict(fields, values=MappingProxyType(fields["values"])))


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to `weights` that sum exactly to `total`."""
    weights = np.asarray(weights, dtype=float)
    if total == 0 or weights.sum() == 0:
        return np.zeros(len(weights), dtype=int)
    exact = weights / weights.sum() * total
    result = np.floor(exact).astype(int)
    short = total - result.sum()
    result[np.argsort(-(exact - result), kind="stable")[:short]] += 1
    return result


def _scaled_counties(counties: list[County], scale: float, max_size: int) -> list[County]:
    """Counties at a smaller scale, keeping every total as close to proportional as integers allow."""
    if scale == 1.0:
        return counties
    cells = {}
    for field in COUNTY_TOTALS:
        raw = np.array([getattr(c, field) for c in counties], dtype=float)
        cells[field] = largest_remainder(raw, round(raw.sum() * scale))
    scaled = []
    for i, c in enumerate(counties):
        hh = max(1, int(cells["households"][i]))
        poor_hh = min(hh, int(cells["registered_poor_households"][i]))
        people = int(np.clip(cells["people"][i], hh, hh * max_size))
        poor_people = int(np.clip(cells["registered_poor_people"][i], poor_hh, poor_hh * max_size))
        comoving = hh - poor_hh
        poor_people = int(np.clip(poor_people, people - comoving * max_size, people - comoving))
        scaled.append(County(c.name, c.name_zh, hh, people, poor_hh, poor_people, c.townships))
    return scaled


def load_population_params(scenario: Scenario) -> PopulationParams:
    """Read and validate data/population/ under the scenario's overrides and scale.

    The scalar parameters are checked by their rows (type, unit, and the hard limits
    `min`/`max` of data/population/parameters.csv); the tables here for what rows cannot
    say: that the counties add up to the reported totals and the shares to 1.
    """
    values = scenario.values("population")
    max_size = values["max_household_size"]
    counties = _read_counties(scenario, values)
    sizes = _read_household_sizes(scenario, max_size)
    skill_table = _read_skills(scenario)
    for skill in _split_list(values["migrate_skills"]):
        if skill not in SKILLS:
            overridden = "migrate_skills" in scenario.overrides.get("population", {})
            where = (
                scenario.path if overridden else scenario.data_dir / "population" / "parameters.csv"
            )
            raise DataError(where, "migrate_skills", skill, f"must be one of {SKILLS}")
    counties = _scaled_counties(counties, scenario.scale, max_size)
    people = sum(c.people for c in counties)
    return PopulationParams(
        counties=tuple(counties),
        size_shares=sizes,
        skill_table=skill_table,
        special_group_people=min(round(values["special_group_people"] * scenario.scale), people),
        laborers_target=round(values["laborers_target"] * scenario.scale),
        laborer_tolerance=values["laborer_tolerance"],
        values=MappingProxyType(values),
    )


def _split_list(text: str) -> tuple[str, ...]:
    """A `;`-separated list cell as a tuple of its items."""
    return tuple(item.strip() for item in text.split(";") if item.strip())


def _read_counties(scenario: Scenario, values: dict[str, Any]) -> list[County]:
    """The sending counties, each able to fill its households, summing to the reported totals."""
    from simlib.provenance import read_table

    counties_file = scenario.table("population", "counties")
    table = read_table(
        counties_file,
        {f: "int" for f in (*COUNTY_TOTALS, "townships")} | {"county": "str", "name_zh": "str"},
        key="county",
    )
    counties = [
        County(
            name=row.county,
            name_zh=row.name_zh,
            households=row.households,
            people=row.people,
            registered_poor_households=row.registered_poor_households,
            registered_poor_people=row.registered_poor_people,
            townships=row.townships,
        )
        for row in table.itertuples()
    ]
    if not counties:
        raise DataError(counties_file, "county", None, "no counties")
    for county in counties:
        _check_county(county, counties_file, values["max_household_size"])
    for field in COUNTY_TOTALS:
        total = sum(getattr(c, field) for c in counties)
        if total != values[field]:
            raise DataError(
                counties_file,
                field,
                total,
                f"counties sum to {total} but the scenario total is {values[field]}",
            )
    return counties


def _check_county(c: County, counties_file: Path, max_size: int) -> None:
    """One county's households and people can be filled with households of 1 to max_size."""
    where = f"[{c.name}]"
    if c.households < 1:
        raise DataError(counties_file, "households" + where, c.households, "must be >= 1")
    if c.townships < 1:
        raise DataError(counties_file, "townships" + where, c.townships, "must be >= 1")
    if c.registered_poor_households > c.households:
        raise DataError(
            counties_file,
            "registered_poor_households" + where,
            c.registered_poor_households,
            f"exceeds the county's households ({c.households})",
        )
    for label, hh, people in (
        ("registered_poor_people", c.registered_poor_households, c.registered_poor_people),
        ("people", c.households, c.people),
    ):
        if not hh <= people <= hh * max_size:
            raise DataError(
                counties_file,
                label + where,
                people,
                f"cannot fill {hh} households of 1 to {max_size} people",
            )
    if not c.comoving_households <= c.comoving_people <= c.comoving_households * max_size:
        raise DataError(
            counties_file,
            "people" + where,
            c.people,
            f"leaves {c.comoving_people} co-moving people for "
            f"{c.comoving_households} co-moving households",
        )


def _read_household_sizes(scenario: Scenario, max_size: int) -> tuple[tuple[int, float], ...]:
    """(size, share) pairs: sizes from 1 to max_household_size, shares summing to 1."""
    from simlib.provenance import read_table

    sizes_file = scenario.table("population", "household_sizes")
    sizes = read_table(sizes_file, {"size": "int", "share": "float"}, key="size", shares=["share"])
    if (sizes["size"] < 1).any() or (sizes["size"] > max_size).any():
        bad = sizes.loc[(sizes["size"] < 1) | (sizes["size"] > max_size), "size"].iloc[0]
        raise DataError(sizes_file, "size", bad, f"must lie in [1, max_household_size={max_size}]")
    if not np.isclose(sizes["share"].sum(), 1.0, atol=1e-6):
        raise DataError(sizes_file, "share", sizes["share"].sum(), "shares must sum to 1")
    return tuple(zip(sizes["size"].astype(int), sizes["share"].astype(float), strict=True))


def _read_skills(scenario: Scenario) -> tuple[tuple[str, int, int, tuple[float, ...]], ...]:
    """(sex, first age, last age, shares of SKILLS) rows, each row's shares summing to 1."""
    from simlib.provenance import read_table

    skills_file = scenario.table("population", "skills")
    skills = read_table(
        skills_file,
        {"sex": "str", "age_min": "int", "age_max": "int"} | {s: "float" for s in SKILLS},
        shares=SKILLS,
    )
    skill_table = []
    for i, row in skills.iterrows():
        if row["sex"] not in ("F", "M"):
            raise DataError(skills_file, f"sex[row {i + 2}]", row["sex"], "must be F or M")
        shares = tuple(float(row[s]) for s in SKILLS)
        if not np.isclose(sum(shares), 1.0, atol=1e-6):
            raise DataError(skills_file, f"shares[row {i + 2}]", sum(shares), "must sum to 1")
        skill_table.append((row["sex"], int(row["age_min"]), int(row["age_max"]), shares))
    return tuple(skill_table)


@dataclass(frozen=True)
class Population:
    """Two tidy tables: one row per household, one row per person."""

    households: pd.DataFrame
    people: pd.DataFrame
    params: PopulationParams
    seed: int
    scenario: str

    @property
    def laborers(self) -> pd.DataFrame:
        return self.people[self.people["laborer"]]

    def summary(self) -> dict[str, Any]:
        """Headline counts, computed from the tables (never kept alongside them)."""
        hh, pp = self.households, self.people
        by_county = {}
        for county in self.params.county_names:
            h = hh[hh["county"] == county]
            p = pp[pp["county"] == county]
            by_county[county] = {
                "households": int(len(h)),
                "people": int(len(p)),
                "registered_poor_households": int(h["registered_poor"].sum()),
                "registered_poor_people": int(p["registered_poor"].sum()),
                "laborers": int(p["laborer"].sum()),
                "special_group_people": int(p["special_group"].sum()),
            }
        laborers = int(pp["laborer"].sum())
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "households": int(len(hh)),
            "people": int(len(pp)),
            "registered_poor_households": int(hh["registered_poor"].sum()),
            "registered_poor_people": int(pp["registered_poor"].sum()),
            "comoving_households": int((~hh["registered_poor"]).sum()),
            "comoving_people": int((~pp["registered_poor"]).sum()),
            "laborers": laborers,
            "laborers_target": self.params.laborers_target,
            "laborers_within_tolerance": bool(
                abs(laborers - self.params.laborers_target)
                <= self.params.laborer_tolerance * self.params.laborers_target
            ),
            "households_with_laborers": int((hh["laborers"] > 0).sum()),
            "carers": int(pp["carer"].sum()),
            "willing_to_migrate": int(pp["willing_to_migrate"].sum()),
            "households_with_care_on_laborers": int(hh["care_on_laborers"].sum()),
            "special_group_people": int(pp["special_group"].sum()),
            "mean_household_size": round(float(hh["size"].mean()), 3),
            "by_county": by_county,
        }


def _household_sizes(rng: np.random.Generator, n: int, people: int, params: PopulationParams):
    """Sizes drawn from the assumed distribution, then nudged one person at a time so that
    they add up exactly to the reported number of people."""
    values = np.array([s for s, _ in params.size_shares])
    shares = np.array([p for _, p in params.size_shares])
    sizes = rng.choice(values, size=n, p=shares / shares.sum())
    max_size = params.max_household_size
    gap = people - int(sizes.sum())
    while gap != 0:
        can = np.flatnonzero(sizes < max_size) if gap > 0 else np.flatnonzero(sizes > 1)
        chosen = rng.choice(can, size=min(abs(gap), len(can)), replace=False)
        sizes[chosen] += np.sign(gap)
        gap = people - int(sizes.sum())
    return sizes


def _households(seed: int, params: PopulationParams) -> pd.DataFrame:
    rng = stream(seed, "population", "households")
    parts = []
    for c in params.counties:
        for poor, n, people in (
            (True, c.registered_poor_households, c.registered_poor_people),
            (False, c.comoving_households, c.comoving_people),
        ):
            if n == 0:
                continue
            parts.append(
                pd.DataFrame(
                    {
                        "county": c.name,
                        "township": [
                            f"{c.name}-T{t + 1:02d}" for t in rng.integers(0, c.townships, n)
                        ],
                        "registered_poor": poor,
                        "size": _household_sizes(rng, n, people, params),
                    }
                )
            )
    households = pd.concat(parts, ignore_index=True)
    households.insert(0, "household_id", np.arange(1, len(households) + 1))
    # the order in which households registered for jobs (used by the first-come baseline)
    households["registration_order"] = rng.permutation(len(households)) + 1
    return households


def _head_ages(rng: np.random.Generator, sizes: np.ndarray, params: PopulationParams):
    """Each household's head: an age from a triangular distribution (an elderly person
    for the share of one-person households living alone) and a sex."""
    n = len(sizes)
    low, mode, high = params.head_age_min, params.head_age_mode, params.head_age_max
    # numpy refuses a triangle of zero width; every head is then the same age
    ages = np.full(n, float(low)) if low == high else rng.triangular(low, mode, high, n)
    head_age = np.rint(ages)
    alone_elderly = (sizes == 1) & (rng.random(n) < params.single_elderly_share)
    head_age[alone_elderly] = rng.integers(
        params.single_elderly_min_age, params.single_elderly_max_age + 1, alone_elderly.sum()
    )
    head_male = rng.random(n) < params.head_male_share
    return head_age, head_male


def _ages_and_roles(rng: np.random.Generator, households: pd.DataFrame, params: PopulationParams):
    """Household members by position: a head, usually a spouse, then children or parents."""
    p = params
    sizes = households["size"].to_numpy()
    n_people = int(sizes.sum())
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    position = np.arange(n_people) - first
    household = np.repeat(np.arange(len(sizes)), sizes)
    head_age, head_male = _head_ages(rng, sizes, p)

    h_age, h_male = head_age[household], head_male[household]
    age = np.empty(n_people)
    male = np.empty(n_people, dtype=bool)
    role = np.empty(n_people, dtype=object)

    is_head = position == 0
    age[is_head], male[is_head], role[is_head] = h_age[is_head], h_male[is_head], "head"

    spouse = (position == 1) & (rng.random(n_people) < p.spouse_share)
    gap = np.rint(rng.normal(-p.spouse_age_gap_mean, p.spouse_age_gap_sd, spouse.sum()))
    age[spouse] = np.clip(h_age[spouse] + gap, p.spouse_min_age, p.spouse_max_age)
    male[spouse] = ~h_male[spouse]
    role[spouse] = "spouse"

    others = ~is_head & ~spouse
    parent = (
        others
        & (h_age < p.parent_lives_in_below_head_age)
        & (rng.random(n_people) < p.parent_member_share)
    )
    gap = np.rint(rng.normal(p.parent_age_gap_mean, p.parent_age_gap_sd, parent.sum()))
    age[parent] = np.clip(h_age[parent] + gap, p.parent_min_age, p.parent_max_age)
    role[parent] = "parent"

    child = others & ~parent
    oldest_child = np.clip(h_age[child] - p.head_age_at_first_child, 0, p.adult_child_max_age)
    age[child] = np.floor(rng.random(child.sum()) * (oldest_child + 1))
    role[child] = "child"
    male[others] = rng.random(others.sum()) < p.member_male_share
    return household, age.astype(int), male, role


def _capacity_weight(people: pd.DataFrame, params: PopulationParams) -> np.ndarray:
    """Relative chance of working capacity: zero outside working age, lower in school
    years, at older ages, for disabled and special-group people."""
    age = people["age"].to_numpy()
    weight = ((age >= params.laborer_min_age) & (age <= params.laborer_max_age)).astype(float)
    weight[(age <= params.school_age_max)] *= 1 - params.school_share_16_18
    weight[(age >= params.older_worker_min_age)] *= params.older_worker_weight
    weight[people["disabled"].to_numpy()] *= params.disabled_work_weight
    weight[people["special_group"].to_numpy()] *= params.special_adult_work_weight
    return weight


def _calibrate(weight: np.ndarray, target: int) -> np.ndarray:
    """Probabilities min(1, k * weight) whose sum is `target` (k found by bisection)."""
    if target >= np.count_nonzero(weight):
        return (weight > 0).astype(float)
    low, high = 0.0, 1.0
    while np.minimum(1, high * weight).sum() < target:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        if np.minimum(1, mid * weight).sum() < target:
            low = mid
        else:
            high = mid
    return np.minimum(1, high * weight)


def _pick_one_per_group(rng: np.random.Generator, groups: np.ndarray, weights: np.ndarray):
    """For each group, the index of one member drawn with probability ∝ weight (weight > 0)."""
    keys = np.full(len(weights), np.inf)
    positive = weights > 0
    keys[positive] = rng.exponential(size=positive.sum()) / weights[positive]
    frame = pd.DataFrame({"group": groups, "key": keys})
    best = frame[positive].groupby("group")["key"].idxmin()
    return best.to_numpy()


def _willing_to_migrate(
    rng: np.random.Generator, people: pd.DataFrame, care_needs: np.ndarray, params
) -> np.ndarray:
    """Whether a laborer would take work away from the new town: an assumed share by sex
    and age band, raised for experience in `migrate_skills`, lowered when the household
    has care needs (data/population/parameters.csv, migrate_*)."""
    age = people["age"].to_numpy()
    sex = people["sex"].to_numpy()
    (_, young_last), (_, middle_last), _ = params.age_bands
    band = np.where(age <= young_last, 0, np.where(age <= middle_last, 1, 2))
    share = np.zeros(len(people))
    for s in ("F", "M"):
        for b, label in enumerate(MIGRATE_BAND_NAMES):
            share[(sex == s) & (band == b)] = params.values[f"migrate_share_{s}_{label}"]
    skilled = np.isin(people["skill"].to_numpy(), _split_list(params.migrate_skills))
    share = np.where(skilled, share * params.migrate_skill_factor, share)
    share = np.where(care_needs, share * params.migrate_care_household_factor, share)
    draw = rng.random(len(people))
    return people["laborer"].to_numpy(bool) & (draw < np.minimum(share, 1.0))


def generate_population(scenario: Scenario, seed: int | None = None) -> Population:
    """Households and people for a scenario; the same scenario and seed give identical tables.

    Each step draws from its own stream (simlib.randomness.stream), so a change to one
    step's assumptions leaves the others' draws as they were.
    """
    seed = scenario.seed if seed is None else seed
    params = load_population_params(scenario)
    households = _households(seed, params)
    rng = stream(seed, "population", "people")
    household, age, male, role = _ages_and_roles(rng, households, params)
    people = pd.DataFrame(
        {
            "person_id": np.arange(1, len(age) + 1),
            "household_id": households["household_id"].to_numpy()[household],
            "county": households["county"].to_numpy()[household],
            "registered_poor": households["registered_poor"].to_numpy()[household],
            "role": role,
            "age": age,
            "sex": np.where(male, "M", "F"),
        }
    )
    rng = stream(seed, "population", "disability")
    rate = np.where(
        age >= params.disability_step_age,
        params.disability_rate_60_plus,
        params.disability_rate_under_60,
    )
    people["disabled"] = rng.random(len(people)) < rate
    size = households["size"].to_numpy()[household]
    special = _special_groups(stream(seed, "population", "special"), people, size, params)
    people["special_group"] = special
    people["special_group_type"] = _special_group_types(people, size, params)
    rng = stream(seed, "population", "capacity")
    probability = _calibrate(_capacity_weight(people, params), params.laborers_target)
    people["laborer"] = rng.random(len(people)) < probability
    people["carer"], needs = _care(
        stream(seed, "population", "care"), people, household, len(households), params
    )
    people["skill"] = _skills(stream(seed, "population", "skills"), people, params)
    _household_counts(households, people, household, needs, params)
    people["care_duty"] = households["care_on_laborers"].to_numpy()[household] & people["laborer"]
    people["willing_to_migrate"] = _willing_to_migrate(
        stream(seed, "population", "migration"), people, needs[household], params
    )
    households["special_group_people"] = np.bincount(
        household, weights=special, minlength=len(households)
    ).astype(int)
    return Population(households, people, params, seed, scenario.name)


def _special_group_weight(people: pd.DataFrame, size: np.ndarray, params) -> np.ndarray:
    """Relative chance of each person to be among the special groups: the largest weight
    of the groups the person belongs to (special_weight_*)."""
    age = people["age"].to_numpy()
    weight = np.full(len(people), params.special_weight_others)
    elderly_small = (age >= params.special_elderly_age) & (
        size <= params.special_small_household_size
    )
    for member, group_weight in (
        (people["disabled"].to_numpy(), params.special_weight_disabled),
        (elderly_small, params.special_weight_elderly_small_household),
        (age >= params.special_very_old_age, params.special_weight_very_old),
        (age < params.special_child_age, params.special_weight_child),
    ):
        weight[member] = np.maximum(weight[member], group_weight)
    return weight


def _special_groups(
    rng: np.random.Generator, people: pd.DataFrame, size: np.ndarray, params
) -> np.ndarray:
    """Who is in a special group: each county's share of special_group_people, drawn by weight."""
    weight = _special_group_weight(people, size, params)
    quota = largest_remainder(
        np.array([c.people for c in params.counties]), params.special_group_people
    )
    county = people["county"].to_numpy()
    special = np.zeros(len(people), dtype=bool)
    for c, n in zip(params.counties, quota, strict=True):
        members = np.flatnonzero(county == c.name)
        chosen = rng.choice(
            members, size=n, replace=False, p=weight[members] / weight[members].sum()
        )
        special[chosen] = True
    return special


def _special_group_types(people: pd.DataFrame, size: np.ndarray, params) -> np.ndarray:
    """The group a special-group member is visited as, in the source's words ("" if none)."""
    age = people["age"].to_numpy()
    elderly = age >= params.special_elderly_age
    kind = np.select(
        [
            age < params.special_child_age,
            people["disabled"].to_numpy(),
            elderly & (size <= params.special_small_household_size),
            elderly,
        ],
        ["child_in_difficulty", "disabled", "elderly_alone", "elderly"],
        default="severely_poor",
    )
    return np.where(people["special_group"].to_numpy(), kind, "")


def _care(
    rng: np.random.Generator,
    people: pd.DataFrame,
    household: np.ndarray,
    n_households: int,
    params: PopulationParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Who is the carer (a laborer, one per household whose care falls on its laborers),
    and which households need care (a young child, a very old or a disabled member)."""
    age = people["age"].to_numpy()
    needs = (age < params.care_child_age) | (age >= params.care_elder_age) | people["disabled"]
    household_needs = np.bincount(household, weights=needs, minlength=n_households) > 0
    laborer = people["laborer"].to_numpy()
    other_adult = (age >= params.carer_min_age) & ~laborer
    has_other = np.bincount(household, weights=other_adult, minlength=n_households) > 0
    falls_on_laborer = ~has_other | (rng.random(n_households) < params.care_on_laborer_share)
    eligible = laborer & (household_needs & falls_on_laborer)[household]
    male = people["sex"].to_numpy() == "M"
    carer_weight = np.where(male, 1.0, params.carer_female_weight) * eligible
    carer = np.zeros(len(people), dtype=bool)
    if eligible.any():
        carer[_pick_one_per_group(rng, household, carer_weight)] = True
    return carer, household_needs


def _skills(rng: np.random.Generator, people: pd.DataFrame, params) -> np.ndarray:
    """Each laborer's experience class, drawn from the shares of their sex and age band."""
    skill = np.full(len(people), "", dtype=object)
    draw = rng.random(len(people))
    age, sex = people["age"].to_numpy(), people["sex"].to_numpy()
    laborer = people["laborer"].to_numpy()
    for sex_code, age_min, age_max, shares in params.skill_table:
        rows = laborer & (sex == sex_code) & (age >= age_min) & (age <= age_max)
        bins = np.cumsum(shares)
        index = np.minimum(
            np.searchsorted(bins / bins[-1], draw[rows], side="right"), len(SKILLS) - 1
        )
        skill[rows] = np.array(SKILLS)[index]
    skill[laborer & (skill == "")] = "none"
    return skill


def _household_counts(
    households: pd.DataFrame, people: pd.DataFrame, household: np.ndarray, needs, params
) -> None:
    """Adds to `households` what its members add up to: laborers, care needs and carers."""
    age = people["age"].to_numpy()

    def count(member) -> np.ndarray:
        return np.bincount(household, weights=member, minlength=len(households))

    households["laborers"] = count(people["laborer"].to_numpy()).astype(int)
    households["needs_care"] = needs
    # who needs care, in words a planner uses (members under school age, very old, disabled)
    households["young_children"] = count(age < params.care_child_age).astype(int)
    households["elderly_members"] = count(age >= params.care_elder_age).astype(int)
    households["disabled_members"] = count(people["disabled"].to_numpy()).astype(int)
    households["care_on_laborers"] = count(people["carer"].to_numpy()) > 0
