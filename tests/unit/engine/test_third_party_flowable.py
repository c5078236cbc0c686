"""A flowable task type from another distribution, found through the
`lanner.tasks` entry points like the built-ins, runs on its declared
behaviour alone (tests/unit/engine/thirdparty/lanner_fanout)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanner.engine.events import Start
from lanner.model.states import State
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.testing import simulate
from tests.unit.engine.support import Driver, failed, flow_yaml

THIRD_PARTY = Path(__file__).parent / "thirdparty"

FANOUT = """
tasks:
  - id: fan
    type: com.example.Fanout
    width: WIDTH
    branches:
      - id: a
        type: Log
        message: a
      - id: b
        type: Log
        message: b
      - id: c
        type: Log
        message: c
    onError:
      - id: cleanup
        type: Log
        message: cleanup
  - id: after
    type: Log
    message: after
"""


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[TaskRegistry]:
    """The installed task types, with the `lanner-fanout` distribution on the path."""
    monkeypatch.delitem(sys.modules, "lanner_fanout", raising=False)
    monkeypatch.syspath_prepend(str(THIRD_PARTY))
    registry = TaskRegistry.from_entry_points()
    assert registry.load_errors == {}
    yield registry
    sys.modules.pop("lanner_fanout", None)


def test_the_plugin_is_found_through_the_entry_points(registry: TaskRegistry) -> None:
    fanout = registry.get("com.example.Fanout")
    assert fanout is not None and fanout.model.__module__ == "lanner_fanout"
    assert fanout.model.child_fields == ("branches", "onError")


def test_its_children_run_in_parallel_within_its_declared_limit(registry: TaskRegistry) -> None:
    flow = load_flow(flow_yaml(FANOUT.replace("WIDTH", "2")), registry)
    d = Driver(flow)
    d.plan(Start())
    assert d.dispatched() == ["a", "b"]  # `width` 2, read through `limit_property`
    d.plan(d.result("a"))
    assert d.dispatched() == ["a", "b", "c"]
    d.plan(d.result("b"), d.result("c"))
    assert d.run("fan").state is State.SUCCESS
    assert d.dispatched() == ["a", "b", "c", "after"]
    d.plan(d.result("after"))
    assert d.execution.state is State.SUCCESS


def test_a_failure_runs_its_handler_list_and_ends_it_in_warning(registry: TaskRegistry) -> None:
    flow = load_flow(flow_yaml(FANOUT.replace("WIDTH", "0")), registry)
    sim = simulate(flow, registry, forced={"b": lambda _: failed()})
    assert sim.states() == [
        ("fan", "WARNING"),  # StateRule.FAILED_IS_WARNING
        ("a", "SUCCESS"),
        ("b", "FAILED"),
        ("c", "SUCCESS"),
        ("cleanup", "SUCCESS"),  # its `onError` list, declared as `errors`
        ("after", "SUCCESS"),
    ]
    assert sim.execution.state is State.WARNING
