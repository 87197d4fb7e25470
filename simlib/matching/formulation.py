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

Options a batch of the rolling plan uses (`simlib.matching.batch`), all in the model's own
terms: a household type that no longer needs a worker (`HouseholdType.needs_worker`) may
take w = - at no cost; the care places are the ones left; and with `FairnessSoFar` the
fairness rows count everyone employed and available so far, hard or giving way at the
elastic penalty per person short.

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
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pulp

from simlib.matching.instance import Instance

NONE = -1  # no class: an uncovered household (w) or one freed by a care place (k)


def elastic_penalty(inst: Instance) -> float:
    """The cost of one unit of slack on a hard row (a household without a worker, a person
    short of a floor): more than all the employment there is, so that a plan gives way as
    little as it can before it employs anyone. A definition, not an assumption."""
    return 10.0 * (len(inst.laborers) + 1)


@dataclass(frozen=True)
class FairnessSoFar:
    """The fairness floor across batches: each county's employment so far at least the
    floor times its share of the laborers available so far times everyone employed so far.
    `soft`: each row may give way at `elastic_penalty` per person short."""

    employed: Mapping[str, int]  # people employed before this batch, by county
    available: Mapping[str, int]  # laborers available so far (this batch's too), by county
    soft: bool = False


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
    # soft rows' cost in stage 1 (a soft fairness floor so far), already weighted
    shortfall: pulp.LpAffineExpression = field(default_factory=pulp.LpAffineExpression)
    lp_first: bool = True  # try the LP relaxation before branch and bound
    # the last LP's variables with a nonzero reduced cost and rows with a nonzero dual
    lp_duals: tuple[list, list] | None = None
    lp_matrix: tuple | None = None  # the rows as arrays, read once (`solve._arrays`)

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


def _care_row(problem, inst: Instance, freed: list) -> pulp.LpConstraint | None:
    """care_places: the households freed from the care rule, at most the places left."""
    if not freed:
        return None
    terms = ((v, 1) for v in freed)
    return _row(problem, terms, pulp.LpConstraintLE, "care_places", inst.params.care_places)


def _floors(problem, inst: Instance, x: dict, unit_in, elastic: bool, model: dict) -> None:
    """fairness[county] and the optional balances: E_g >= floor * (L_g / L) * E (the
    fairness rows in their cumulative form instead when the model has a FairnessSoFar).
    `unit_in(mask)`: per unit of `x` (class or laborer), whether it lies in the group."""
    total = len(inst.laborers)
    if total == 0:
        return
    for kind, groups in inst.groups().items():
        f = inst.floor(kind)
        if f <= 0 or (kind == "fairness" and model.get("so_far") is not None):
            continue
        for name, mask in groups.items():
            size = int(mask.sum())
            if size == 0:
                continue
            inside, k = unit_in(mask).tolist(), f * size / total
            expr = _expr((v, float(inside[u]) - k) for (u, _), v in x.items())
            if elastic:
                slack = problem.add_variable(f"short_{kind}_{name}", lowBound=0)
                model["slacks"].setdefault(kind, {})[f"{kind} of {name}"] = slack
                expr.addterm(slack, 1)
            problem += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"{kind}[{name}]", 0)


def _fairness_so_far(problem, inst: Instance, x: dict, so_far: FairnessSoFar, elastic, model):
    """The fairness rows in cumulative form, with the matching's names and slacks:
    E_g(batch) - f s_g E(batch) >= f s_g E(before) - E_g(before), s_g = L_g / L so far."""
    floor = inst.params.fairness_floor
    total = sum(so_far.available.values())
    if floor <= 0 or total == 0:
        return
    before = sum(so_far.employed.values())
    county_of = inst.classes["county"].to_numpy()
    for g in sorted(set(inst.laborers["county"])):
        share = so_far.available.get(g, 0) / total
        expr = _expr((v, float(county_of[c] == g) - floor * share) for (c, _), v in x.items())
        if elastic or so_far.soft:
            slack = problem.add_variable(f"short_fairness_{g}", lowBound=0)
            model["slacks"].setdefault("fairness", {})[f"fairness of {g}"] = slack
            if so_far.soft and not elastic:
                model["shortfall"].append((slack, elastic_penalty(inst)))
            expr = expr + slack
        rhs = floor * share * before - so_far.employed.get(g, 0)
        problem += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"fairness[{g}]", rhs)


