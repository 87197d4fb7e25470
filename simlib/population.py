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
from typing import Any

import numpy as np
import pandas as pd

from simlib.provenance import DataError
from simlib.randomness import stream
from simlib.scenario import Scenario

SKILLS = ("factory", "farming", "construction", "service", "none")
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


def _population_params(fields: dict[str, Any]) -> PopulationParams:
    from types import MappingProxyType

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
    """Read and validate data/population/ under the scenario's overrides and scale."""
    from simlib.provenance import read_table

    values = scenario.values("population")
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
    max_size = values["max_household_size"]
    for c in counties:
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
    for field in COUNTY_TOTALS:
        total = sum(getattr(c, field) for c in counties)
        if total != values[field]:
            raise DataError(
                counties_file,
                field,
                total,
                f"counties sum to {total} but the scenario total is {values[field]}",
            )

    sizes_file = scenario.table("population", "household_sizes")
    sizes = read_table(sizes_file, {"size": "int", "share": "float"}, key="size", shares=["share"])
    if (sizes["size"] < 1).any() or (sizes["size"] > max_size).any():
        bad = sizes.loc[(sizes["size"] < 1) | (sizes["size"] > max_size), "size"].iloc[0]
        raise DataError(sizes_file, "size", bad, f"must lie in [1, max_household_size={max_size}]")
    if not np.isclose(sizes["share"].sum(), 1.0, atol=1e-6):
        raise DataError(sizes_file, "share", sizes["share"].sum(), "shares must sum to 1")

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

    if values["laborer_min_age"] > values["laborer_max_age"]:
        raise DataError(
            scenario.path, "laborer_min_age", values["laborer_min_age"], "exceeds laborer_max_age"
        )
    if not values["head_age_min"] <= values["head_age_mode"] <= values["head_age_max"]:
        raise DataError(
            scenario.path, "head_age_mode", values["head_age_mode"], "must lie between min and max"
        )

    scale = scenario.scale
    counties = _scaled_counties(counties, scale, max_size)
    people = sum(c.people for c in counties)
    special = min(round(values["special_group_people"] * scale), people)
    target = round(values["laborers_target"] * scale)
    from types import MappingProxyType

    return PopulationParams(
        counties=tuple(counties),
        size_shares=tuple(
            zip(sizes["size"].astype(int), sizes["share"].astype(float), strict=True)
        ),
        skill_table=tuple(skill_table),
        special_group_people=special,
        laborers_target=target,
        laborer_tolerance=values["laborer_tolerance"],
        values=MappingProxyType(values),
    )


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


def _ages_and_roles(rng: np.random.Generator, households: pd.DataFrame, params: PopulationParams):
    """Household members by position: a head, usually a spouse, then children or parents."""
    sizes = households["size"].to_numpy()
    n_households, n_people = len(sizes), int(sizes.sum())
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    position = np.arange(n_people) - first
    household = np.repeat(np.arange(n_households), sizes)

    head_age = np.rint(
        rng.triangular(params.head_age_min, params.head_age_mode, params.head_age_max, n_households)
    )
    alone_elderly = (sizes == 1) & (rng.random(n_households) < params.single_elderly_share)
    head_age[alone_elderly] = rng.integers(params.single_elderly_min_age, 90, alone_elderly.sum())
    head_male = rng.random(n_households) < params.head_male_share

    h_age = head_age[household]
    age = np.empty(n_people)
    male = np.empty(n_people, dtype=bool)
    role = np.empty(n_people, dtype=object)

    is_head = position == 0
    age[is_head], male[is_head], role[is_head] = (
        h_age[is_head],
        head_male[household][is_head],
        "head",
    )

    second = position == 1
    spouse = second & (rng.random(n_people) < params.spouse_share)
    age[spouse] = np.clip(h_age[spouse] + np.rint(rng.normal(-2, 4, spouse.sum())), 18, 95)
    male[spouse] = ~head_male[household][spouse]
    role[spouse] = "spouse"

    others = ~is_head & ~spouse
    parent = others & (h_age < 62) & (rng.random(n_people) < params.parent_member_share)
    age[parent] = np.clip(h_age[parent] + np.rint(rng.normal(27, 4, parent.sum())), 45, 98)
    role[parent] = "parent"

    child = others & ~parent
    oldest_child = np.clip(h_age[child] - 18, 0, params.adult_child_max_age)
    age[child] = np.floor(rng.random(child.sum()) * (oldest_child + 1))
    role[child] = "child"
    male[others] = rng.random(others.sum()) < 0.52  # sex ratio at birth in rural Yunnan
    return household, age.astype(int), male, role


