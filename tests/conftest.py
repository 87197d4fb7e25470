"""Shared fixtures: the shipped scenarios, and a writable copy of data/ for bad-input tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from simlib.scenario import DEFAULT_SCENARIO, PROJECT_ROOT, SMOKE_SCENARIO, load_scenario

# CI draws the same property-test examples every run (a failure there is then one that
# anybody can reproduce, not a new random draw); a developer's run explores new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def baseline():
    return load_scenario(DEFAULT_SCENARIO)


@pytest.fixture(scope="session")
def smoke():
    return load_scenario(SMOKE_SCENARIO)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of data/ that a test may spoil; scenarios are under data_copy/scenarios."""
    target = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", target)
    return target


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
