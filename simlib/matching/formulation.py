"""The matching as an integer programme, aggregated (the one solved) and individual (the
reference), and the way back from class counts to people.

Data: classes c (size s_c, county, eligibility, success probability p_ce), employers e
(capacity k_e, local or away, net wage w_e), household types t (n_t households, their set
S_t of classes; care-bound or not: `simlib.matching.instance`).

Variables:
    x[c, e] >= 0 integer     laborers of class c employed by e (where c may work for e)
    v[t, w, k] >= 0 integer  households of type t whose designated worker is of class w
                             and whose designated carer (care-bound types) is of class k;
                             w = - : not covered (soft rule or elastic only),
                             k = - : freed from the care rule by a care place

Constraints:
    capacity[e]                 sum_c x[c, e] <= k_e
    class_size[c]               sum_e x[c, e] <= s_c
    household_roles[t]          sum_{w,k} v[t, w, k] = n_t
    designated_employed[c]      sum_e x[c, e] >= W_c = sum v[., c, .]
    carer_not_away[c]           sum_{e away} x[c, e] <= s_c - K_c,  K_c = sum v[., ., c]
    sole_carer_local[c]         sum_{e local} x[c, e] >= B_c = sum v[t, c, c] over types
                                with a single member of class c (worker and carer at once)
    care_places                 sum v[., ., -] <= care places
    fairness[county], sex_balance[s], age_balance[b]   E_g >= f (L_g / L) E

Objective (`simlib.matching.solve`): expected lasting employment sum p_ce x[c, e] (less a
penalty per uncovered household when the household rule is soft), then expected income
sum p_ce w_e x[c, e] with the first fixed.

Why it is exact (`disaggregate`): within a class, members are alike, so only how many are
employed locally (L), away (A) or not at all (U) matters, and which households need which
role from it: a worker (S1: needs a member in L or A), a carer (S2: L or U), both from a
single member (B1: L), or both from two or more members (B2: L, or one A and one U). By
Hall's theorem such an assignment exists iff L >= |B1|, L + A >= |S1| + |B1| + |B2| and
L + U >= |S2| + |B1| + |B2|, which are the three class rows above; conversely any plan
for people gives such counts. The tests check this against the individual model and brute
force.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pulp

from simlib.matching.instance import Instance

NONE = -1  # no class: an uncovered household (w) or one freed by a care place (k)


@dataclass
class Model:
    """A PuLP problem plus the pieces the stages, checks and re-solves need."""

    problem: pulp.LpProblem
    assign: dict[tuple[int, int], pulp.LpVariable]  # (unit, employer) -> variable
    lasting: pulp.LpAffineExpression  # expected lasting employment
    employed: pulp.LpAffineExpression
    income: pulp.LpAffineExpression  # expected net income, yuan/month
    capacity: dict[int, pulp.LpConstraint]
    care_places: pulp.LpConstraint | None = None
    uncovered: pulp.LpAffineExpression = field(default_factory=pulp.LpAffineExpression)
    slacks: dict[str, dict[str, pulp.LpVariable]] = field(default_factory=dict)
    roles: dict[tuple[int, int, int], pulp.LpVariable] = field(default_factory=dict)
    extra: list[pulp.LpVariable] = field(default_factory=list)
    # elastic diagnosis: uncovered households per readable group name
    household_slacks: dict[str, pulp.LpAffineExpression] = field(default_factory=dict)
    lp_first: bool = True  # try the LP relaxation before branch and bound
    lp_duals: tuple[dict, dict] | None = None  # the last LP's reduced costs and row duals

    def variables(self) -> list[pulp.LpVariable]:
        """Every variable of the model (cheaper than asking PuLP, which scans all rows)."""
        slacks = [v for group in self.slacks.values() for v in group.values()]
        return [*self.assign.values(), *self.roles.values(), *slacks, *self.extra]


def _expr(terms) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(list(terms))


def _row(problem, terms, sense, name, rhs) -> pulp.LpConstraint:
    row = pulp.LpConstraint(_expr(terms), sense, name, rhs)
    problem += row
    return row


def _objectives(inst: Instance, x: dict, probability: np.ndarray) -> tuple:
    """Expected lasting employment, employment and expected income as expressions (plain
    Python floats: numpy scalars make PuLP's arithmetic several times slower)."""
    prob = probability.tolist()
    net = inst.net_wage.tolist()
    lasting = _expr((v, prob[u][e]) for (u, e), v in x.items())
    income = _expr((v, prob[u][e] * net[e]) for (u, e), v in x.items())
    employed = _expr((v, 1) for v in x.values())
    return lasting, employed, income


def _capacity_rows(problem, inst: Instance, by_employer) -> dict[int, pulp.LpConstraint]:
    rows = {}
    for e, emp in enumerate(inst.employers):
        if by_employer[e]:
            rows[e] = _row(
                problem,
                ((v, 1) for v in by_employer[e]),
                pulp.LpConstraintLE,
                f"capacity[{emp.employer}]",
                emp.capacity,
            )
    return rows


def _floors(problem, inst: Instance, units_in_group, employed, elastic: bool, slacks) -> None:
    """fairness[county] and the optional balances: E_g >= floor * (L_g / L) * E."""
    total = len(inst.laborers)
    if total == 0:
        return
    for kind, groups in inst.groups().items():
        f = inst.floor(kind)
        if f <= 0:
            continue
        for name, mask in groups.items():
            size = int(mask.sum())
            if size == 0:
                continue
            expr = units_in_group(mask) - (f * size / total) * employed
            if elastic:
                slack = problem.add_variable(f"short_{kind}_{name}", lowBound=0)
                slacks.setdefault(kind, {})[f"{kind} of {name}"] = slack
                expr = expr + slack
            problem += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"{kind}[{name}]", 0)


