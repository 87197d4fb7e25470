"""Inputs of the job matching, loaded from data/jobs/ and validated.

Every employer (a workshop firm, a greenhouse base, the public-welfare posts, organised
labour export...) is a frozen `Employer`; the scalars are a frozen `JobsParams`. Capacities
are jobs at the scenario's scale: the full-scale capacities are scaled together with
largest-remainder rounding (as the population is), so that their total stays proportional.
A what-if is made with `scenario.with_overrides("jobs", ...)`, never by mutation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simlib.population import SKILLS, largest_remainder
from simlib.present.headlines import headline
from simlib.provenance import DataError, read_table
from simlib.scenario import Scenario

PROGRAMMES = (
    "workshop",
    "mushroom",
    "vegetable",
    "orchard",
    "shops",
    "public_welfare",
    "labour_export",
)
LOCATIONS = ("new_town", "away")
SPECIAL_RULES = ("priority", "allowed", "excluded")
CAPACITY_UNITS = ("jobs", "greenhouses")
OBJECTIVE_MODES = ("lexicographic", "weighted")
SOLVERS = ("cbc", "highs")  # the MIP solvers of the job matching (branch and bound)
WAGE_BOUNDS = (300.0, 20000.0)  # yuan/month: anything outside is a typo, not an assumption


@dataclass(frozen=True)
class Employer:
    """One employer or programme unit and who it can hire."""

    employer: str
    programme: str  # one of PROGRAMMES
    product: str
    capacity: int  # jobs, at the scenario's scale
    places: str  # reported | assumed: whether the source reports these places as jobs
    wage: float  # yuan per month (assumed)
    wage_low: float  # yuan per month
    wage_high: float  # yuan per month
    base_retention: float  # share of hires still in the job after a year (assumed)
    location: str  # new_town | away
    distance_km: float  # km from the new town (assumed)
    season: str
    age_min: int  # years
    age_max: int  # years
    sex: str  # any | F | M
    skills_accepted: tuple[str, ...]  # empty = any
    skills_preferred: tuple[str, ...]
    special_group: str  # priority | allowed | excluded
    provenance: str


@dataclass(frozen=True)
class JobsParams:
    """Employers and the model's scalar settings; units in the field comments."""

    employers: tuple[Employer, ...]
    fairness_floor: float  # share of the overall employment rate, per county
    sex_balance_floor: float  # share; 0 = off
    age_balance_floor: float  # share; 0 = off
    household_floor_hard: bool
    carer_new_town_only: bool  # the care rule (a household-level constraint)
    skill_match_bonus: float  # share of retention
    special_priority_bonus: float  # share of retention
    household_uncovered_penalty: float  # lasting jobs per household left without a worker
    migration_cost: float  # yuan/month taken off away wages
    young_worker_age: int  # years
    young_worker_local_penalty: float  # share of retention
    older_worker_age: int  # years
    older_worker_away_penalty: float  # share of retention
    care_duty_away_penalty: float  # share of retention
    distance_penalty_per_1000km: float  # share of retention per 1000 km
    care_places: int  # extra care places, each freeing one household from the care rule
    lasting_period_months: int  # months after which a hire counts as lasting
    objective_mode: str  # lexicographic | weighted
    income_weight: float  # jobs per 1000 yuan/month (weighted mode)
    time_limit: float  # seconds per solve
    reported_employed: int  # people (full scale; data/reported_figures.csv)
    reported_rate: float  # share (data/reported_figures.csv)
    closed: tuple[str, ...]  # employers closed in a what-if
    optimiser_matters_percent: float = 1.0  # % of expected lasting employment (a threshold)
    # the optional age balance's bands: the population's working-age bands (years)
    age_bands: tuple[tuple[int, int], ...] = ((16, 29), (30, 44), (45, 64))

    @property
    def capacity(self) -> int:
        return sum(e.capacity for e in self.employers)

    def places(self, location: str, places: str | None = None) -> int:
        """Places at a location (new_town | away), optionally only reported or assumed ones."""
        return sum(
            e.capacity
            for e in self.employers
            if e.location == location and (places is None or e.places == places)
        )


def _list(text: str, file: Path, field: str) -> tuple[str, ...]:
    items = tuple(s.strip() for s in str(text).split(";") if s.strip())
    if items == ("any",):
        return ()
    for item in items:
        if item not in SKILLS:
            raise DataError(file, field, item, f"unknown skill; use any or {SKILLS}")
    return items