def _may_leave_uncovered(inst: Instance, elastic: bool) -> bool:
    return elastic or not inst.params.household_floor_hard


@dataclass
class _Roles:
    """The role variables v[t, w, k] and what the class rows read from them."""

    roles: dict = field(default_factory=dict)
    worker: dict = field(default_factory=lambda: defaultdict(list))
    carer: dict = field(default_factory=lambda: defaultdict(list))
    sole: dict = field(default_factory=lambda: defaultdict(list))
    uncovered: list = field(default_factory=list)
    freed: list = field(default_factory=list)
    household_slacks: dict = field(default_factory=dict)


def _role_options(inst: Instance, t: int, elastic: bool) -> tuple[list[int], list[int]]:
    """(worker classes w, carer classes k) a household of type t may designate."""
    key = inst.types[t]
    free = not key.needs_worker or _may_leave_uncovered(inst, elastic)
    ws = list(key.classes) + ([NONE] if free else [])
    ks = list(key.classes) + [NONE] if key.care else [NONE]
    return ws, ks


def _role_vars(problem, inst: Instance, elastic: bool) -> _Roles:
    """household_roles[t]: each household of type t designates a worker and a carer."""
    r = _Roles()
    for t, (key, households) in enumerate(zip(inst.types, inst.type_households, strict=True)):
        ws, ks = _role_options(inst, t, elastic)
        single = dict(zip(key.classes, key.single, strict=True)) if key.care else {}
        for w in ws:
            for k in ks:
                var = problem.add_variable(f"v_t{t}_w{w}_k{k}", lowBound=0, cat=pulp.LpInteger)
                r.roles[t, w, k] = var
                if w != NONE:
                    r.worker[w].append(var)
                elif key.needs_worker:
                    r.uncovered.append(var)
                if key.care and k != NONE:
                    r.carer[k].append(var)
                    if w == k and single[k]:
                        r.sole[k].append(var)
                if key.care and k == NONE:
                    r.freed.append(var)
        if elastic and key.needs_worker:
            r.household_slacks[inst.type_label(t)] = _expr((r.roles[t, NONE, k], 1) for k in ks)
        terms = ((r.roles[t, w, k], 1) for w in ws for k in ks)
        _row(problem, terms, pulp.LpConstraintEQ, f"household_roles[t{t}]", len(households))
    return r


def _class_rows(problem, inst: Instance, r: _Roles, by_class, away_of, local_of) -> None:
    """class_size, designated_employed, carer_not_away and sole_carer_local (module
    docstring): the three Hall conditions that make the class counts a plan for people."""
    sizes = inst.classes["size"].to_numpy().tolist()
    for c, vars_ in by_class.items():
        terms = ((v, 1) for v in vars_)
        _row(problem, terms, pulp.LpConstraintLE, f"class_size[c{c}]", sizes[c])
    for c, ys in r.worker.items():
        terms = [(v, 1) for v in by_class.get(c, [])] + [(y, -1) for y in ys]
        _row(problem, terms, pulp.LpConstraintGE, f"designated_employed[c{c}]", 0)
    for c, ys in r.carer.items():
        terms = [(v, 1) for v in away_of.get(c, [])] + [(y, 1) for y in ys]
        _row(problem, terms, pulp.LpConstraintLE, f"carer_not_away[c{c}]", sizes[c])
    for c, ys in r.sole.items():
        terms = [(v, 1) for v in local_of.get(c, [])] + [(y, -1) for y in ys]
        _row(problem, terms, pulp.LpConstraintGE, f"sole_carer_local[c{c}]", 0)


