"""The planner notebooks as committed: thin, parameterised, and without outputs.

Running them is tested in test_report.py (the smoke build); here the committed files are
read as text, so a notebook saved with outputs or with a function in it fails at once.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from simlib.report import NOTEBOOKS_DIR, notebook_paths

PARAMETERS = {"scenario", "seed", "replications", "solver"}
REQUIRED = (
    "00-summary.ipynb",
    "01-population.ipynb",
    "02-moving-campaign.ipynb",
    "03-move-in-day.ipynb",
    "04-job-matching.ipynb",
    "05-sensitivity.ipynb",
    "06-employment-timeline.ipynb",
    "07-housing-lottery.ipynb",
)


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """Everything that makes a notebook more than a thin, clean planner notebook."""
    found = []
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        found.append(f"{len(tagged)} cells tagged 'parameters' (want exactly one)")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {i} has an execution count")
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
                kind = type(node).__name__.replace("Def", "").lower()
                found.append(f"cell {i} defines a {kind}: that code belongs in simlib/")
    if len(tagged) == 1:
        tree = ast.parse(tagged[0].source)
        names = set()
        for node in tree.body:
            if not isinstance(node, ast.Assign) or len(node.targets) != 1:
                found.append("the parameters cell holds something other than assignments")
                continue
            names.add(node.targets[0].id)
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                found.append(f"parameter {node.targets[0].id} is not a literal")
                continue
            if not isinstance(value, str | int | float | bool):
                found.append(f"parameter {node.targets[0].id} is not a scalar or a path")
        if names != PARAMETERS:
            found.append(f"parameters {sorted(names)}, want {sorted(PARAMETERS)}")
    return found


@pytest.fixture(params=[p.name for p in notebook_paths()])
def notebook(request) -> tuple[str, nbformat.NotebookNode]:
    path = NOTEBOOKS_DIR / request.param
    return request.param, nbformat.read(path, as_version=4)


def test_the_planner_notebooks_exist():
    names = [p.name for p in notebook_paths()]
    for name in REQUIRED:
        assert name in names


def test_notebook_is_thin_and_clean(notebook):
    name, nb = notebook
    nbformat.validate(nb)
    assert problems(nb) == [], name


def test_notebook_reads_like_a_study(notebook):
    name, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), name
    markdown = sum(len(c.source) for c in nb.cells if c.cell_type == "markdown")
    code = sum(len(c.source) for c in nb.cells if c.cell_type == "code")
    assert markdown > code, f"{name}: more code than prose"
    # the parameters come after the imports, so papermill injects values after the defaults
    kinds = [
        "parameters" if "parameters" in c.get("metadata", {}).get("tags", []) else c.cell_type
        for c in nb.cells
    ]
    assert "code" in kinds[: kinds.index("parameters")], f"{name}: no import cell first"


def test_default_scenario_path_exists_from_the_notebooks_folder(notebook):
    name, nb = notebook
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    scenario = next(
        ast.literal_eval(n.value)
        for n in ast.parse(cell.source).body
        if isinstance(n, ast.Assign) and n.targets[0].id == "scenario"
    )
    assert (NOTEBOOKS_DIR / Path(scenario)).is_file(), f"{name}: {scenario}"


def test_the_check_catches_what_it_should():
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('scenario = "a.yaml"\nseed = 1\nreplications = 2')
    params.metadata["tags"] = ["parameters"]
    helper = nbformat.v4.new_code_cell("def helper():\n    return 1", execution_count=3)
    helper.outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells = [params, helper, nbformat.v4.new_code_cell("class A:\n    pass")]
    found = " | ".join(problems(nb))
    assert "defines a function" in found
    assert "defines a class" in found
    assert "has outputs" in found
    assert "execution count" in found
    assert "want ['replications', 'scenario', 'seed', 'solver']" in found


# what a notebook may import from the package: the answers, the presentation layer, the
# figures and the sweeps' analysis (tables from a sweep's points); never a model's `run`,
# a loader or the simlib.study wrappers
ALLOWED_IMPORTS = {
    "simlib": {"plots"},
    "simlib.results": {"open_study"},
    "simlib.sweep": {"analysis"},
    "simlib.sweep.analysis": None,  # any of its table functions
}


def test_notebooks_read_answers_and_show_what_the_presentation_layer_words(notebook):
    name, nb = notebook
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simlib"):
                module, names = node.module, {a.name for a in node.names}
                if module == "simlib.present" or module.startswith("simlib.present."):
                    continue
                assert module in ALLOWED_IMPORTS, f"{name} imports {module}"
                allowed = ALLOWED_IMPORTS[module]
                assert allowed is None or names <= allowed, f"{name} imports {names} from {module}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("simlib") for a in node.names), name
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert node.value.id != "study", f"{name} calls study.{node.attr}"
