"""The command line: JSON on stdout and nothing else; clear errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

from simlib.scenario import PROJECT_ROOT, SMOKE_SCENARIO


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simlib", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )


def test_population_json_has_the_named_keys():
    result = run("population", "--scenario", str(SMOKE_SCENARIO), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in (
        "households",
        "people",
        "registered_poor_households",
        "registered_poor_people",
        "laborers",
        "special_group_people",
        "by_county",
    ):
        assert key in data
    assert set(data["by_county"]) == {"Ludian", "Qiaojia", "Yongshan", "Yiliang", "Yanjin"}
    for county in data["by_county"].values():
        assert {"households", "people", "laborers"} <= set(county)
    assert sum(c["people"] for c in data["by_county"].values()) == data["people"]


def test_population_default_is_the_full_baseline():
    result = run("population", "--json", "--seed", "5")
    data = json.loads(result.stdout)
    assert data["households"] == 8322 and data["people"] == 35585 and data["seed"] == 5


def test_human_output():
    result = run("population", "--scenario", str(SMOKE_SCENARIO))
    assert result.returncode == 0
    assert "households" in result.stdout and "Qiaojia" in result.stdout


def test_bad_input_exits_2_naming_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("scale: 3\n", encoding="utf-8")
    result = run("population", "--scenario", str(bad), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "bad.yaml" in result.stderr and "scale" in result.stderr and "3" in result.stderr


def test_report_solver_choices_are_the_reports_own():
    """The parser names the solvers without importing simlib.report; the two lists agree."""
    from simlib.cli import build_parser
    from simlib.report import SOLVERS

    parser = build_parser()
    report = parser._subparsers._group_actions[0].choices["report"]
    solver = next(a for a in report._actions if a.dest == "solver")
    assert tuple(solver.choices) == SOLVERS


def test_every_subcommand_takes_debug():
    """An unexpected error's handler reads --debug: a subcommand without it once crashed
    the handler itself (`simlib sweep`)."""
    from simlib.cli import build_parser

    parser = build_parser()
    subcommands = parser._subparsers._group_actions[0].choices
    assert {"population", "simulate", "plan", "match", "timeline", "report", "sweep"} <= set(
        subcommands
    )
    for name, sub in subcommands.items():
        assert any("--debug" in a.option_strings for a in sub._actions), name


def test_report_and_sweeps_share_one_atomic_write_and_one_git_commit():
    import re as re_
    import subprocess as sp

    import simlib.files
    import simlib.report
    import simlib.sweep.store

    assert simlib.report.write_atomic is simlib.files.write_atomic
    assert simlib.sweep.store.write_atomic is simlib.files.write_atomic
    defined = sp.run(
        ["grep", "-rlE", r"^def git_commit\(", str(PROJECT_ROOT / "simlib")],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert defined == [str(PROJECT_ROOT / "simlib" / "files.py")]
    assert re_.fullmatch(r"[0-9a-f]{12}(-dirty)?|unknown", simlib.files.git_commit())


def test_the_atomic_write_reaches_the_disk(tmp_path, monkeypatch):
    import os

    from simlib.files import write_atomic

    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real(fd))
    write_atomic(tmp_path / "a" / "point.json", "{}")
    write_atomic(tmp_path / "a" / "point.json", b"[]")
    assert len(synced) >= 2  # the file each time (and its folder, where the system allows)
    assert (tmp_path / "a" / "point.json").read_text() == "[]"
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["point.json"]