def _assignment_vars(problem, inst: Instance):
    """x[c, e] for every class and employer it may work for, grouped as the rows read them."""
    x: dict[tuple[int, int], pulp.LpVariable] = {}
    cls, emp = np.nonzero(inst.class_eligible)
    for c, e in zip(cls.tolist(), emp.tolist(), strict=True):
        x[c, e] = problem.add_variable(f"x_c{c}_e{e}", lowBound=0, cat=pulp.LpInteger)
    groups = {name: defaultdict(list) for name in ("class", "employer", "local", "away")}
    for (c, e), var in x.items():
        groups["class"][c].append(var)
        groups["employer"][e].append(var)
        groups["away" if inst.away[e] else "local"][c].append(var)
    return x, groups


def build_aggregated(
    inst: Instance, elastic: bool = False, so_far: FairnessSoFar | None = None
) -> Model:
    """The aggregated model (module docstring); `so_far`: the fairness rows of a batch."""
    problem = pulp.LpProblem("job_matching", pulp.LpMaximize)
    x, g = _assignment_vars(problem, inst)
    lasting, employed, income = _objectives(inst, x, inst.class_probability)
    capacity = _capacity_rows(problem, inst, g["employer"])
    r = _role_vars(problem, inst, elastic)
    _class_rows(problem, inst, r, g["class"], g["away"], g["local"])
    care_row = _care_row(problem, inst, r.freed)

    def class_in(mask: np.ndarray) -> np.ndarray:
        # a class lies wholly inside or outside every balance group (county, sex, band)
        inside = np.zeros(len(inst.classes), dtype=bool)
        inside[inst.class_of[mask]] = True
        return inside

    parts: dict = {"slacks": {}, "shortfall": [], "so_far": so_far}
    _floors(problem, inst, x, class_in, elastic, parts)
    if so_far is not None:
        _fairness_so_far(problem, inst, x, so_far, elastic, parts)
    return Model(
        problem,
        x,
        lasting,
        employed,
        income,
        capacity,
        care_row,
        _expr((v, 1) for v in r.uncovered),
        parts["slacks"],
        r.roles,
        household_slacks=r.household_slacks,
        shortfall=_expr(parts["shortfall"]),
    )


def _person_rows(problem, inst: Instance, by_person, elastic: bool, model: dict) -> None:
    """household_has_worker[h] (with an `uncovered` binary when the rule may give way)."""
    members = inst.laborers.groupby("household_id").indices
    for h in inst.required.tolist():
        terms = [(v, 1) for i in members[h].tolist() for v in by_person[i]]
        if _may_leave_uncovered(inst, elastic):
            u = problem.add_variable(f"uncovered_h{h}", 0, 1, pulp.LpBinary)
            model["uncovered"].append(u)
            model["extra"].append(u)
            terms.append((u, 1))
            model["household_slacks"][f"household {h}"] = _expr([(u, 1)])
        _row(problem, terms, pulp.LpConstraintGE, f"household_has_worker[h{h}]", 1)


def _person_care_rows(problem, inst: Instance, away_of, model: dict) -> list:
    """carer_stays[h]: a care-bound household sends at most all but one away, unless a care
    place frees it."""
    members = inst.laborers.groupby("household_id").indices
    freed = []
    for h in inst.care_bound.tolist():
        idx = members[h].tolist()
        terms = [(v, 1) for i in idx for v in away_of[i]]
        r = problem.add_variable(f"freed_h{h}", 0, 1, pulp.LpBinary)
        freed.append(r)
        model["extra"].append(r)
        terms.append((r, -1))
        _row(problem, terms, pulp.LpConstraintLE, f"carer_stays[h{h}]", len(idx) - 1)
    return freed


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
    parts: dict = {"uncovered": [], "extra": [], "household_slacks": {}, "slacks": {}}
    _person_rows(problem, inst, by_person, elastic, parts)
    care_row = _care_row(problem, inst, _person_care_rows(problem, inst, away_of, parts))

    _floors(problem, inst, z, lambda mask: mask, elastic, parts)
    return Model(
        problem,
        z,
        lasting,
        employed,
        income,
        capacity,
        care_row,
        _expr((u, 1) for u in parts["uncovered"]),
        parts["slacks"],
        {},
        parts["extra"],
        parts["household_slacks"],
        lp_first=False,
    )


# --- from counts to people ---------------------------------------------------------------


def _values(variables: dict) -> dict:
    return {k: round(v.varValue or 0) for k, v in variables.items()}


