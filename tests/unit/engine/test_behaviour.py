"""The task-behaviour declaration (lanner.model.behaviour): what it accepts,
what the built-in types declare."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from lanner.model.behaviour import (
    Action,
    Batches,
    Behaviour,
    Choice,
    DagSpec,
    Order,
    StateRule,
    TaskKind,
    Until,
)
from lanner.model.task import Task
from lanner.tasks.core import task_types

F = TaskKind.FLOWABLE


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"kind": F}, "a flowable needs at least one child list"),
        ({"children": ("tasks",)}, "only a flowable"),
        ({"kind": TaskKind.EXECUTION}, "an execution task needs an action"),
        ({"action": Action.EXIT}, "a runnable task has no action"),
        ({"kind": F, "children": ("a", "b")}, "Choice.ALL takes one child list"),
        ({"kind": F, "children": ("a", "b"), "choose": Choice.CASE}, "and a selector"),
        ({"kind": F, "children": ("a",), "order": Order.LOOP}, "a values property"),
        ({"kind": F, "children": ("a",), "values": "v"}, "a values property"),
        ({"kind": F, "children": ("a",), "order": Order.UNTIL}, "`until` goes with"),
        ({"kind": F, "children": ("a",), "dag": DagSpec()}, "`dag` goes with"),
        ({"kind": F, "children": ("a",), "limit": -1}, "negative"),
        ({"kind": F, "children": ("a",), "one_job": True}, "a one_job task is runnable"),
    ],
)
def test_an_inconsistent_declaration_is_refused(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Behaviour(**fields)


def test_the_newer_flowables_can_be_declared() -> None:
    Behaviour(TaskKind.RUNNABLE, ("tasks",), one_job=True)
    Behaviour(F, ("tasks",), order=Order.UNTIL, until=Until())
    Behaviour(F, ("tasks",), order=Order.DAG, dag=DagSpec())
    # ForEachItem's `<id>_items` (engine/foreachitem.py)
    Behaviour(TaskKind.EXECUTION, batches=Batches(), action=Action.SUBFLOW)
    with pytest.raises(ValueError, match="`batches` goes with"):
        Behaviour(TaskKind.EXECUTION, batches=Batches(), action=Action.EXIT)


def _declared(name: str) -> Behaviour:
    found = [t.model.behaviour for t in task_types() if t.name.endswith("." + name)]
    assert len(found) == 1
    return found[0]


def test_the_builtin_types_declare_their_behaviour() -> None:
    assert _declared("Parallel").order is Order.PARALLEL
    assert _declared("Parallel").limit_property == "concurrent"
    assert _declared("ForEach").order is Order.LOOP
    assert _declared("ForEach").limit_property == "concurrencyLimit"
    assert _declared("ForEach").child_failure == "child_failure"
    assert _declared("EachSequential").limit == 1
    assert _declared("EachParallel").order is Order.LOOP_PARALLEL
    assert _declared("AllowFailure").state_rule is StateRule.FAILED_IS_WARNING
    assert _declared("If").choose is Choice.CONDITION
    assert _declared("Switch").choose is Choice.CASE
    assert _declared("Pause").action is Action.PAUSE
    assert _declared("Subflow").action is Action.SUBFLOW
    assert _declared("Exit").action is Action.EXIT
    assert _declared("Log") == Behaviour()
    for t in task_types():
        assert t.kind is t.model.behaviour.kind
        assert t.model.child_fields == t.model.behaviour.child_fields


def test_a_task_class_declares_behaviour_not_kind() -> None:
    with pytest.raises(TypeError, match="declare `behaviour"):

        class OldStyle(Task):
            kind: ClassVar[TaskKind] = TaskKind.FLOWABLE


def test_a_declared_property_must_exist() -> None:
    with pytest.raises(TypeError, match="no property 'steps'"):

        class Missing(Task):
            behaviour: ClassVar[Behaviour] = Behaviour(F, ("steps",))
