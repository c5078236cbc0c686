"""The task registry: built-in and third-party task types are found the same way,
through the `lanner.tasks` entry-point group; a broken plugin is reported, not fatal."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanner.model.schema import flow_json_schema
from lanner.model.task import Task
from lanner.plugin import ENTRY_POINT_GROUP, TaskRegistry, TaskType
from tests.unit.model.flowtools import LOG, flow_data, load, one_problem

PLUGIN_MODULE = "lanner_example_plugin"
BROKEN_MODULE = "lanner_broken_plugin"

PLUGIN_SOURCE = '''
from pydantic import Field

from lanner.model.task import Task
from lanner.plugin import Outcome, TaskType


class Greet(Task):
    """Say hello."""

    who: str = Field(description="Whom to greet.")
    shout: bool = False


def run_greet(task, ctx):
    return Outcome(outputs={"greeting": f"hello {ctx.render(task.who)}"})


def task_types():
    return [TaskType("com.example.Greet", Greet, ("com.example.legacy.Greet",), run_greet)]
'''

BROKEN_SOURCE = """
def task_types():
    raise RuntimeError("the plugin cannot start: missing licence")
"""


def _distribution(root: Path, name: str, entry_points: dict[str, str]) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}\n")


@pytest.fixture
def plugins_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Two installed third-party distributions: one good plugin, one whose entry point raises,
    plus an entry point naming a module that does not exist."""
    (tmp_path / f"{PLUGIN_MODULE}.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    (tmp_path / f"{BROKEN_MODULE}.py").write_text(textwrap.dedent(BROKEN_SOURCE))
    _distribution(tmp_path, "lanner_example_plugin", {"example": f"{PLUGIN_MODULE}:task_types"})
    _distribution(
        tmp_path,
        "lanner_broken_plugin",
        {"broken": f"{BROKEN_MODULE}:task_types", "ghost": "lanner_no_such_module:task_types"},
    )
    for module in (PLUGIN_MODULE, BROKEN_MODULE):
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in (PLUGIN_MODULE, BROKEN_MODULE):
        sys.modules.pop(module, None)


def test_builtins_come_from_the_entry_point() -> None:
    registry = TaskRegistry.from_entry_points()
    assert registry.load_errors == {}
    log = registry.get(LOG)
    assert log is not None and log.name == LOG
    assert registry.get("io.kestra.core.tasks.log.Log") is log


def test_third_party_plugin_found_like_builtins(plugins_on_path: Path) -> None:
    registry = TaskRegistry.from_entry_points()
    greet = registry.get("com.example.Greet")
    assert greet is not None
    assert registry.get("com.example.legacy.Greet") is greet
    assert registry.get(LOG) is not None, "built-ins are still there"
    assert "com.example.Greet" in registry.names()

    flow = load(
        flow_data([{"id": "hi", "type": "com.example.legacy.Greet", "who": "{{ inputs.name }}"}]),
        registry=registry,
    )
    task = flow.tasks[0]
    assert isinstance(task, Task) and type(task) is greet.model
    assert getattr(task, "who") == "{{ inputs.name }}"  # noqa: B009

    problem = one_problem(
        flow_data([{"id": "hi", "type": "com.example.Greet", "whom": "x"}]), registry=registry
    )
    assert problem.path == "tasks[0].whom" and problem.task_type == "com.example.Greet"

    schema = flow_json_schema(registry)
    assert "task:com.example.Greet" in schema["$defs"]


def test_broken_plugin_is_reported_not_fatal(plugins_on_path: Path) -> None:
    registry = TaskRegistry.from_entry_points()
    assert set(registry.load_errors) == {"broken", "ghost"}
    assert (
        registry.load_errors["broken"] == "RuntimeError: the plugin cannot start: missing licence"
    )
    assert registry.load_errors["ghost"].startswith("ModuleNotFoundError")
    # The other plugins, built-ins included, still load.
    assert registry.get("com.example.Greet") is not None
    assert registry.get(LOG) is not None


def test_flow_using_a_type_of_a_broken_plugin_names_it(plugins_on_path: Path) -> None:
    registry = TaskRegistry.from_entry_points()
    problem = one_problem(
        flow_data([{"id": "t", "type": "com.broken.Thing", "x": 1}]), registry=registry
    )
    assert problem.path == "tasks[0].type"
    assert problem.message.startswith("unknown task type 'com.broken.Thing'")
    assert "plugins that failed to load" in problem.message
    assert "broken (RuntimeError: the plugin cannot start: missing licence)" in problem.message


def test_a_type_registered_twice_is_an_error() -> None:
    class One(Task):
        pass

    registry = TaskRegistry([TaskType("x.One", One, run=lambda task, ctx: None)])  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(TaskType("x.Other", One, ("x.One",), run=lambda task, ctx: None))  # type: ignore[arg-type,return-value]


def test_runnable_type_needs_a_run_function() -> None:
    class Two(Task):
        pass

    with pytest.raises(ValueError, match="needs a run function"):
        TaskType("x.Two", Two)


def test_suggest_matches_simple_class_names() -> None:
    registry = TaskRegistry.from_entry_points()
    assert registry.suggest("io.kestra.plugin.core.log.Logg") == LOG
    assert registry.suggest("Parallell") == "io.kestra.plugin.core.flow.Parallel"
    assert registry.suggest("com.nothing.Qwzxv") is None


LAZY_PROBE = f"""
import json
import sys
from lanner.plugin import TaskRegistry

def loaded():
    return {{m for m in sys.modules if m.startswith("lanner.tasks.")}}

registry = TaskRegistry.from_entry_points()
assert not loaded(), loaded()
assert registry.get("{LOG}") is not None
first = sorted(loaded())
registry.names()
print(json.dumps([first, len(loaded())]))
"""


def test_a_type_asked_for_loads_its_module_only() -> None:
    """A plugin, and a TaskFamily's module, is imported when one of its types is first
    asked for (the one named like a segment of the type name first); listing the names
    loads everything. In a new process: this one imported every task module already."""
    done = subprocess.run(
        [sys.executable, "-c", LAZY_PROBE], capture_output=True, text=True, check=True
    )
    first, everything = json.loads(done.stdout)
    assert first == ["lanner.tasks.core", "lanner.tasks.core.log"]
    assert everything > 20


def test_a_type_that_no_plugin_has_loads_them_all(plugins_on_path: Path) -> None:
    registry = TaskRegistry.from_entry_points()
    assert registry.get("com.example.Nothing") is None
    assert set(registry.load_errors) == {"broken", "ghost"}
    assert registry.get("com.example.Greet") is not None