def _may_leave_uncovered(inst: Instance, elastic: bool) -> bool:
    return elastic or not inst.params.household_floor_hard


def build_aggregated(inst: Instance, elastic: bool = False) -> Model:
    """The aggregated model (module docstring)."""
    problem = pulp.LpProblem("job_matching", pulp.LpMaximize)
    x: dict[tuple[int, int], pulp.LpVariable] = {}
    cls, emp = np.nonzero(inst.class_eligible)
    for c, e in zip(cls.tolist(), emp.tolist(), strict=True):
        x[c, e] = problem.add_variable(f"x_c{c}_e{e}", lowBound=0, cat=pulp.LpInteger)
    by_class, by_employer = defaultdict(list), defaultdict(list)
    local_of, away_of = defaultdict(list), defaultdict(list)
    for (c, e), var in x.items():
        by_class[c].append(var)
        by_employer[e].append(var)
        (away_of if inst.away[e] else local_of)[c].append(var)
    lasting, employed, income = _objectives(inst, x, inst.class_probability)
    capacity = _capacity_rows(problem, inst, by_employer)
    sizes = inst.classes["size"].to_numpy()
    for c, vars_ in by_class.items():
        _row(
            problem,
            ((v, 1) for v in vars_),
            pulp.LpConstraintLE,
            f"class_size[c{c}]",
            int(sizes[c]),
        )

    uncovered_ok = _may_leave_uncovered(inst, elastic)
    worker, carer, sole = defaultdict(list), defaultdict(list), defaultdict(list)
    roles: dict[tuple[int, int, int], pulp.LpVariable] = {}
    uncovered, freed = [], []
    slacks: dict[str, dict[str, pulp.LpVariable]] = {}
    for t, (key, households) in enumerate(zip(inst.types, inst.type_households, strict=True)):
        ws = list(key.classes) + ([NONE] if uncovered_ok else [])
        ks = list(key.classes) + [NONE] if key.care else [NONE]
        single = dict(zip(key.classes, key.single, strict=True)) if key.care else {}
        for w in ws:
            for k in ks:
                var = problem.add_variable(f"v_t{t}_w{w}_k{k}", lowBound=0, cat=pulp.LpInteger)
                roles[t, w, k] = var
                if w != NONE:
                    worker[w].append(var)
                else:
                    uncovered.append(var)
                if key.care and k != NONE:
                    carer[k].append(var)
                    if w == k and single[k]:
                        sole[k].append(var)
                if key.care and k == NONE:
                    freed.append(var)
        if elastic:
            slacks.setdefault("household_has_worker", {})[inst.type_label(t)] = _expr(
                (roles[t, NONE, k], 1) for k in ks
            )
        _row(
            problem,
            ((roles[t, w, k], 1) for w in ws for k in ks),
            pulp.LpConstraintEQ,
            f"household_roles[t{t}]",
            len(households),
        )
    for c, ys in worker.items():
        terms = [(v, 1) for v in by_class.get(c, [])] + [(y, -1) for y in ys]
        _row(problem, terms, pulp.LpConstraintGE, f"designated_employed[c{c}]", 0)
    for c, ys in carer.items():
        terms = [(v, 1) for v in away_of.get(c, [])] + [(y, 1) for y in ys]
        _row(problem, terms, pulp.LpConstraintLE, f"carer_not_away[c{c}]", int(sizes[c]))
    for c, ys in sole.items():
        terms = [(v, 1) for v in local_of.get(c, [])] + [(y, -1) for y in ys]
        _row(problem, terms, pulp.LpConstraintGE, f"sole_carer_local[c{c}]", 0)
    care_row = None
    if freed:
        care_row = _row(
            problem,
            ((v, 1) for v in freed),
            pulp.LpConstraintLE,
            "care_places",
            inst.params.care_places,
        )
    class_groups: dict[bytes, pulp.LpAffineExpression] = {}

    def units_in_group(mask: np.ndarray) -> pulp.LpAffineExpression:
        # a class lies wholly inside or outside every balance group (county, sex, band)
        key = mask.tobytes()
        if key not in class_groups:
            members = np.unique(inst.class_of[mask])
            class_groups[key] = _expr((v, 1) for c in members.tolist() for v in by_class.get(c, []))
        return class_groups[key]

    _floors(problem, inst, units_in_group, employed, elastic, slacks)
    return Model(
        problem,
        x,
        lasting,
        employed,
        income,
        capacity,
        care_row,
        _expr((v, 1) for v in uncovered),
        {k: g for k, g in slacks.items() if k != "household_has_worker"},
        roles,
        household_slacks=slacks.get("household_has_worker", {}),
    )


