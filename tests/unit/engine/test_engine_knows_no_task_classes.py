"""The engine dispatches on declared task behaviours only: no module of
`lanner/engine` names the class of a registered task type, nor guesses a
type from the properties a task happens to have."""

from __future__ import annotations

import ast
from pathlib import Path

from lanner.plugin import TaskRegistry

ENGINE = Path(__file__).resolve().parents[3] / "src" / "lanner" / "engine"


def _class_names() -> set[str]:
    registry = TaskRegistry.from_entry_points()
    assert registry.load_errors == {}
    return {t.model.__name__ for t in registry.types()}


def _offences(tree: ast.AST, names: set[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
            found.append((node.lineno, f"the string {node.value!r}"))
        elif isinstance(node, ast.Name) and node.id in names:
            found.append((node.lineno, f"the name {node.id}"))
        elif isinstance(node, ast.Attribute) and node.attr in names:
            found.append((node.lineno, f"the attribute .{node.attr}"))
        elif isinstance(node, ast.alias) and node.name.rsplit(".", 1)[-1] in names:
            found.append((node.lineno, f"an import of {node.name}"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "hasattr"
        ):
            found.append((node.lineno, "hasattr(): a type guessed from its properties"))
        elif isinstance(node, ast.Compare) and any(
            isinstance(n, ast.Attribute) and n.attr == "__name__" for n in ast.walk(node)
        ):
            found.append((node.lineno, "a class name compared"))
    return found


def test_the_engine_names_no_task_class() -> None:
    names = _class_names()
    assert {"Parallel", "Pause", "Subflow", "Exit", "Labels"} <= names  # the scan sees them
    problems = [
        f"{path.relative_to(ENGINE.parent)}:{line}: {what}"
        for path in sorted(ENGINE.rglob("*.py"))
        for line, what in _offences(ast.parse(path.read_text()), names)
    ]
    assert problems == []


def test_the_scan_catches_each_way_of_naming_a_class() -> None:
    source = """
if type(task).__name__ == "EachParallel":
    pass
if hasattr(task, "then"):
    pass
from lanner.tasks.core.flow import Switch
ok = isinstance(task, flow.ForEach)
"""
    found = _offences(ast.parse(source), {"EachParallel", "Switch", "ForEach"})
    assert sorted(line for line, _ in found) == [2, 2, 4, 6, 7]
