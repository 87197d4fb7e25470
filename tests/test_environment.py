"""environment.yml (conda) and pyproject.toml (pip) name the same runtime packages."""

from __future__ import annotations

import re
import tomllib

import yaml

from simlib.scenario import PROJECT_ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_conda_and_pip_name_the_same_packages():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    pip = {_name(r) for r in project["project"]["dependencies"]}
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert pip == conda, f"only in pyproject: {pip - conda}; only in environment.yml: {conda - pip}"
    assert "conda-forge" in env["channels"]


def test_python_versions_agree():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace("python", "") == project["project"]["requires-python"]
