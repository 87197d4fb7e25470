"""The back-test: the smoke scenario's headline tables as saved in tests/backtest/headlines.json.

A refactor that changes an answer fails here, naming the figure. Changing the saved figures
is a deliberate commit: `.venv/bin/python tests/backtest/headlines.py --write` (see there).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import headlines  # noqa: E402  (a script beside the test, not a package)


@pytest.fixture(scope="module")
def saved():
    document = json.loads(headlines.SAVED.read_text(encoding="utf-8"))
    assert document["replications"] == headlines.REPLICATIONS
    return document["answers"]


def test_every_headline_answer_is_saved_with_its_figures(saved):
    assert set(saved) == set(headlines.ANSWERS)
    for answer, figures in saved.items():
        assert any(k.startswith("summary.") for k in figures), answer
    assert "summary.employed" in saved["matching"]
    assert any(k.startswith("runs.0.") for k in saved["moving"])


def test_the_smoke_answers_are_those_saved(saved):
    found = headlines.differences(saved, headlines.headline_tables())
    assert not found, "answers changed (if on purpose, write them again: see headlines.py):\n" + "\n".join(found[:40])  # fmt: skip


def test_a_changed_or_missing_figure_is_caught(saved):
    now = {answer: dict(figures) for answer, figures in saved.items()}
    now["matching"]["summary.employed"] += 1
    key = next(k for k, v in now["moving"].items() if isinstance(v, float) and v)
    now["moving"][key] *= 1 + 10 * headlines.REL_TOL
    del now["housing"][next(iter(now["housing"]))]
    now["community"]["summary.a figure added later"] = 1.0  # new figures are allowed
    found = headlines.differences(saved, now)
    assert len(found) == 3, found
    assert any("summary.employed" in f for f in found)
    assert headlines.differences(saved, saved) == []


def test_numbers_within_the_tolerance_are_the_same():
    assert headlines.same(1.0, 1.0 + headlines.REL_TOL / 10)
    assert not headlines.same(1.0, 1.0 + headlines.REL_TOL * 10)
    assert not headlines.same(True, 1)
    assert headlines.same("2020-03-31", "2020-03-31")


def test_flatten_leaves_out_times_and_keeps_positions():
    flat = headlines.flatten({"a": {"solve_seconds": 3.2, "b": [1, {"c": float("nan")}]}}, "s")
    assert flat == {"s.a.b.0": 1, "s.a.b.1.c": None}
