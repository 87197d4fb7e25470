"""The fairness audit: over many independent draws, does every household of a class have
the same chance of each building and of each floor band?

A class is the set of households the rules treat alike (same unit type and request; for
`community`, also the same village). The audit repeats the draw `fairness_draws` times
(1,000 by default; the model of `community` is solved once, its answer is deterministic),
records where a sample of each class's households lands, and tests for each class and
each outcome (building; floor band: low or upper floors) that the households' outcome
distributions are the same: Pearson's chi-square test of homogeneity on the table
households x outcomes (the rarest outcomes are pooled until the pool is expected at least
5 times per household).
The significance is family-wise: `fairness_alpha` (0.01) split over all the tests
(Bonferroni). A draw that favours one household fails it (tests/test_housing_audit.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simlib.randomness import stream

CHUNK = 200  # draws computed at once (memory: CHUNK x households indices)
MIN_EXPECTED = 5.0  # a chi-square cell expected fewer times than this is pooled


@dataclass(frozen=True)
class Audit:
    """The audit's tests (one row per class and outcome) and the chances it measured (one
    row per class and building, with the chance worked out from the pools beside it)."""

    method: str
    draws: int
    alpha: float  # family-wise significance
    tests: pd.DataFrame
    chances: pd.DataFrame

    @property
    def alpha_per_test(self) -> float:
        return self.alpha / max(1, len(self.tests))

    @property
    def passed(self) -> bool:
        return bool((self.tests["p_value"] > self.alpha_per_test).all())

    def summary(self) -> dict:
        worst = self.tests.sort_values("p_value").head(1)
        return {
            "method": self.method,
            "draws": self.draws,
            "tests": int(len(self.tests)),
            "alpha": self.alpha,
            "alpha_per_test": self.alpha_per_test,
            "smallest_p_value": float(worst["p_value"].iloc[0]) if len(worst) else None,
            "passed": self.passed,
        }


def _classes(households: pd.DataFrame, method: str) -> pd.Series:
    """Each drawing household's class label (households without a type: "")."""
    label = households["unit_type"] + np.where(households["asks_low"], "/asked", "/other")
    if method == "community":
        label = households["village"] + "/" + label
    return label.where(households["unit_type"] != "", "")


def _sample(classes: pd.Series, per_class: int, seed: int) -> np.ndarray:
    """Up to `per_class` households of each class with at least two (row positions)."""
    rng = stream(seed, "housing", "audit", "sample")
    picks = []
    for label, rows in classes.groupby(classes).indices.items():
        if label and len(rows) >= 2:
            picks.append(np.sort(rng.permutation(rows)[:per_class]))
    return np.concatenate(picks) if picks else np.array([], dtype=int)


def chi_square(counts: np.ndarray) -> tuple[float, int, float]:
    """(statistic, degrees of freedom, p-value) of the homogeneity test on rows =
    households, columns = outcomes, pooling rare columns first."""
    from scipy import stats

    counts = counts[:, counts.sum(axis=0) > 0]
    counts = counts[:, np.argsort(counts.sum(axis=0), kind="stable")]
    per_row = np.cumsum(counts.sum(axis=0)) / max(1, counts.shape[0])
    if counts.shape[1] and per_row[0] < MIN_EXPECTED:
        # pool the rarest outcomes together until the pool is expected often enough
        k = min(int(np.searchsorted(per_row, MIN_EXPECTED)) + 1, counts.shape[1])
        counts = np.column_stack([counts[:, :k].sum(axis=1), counts[:, k:]])
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return 0.0, 0, 1.0  # one outcome only: nothing can differ
    statistic, p_value, dof, _ = stats.chi2_contingency(counts, correction=False)
    return float(statistic), int(dof), float(p_value)


