"""The API's handlers and the CLI's commands reach the database only through the manager."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cronbase

PACKAGE = Path(cronbase.__file__).parent
EDGES = sorted([*(PACKAGE / "api" / "routes").glob("*.py"), *(PACKAGE / "cli").glob("*.py")])


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", EDGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_edge_module_imports_the_store(path: Path) -> None:
    store = {name for name in _imports(path) if name.split(".")[:2] == ["cronbase", "store"]}
    assert not store, f"{path.name} imports {store}; go through cronbase.manager"


def test_the_edges_are_found() -> None:
    assert {p.name for p in EDGES} >= {"cron.py", "jobs.py", "__init__.py", "tokens.py"}