class DisaggregationError(RuntimeError):
    """The class counts admit no plan for people: the solution fails verification."""


def _designations(inst: Instance, roles: dict) -> dict[int, dict[str, list[int]]]:
    """Per class, the households that need a worker only (S1), a carer only (S2), or both
    from it (B), in the order of the role variables."""
    groups: dict[int, dict[str, list[int]]] = defaultdict(lambda: {"S1": [], "S2": [], "B": []})
    start = [0] * len(inst.types)
    for (t, w, k), count in roles.items():  # insertion order: t, then w, then k
        if not count:
            continue
        hh = inst.type_households[t][start[t] : start[t] + count].tolist()
        start[t] += count
        if w != NONE and w == k:
            groups[w]["B"].extend(hh)
            continue
        if w != NONE:
            groups[w]["S1"].extend(hh)
        if k != NONE:
            groups[k]["S2"].extend(hh)
    return groups


def _statuses(inst: Instance, x: dict, groups, members) -> np.ndarray:
    """L(ocal), A(way) or U(nemployed) per laborer, meeting each household's roles (the
    three Hall conditions guarantee it can; DisaggregationError if the counts cannot)."""
    status = np.full(len(inst.laborers), "", dtype=object)
    sizes = inst.classes["size"].to_numpy().tolist()
    away = inst.away.tolist()
    counts = defaultdict(lambda: [0, 0])
    for (c, e), n in x.items():
        counts[c][int(away[e])] += n
    for c in range(len(sizes)):
        local, out = counts.get(c, (0, 0))
        left = {"L": local, "A": out, "U": sizes[c] - local - out}

        def take(i: int, kind: str, left=left, c=c) -> None:
            if left[kind] <= 0:
                raise DisaggregationError(f"class c{c}: no {kind} place left")
            status[i] = kind
            left[kind] -= 1

        g = groups.get(c, {"S1": [], "S2": [], "B": []})
        for h in g["B"]:
            m = members[h, c]
            if len(m) == 1 or left["L"] > 0:
                take(m[0], "L")
            else:
                take(m[0], "A")
                take(m[1], "U")
        for h in g["S1"]:
            take(members[h, c][0], "A" if left["A"] > 0 else "L")
        for h in g["S2"]:
            take(members[h, c][0], "U" if left["U"] > 0 else "L")
        for i in members.get(("class", c), []):
            if not status[i]:
                take(i, next(k for k in ("L", "A", "U") if left[k] > 0))
    return status


def disaggregate(inst: Instance, model: Model) -> np.ndarray:
    """Employer index per laborer (-1: none) from the aggregated counts (module docstring)."""
    n = len(inst.laborers)
    employer = np.full(n, -1)
    if n == 0:
        return employer
    x = _values(model.assign)
    households = inst.laborers["household_id"].to_numpy().tolist()
    members: dict[tuple, list[int]] = defaultdict(list)
    for i, (h, c) in enumerate(zip(households, inst.class_of.tolist(), strict=True)):
        members[h, c].append(i)  # laborers are in person_id order
        members["class", c].append(i)
    groups = _designations(inst, _values(model.roles))
    # single-member households that need both roles from a class go first (B1, then B2)
    for c, g in groups.items():
        g["B"] = [h for h in g["B"] if len(members[h, c]) == 1] + [
            h for h in g["B"] if len(members[h, c]) > 1
        ]
    status = _statuses(inst, x, groups, members)
    # the designated members first, then the rest, each to the employers in order
    by_class: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for (c, e), count in x.items():
        if count:
            by_class[c].append((e, count))
    for c, jobs in by_class.items():
        chosen = {"L": [], "A": []}
        for i in members["class", c]:
            if status[i] in chosen:
                chosen[status[i]].append(i)
        start = {"L": 0, "A": 0}
        for e, count in sorted(jobs):
            kind = "A" if inst.away[e] else "L"
            employer[chosen[kind][start[kind] : start[kind] + count]] = e
            start[kind] += count
    return employer


def individual_assignment(inst: Instance, model: Model) -> np.ndarray:
    employer = np.full(len(inst.laborers), -1)
    for (i, e), value in _values(model.assign).items():
        if value:
            employer[i] = e
    return employer
