"""What a sweep says: which assumptions move each answer, and where the plan fails.

- `oat_effects` / `tornado`: each one-at-a-time point against the baseline point (same
  random numbers, so a difference is the assumption's effect, not noise);
- `morris` / `sobol`: SALib's elementary effects (mu*, sigma) and variance shares;
- `ranking`: the assumptions in order of effect, whatever the design;
- `discover`: PRIM (the EMA Workbench's) finds the box of assumptions in which a failure
  (deadline missed, employment below the reported rate) or a finding (the optimiser beats
  the best rule of thumb by more than 1 %) is concentrated, stated as a planner reads it,
  with its coverage and density; quantities a planner reads the answer by (local places
  per household, export demand per laborer who can go) may join the assumptions.

Every function takes the combined table of a sweep (one row per point, see
`simlib.sweep.store`) and, where the design matters, its specification.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simlib.sweep.design import BASELINE_LABEL
from simlib.sweep.evaluate import OUTPUTS
from simlib.sweep.spec import SweepSpec

HEADLINES = (
    "campaign_days",
    "registered_poor_all_in_day",
    "employment_rate",
    "households_without_worker",
    "deadline_met_share",
    "expected_lasting_employed",
    "local_employed",
    "exported",
)
NAMES = {
    "campaign_days": "campaign length",
    "registered_poor_all_in_day": "day the last registered-poor household moves in",
    "employment_rate": "employment rate",
    "households_without_worker": "households without a worker",
    "deadline_met_share": "share of replications meeting the 31 March deadline",
    "expected_lasting_employed": "expected lasting employment",
    "local_employed": "people employed locally",
    "exported": "people employed away",
    "optimiser_gain_lasting": "what the optimiser adds over the best rule of thumb",
}
FAILURES = {
    "deadline_missed": "the registered-poor deadline is missed",
    "employment_below_reported": "employment falls below the reported rate",
    "optimiser_matters": "the optimiser beats the best rule of thumb by more than 1 %",
}
# sweep outputs a planner reads a region by, beside the assumptions (`discover(derived=)`)
DERIVED = {
    "local_places_per_household": "local places per household with labour",
    "export_demand_per_mobile": "export demand per laborer willing and able to go",
    "willing_and_able_share": "the share of laborers willing and able to go",
}


def _ok(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] == "ok"] if "status" in table else table


def oat_effects(table: pd.DataFrame, output: str) -> pd.DataFrame:
    """One row per changed point: label, factor, level, value and change against the baseline."""
    t = _ok(table)
    base = t[t["label"] == BASELINE_LABEL]
    if base.empty:
        raise ValueError("the table has no baseline point: is it a one-at-a-time sweep?")
    baseline = float(base[output].iloc[0])
    rest = t[t["label"] != BASELINE_LABEL]
    out = pd.DataFrame(
        {
            "label": rest["label"].to_numpy(),
            "factor": rest["factor"].replace("", np.nan).fillna(rest["label"]).to_numpy(),
            "level": rest["level"].to_numpy(),
            "value": rest[output].astype(float).to_numpy(),
        }
    )
    out["delta"] = out["value"] - baseline
    out.attrs["baseline"] = baseline
    return out


def tornado(table: pd.DataFrame, output: str) -> pd.DataFrame:
    """Per assumption: the lowest and highest change it causes and their span, largest first."""
    e = oat_effects(table, output)
    g = e.groupby("factor", sort=False)
    t = pd.DataFrame(
        {
            "low_change": g["delta"].min().clip(upper=0),
            "high_change": g["delta"].max().clip(lower=0),
            "labels": g["label"].agg(" / ".join),
        }
    )
    t["swing"] = t["high_change"] - t["low_change"]
    t.index = [i.split(".", 1)[-1] for i in t.index]
    t.index.name = "assumption"
    t = t.sort_values("swing", ascending=False)
    t.attrs["baseline"] = e.attrs["baseline"]
    t.attrs["output"] = NAMES.get(output, output.replace("_", " "))
    return t


def _problem(spec: SweepSpec) -> dict[str, Any]:
    return {
        "num_vars": len(spec.factors),
        "names": [f.key for f in spec.factors],
        "bounds": [[f.low, f.high] for f in spec.factors],
    }


def _samples(spec: SweepSpec, table: pd.DataFrame) -> np.ndarray:
    columns = [f"sample_{k}" for k in range(len(spec.factors))]
    return table.sort_values("point")[columns].to_numpy(float)


def _y(table: pd.DataFrame, output: str) -> np.ndarray:
    t = table.sort_values("point")
    if "status" in t and (t["status"] != "ok").any():
        bad = t.loc[t["status"] != "ok", "point"].tolist()
        raise ValueError(f"points {bad} failed: Morris and Sobol need every point of the design")
    return t[output].astype(float).to_numpy()


def morris(spec: SweepSpec, table: pd.DataFrame, output: str) -> pd.DataFrame:
    """Morris elementary effects (SALib): mu* (overall effect) and sigma (interactions or
    non-linearity), in the output's unit per the parameter's whole range."""
    from SALib.analyze import morris as salib_morris

    result = salib_morris.analyze(
        _problem(spec),
        _samples(spec, table),
        _y(table, output),
        num_levels=spec.settings.get("levels", 4),
        seed=spec.seed % 2**32,
    )
    frame = pd.DataFrame(
        {
            "mu_star": result["mu_star"],
            "sigma": result["sigma"],
            "mu_star_conf": result["mu_star_conf"],
        },
        index=[k.split(".", 1)[-1] for k in result["names"]],
    )
    frame.index.name = "assumption"
    return frame.sort_values("mu_star", ascending=False)


def sobol(spec: SweepSpec, table: pd.DataFrame, output: str) -> pd.DataFrame:
    """Sobol indices (SALib): the share of the output's variance due to each assumption
    alone (S1) and with its interactions (ST)."""
    from SALib.analyze import sobol as salib_sobol

    result = salib_sobol.analyze(
        _problem(spec),
        _y(table, output),
        calc_second_order=spec.settings.get("second_order", False),
        seed=spec.seed % 2**32,
    )
    frame = pd.DataFrame(
        {k: result[k] for k in ("S1", "S1_conf", "ST", "ST_conf")},
        index=[f.name for f in spec.factors],
    )
    frame.index.name = "assumption"
    return frame.sort_values("ST", ascending=False)


def ranking(spec: SweepSpec, table: pd.DataFrame, output: str) -> pd.Series:
    """Effect of each assumption on `output`, largest first: the one-at-a-time swing, Morris
    mu*, Sobol ST, or (Latin hypercube, grid) the absolute rank correlation."""
    if spec.method == "oat":
        return tornado(table, output)["swing"]
    if spec.method == "morris":
        return morris(spec, table, output)["mu_star"]
    if spec.method == "sobol":
        return sobol(spec, table, output)["ST"]
    t = _ok(table)
    y = t[output].astype(float)
    rho = {}
    for f in spec.factors:
        x = pd.to_numeric(t[f.key], errors="coerce")
        constant = x.nunique() < 2 or y.nunique() < 2
        r = 0.0 if constant else stats.spearmanr(x, y).statistic
        rho[f.name] = abs(float(np.nan_to_num(r)))
    return pd.Series(rho, name="abs_rank_correlation").sort_values(ascending=False)


def top_assumptions(spec: SweepSpec, table: pd.DataFrame, n: int = 3) -> dict[str, list[str]]:
    """The `n` assumptions that move each headline output most (effect in the output's unit)."""
    measure = {
        "oat": "swing",
        "morris": "mu*",
        "sobol": "total Sobol index",
        "lhs": "|rank correlation|",
        "grid": "|rank correlation|",
    }[spec.method]
    top = {}
    for output in HEADLINES:
        r = ranking(spec, table, output)
        r = r[r > 0].head(n)
        unit = OUTPUTS[output].unit if spec.method in ("oat", "morris") else ""
        top[output] = [
            f"{name} ({measure} {value:.3g} {unit})".replace(" )", ")") for name, value in r.items()
        ]
    return top


def ranges(table: pd.DataFrame, outputs: tuple[str, ...] = HEADLINES) -> pd.DataFrame:
    """Lowest and highest value of each output over the points of a sweep (which point)."""
    t = _ok(table)
    rows = []
    for output in outputs:
        v = t[output].astype(float)
        rows.append(
            {
                "output": output,
                "low": float(v.min()),
                "high": float(v.max()),
                "low_at": t.loc[v.idxmin(), "label"],
                "high_at": t.loc[v.idxmax(), "label"],
            }
        )
    return pd.DataFrame(rows).set_index("output")


# --- scenario discovery (PRIM) -------------------------------------------------------------


def planner_number(x: float) -> str:
    """A limit rounded as a planner would say it (the PRIM statements' wording)."""
    return _number(x)


def _number(x: float) -> str:
    """A limit rounded as a planner would say it: 86, 37.5, 0.97."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}".removesuffix(".0")
    return f"{x:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Box:
    """A PRIM box: the limits of the assumptions it restricts, and how good a rule it is.

    coverage: share of all failing points that lie in the box; density: share of the
    points in the box that fail.
    """

    outcome: str
    limits: pd.DataFrame  # index: assumption; columns: low, high, range_low, range_high
    coverage: float
    density: float
    points: int  # points in the box
    failing: int  # failing points in the sweep
    total: int  # points in the sweep

    def statement(self) -> str:
        """'The deadline is missed when ... and ... (coverage .., density ..)'."""
        what = FAILURES.get(self.outcome, self.outcome)
        if self.limits.empty:
            return (
                f"{what[0].upper()}{what[1:]} in {self.failing} of {self.total} runs, with no "
                "region of the assumptions that concentrates them."
            )
        rules = []
        for name, r in self.limits.iterrows():
            lower = r["low"] > r["range_low"]
            upper = r["high"] < r["range_high"]
            low, high = _number(r["low"]), _number(r["high"])
            if lower and upper:
                rules.append(f"{name} is between {low} and {high}")
            elif lower:
                rules.append(f"{name} is at least {low}")
            else:
                rules.append(f"{name} is at most {high}")
        return (
            f"{what[0].upper()}{what[1:]} when {' and '.join(rules)} "
            f"(coverage {100 * self.coverage:.0f} %: {round(self.coverage * self.failing)} "
            f"of the {self.failing} failing runs lie in this region; density "
            f"{100 * self.density:.0f} %: {round(self.density * self.points)} of the "
            f"{self.points} runs in it fail)."
        )


def within(spec: SweepSpec, domains: tuple[str, ...]) -> SweepSpec:
    """The specification with only the assumptions of `domains` (the others cannot move
    the answer asked about: the job matching reads no moving assumption)."""
    keep = tuple(f for f in spec.factors if f.key.split(".", 1)[0] in domains)
    return replace(spec, factors=keep)


def _explanatory(spec: SweepSpec, t: pd.DataFrame, derived: tuple[str, ...]) -> pd.DataFrame:
    """The numeric assumptions of the sweep, and the derived quantities asked for (named
    as a planner reads them), one column each."""
    names = [f.key for f in spec.factors if f.numeric]
    x = {k.split(".", 1)[-1]: pd.to_numeric(t[k]).astype(float) for k in names}
    for column in derived:
        x[DERIVED.get(column, column)] = pd.to_numeric(t[column]).astype(float)
    return pd.DataFrame(x)


def discover(
    spec: SweepSpec,
    table: pd.DataFrame,
    outcome: str = "deadline_missed",
    threshold: float = 0.8,
    min_coverage: float = 0.5,
    significance: float = 0.05,
    derived: tuple[str, ...] = (),
) -> Box:
    """The PRIM box of the assumptions (and `derived` outputs) in which `outcome` (a flag
    column) is true.

    Of the boxes on PRIM's peeling trajectory with coverage >= `min_coverage`, the densest
    (then the one restricting fewer assumptions) is kept, less the restrictions whose
    quasi-p value exceeds `significance`.
    """
    t = _ok(table)
    x = _explanatory(spec, t, derived)
    y = t[outcome].astype(bool).to_numpy()
    n_fail = int(y.sum())
    empty = pd.DataFrame(columns=["low", "high", "range_low", "range_high"])
    if n_fail == 0 or n_fail == len(y):
        density = n_fail / len(y) if len(y) else 0.0
        return Box(outcome, empty, 1.0 if n_fail else 0.0, density, len(y), n_fail, len(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("EMA").setLevel(logging.ERROR)
        from ema_workbench.analysis import prim

        finder = prim.Prim(x.reset_index(drop=True), y, threshold=threshold)
        box = finder.find_box()
    trajectory = box.peeling_trajectory
    candidates = trajectory[trajectory["coverage"] >= min_coverage]
    if candidates.empty:
        candidates = trajectory
    best = int(candidates.sort_values(["density", "res_dim"], ascending=[False, True]).index[0])
    # drop the restrictions PRIM cannot tell from chance (quasi-p value above `significance`)
    # one at a time, the least significant first, re-judging the rest after each drop
    while len(box.qp[best]) > 1:
        p_values = {
            name: min((v for v in qp if v >= 0), default=1.0) for name, qp in box.qp[best].items()
        }
        name = max(p_values, key=p_values.get)
        if p_values[name] <= significance:
            break
        box.drop_restriction(name, i=best)
        best = len(box.box_lims) - 1
    stats_row = box.peeling_trajectory.loc[best]
    return Box(
        outcome=outcome,
        limits=_limits(box, best, x, empty),
        coverage=float(stats_row["coverage"]),
        density=float(stats_row["density"]),
        points=int(stats_row["n"]),
        failing=n_fail,
        total=len(y),
    )


def _limits(box, best: int, x: pd.DataFrame, empty: pd.DataFrame) -> pd.DataFrame:
    """The restricted assumptions of PRIM's box `best`, with the range each spans."""
    lims = box.box_lims[best]
    rows = {
        name: {
            "low": float(lims[name].iloc[0]),
            "high": float(lims[name].iloc[1]),
            "range_low": float(x[name].min()),
            "range_high": float(x[name].max()),
        }
        for name in box.qp[best]
    }
    return pd.DataFrame.from_dict(rows, orient="index") if rows else empty


def discovery_view(
    spec: SweepSpec, table: pd.DataFrame, box: Box, derived: tuple[str, ...] = ()
) -> tuple[pd.Series, pd.Series, pd.Series, pd.DataFrame, str]:
    """What `simlib.plots.discovery_box` draws: the two assumptions (or `derived` outputs)
    that matter most for the outcome (the box's restrictions first, then by rank
    correlation), the outcome flags, the box's limits and the failure's wording."""
    t = _ok(table)
    columns = _explanatory(spec, t, derived).reset_index(drop=True)
    by_name = {f.name: f.key for f in spec.factors if f.numeric}
    order = list(box.limits.index)
    rho = ranking(replace(spec, method="lhs"), t.assign(_y=t[box.outcome].astype(float)), "_y")
    order += [n for n in rho.index if n not in order and n in by_name]
    x_name, y_name = (order + list(columns.columns))[:2]
    x, y = columns[x_name].rename(x_name), columns[y_name].rename(y_name)
    failing = t[box.outcome].astype(bool).reset_index(drop=True)
    return x, y, failing, box.limits, FAILURES.get(box.outcome, box.outcome)


def runs_table(*runs: Any) -> pd.DataFrame:
    """Where each sweep's numbers come from: design, points, replications, seed, folder."""
    rows = []
    for run in runs:
        spec = run.spec
        commits = sorted(set(run.table["git_commit"])) if len(run.table) else []
        rows.append(
            {
                "sweep": run.name,
                "design": spec.method,
                "assumptions varied": len(spec.factors) + len(spec.overlays),
                "points": run.points,
                "failed": int((run.table["status"] != "ok").sum()),
                "replications per point": spec.replications,
                "master seed": spec.seed,
                "scenario": spec.scenario.name,
                "git commit": ", ".join(c[:12] for c in commits),
                "results": str(run.output),
            }
        )
    return pd.DataFrame(rows).set_index("sweep")


def top_table(spec: SweepSpec, table: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The `n` assumptions that move each headline answer most, one column per answer."""
    top = top_assumptions(spec, table, n)
    columns = {k: (v or ["no assumption moves it"]) for k, v in top.items()}
    return pd.DataFrame(
        {k: v + [""] * (n - len(v)) for k, v in columns.items()}, index=range(1, n + 1)
    ).rename_axis("rank")
