"""core/data has no import cycle, counting the imports inside functions (which once hid
rows -> describe -> labels -> rows), and features.py is a leaf."""

from __future__ import annotations

import ast
from pathlib import Path

import workbench.core.data as package

PREFIX = "workbench.core.data."


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for path in Path(package.__file__).parent.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith(PREFIX):
                    imported.add(node.module[len(PREFIX) :].split(".")[0])
                elif node.module == "workbench.core.data":
                    imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                imported.update(a.name[len(PREFIX) :].split(".")[0] for a in node.names if a.name.startswith(PREFIX))
        graph[path.stem] = imported - {path.stem}
    return graph


def test_no_cycle_and_features_is_a_leaf():
    graph = import_graph()
    assert graph["features"] == set()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        assert module not in path, "import cycle: " + " -> ".join(path + [module])
        if module in done:
            return
        for other in sorted(graph.get(module, ())):
            visit(other, path + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