def outcomes(
    draw: Callable[[np.random.Generator, int], np.ndarray],
    flats: pd.DataFrame,
    rows: np.ndarray,
    draws: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(draws, len(rows)) building codes and floor bands (0 low, 1 upper, 2 no flat) of
    the sampled households, over `draws` draws made in chunks."""
    building = pd.factorize(flats["building"])[0]
    low = flats["low_floor"].to_numpy(bool)
    codes, bands = [], []
    rng = stream(seed, "housing", "audit", "draws")
    for start in range(0, draws, CHUNK):
        index = draw(rng, min(CHUNK, draws - start))[:, rows]
        got = index >= 0
        safe = np.where(got, index, 0)
        codes.append(np.where(got, building[safe], building.max() + 1))
        bands.append(np.where(got, np.where(low[safe], 0, 1), 2))
    return np.concatenate(codes), np.concatenate(bands)


def fairness_audit(
    inputs,
    method: str = "lottery",
    draws: int | None = None,
    per_class: int = 30,
    draw: Callable[[np.random.Generator, int], np.ndarray] | None = None,
) -> Audit:
    """Run the audit (see the module docstring). `draw(rng, k)` returns k draws (k x
    households flat indices); by default the method's own draw, so a test can pass a
    deliberately biased one."""
    from simlib.housing import allocate, prepare
    from simlib.housing.draw import community_draw, lottery_draw

    params = inputs.housing
    draws = params.fairness_draws if draws is None else draws
    households, flats, _ = prepare(inputs, method)
    drawing = households.assign(asks_low=households["asks_low"] & params.low_floor_priority)
    if draw is None:
        if method == "lottery":
            types = list(params.type_names)

            def draw(rng, k):
                return lottery_draw(drawing, flats, types, rng, k)
        else:
            from simlib.housing.community import solve

            reservations, _ = solve(drawing, flats, params)

            def draw(rng, k):
                return community_draw(drawing, flats, reservations, rng, k)

    classes = _classes(drawing, method)
    rows = _sample(classes, per_class, inputs.seed)
    codes, bands = outcomes(draw, flats, rows, draws, inputs.seed)
    tests = _tests(classes.to_numpy()[rows], codes, bands)
    _, analytic, _ = allocate(inputs, method, households, flats)
    measured = _measured(classes.to_numpy()[rows], codes, bands, flats)
    return Audit(method, draws, params.fairness_alpha, tests, _beside(measured, analytic))


def _tests(labels: np.ndarray, codes: np.ndarray, bands: np.ndarray) -> pd.DataFrame:
    rows = []
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label)
        for outcome, values in (("building", codes), ("floor_band", bands)):
            table = _table(values[:, members])
            statistic, dof, p_value = chi_square(table)
            rows.append((label, outcome, len(members), statistic, dof, p_value))
    return pd.DataFrame(
        rows, columns=["class", "outcome", "households", "chi_square", "dof", "p_value"]
    )


def _table(values: np.ndarray) -> np.ndarray:
    """households x outcome counts from (draws, households) outcome codes."""
    k = int(values.max()) + 1 if values.size else 1
    table = np.zeros((values.shape[1], k), dtype=np.int64)
    for j in range(values.shape[1]):
        table[j] = np.bincount(values[:, j], minlength=k)
    return table


def _measured(labels, codes, bands, flats) -> pd.DataFrame:
    """Per class and building: the share of draws (over the sampled households) that
    gave that building, and the share on a low floor."""
    names = np.append(pd.factorize(flats["building"])[1].to_numpy(), "")
    rows = []
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label)
        counts = np.bincount(codes[:, members].ravel(), minlength=len(names))
        low = float((bands[:, members] == 0).mean())
        total = counts.sum()
        rows += [(label, names[b], counts[b] / total, low) for b in np.flatnonzero(counts)]
    return pd.DataFrame(rows, columns=["class", "building", "measured", "low_floor_measured"])


def _beside(measured: pd.DataFrame, analytic: pd.DataFrame) -> pd.DataFrame:
    """The measured chances next to those worked out from the pools."""
    label = analytic["unit_type"] + np.where(analytic["asks"], "/asked", "/other")
    label = np.where(analytic["village"] != "", analytic["village"] + "/" + label, label)
    worked = analytic.assign(**{"class": label})[
        ["class", "building", "chance", "low_floor_chance"]
    ]
    return measured.merge(worked, on=["class", "building"], how="left")
