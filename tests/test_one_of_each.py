"""One of each helper: the atomic write (with fsync), the git commit, the solver list and
the elastic penalty are each defined once, and nothing else writes a file its own way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from simlib.provenance import RunFailed

SIMLIB = Path(__file__).resolve().parents[1] / "simlib"


def modules() -> dict[str, ast.Module]:
    return {
        p.relative_to(SIMLIB).as_posix(): ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted(SIMLIB.rglob("*.py"))
    }


def definitions(name: str) -> list[str]:
    return [
        rel
        for rel, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == name
    ]


@pytest.mark.parametrize(
    ("name", "home"),
    [
        ("write_atomic", "files.py"),
        ("git_commit", "files.py"),
        ("elastic_penalty", "matching/formulation.py"),
    ],
)
def test_each_helper_is_defined_once(name, home):
    assert definitions(name) == [home]


def test_only_simlib_files_makes_temporary_files():
    """A file written through a temporary file of its own (mkstemp) bypasses the fsync."""
    found = [
        rel
        for rel, tree in modules().items()
        if rel != "files.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("mkstemp", "NamedTemporaryFile")
    ]
    assert found == []


def test_one_list_of_solvers():
    """The solver names are written out once (simlib.jobs_inputs.SOLVERS); elsewhere a
    SOLVERS is that list by name."""
    from simlib.jobs_inputs import SOLVERS

    written = [
        rel
        for rel, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", "") == "SOLVERS" for t in node.targets)
        and isinstance(node.value, (ast.Tuple, ast.List))
    ]
    assert written == ["jobs_inputs.py"] and SOLVERS == ("cbc", "highs")


def test_a_failed_assumptions_sweep_is_a_failed_run(monkeypatch, smoke):
    from types import SimpleNamespace

    import simlib.sweep.runner as runner
    from simlib.study import assumptions_sweep

    failed = SimpleNamespace(failed=1, failures=[{"label": "x", "error": "boom"}], table=None)
    monkeypatch.setattr(runner, "run_on_scenario", lambda *a, **k: failed)
    with pytest.raises(RunFailed, match="x: boom"):
        assumptions_sweep(smoke)
