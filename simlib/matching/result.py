"""The plan as tidy tables (one row per laborer, employer, county, household) and the
summary that `simlib match --json` prints; every figure is computed from the tables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simlib.matching.instance import Instance
from simlib.matching.solve import TOL, SolveLog, check_assignment

if TYPE_CHECKING:
    from simlib.baselines import Baseline

REASON_NOWHERE = "not eligible for any programme"
REASON_FULL = "every programme this laborer is eligible for is full"
REASON_CARE = "stays for the household's care duties; every local programme they fit is full"
REASON_FLOOR = (
    "eligible places left, but a fairness or balance floor or the care rule holds them back"
)
REASON_NO_PLACES = "no places: no employer has any capacity"
REASON_HH_NOWHERE = "no member is eligible for any programme"
REASON_HH_FULL = "every programme its members are eligible for is full"
REASON_HH_RELAXED = "household rule not hard (soft penalty) and not covered"


def _reasons(inst: Instance, employer: np.ndarray) -> np.ndarray:
    """Why each unemployed laborer has no job ('' for the employed)."""
    reason = np.full(len(employer), "", dtype=object)
    if not inst.employers or sum(e.capacity for e in inst.employers) == 0:
        reason[employer < 0] = REASON_NO_PLACES
        return reason
    counts = np.bincount(employer[employer >= 0], minlength=len(inst.employers))
    full = counts >= np.array([e.capacity for e in inst.employers])
    idle = employer < 0
    nowhere = ~inst.eligible.any(axis=1)
    all_full = ~(inst.eligible & ~full).any(axis=1)
    local_full = ~(inst.eligible & ~full & ~inst.away).any(axis=1)
    bound = np.isin(inst.laborers["household_id"].to_numpy(), inst.care_bound)
    reason[idle & nowhere] = REASON_NOWHERE
    reason[idle & ~nowhere & all_full] = REASON_FULL
    care = idle & ~nowhere & ~all_full & local_full & bound
    reason[care] = REASON_CARE
    reason[idle & ~nowhere & ~all_full & ~care] = REASON_FLOOR
    return reason


def assignment_table(inst: Instance, employer: np.ndarray) -> pd.DataFrame:
    """One row per laborer: who, stay-or-go, where, what they earn and, if idle, why."""
    lab = inst.laborers
    emps = inst.employers
    n = len(lab)
    hired = employer >= 0
    idx = np.where(hired, employer, 0)

    def pick(values) -> np.ndarray:
        if not emps:
            return np.full(n, "" if isinstance(values, list) else 0.0)
        values = np.asarray(values)
        return np.where(hired, values[idx], "" if values.dtype.kind in "OUS" else 0.0)

    p = inst.probability[np.arange(n), idx] if emps and n else np.zeros(n)
    p = np.where(hired, p, 0.0)
    wage = pick([e.wage for e in emps]) if emps else np.zeros(n)
    net = pick(inst.net_wage) if emps else np.zeros(n)
    return pd.DataFrame(
        {
            "person_id": lab["person_id"].to_numpy(),
            "household_id": lab["household_id"].to_numpy(),
            "county": lab["county"].to_numpy(),
            "sex": lab["sex"].to_numpy(),
            "age": lab["age"].to_numpy(),
            "skill": lab["skill"].to_numpy(),
            "carer": lab["carer"].to_numpy(bool) if "carer" in lab else np.zeros(n, bool),
            "care_duty": lab["care_duty"].to_numpy(bool),
            "willing_to_migrate": lab["willing_to_migrate"].to_numpy(bool),
            "stay_status": inst.status,
            "programme": pick([e.programme for e in emps]),
            "employer": pick([e.employer for e in emps]),
            "employer_index": employer,
            "location": pick([e.location for e in emps]),
            "places": pick([e.places for e in emps]),
            "wage_yuan_month": wage.astype(float),
            "net_wage_yuan_month": net.astype(float),
            "success_probability": p,
            "expected_income": p * net.astype(float),
            "reason": _reasons(inst, employer),
        }
    )


@dataclass
class MatchResult:
    """The plan, one row per laborer, with the solves' log and the baselines."""

    assignments: pd.DataFrame
    instance: Instance
    log: SolveLog
    solver: str
    formulation: str
    model_size: dict[str, int]
    baselines: dict[str, Baseline] = field(default_factory=dict)
    scenario: str = ""
    seed: int | None = None
    households: pd.DataFrame | None = None
    marginal: dict[str, Any] | None = None  # re-solved marginal values (`marginal_values`)

    @property
    def greedy(self) -> Baseline | None:
        return self.baselines.get("greedy")

    @property
    def random(self) -> Baseline | None:
        return self.baselines.get("random")

    @property
    def optimal(self) -> bool:
        return self.log.status == "optimal" and self.max_constraint_violation <= TOL

    @property
    def verified(self) -> bool:
        """A plan that passed every check: proven optimal, or feasible within a time limit."""
        return (
            self.log.status in ("optimal", "time_limit_feasible")
            and self.max_constraint_violation <= TOL
        )

    @property
    def employed(self) -> int:
        return int((self.assignments["employer"] != "").sum())

    @cached_property
    def max_constraint_violation(self) -> float:
        """The worst rule violation, checked person by person (computed once)."""
        employer = self.assignments["employer_index"].to_numpy()
        checked = check_assignment(
            self.instance, employer, household_floor=self.log.status != "no_places"
        )
        return max([self.log.max_violation, *checked.values()], default=0.0)

    def by_county(self) -> pd.DataFrame:
        a = self.assignments
        table = (
            pd.DataFrame(
                {
                    "county": a["county"],
                    "employed": (a["employer"] != "").astype(int),
                    "exported": (a["location"] == "away").astype(int),
                }
            )
            .groupby("county")
            .agg(
                laborers=("employed", "size"),
                employed=("employed", "sum"),
                exported=("exported", "sum"),
            )
        )
        table["rate"] = table["employed"] / table["laborers"]
        return table.reset_index()

    def by_programme(self) -> pd.DataFrame:
        """One row per employer: places (reported or assumed), assigned, and the re-solved
        marginal value of one more place (NaN unless computed from a verified plan)."""
        a = self.assignments
        assigned = a[a["employer"] != ""].groupby("employer").size()
        lasting = a[a["employer"] != ""].groupby("employer")["success_probability"].sum()
        per_place = (self.marginal or {}).get("place", {})
        rows = []
        for emp in self.instance.employers:
            value = per_place.get(emp.employer)
            rows.append(
                {
                    "programme": emp.programme,
                    "employer": emp.employer,
                    "location": emp.location,
                    "places": emp.places,
                    "capacity": emp.capacity,
                    "assigned": int(assigned.get(emp.employer, 0)),
                    "expected_lasting": float(lasting.get(emp.employer, 0.0)),
                    "wage_yuan_month": emp.wage,
                    "marginal_value": np.nan if value is None else value,
                    "marginal_income_yuan_month": np.nan,
                }
            )
        return pd.DataFrame(rows)

    def households_table(self) -> pd.DataFrame:
        """One row per household with laborers: covered, care-bound, and why not covered."""
        a = self.assignments
        flags = pd.DataFrame(
            {
                "household_id": a["household_id"],
                "county": a["county"],
                "hired": a["employer"] != "",
                "local": a["location"] == "new_town",
                "nowhere": a["reason"] == REASON_NOWHERE,
                "blocked": a["reason"].isin([REASON_NOWHERE, REASON_FULL, REASON_NO_PLACES]),
            }
        )
        per = flags.groupby("household_id", sort=True).agg(
            county=("county", "first"),
            laborers=("hired", "size"),
            hired=("hired", "any"),
            local_workers=("local", "sum"),
            nowhere=("nowhere", "all"),
            blocked=("blocked", "all"),
        )
        per["care_bound"] = per.index.isin(self.instance.care_bound)
        return per.reset_index()

    def households_without_worker(self) -> pd.DataFrame:
        """Households with laborers but nobody employed, and why."""
        per = self.households_table()
        per = per[~per["hired"]]
        if self.log.status == "no_places":
            reason = np.full(len(per), REASON_NO_PLACES, dtype=object)
        else:
            reason = np.where(
                per["nowhere"],
                REASON_HH_NOWHERE,
                np.where(per["blocked"], REASON_HH_FULL, REASON_HH_RELAXED),
            )
        return pd.DataFrame(
            {
                "household_id": per["household_id"].to_numpy(),
                "county": per["county"].to_numpy(),
                "laborers": per["laborers"].to_numpy(),
                "reason": reason,
            }
        )

    def unemployed(self) -> pd.DataFrame:
        a = self.assignments
        return a.loc[
            a["employer"] == "", ["person_id", "household_id", "county", "stay_status", "reason"]
        ]

    def flows(self) -> pd.DataFrame:
        a = self.assignments
        return pd.crosstab(a["county"], a["programme"].replace("", "none"))

    def by_status(self) -> pd.DataFrame:
        """Laborers by stay-or-go status: how many, employed locally, exported, idle."""
        a = self.assignments
        table = pd.DataFrame(
            {
                "stay_status": a["stay_status"],
                "local": (a["location"] == "new_town").astype(int),
                "away": (a["location"] == "away").astype(int),
                "idle": (a["employer"] == "").astype(int),
            }
        ).groupby("stay_status")
        return table.agg(
            laborers=("idle", "size"),
            local=("local", "sum"),
            exported=("away", "sum"),
            idle=("idle", "sum"),
        ).reset_index()

    def employment_decided_by(self) -> dict[str, Any]:
        """Which input decides how many are employed: the places, or who can take them."""
        p = self.instance.params
        a = self.assignments
        local_places = p.places("new_town")
        away_places = p.places("away")
        local = int((a["location"] == "new_town").sum())
        away = int((a["location"] == "away").sum())
        unfilled = {"local": local_places - local, "away": away_places - away}
        if unfilled["local"] == 0 and unfilled["away"] == 0:
            text = "the places: every local place and all export demand is filled"
        elif unfilled["local"] == 0:
            text = (
                f"the local places (all {local_places:,} filled) and who may go: "
                f"{unfilled['away']:,} export places stay empty because no one else is "
                f"willing and able to migrate (or the care rule keeps them)"
            )
        elif unfilled["away"] == 0:
            text = (
                f"export demand (all {away_places:,} filled); {unfilled['local']:,} local "
                f"places stay empty for lack of eligible laborers"
            )
        else:
            text = (
                f"who is eligible: {unfilled['local']:,} local and {unfilled['away']:,} "
                f"export places stay empty"
            )
        return {"text": text, "unfilled_places": unfilled}

    def summary(self) -> dict[str, Any]:
        a = self.assignments
        inst = self.instance
        p = inst.params
        laborers = len(a)
        employed = self.employed
        hh_with = int(a["household_id"].nunique())
        without = len(self.households_without_worker())
        lasting = float(a["success_probability"].sum())
        income = float(a["expected_income"].sum())
        by_programme: dict[str, Any] = {}
        for row in self.by_programme().itertuples():
            g = by_programme.setdefault(
                row.programme, {"capacity": 0, "assigned": 0, "employers": {}}
            )
            g["capacity"] += int(row.capacity)
            g["assigned"] += int(row.assigned)
            mv = None if pd.isna(row.marginal_value) else round(float(row.marginal_value), 6)
            g["employers"][row.employer] = {
                "capacity": int(row.capacity),
                "assigned": int(row.assigned),
                "places": row.places,
                "wage_yuan_month": float(row.wage_yuan_month),
                "marginal_value": mv,
                "marginal_income_yuan_month": None,
            }
        for g in by_programme.values():
            values = [e["marginal_value"] for e in g["employers"].values()]
            g["marginal_value"] = None if None in values else max(values, default=0.0)
            g["marginal_income_yuan_month"] = None
        objective = {
            s["stage"]: round(s["objective"], 6) for s in self.log.stages if "objective" in s
        }
        must = a["stay_status"].str.startswith("must stay")
        local = a["location"] == "new_town"
        away = a["location"] == "away"
        decided = self.employment_decided_by()
        result = {
            "scenario": self.scenario,
            "seed": self.seed,
            "solver": self.solver,
            "formulation": self.formulation,
            "objective_mode": p.objective_mode,
            "status": self.log.status,
            "optimal": self.optimal,
            "gap": None if self.log.gap is None else round(self.log.gap, 6),
            "laborers": laborers,
            "employed": employed,
            "employment_rate": round(employed / laborers, 6) if laborers else 0.0,
            "local_employed": int(local.sum()),
            "exported": int(away.sum()),
            "must_stay_laborers": int(must.sum()),
            "must_stay_employed": int((must & (a["employer"] != "")).sum()),
            "expected_lasting_employed": round(lasting, 4),
            "lasting_period_months": p.lasting_period_months,
            "expected_income_yuan_month": round(income, 2),
            "households_with_laborers": hh_with,
            "households_without_worker": without,
            "households_no_one_can_cover": len(inst.hopeless),
            "households_care_bound": len(inst.care_bound),
            "willing_to_migrate": int(a["willing_to_migrate"].sum()),
            "stay_status": {
                r.stay_status: {
                    "laborers": int(r.laborers),
                    "local": int(r.local),
                    "exported": int(r.exported),
                    "idle": int(r.idle),
                }
                for r in self.by_status().itertuples()
            },
            "local_places": {
                "reported": p.places("new_town", "reported"),
                "assumed": p.places("new_town", "assumed"),
            },
            "local_employed_reported_places": int((local & (a["places"] == "reported")).sum()),
            "local_employed_assumed_places": int((local & (a["places"] == "assumed")).sum()),
            "export_demand": p.places("away"),
            "employment_decided_by": decided["text"],
            "unfilled_places": decided["unfilled_places"],
            # the last stage's objective (expected net income in yuan/month when lexicographic)
            "objective": list(objective.values())[-1] if objective else None,
            "objectives": objective,
            "by_county": {
                r.county: {
                    "laborers": int(r.laborers),
                    "employed": int(r.employed),
                    "exported": int(r.exported),
                    "rate": round(float(r.rate), 6),
                }
                for r in self.by_county().itertuples()
            },
            "by_programme": by_programme,
            "unemployed_by_reason": {
                k: int(v) for k, v in self.unemployed()["reason"].value_counts().items()
            },
            "build_seconds": round(self.log.build_seconds, 4),
            "solve_seconds": round(self.log.solve_seconds, 4),
            "stages": self.log.stages,
            "max_constraint_violation": self.max_constraint_violation,
            "max_integrality_gap": self.log.max_fraction,
            "model_size": self.model_size,
            "elastic": self.log.elastic,
            "capacity": p.capacity,
            "reported_employed": p.reported_employed,
            "reported_rate": p.reported_rate,
            "marginal_values": self.marginal,
        }
        result.update(self._baseline_keys(employed, without, lasting, income))
        return result

    def _baseline_keys(self, employed, without, lasting, income) -> dict[str, Any]:
        from simlib.baselines import best_baseline

        out: dict[str, Any] = {}
        if not self.baselines:
            return out
        out["baselines"] = {name: b.figures() for name, b in self.baselines.items()}
        for base in (self.greedy, self.random):
            if base is not None:
                out[f"{base.name}_employed"] = base.employed
                out[f"{base.name}_households_without_worker"] = base.households_without_worker
        if self.greedy is not None:
            out["gain_over_greedy"] = employed - self.greedy.employed
            out["households_gain_over_greedy"] = self.greedy.households_without_worker - without
        best = best_baseline(self.baselines)
        out["best_baseline"] = best.figures()
        out["gain_over_best_baseline"] = {
            "employed": employed - best.employed,
            # households the plan covers that the best baseline leaves without a worker
            "households_without_worker": best.households_without_worker - without,
            "expected_lasting_employed": round(lasting - best.expected_lasting_employed, 4),
            "expected_income_yuan_month": round(income - best.income, 2),
        }
        return out


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    temp = path.with_name(f".{path.name}.tmp")
    table.to_csv(temp, index=False)
    os.replace(temp, path)


def write_outputs(result: MatchResult, out: str | Path) -> list[Path]:
    """The result tables as CSV files in `out` (created if needed)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "assignments.csv": result.assignments.drop(columns=["employer_index"]),
        "by_county.csv": result.by_county(),
        "by_programme.csv": result.by_programme(),
        "by_status.csv": result.by_status(),
        "households_without_worker.csv": result.households_without_worker(),
        "unemployed.csv": result.unemployed(),
    }
    paths = []
    for name, table in tables.items():
        _write_csv(table, out / name)
        paths.append(out / name)
    return paths
