"""Imports point inward: the engine sees only the model, the expression layer
and the error tree — no store, runtime, network or clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "lanner"
ALLOWED = {
    "engine": {"lanner.engine", "lanner.model", "lanner.expr", "lanner.errors"},
    # The expression layer is a leaf (it sees only the error tree): validation parses
    # templates with it.
    "model": {
        "lanner.model",
        "lanner.errors",
        "lanner.plugin",
        "lanner.expr",
    },
    "expr": {"lanner.expr", "lanner.errors"},
    # Internal storage knows files and URIs, not flows, executions or the store.
    "storage": {"lanner.storage", "lanner.errors"},
    # The Ion codec is a leaf: any task that reads or writes row files may use it.
    "ion": {"lanner.ion"},
}
FORBIDDEN_IN_ENGINE = {
    "sqlite3",
    "psycopg",
    "httpx",
    "threading",
    "socket",
    "time",
    "os",
    "subprocess",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_inward(package: str) -> None:
    for path in (SRC / package).rglob("*.py"):
        for name in _imports(path):
            if name.startswith("lanner"):
                assert any(name == a or name.startswith(a + ".") for a in ALLOWED[package]), (
                    f"{path.relative_to(SRC)} imports {name}"
                )


def test_engine_does_no_io() -> None:
    for path in (SRC / "engine").rglob("*.py"):
        bad = {n.split(".")[0] for n in _imports(path)} & FORBIDDEN_IN_ENGINE
        assert not bad, f"{path.name} imports {bad}"
