"""The plan as tidy tables (one row per laborer, employer, county, household, plan) and the
summary that `simlib match --json` prints; every figure is computed from the tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simlib.files import write_atomic
from simlib.matching.baselines import Baseline, best_baseline
from simlib.matching.instance import MOBILE, Instance
from simlib.matching.solve import TOL, SolveLog, check_assignment, plan_objective

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


BREACH = "breach_"  # prefix of the baselines table's columns: the worst breach of each rule
MODEL_SIZE = ("classes", "household_types", "variables", "constraints", "nonzeros")


def baselines_table(rules: Mapping[str, Baseline]) -> pd.DataFrame:
    """One row per rule of thumb (in the order given): whether it keeps the hard rules and
    the floors, its figures, the time it took, and its worst breach of each rule checked."""
    rows = [
        {
            "rule": b.name,
            "label": b.label,
            "keeps_rules": b.keeps_rules,
            "keeps_floors": b.keeps_floors,
            "employed": b.employed,
            "households_without_worker": b.households_without_worker,
            "expected_lasting_employed": b.expected_lasting_employed,
            "expected_income_yuan_month": b.income,
            "objective": b.objective,
            "seconds": b.seconds,
            **{BREACH + rule: worst for rule, worst in b.checks.items()},
        }
        for b in rules.values()
    ]
    columns = ["rule", "label", "keeps_rules", "keeps_floors", "employed",
               "households_without_worker", "expected_lasting_employed",
               "expected_income_yuan_month", "objective", "seconds"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns if not rows else None)


def rule_plans_table(rules: Mapping[str, Baseline], person_id: np.ndarray) -> pd.DataFrame:
    """One row per rule and laborer: the employer index the rule gives them (-1: none)."""
    names = list(rules)
    return pd.DataFrame(
        {
            "rule": np.repeat(np.array(names, dtype=object), len(person_id)),
            "person_id": np.tile(person_id, len(names)),
            "employer_index": np.concatenate(
                [rules[n].employer for n in names] or [np.zeros(0, int)]
            ),
        }
    )


def runs_table(log: SolveLog, model_size: Mapping[str, int], baselines: pd.DataFrame):
    """One row per solve: each stage of the optimiser (with the size of its model), then
    each rule of thumb (status: whether it keeps the hard rules)."""
    stages = log.stages or [{"stage": "", "status": log.status}]
    size = {k: model_size.get(k) for k in MODEL_SIZE}
    rows = [
        {
            "solve": "optimiser",
            "stage": str(st.get("stage", "")),
            "status": st.get("status", log.status),
            "objective": st.get("objective", np.nan),
            "seconds": float(st.get("seconds", 0.0)),
            **size,
        }
        for st in stages
    ]
    for b in baselines.itertuples(index=False):
        status = "keeps_rules" if b.keeps_rules else "breaks_rules"
        rows.append({"solve": b.rule, "stage": "rule", "status": status,
                     "objective": b.objective, "seconds": b.seconds})  # fmt: skip
    table = pd.DataFrame(rows)
    for k in MODEL_SIZE:  # whole numbers where the optimiser built a model, else missing
        table[k] = table[k].astype("Int64")
    return table


MARGINAL_UNIT = "expected lasting jobs"
CARE_PLACE = "(care place)"  # the marginals table's row for one more care place


def marginals_table(place: Mapping[str, float | None], away: set[str], care: float | None):
    """One row per re-solve: one more place at an employer (`kind` place, `away` for an
    export seat) and one more care place; `value` in expected lasting jobs, NaN where the
    re-solve was not proven optimal."""
    rows = [{"kind": "place", "employer": e, "away": e in away, "value": v}
            for e, v in place.items()]  # fmt: skip
    rows.append({"kind": "care_place", "employer": CARE_PLACE, "away": False, "value": care})
    table = pd.DataFrame(rows)
    table["value"] = table["value"].astype(float)
    return table


@dataclass(frozen=True)
class MatchResult:
    """The plan, one row per laborer; the rules of thumb, one row per rule (and one per rule
    and laborer for their plans); the solves, one row per solve. Frozen once built (a
    marginal re-solve makes a new one)."""

    assignments: pd.DataFrame
    instance: Instance
    log: SolveLog
    solver: str
    formulation: str
    runs: pd.DataFrame  # runs_table: one row per optimiser stage and per rule of thumb
    baselines: pd.DataFrame = field(default_factory=lambda: baselines_table({}))
    rule_plans: pd.DataFrame = field(default_factory=lambda: rule_plans_table({}, np.zeros(0)))
    scenario: str = ""
    seed: int | None = None
    households: pd.DataFrame | None = None
    # one row per re-solve for a marginal value (`marginals_table`); None: not computed
    marginals: pd.DataFrame | None = None

    @classmethod
    def build(cls, assignments, instance, log, model_size, rules, **rest) -> MatchResult:
        """A result from the solve's log and model size and the rules' plans (by name)."""
        baselines = baselines_table(rules)
        return cls(
            assignments=assignments,
            instance=instance,
            log=log,
            runs=runs_table(log, model_size, baselines),
            baselines=baselines,
            rule_plans=rule_plans_table(rules, assignments["person_id"].to_numpy()),
            **rest,
        )

    @property
    def marginal(self) -> dict[str, Any] | None:
        """The marginal values as `simlib match --json` prints them (None: not computed):
        one more place at each employer, one more export seat (the away ones), one more
        care place, in expected lasting jobs; None where a re-solve was not proven optimal."""
        if self.marginals is None:
            return None
        t = self.marginals
        value = {
            row.employer: None if pd.isna(row.value) else float(row.value)
            for row in t.itertuples(index=False)
        }
        places = t[t["kind"] == "place"]
        care = t.loc[t["kind"] == "care_place", "employer"]
        return {
            "unit": MARGINAL_UNIT,
            "place": {e: value[e] for e in places["employer"]},
            "export_seat": {e: value[e] for e in places.loc[places["away"], "employer"]},
            "care_place": value[care.iloc[0]],
        }

    @property
    def model_size(self) -> dict[str, int]:
        """The optimiser's model: classes and household types, and (when a model was
        built) its variables, constraints and nonzeros."""
        first = self.runs[self.runs["solve"] == "optimiser"].iloc[0]
        return {k: int(first[k]) for k in MODEL_SIZE if not pd.isna(first[k])}

    @cached_property
    def rules(self) -> dict[str, Baseline]:
        """The rules of thumb by name, each with its plan, as the rules module gives them
        (read from the baselines and rule_plans tables)."""
        plans = dict(tuple(self.rule_plans.groupby("rule", sort=False)["employer_index"]))
        breach = [c for c in self.baselines.columns if c.startswith(BREACH)]
        return {
            r["rule"]: Baseline(
                name=r["rule"],
                employer=plans[r["rule"]].to_numpy(),
                employed=int(r["employed"]),
                households_without_worker=int(r["households_without_worker"]),
                expected_lasting_employed=float(r["expected_lasting_employed"]),
                income=float(r["expected_income_yuan_month"]),
                objective=float(r["objective"]),
                checks={c[len(BREACH) :]: float(r[c]) for c in breach if not pd.isna(r[c])},
                seconds=float(r["seconds"]),
            )
            for r in self.baselines.to_dict("records")
        }

    @property
    def greedy(self) -> Baseline | None:
        return self.rules.get("greedy")

    @property
    def random(self) -> Baseline | None:
        return self.rules.get("random")

    @property
    def best_baseline(self) -> Baseline | None:
        return best_baseline(self.rules)

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

    @property
    def no_places(self) -> bool:
        return sum(e.capacity for e in self.instance.employers) == 0

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
        table = _tally(
            "county",
            a["county"].to_numpy(),
            employed=(a["employer"] != "").to_numpy(),
            exported=(a["location"] == "away").to_numpy(),
        )
        table["rate"] = table["employed"] / table["laborers"]
        return table

    def by_programme(self) -> pd.DataFrame:
        """One row per employer: places (reported or assumed), assigned, and the re-solved
        marginal value of one more place (NaN unless computed from a verified plan)."""
        a = self.assignments
        hired = a[a["employer"] != ""]
        assigned = hired.groupby("employer").size()
        lasting = hired.groupby("employer")["success_probability"].sum()
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
                }
            )
        return pd.DataFrame(rows)

    def households_table(self) -> pd.DataFrame:
        """One row per household with laborers: covered, care-bound, and why not covered."""
        return self._households.copy()

    @cached_property
    def _households(self) -> pd.DataFrame:
        a = self.assignments
        reason = a["reason"].to_numpy()
        nowhere = reason == REASON_NOWHERE
        blocked = np.isin(reason, [REASON_NOWHERE, REASON_FULL, REASON_NO_PLACES])
        per = _tally(
            "household_id",
            a["household_id"].to_numpy(),
            hired=(a["employer"] != "").to_numpy(),
            local_workers=(a["location"] == "new_town").to_numpy(),
            not_nowhere=~nowhere,
            not_blocked=~blocked,
        )
        # each household's county, from its first laborer (households in the tally's order)
        _, first = np.unique(a["household_id"].to_numpy(), return_index=True)
        per.insert(1, "county", a["county"].to_numpy()[first])
        per["hired"] = per["hired"] > 0
        per["nowhere"] = per.pop("not_nowhere") == 0
        per["blocked"] = per.pop("not_blocked") == 0
        per["care_bound"] = per["household_id"].isin(self.instance.care_bound)
        return per

    def households_without_worker(self) -> pd.DataFrame:
        """Households with laborers but nobody employed, and why."""
        return self._without_worker.copy()

    @cached_property
    def _without_worker(self) -> pd.DataFrame:
        per = self._households
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
        return _tally(
            "stay_status",
            a["stay_status"].to_numpy(),
            local=(a["location"] == "new_town").to_numpy(),
            exported=(a["location"] == "away").to_numpy(),
            idle=(a["employer"] == "").to_numpy(),
        )

    def plans(self) -> pd.DataFrame:
        """One row per plan: the optimised one, then each rule of thumb, with the figures
        they are compared on (the optimiser's objective first)."""
        a = self.assignments
        rows = [
            {
                "plan": "optimised",
                "keeps_rules": self.verified,
                "objective": plan_objective(self.instance, a["employer_index"].to_numpy()),
                "expected_lasting_employed": float(a["success_probability"].sum()),
                "employed": self.employed,
                "households_without_worker": len(self.households_without_worker()),
                "expected_income_yuan_month": float(a["expected_income"].sum()),
            }
        ]
        for b in self.baselines.itertuples(index=False):
            rows.append(
                {
                    "plan": b.rule,
                    "keeps_rules": b.keeps_rules,
                    "objective": b.objective,
                    "expected_lasting_employed": b.expected_lasting_employed,
                    "employed": b.employed,
                    "households_without_worker": b.households_without_worker,
                    "expected_income_yuan_month": b.expected_income_yuan_month,
                }
            )
        return pd.DataFrame(rows)

    def run_figures(self) -> pd.DataFrame:
        """One row for the plan (a matching is one deterministic run): the headline figures
        the sweep and the summary read."""
        a = self.assignments
        employed = self.employed
        laborers = len(a)
        return pd.DataFrame(
            [
                {
                    "replication": 0,
                    "status": self.log.status,
                    "laborers": laborers,
                    "employed": employed,
                    "employment_rate": employed / laborers if laborers else 0.0,
                    "local_employed": int((a["location"] == "new_town").sum()),
                    "exported": int((a["location"] == "away").sum()),
                    "expected_lasting_employed": float(a["success_probability"].sum()),
                    "expected_income_yuan_month": float(a["expected_income"].sum()),
                    "households_without_worker": len(self.households_without_worker()),
                }
            ]
        )

    def employment_anatomy(self) -> dict[str, Any]:
        """What makes up the employed: local places by source, the laborers willing and able
        to go, those of them kept home as carers, and the export demand left empty.

        employed = local_reported + local_assumed + exported, and
        exported = willing_and_able_to_go - care_keepers - mobile_not_exported_otherwise."""
        a, inst, p = self.assignments, self.instance, self.instance.params
        local = (a["location"] == "new_town").to_numpy()
        away = (a["location"] == "away").to_numpy()
        reported = (a["places"] == "reported").to_numpy()
        mobile = a["stay_status"].isin(MOBILE).to_numpy()
        carer_home = a["household_id"].isin(inst.care_bound).to_numpy()
        local_places, demand = p.places("new_town"), p.places("away")
        return {
            "laborers": len(a),
            "employed": self.employed,
            "local_reported": int((local & reported).sum()),
            "local_assumed": int((local & ~reported).sum()),
            "exported": int(away.sum()),
            "willing_and_able_to_go": int(mobile.sum()),
            "care_keepers": int((mobile & ~away & carer_home).sum()),
            "mobile_not_exported_otherwise": int((mobile & ~away & ~carer_home).sum()),
            "mobile_in_local_places": int((mobile & local).sum()),
            "must_stay_idle": int((~mobile & ~local).sum()),
            "local_places": local_places,
            "local_places_unfilled": local_places - int(local.sum()),
            "export_demand": demand,
            "export_demand_unfilled": demand - int(away.sum()),
            "laborer_basis": {
                "reported_employed": p.reported_employed,
                "reported_rate": p.reported_rate,
                "implied_laborers_full_scale": round(p.reported_employed / p.reported_rate),
            },
        }

    def employment_decided_by(self) -> dict[str, Any]:
        """Which input decides how many are employed: the places, or who can take them."""
        p = self.instance.params
        a = self.assignments
        local_places = p.places("new_town")
        away_places = p.places("away")
        local = int((a["location"] == "new_town").sum())
        away = int((a["location"] == "away").sum())
        unfilled = {"local": local_places - local, "away": away_places - away}
        return {"text": _decided_text(self, unfilled), "unfilled_places": unfilled}

    def summary(self) -> dict[str, Any]:
        result = _headline(self)
        result.update(_places_keys(self))
        result.update(_solve_keys(self))
        result.update(_baseline_keys(self))
        return result


def _tally(key: str, values: np.ndarray, **flags: np.ndarray) -> pd.DataFrame:
    """One row per distinct value of `key` (sorted): how many rows (`laborers`) and how
    many of them carry each flag (counted with numpy: the summary is read at every run)."""
    if values.dtype == object:  # strings: hashing them is several times faster than sorting
        codes, names = pd.factorize(values, sort=True)
    else:
        names, codes = np.unique(values, return_inverse=True)
    table = {key: names, "laborers": np.bincount(codes, minlength=len(names))}
    for name, flag in flags.items():
        table[name] = np.bincount(codes, weights=flag, minlength=len(names)).astype(int)
    return pd.DataFrame(table)


def _decided_text(result: MatchResult, unfilled: dict[str, int]) -> str:
    p = result.instance.params
    if result.no_places:
        return "there are no places: every employer is closed or has no capacity"
    if len(result.assignments) == 0:
        return "there are no laborers to employ"
    local_places, away_places = p.places("new_town"), p.places("away")
    if unfilled["local"] == 0 and unfilled["away"] == 0:
        return "the places: every local place and all export demand is filled"
    if unfilled["local"] == 0:
        return (
            f"the local places (all {local_places:,} filled) and who may go: "
            f"{unfilled['away']:,} export places stay empty because no one else is "
            f"willing and able to migrate (or the care rule keeps them)"
        )
    if unfilled["away"] == 0:
        return (
            f"export demand (all {away_places:,} filled); {unfilled['local']:,} local "
            f"places stay empty for lack of eligible laborers"
        )
    return f"who is eligible: {unfilled['local']:,} local and {unfilled['away']:,} export places stay empty"


def _headline(r: MatchResult) -> dict[str, Any]:
    a, inst, p = r.assignments, r.instance, r.instance.params
    laborers, employed = len(a), r.employed
    must = a["stay_status"].str.startswith("must stay")
    return {
        "scenario": r.scenario,
        "seed": r.seed,
        "solver": r.solver,
        "formulation": r.formulation,
        "objective_mode": p.objective_mode,
        "status": r.log.status,
        "optimal": r.optimal,
        "gap": None if r.log.gap is None else round(r.log.gap, 6),
        "laborers": laborers,
        "employed": employed,
        "employment_rate": round(employed / laborers, 6) if laborers else 0.0,
        "local_employed": int((a["location"] == "new_town").sum()),
        "exported": int((a["location"] == "away").sum()),
        "must_stay_laborers": int(must.sum()),
        "must_stay_employed": int((must & (a["employer"] != "")).sum()),
        "expected_lasting_employed": round(float(a["success_probability"].sum()), 4),
        "lasting_period_months": p.lasting_period_months,
        "expected_income_yuan_month": round(float(a["expected_income"].sum()), 2),
        "households_with_laborers": int(a["household_id"].nunique()),
        "households_without_worker": len(r.households_without_worker()),
        "households_no_one_can_cover": len(inst.no_one_can_cover),
        "households_without_places": len(inst.without_places),
        "households_care_bound": len(inst.care_bound),
        "willing_to_migrate": int(a["willing_to_migrate"].sum()),
        "employment_anatomy": r.employment_anatomy(),
        "stay_status": {
            row.stay_status: {
                "laborers": int(row.laborers),
                "local": int(row.local),
                "exported": int(row.exported),
                "idle": int(row.idle),
            }
            for row in r.by_status().itertuples()
        },
        "reported_employed": p.reported_employed,
        "reported_rate": p.reported_rate,
    }


def _places_keys(r: MatchResult) -> dict[str, Any]:
    a, p = r.assignments, r.instance.params
    local = a["location"] == "new_town"
    decided = r.employment_decided_by()
    by_programme: dict[str, Any] = {}
    for row in r.by_programme().itertuples():
        g = by_programme.setdefault(row.programme, {"capacity": 0, "assigned": 0, "employers": {}})
        g["capacity"] += int(row.capacity)
        g["assigned"] += int(row.assigned)
        mv = None if pd.isna(row.marginal_value) else round(float(row.marginal_value), 6)
        g["employers"][row.employer] = {
            "capacity": int(row.capacity),
            "assigned": int(row.assigned),
            "places": row.places,
            "wage_yuan_month": float(row.wage_yuan_month),
            "marginal_value": mv,
        }
    for g in by_programme.values():
        values = [e["marginal_value"] for e in g["employers"].values()]
        g["marginal_value"] = None if None in values else max(values, default=0.0)
    return {
        "local_places": {
            "reported": p.places("new_town", "reported"),
            "assumed": p.places("new_town", "assumed"),
        },
        "local_employed_reported_places": int((local & (a["places"] == "reported")).sum()),
        "local_employed_assumed_places": int((local & (a["places"] == "assumed")).sum()),
        "export_demand": p.places("away"),
        "employment_decided_by": decided["text"],
        "unfilled_places": decided["unfilled_places"],
        "capacity": p.capacity,
        "by_county": {
            row.county: {
                "laborers": int(row.laborers),
                "employed": int(row.employed),
                "exported": int(row.exported),
                "rate": round(float(row.rate), 6),
            }
            for row in r.by_county().itertuples()
        },
        "by_programme": by_programme,
        "unemployed_by_reason": {
            k: int(v) for k, v in r.unemployed()["reason"].value_counts().items()
        },
        "marginal_values": r.marginal,
    }


def _solve_keys(r: MatchResult) -> dict[str, Any]:
    objective = {s["stage"]: round(s["objective"], 6) for s in r.log.stages if "objective" in s}
    return {
        # the last stage's objective (expected net income in yuan/month when lexicographic)
        "objective": list(objective.values())[-1] if objective else None,
        "objectives": objective,
        "build_seconds": round(r.log.build_seconds, 4),
        "solve_seconds": round(r.log.solve_seconds, 4),
        "stages": r.log.stages,
        "max_constraint_violation": r.max_constraint_violation,
        "max_integrality_gap": r.log.max_fraction,
        "model_size": r.model_size,
        "elastic": r.log.elastic,
    }


def _baseline_keys(r: MatchResult) -> dict[str, Any]:
    """The rules of thumb, the best one that keeps every hard rule, and what the optimised
    plan gains over it: on its own objective (expected lasting employment) first."""
    if r.baselines.empty:
        return {}
    plans = r.plans().set_index("plan")
    me = plans.loc["optimised"]
    out: dict[str, Any] = {"baselines": {name: b.figures() for name, b in r.rules.items()}}
    for base in (r.greedy, r.random):
        if base is not None:
            out[f"{base.name}_employed"] = base.employed
            out[f"{base.name}_households_without_worker"] = base.households_without_worker
    if r.greedy is not None:
        out["gain_over_greedy"] = int(me["employed"]) - r.greedy.employed
        out["households_gain_over_greedy"] = r.greedy.households_without_worker - int(
            me["households_without_worker"]
        )
    best = r.best_baseline
    out["best_baseline"] = None if best is None else best.figures()
    threshold = r.instance.params.optimiser_matters_percent
    out["gain_over_best_baseline"] = None if best is None else _gain(me, best, threshold)
    # the same against the best rule that also keeps the county fairness floor
    fair = best_baseline(r.rules, floors=True)
    out["best_baseline_with_floors"] = None if fair is None else fair.figures()
    out["gain_over_best_baseline_with_floors"] = (
        None if fair is None else _gain(me, fair, threshold)
    )
    return out


def _gain(me: pd.Series, best: Baseline, threshold: float) -> dict[str, Any]:
    lasting = float(me["expected_lasting_employed"]) - best.expected_lasting_employed
    base = float(me["expected_lasting_employed"])
    percent = 100.0 * lasting / base if base else 0.0
    return {
        "expected_lasting": round(lasting, 4),
        "expected_lasting_percent": round(percent, 4),
        # the rule is nearly as good: within `optimiser_matters_percent` (1 %) of the optimum
        "nearly_as_good": abs(percent) <= threshold,
        "threshold_percent": threshold,
        "employed": int(me["employed"]) - best.employed,
        # households the plan covers that the best baseline leaves without a worker
        "households_without_worker": best.households_without_worker
        - int(me["households_without_worker"]),
        "expected_income_yuan_month": round(
            float(me["expected_income_yuan_month"]) - best.income, 2
        ),
        "objective": round(float(me["objective"] or 0.0) - best.objective, 4),
        "expected_lasting_employed": round(lasting, 4),  # the same, by its earlier name
    }


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    write_atomic(path, table.to_csv(index=False))


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