def _capacity_weight(people: pd.DataFrame, params: PopulationParams) -> np.ndarray:
    """Relative chance of working capacity: zero outside working age, lower in school
    years, at older ages, for disabled and special-group people."""
    age = people["age"].to_numpy()
    weight = ((age >= params.laborer_min_age) & (age <= params.laborer_max_age)).astype(float)
    weight[(age <= 18)] *= 1 - params.school_share_16_18
    weight[(age >= 55)] *= params.older_worker_weight
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
    and age band, raised for factory and construction experience, lowered when the
    household has care needs (data/population/parameters.csv, migrate_*)."""
    age = people["age"].to_numpy()
    sex = people["sex"].to_numpy()
    band = np.where(age < 30, "16_29", np.where(age < 45, "30_44", "45_64"))
    share = np.zeros(len(people))
    for s in ("F", "M"):
        for b in ("16_29", "30_44", "45_64"):
            share[(sex == s) & (band == b)] = params.values[f"migrate_share_{s}_{b}"]
    skilled = np.isin(people["skill"].to_numpy(), ("factory", "construction"))
    share = np.where(skilled, share * params.migrate_skill_factor, share)
    share = np.where(care_needs, share * params.migrate_care_household_factor, share)
    draw = rng.random(len(people))
    return people["laborer"].to_numpy(bool) & (draw < np.minimum(share, 1.0))


def generate_population(scenario: Scenario, seed: int | None = None) -> Population:
    """Households and people for a scenario; the same scenario and seed give identical tables."""
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
    rate = np.where(age >= 60, params.disability_rate_60_plus, params.disability_rate_under_60)
    people["disabled"] = rng.random(len(people)) < rate

    people["special_group"] = False
    people["special_group_type"] = ""
    rng = stream(seed, "population", "special")
    size = households["size"].to_numpy()[household]
    weight = np.where(people["disabled"], 8.0, 0.3)
    weight[(age >= 65) & (size <= 2)] = 8.0
    weight[(age >= 70) & (weight < 3)] = 3.0
    weight[age < 16] = np.maximum(weight[age < 16], 1.0)
    quota = largest_remainder(
        np.array([c.people for c in params.counties]), params.special_group_people
    )
    county = people["county"].to_numpy()
    for c, n in zip(params.counties, quota, strict=True):
        members = np.flatnonzero(county == c.name)
        chosen = rng.choice(
            members, size=n, replace=False, p=weight[members] / weight[members].sum()
        )
        people.loc[chosen, "special_group"] = True
    special = people["special_group"].to_numpy()
    people.loc[special, "special_group_type"] = np.select(
        [
            age[special] < 16,
            people["disabled"].to_numpy()[special],
            (age[special] >= 65) & (size[special] <= 2),
            age[special] >= 65,
        ],
        ["child_in_difficulty", "disabled", "elderly_alone", "elderly"],
        default="severely_poor",
    )

    rng = stream(seed, "population", "capacity")
    probability = _calibrate(_capacity_weight(people, params), params.laborers_target)
    people["laborer"] = rng.random(len(people)) < probability

    # Care: a household with a young child, a very old or a disabled member needs a carer.
    rng = stream(seed, "population", "care")
    needs = (age < params.care_child_age) | (age >= params.care_elder_age) | people["disabled"]
    household_needs = np.bincount(household, weights=needs, minlength=len(households)) > 0
    laborer = people["laborer"].to_numpy()
    other_adult = (age >= 16) & ~laborer
    has_other = np.bincount(household, weights=other_adult, minlength=len(households)) > 0
    falls_on_laborer = ~has_other | (rng.random(len(households)) < params.care_on_laborer_share)
    eligible = laborer & (household_needs & falls_on_laborer)[household]
    carer_weight = np.where(male, 1.0, params.carer_female_weight) * eligible
    people["carer"] = False
    if eligible.any():
        people.loc[_pick_one_per_group(rng, household, carer_weight), "carer"] = True

    rng = stream(seed, "population", "skills")
    people["skill"] = ""
    draw = rng.random(len(people))
    sex = people["sex"].to_numpy()
    for sex_code, age_min, age_max, shares in params.skill_table:
        rows = laborer & (sex == sex_code) & (age >= age_min) & (age <= age_max)
        bins = np.cumsum(shares)
        index = np.minimum(
            np.searchsorted(bins / bins[-1], draw[rows], side="right"), len(SKILLS) - 1
        )
        people.loc[rows, "skill"] = np.array(SKILLS)[index]
    people.loc[laborer & (people["skill"] == ""), "skill"] = "none"

    households["laborers"] = np.bincount(
        household, weights=laborer, minlength=len(households)
    ).astype(int)
    households["needs_care"] = household_needs
    # who needs care, in words a planner uses (members under school age, very old, disabled)
    for column, member in (
        ("young_children", age < params.care_child_age),
        ("elderly_members", age >= params.care_elder_age),
        ("disabled_members", people["disabled"].to_numpy()),
    ):
        households[column] = np.bincount(
            household, weights=member, minlength=len(households)
        ).astype(int)
    households["care_on_laborers"] = (
        np.bincount(household, weights=people["carer"], minlength=len(households)) > 0
    )
    people["care_duty"] = households["care_on_laborers"].to_numpy()[household] & laborer
    people["willing_to_migrate"] = _willing_to_migrate(
        stream(seed, "population", "migration"), people, household_needs[household], params
    )
    households["special_group_people"] = np.bincount(
        household, weights=special, minlength=len(households)
    ).astype(int)
    return Population(households, people, params, seed, scenario.name)
