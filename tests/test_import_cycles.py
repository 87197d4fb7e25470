"""No import cycles in simlib/, counting the imports inside functions too (a lazy import
only hides a cycle). A module importing its own package's __init__ is not counted."""

from __future__ import annotations

import ast
from pathlib import Path

SIMLIB = Path(__file__).resolve().parents[1] / "simlib"


def module_name(path: Path, root: Path = SIMLIB) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = SIMLIB) -> dict[str, set[str]]:
    """module -> the simlib modules it imports anywhere in its code."""
    paths = {module_name(p, root): p for p in root.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simlib"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in paths else node.module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in paths}
        graph[name] = {
            t for t in targets if t in paths and not name.startswith(t + ".") and t != name
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_simlib_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_check_finds_a_cycle_hidden_in_a_function(tmp_path):
    package = tmp_path / "simlib"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from simlib.b import g\n")
    (package / "b.py").write_text("def g():\n    from simlib.a import f\n")
    assert cycles(import_graph(package)) == [["simlib.a", "simlib.b"]]