def build_individual(inst: Instance, elastic: bool = False) -> Model:
    """The straightforward model: one binary per eligible laborer x employer (reference)."""
    problem = pulp.LpProblem("job_matching_individual", pulp.LpMaximize)
    z: dict[tuple[int, int], pulp.LpVariable] = {}
    person, emp = np.nonzero(inst.eligible)
    for i, e in zip(person.tolist(), emp.tolist(), strict=True):
        z[i, e] = problem.add_variable(f"z_i{i}_e{e}", 0, 1, pulp.LpBinary)
    by_person, by_employer, away_of = defaultdict(list), defaultdict(list), defaultdict(list)
    for (i, e), var in z.items():
        by_person[i].append(var)
        by_employer[e].append(var)
        if inst.away[e]:
            away_of[i].append(var)
    lasting, employed, income = _objectives(inst, z, inst.probability)
    capacity = _capacity_rows(problem, inst, by_employer)
    pid = inst.laborers["person_id"].to_numpy()
    for i, vars_ in by_person.items():
        _row(problem, ((v, 1) for v in vars_), pulp.LpConstraintLE, f"one_job[p{pid[i]}]", 1)
    members = inst.laborers.groupby("household_id").indices
    uncovered, extra = [], []
    slacks: dict[str, dict[str, pulp.LpVariable]] = {}
    household_slacks = {}
    for h in inst.required.tolist():
        terms = [(v, 1) for i in members[h].tolist() for v in by_person[i]]
        if _may_leave_uncovered(inst, elastic):
            u = problem.add_variable(f"uncovered_h{h}", 0, 1, pulp.LpBinary)
            uncovered.append(u)
            extra.append(u)
            terms.append((u, 1))
            household_slacks[f"household {h}"] = _expr([(u, 1)])
        _row(problem, terms, pulp.LpConstraintGE, f"household_has_worker[h{h}]", 1)
    freed = []
    for h in inst.care_bound.tolist():
        idx = members[h].tolist()
        terms = [(v, 1) for i in idx for v in away_of[i]]
        # a care place frees the household (the row care_places counts them)
        r = problem.add_variable(f"freed_h{h}", 0, 1, pulp.LpBinary)
        freed.append(r)
        extra.append(r)
        terms.append((r, -1))
        _row(problem, terms, pulp.LpConstraintLE, f"carer_stays[h{h}]", len(idx) - 1)
    care_row = None
    if freed:
        care_row = _row(
            problem,
            ((r, 1) for r in freed),
            pulp.LpConstraintLE,
            "care_places",
            inst.params.care_places,
        )

    def units_in_group(mask: np.ndarray) -> pulp.LpAffineExpression:
        return _expr((v, 1) for i in np.flatnonzero(mask).tolist() for v in by_person[i])

    _floors(problem, inst, units_in_group, employed, elastic, slacks)
    return Model(
        problem,
        z,
        lasting,
        employed,
        income,
        capacity,
        care_row,
        _expr((u, 1) for u in uncovered),
        slacks,
        {},
        extra,
        household_slacks,
        lp_first=False,
    )