def _check_employer_row(row, file: Path) -> None:
    """Every cell of one employer row, with the employer named in the field."""

    def bad(field: str, value, problem: str) -> DataError:
        return DataError(file, f"{field}[{row.employer}]", value, problem)

    if row.programme not in PROGRAMMES:
        raise bad("programme", row.programme, f"unknown programme; use one of {PROGRAMMES}")
    if row.location not in LOCATIONS:
        raise bad("location", row.location, f"must be one of {LOCATIONS}")
    if row.capacity_unit not in CAPACITY_UNITS:
        raise bad("capacity_unit", row.capacity_unit, f"must be one of {CAPACITY_UNITS}")
    if row.special_group not in SPECIAL_RULES:
        raise bad("special_group", row.special_group, f"must be one of {SPECIAL_RULES}")
    if row.sex not in ("any", "F", "M"):
        raise bad("sex", row.sex, "must be any, F or M")
    if row.capacity_unit == "greenhouses" and row.programme != "vegetable":
        raise bad("capacity_unit", row.capacity_unit, "only vegetable rows count greenhouses")
    low, high = WAGE_BOUNDS
    for field in ("wage_yuan_month", "wage_low", "wage_high"):
        value = getattr(row, field)
        if not low <= value <= high:
            raise bad(field, value, f"outside the plausible {low:.0f}-{high:.0f} yuan/month")
    if not row.wage_low <= row.wage_yuan_month <= row.wage_high:
        raise bad(
            "wage_yuan_month",
            row.wage_yuan_month,
            f"lies outside its range [{row.wage_low}, {row.wage_high}]",
        )
    if not 0 < row.base_retention <= 1:
        raise bad("base_retention", row.base_retention, "must lie in (0, 1]")
    if row.places not in ("reported", "assumed"):
        raise bad("places", row.places, "must be reported or assumed")
    if not row.capacity_low <= row.capacity <= row.capacity_high:
        raise bad(
            "capacity",
            row.capacity,
            f"lies outside its range [{row.capacity_low}, {row.capacity_high}]",
        )
    if row.distance_km < 0:
        raise bad("distance_km", row.distance_km, "must be >= 0")
    if not 16 <= row.age_min <= row.age_max <= 70:
        raise bad("age_min", (row.age_min, row.age_max), "need 16 <= age_min <= age_max <= 70")


PROGRAMME_COLUMNS = {
    "employer": "str",
    "programme": "str",
    "product": "str",
    "capacity": "int",
    "capacity_unit": "str",
    "capacity_low": "float",
    "capacity_high": "float",
    "places": "str",
    "distance_km": "float",
    "wage_yuan_month": "float",
    "wage_low": "float",
    "wage_high": "float",
    "base_retention": "float",
    "location": "str",
    "season": "str",
    "age_min": "int",
    "age_max": "int",
    "sex": "str",
    "skills_accepted": "str",
    "skills_preferred": "str",
    "special_group": "str",
}


def _read_programmes(file: Path):
    """data/jobs/programmes.csv through the hardened table reader, every row checked."""
    table = read_table(file, PROGRAMME_COLUMNS, key="employer", shares=["base_retention"])
    if table.empty:
        raise DataError(file, "(rows)", 0, "has a header and no rows: list at least one employer")
    for row in table.itertuples(index=False):
        _check_employer_row(row, file)
    return table


def _check_values(v: dict, where: Path) -> None:
    """The choice of objective; the units of parameters.csv (shares lie in [0, 1], counts
    and costs are not negative) and its min/max columns (the distance penalty at most 1,
    a positive time limit) are checked on loading (`Scenario.values`)."""
    if v["objective_mode"] not in OBJECTIVE_MODES:
        raise DataError(
            where, "objective_mode", v["objective_mode"], f"must be one of {OBJECTIVE_MODES}"
        )


def _closed(v: dict, table, where: Path) -> tuple[str, ...]:
    closed = tuple(s.strip() for s in str(v["closed_employers"] or "").split(";") if s.strip())
    unknown = sorted(set(closed) - set(table["employer"]))
    if unknown:
        raise DataError(where, "closed_employers", unknown, "unknown employer")
    return closed


