"""The modules of each package checked here form no import cycle (counting
imports made only for type checking and those inside functions); and no engine
module imports a private name of another: the rule modules reach the cycle
through engine/cycle.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def _module(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _graph(package: str) -> tuple[dict[str, set[str]], list[str]]:
    """Each module of `package` with the modules of `package` it imports, and the
    private names imported across modules."""
    modules = {_module(p): p for p in (SRC / package.replace(".", "/")).rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    private: list[str] = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                # `from pkg import mod` imports the module pkg.mod.
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                if node.module in modules:
                    private += [
                        f"{name} imports {node.module}.{a.name}"
                        for a in node.names
                        if a.name.startswith("_")
                    ]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph, private


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of its modules, or None."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


# The planner's rule modules (one cycle state, issue 8) and the command line (a
# fast entry point that hands over to typer).
@pytest.mark.parametrize("package", ["lanner.engine", "lanner.cli"])
def test_no_import_cycle(package: str) -> None:
    graph, _ = _graph(package)
    assert len(graph) > 10
    assert _cycle(graph) is None


def test_no_private_name_crosses_engine_modules() -> None:
    _, private = _graph("lanner.engine")
    assert private == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
