"""Labels set by a user on a finished execution (Kestra's labels action): added or
updated, the others kept, nothing else changed."""

from __future__ import annotations

from lanner.engine.events import SetLabels, Start
from lanner.model.states import State
from tests.unit.engine.support import Driver


def test_labels_are_added_or_updated_and_nothing_else_changes() -> None:
    d = Driver.of(
        """
labels:
  team: data
  env: dev
tasks:
  - id: a
    type: Log
    message: a
"""
    )
    d.plan(Start())
    d.plan(d.result("a"))
    assert d.execution.state is State.SUCCESS and d.execution.finalized_at is not None
    before = d.execution
    d.plan(SetLabels({"env": "prod", "reviewed": "yes"}))
    assert d.execution.labels == {"team": "data", "env": "prod", "reviewed": "yes"}
    assert d.execution.histories == before.histories
    assert d.execution.task_runs == before.task_runs
    assert d.dispatched() == ["a"]