def _capacities(table, v: dict, closed: tuple[str, ...], scale: float) -> np.ndarray:
    """Jobs per employer at the scenario's scale: greenhouses x workers per greenhouse,
    export demand x the export factor, closed employers none; scaled together with
    largest-remainder rounding."""
    full = []
    for row in table.itertuples(index=False):
        jobs = float(row.capacity)
        if row.capacity_unit == "greenhouses":
            jobs *= v["vegetable_workers_per_greenhouse"]
        if row.programme == "labour_export":
            jobs *= v["labour_export_factor"]
        full.append(0.0 if row.employer in closed else jobs)
    full = np.array(full)
    return largest_remainder(full, round(full.sum() * scale)) if len(full) else full


def _employer(row, capacity: int, file: Path) -> Employer:
    return Employer(
        employer=row.employer,
        programme=row.programme,
        product=row.product,
        capacity=int(capacity),
        places=row.places,
        wage=row.wage_yuan_month,
        wage_low=row.wage_low,
        wage_high=row.wage_high,
        base_retention=row.base_retention,
        location=row.location,
        distance_km=row.distance_km,
        season=row.season,
        age_min=row.age_min,
        age_max=row.age_max,
        sex=row.sex,
        skills_accepted=_list(row.skills_accepted, file, f"skills_accepted[{row.employer}]"),
        skills_preferred=_list(
            row.skills_preferred or "any", file, f"skills_preferred[{row.employer}]"
        ),
        special_group=row.special_group,
        provenance=row.provenance,
    )


def _age_bands(scenario: Scenario) -> tuple[tuple[int, int], ...]:
    """The population's working-age bands (`PopulationParams.age_bands`: from
    laborer_min_age, split at middle_age_band_from and older_age_band_from, to
    laborer_max_age), read from its parameters alone (a test keeps the two equal)."""
    v = scenario.values("population")
    edges = (v["laborer_min_age"], v["middle_age_band_from"], v["older_age_band_from"],
             v["laborer_max_age"] + 1)  # fmt: skip
    return tuple((lo, hi - 1) for lo, hi in zip(edges[:-1], edges[1:], strict=True))


def load_jobs_params(scenario: Scenario) -> JobsParams:
    """Read data/jobs/ with the scenario's overrides, scale the capacities, validate."""
    pfile = scenario.table("jobs", "parameters")
    where = scenario.path if scenario.overrides.get("jobs") else pfile
    v = scenario.values("jobs")
    file = scenario.table("jobs", "programmes")
    table = _read_programmes(file)
    _check_values(v, where)
    closed = _closed(v, table, where)
    scaled = _capacities(table, v, closed, scenario.scale)
    employers = tuple(
        _employer(row, cap, file)
        for row, cap in zip(table.itertuples(index=False), scaled, strict=True)
    )
    return JobsParams(
        employers=employers,
        fairness_floor=v["fairness_floor"],
        sex_balance_floor=v["sex_balance_floor"],
        age_balance_floor=v["age_balance_floor"],
        household_floor_hard=v["household_floor_hard"],
        carer_new_town_only=v["carer_new_town_only"],
        skill_match_bonus=v["skill_match_bonus"],
        special_priority_bonus=v["special_priority_bonus"],
        household_uncovered_penalty=v["household_uncovered_penalty"],
        migration_cost=v["migration_cost_yuan_month"],
        young_worker_age=v["young_worker_age"],
        young_worker_local_penalty=v["young_worker_local_penalty"],
        older_worker_age=v["older_worker_age"],
        older_worker_away_penalty=v["older_worker_away_penalty"],
        care_duty_away_penalty=v["care_duty_away_penalty"],
        distance_penalty_per_1000km=v["distance_penalty_per_1000km"],
        care_places=round(v["care_places"] * scenario.scale),
        lasting_period_months=v["lasting_period_months"],
        objective_mode=v["objective_mode"],
        income_weight=v["income_weight"],
        time_limit=float(v["solver_time_limit"]),
        reported_employed=int(headline("employed_two_months", scenario.data_dir).reported),
        reported_rate=float(headline("employment_rate", scenario.data_dir).reported),
        closed=closed,
        optimiser_matters_percent=v["optimiser_matters_percent"],
        age_bands=_age_bands(scenario),
    )