# --- from counts to people ---------------------------------------------------------------


def _values(variables: dict) -> dict:
    return {k: round(v.varValue or 0) for k, v in variables.items()}


class DisaggregationError(RuntimeError):
    """The class counts admit no plan for people: the solution fails verification."""


def disaggregate(inst: Instance, model: Model) -> np.ndarray:
    """Employer index per laborer (-1: none) from the aggregated counts (module docstring)."""
    n = len(inst.laborers)
    employer = np.full(n, -1)
    if n == 0:
        return employer
    x = _values(model.assign)
    roles = _values(model.roles)
    households = inst.laborers["household_id"].to_numpy().tolist()
    class_of = inst.class_of.tolist()
    members: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (h, c) in enumerate(zip(households, class_of, strict=True)):
        members[h, c].append(i)  # laborers are in person_id order
    # roles per household: which class gives its worker and which its carer
    need: dict[int, dict[int, set]] = defaultdict(lambda: defaultdict(set))
    for t, (key, hh) in enumerate(zip(inst.types, inst.type_households, strict=True)):
        ws = [*key.classes, NONE]
        ks = [*key.classes, NONE] if key.care else [NONE]
        start = 0
        for w in ws:
            for k in ks:
                count = roles.get((t, w, k), 0)
                for h in hh[start : start + count].tolist():
                    if w != NONE:
                        need[w][h].add("worker")
                    if k != NONE:
                        need[k][h].add("carer")
                start += count
    sizes = inst.classes["size"].to_numpy()
    status = np.full(n, "", dtype=object)  # L(ocal), A(way), U(nemployed)
    order = np.argsort(inst.class_of, kind="stable")  # members of each class, by person id
    in_class = np.split(order, np.cumsum(np.bincount(inst.class_of, minlength=len(sizes)))[:-1])
    local_employers = np.flatnonzero(~inst.away).tolist()
    away_employers = np.flatnonzero(inst.away).tolist()
    for c in range(len(inst.classes)):
        left = {
            "L": sum(x.get((c, e), 0) for e in local_employers),
            "A": sum(x.get((c, e), 0) for e in away_employers),
        }
        left["U"] = int(sizes[c]) - left["L"] - left["A"]

        def take(i: int, kind: str, left=left, c=c) -> None:
            if left[kind] <= 0:
                raise DisaggregationError(f"class c{c}: no {kind} place left")
            status[i] = kind
            left[kind] -= 1

        groups = {"S1": [], "S2": [], "B1": [], "B2": []}
        for h, r in need.get(c, {}).items():
            m = members[h, c]
            if r == {"worker"}:
                groups["S1"].append(m)
            elif r == {"carer"}:
                groups["S2"].append(m)
            else:
                groups["B1" if len(m) == 1 else "B2"].append(m)
        for m in groups["B1"]:
            take(m[0], "L")
        for m in groups["B2"]:
            if left["L"] > 0:
                take(m[0], "L")
            else:
                take(m[0], "A")
                take(m[1], "U")
        for m in groups["S1"]:
            take(m[0], "A" if left["A"] > 0 else "L")
        for m in groups["S2"]:
            take(m[0], "U" if left["U"] > 0 else "L")
        members_c = in_class[c].tolist()
        free = [i for i in members_c if not status[i]]
        for i in free:
            take(i, next(k for k in ("L", "A", "U") if left[k] > 0))
        # the designated members first, then the rest, each to the employers in order
        for kind, employers in (("L", local_employers), ("A", away_employers)):
            chosen = [i for i in members_c if status[i] == kind]
            start = 0
            for e in employers:
                count = x.get((c, e), 0)
                employer[chosen[start : start + count]] = e
                start += count
    return employer


def individual_assignment(inst: Instance, model: Model) -> np.ndarray:
    employer = np.full(len(inst.laborers), -1)
    for (i, e), value in _values(model.assign).items():
        if value:
            employer[i] = e
    return employer
