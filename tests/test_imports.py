"""No import circles among simulator modules, function-level imports included.

A circle works until someone moves an import or adds a name at the wrong line; then one of its
modules is seen half-initialised. The graph is read from the source with ``ast``, so an import
hidden inside a function counts as much as one at the top. Importing ``a.b.c`` runs the
``__init__`` of ``a.b`` too, so that package is an edge as well, unless the importer lives inside
it (a package's own modules are imported while it initialises; that is no circle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import simulator

ROOT = Path(simulator.__file__).parent


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module and package of simulator."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(name: str, path: Path) -> set[str]:
    """Every module an import statement of this file names (``from p import m``: p.m if a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the simulator modules it imports (and the packages whose __init__ that runs)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        targets = set()
        for imported in _imported(name, path):
            parts = imported.split(".")
            targets.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        graph[name] = {t for t in targets if t in modules and t != name and t not in own}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_checker_finds_a_circle_through_a_function_level_import():
    """The checker itself: a -> b at the top, b -> a inside a function, is a circle."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_plots_and_results_are_read_as_the_issue_describes():
    """The graph sees what matters: results writes through files, plots_compare needs no experiment."""
    graph = import_graph()
    assert "simulator.files" in graph["simulator.results"] and "simulator.files" in graph["simulator.plots"]
    assert "simulator.plots" in graph["simulator.results"]  # lazily, inside write_run's helpers
    assert not any(name.startswith("simulator.experiment") for name in graph["simulator.plots_compare"])


def test_no_import_circle_among_simulator_modules():
    """Every import, at any level of any simulator module, keeps the module graph acyclic."""
    assert cycles(import_graph()) == []
