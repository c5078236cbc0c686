"""Replay from a task run (engine/replay.py, Kestra's replay with `taskRunId`): the
task runs before it are copied as they ended; it and what follows run again."""

from __future__ import annotations

import pytest

from lanner.engine.cycle import invariant_problems
from lanner.engine.events import ChildResult, ChildStarted, Start, TaskStarted
from lanner.engine.execution import ROOT, new_execution_id
from lanner.engine.flowindex import FlowIndex
from lanner.engine.replay import replay_from
from lanner.errors import InputValueError
from lanner.model.states import State
from tests.unit.engine.support import Driver

SEQUENCE = """
tasks:
  - id: a
    type: Log
    message: a
  - id: b
    type: Log
    message: b
  - id: c
    type: Log
    message: c
errors:
  - id: alert
    type: Log
    message: failed
"""

NESTED = """
tasks:
  - id: group
    type: Sequential
    tasks:
      - id: x
        type: Log
        message: x
      - id: y
        type: Log
        message: y
  - id: par
    type: Parallel
    tasks:
      - id: p1
        type: Log
        message: p1
      - id: p2
        type: Log
        message: p2
  - id: z
    type: Log
    message: z
"""


def _failed_at_b() -> Driver:
    d = Driver.of(SEQUENCE)
    d.plan(Start())
    d.plan(d.result("a", outputs_value="kept"))
    d.plan(d.result("b", State.FAILED, error="boom"))
    d.plan(d.result("alert"))
    assert d.execution.state is State.FAILED
    return d


def _replayed(original: Driver, task_id: str) -> Driver:
    d = Driver(original.flow, now=original.now)
    target = original.run(task_id).id
    d.execution = replay_from(
        original.execution, FlowIndex(original.flow), target, new_execution_id(), d.now
    )
    ex = d.execution
    active = {i for i, r in ex.task_runs.items() if not r.state.terminated}
    failed = {
        (r.parent_id or ROOT, r.phase) for r in ex.task_runs.values() if r.state is State.FAILED
    }
    assert invariant_problems(ex.task_runs, ex.children, active, failed) == []
    return d


def test_the_runs_before_are_copied_and_the_given_one_and_the_rest_run_again() -> None:
    original = _failed_at_b()
    d = _replayed(original, "b")
    assert d.execution.id != original.execution.id
    assert d.states() == [("a", "SUCCESS"), ("b", "RESTARTED")]  # alert is dropped
    a = d.run("a")
    assert a.id != original.run("a").id and a.execution_id == d.execution.id
    assert a.outputs == original.run("a").outputs
    assert d.execution.inputs == original.execution.inputs
    d.plan(Start())
    assert d.dispatched() == ["b"]  # a is not run again
    assert len(d.run("b").attempts) == 2  # a new attempt of the task run
    d.plan(d.result("b"))
    assert d.dispatched() == ["b", "c"]
    d.plan(d.result("c"))
    assert d.execution.state is State.SUCCESS
    assert [r.task_id for r in d.execution.ordered_task_runs()] == ["a", "b", "c"]


def test_replay_from_the_first_task_runs_everything_again() -> None:
    original = _failed_at_b()
    d = _replayed(original, "a")
    assert d.states() == [("a", "RESTARTED")]
    d.plan(Start())
    assert d.dispatched() == ["a"]


def test_inside_flowables_the_ancestors_run_again_and_a_parallel_keeps_its_other_branches() -> None:
    original = Driver.of(NESTED)
    original.plan(Start())
    original.plan(original.result("x"))
    original.plan(original.result("y"))
    original.plan(original.result("p1"))
    original.plan(original.result("p2", State.FAILED, error="boom"))
    assert original.execution.state is State.FAILED

    d = _replayed(original, "p2")
    assert dict(d.states()) == {
        "group": "SUCCESS",
        "x": "SUCCESS",
        "y": "SUCCESS",
        "par": "RESTARTED",
        "p1": "SUCCESS",  # another branch of the Parallel: kept
        "p2": "RESTARTED",
    }
    d.plan(Start())
    assert d.dispatched() == ["p2"]
    d.plan(d.result("p2"))
    assert d.run("par").state is State.SUCCESS
    assert d.dispatched() == ["p2", "z"]
    d.plan(d.result("z"))
    assert d.execution.state is State.SUCCESS

    again = _replayed(original, "x")  # in a Sequential: y runs again, par and z too
    assert dict(again.states()) == {"group": "RESTARTED", "x": "RESTARTED"}
    again.plan(Start())
    assert again.dispatched() == ["x"]
    again.plan(again.result("x"))
    assert again.dispatched() == ["x", "y"]


def test_replaying_a_flowable_runs_its_children_again() -> None:
    original = Driver.of(NESTED)
    original.plan(Start())
    original.plan(original.result("x"))
    original.plan(original.result("y", State.FAILED, error="boom"))
    assert original.execution.state is State.FAILED
    d = _replayed(original, "group")
    assert d.states() == [("group", "RESTARTED")]
    d.plan(Start())
    assert d.dispatched() == ["x"]


def test_an_unknown_task_run_or_a_revision_without_the_task_is_refused() -> None:
    original = _failed_at_b()
    with pytest.raises(InputValueError, match="not a task run"):
        replay_from(
            original.execution, FlowIndex(original.flow), "nope", new_execution_id(), original.now
        )
    other = Driver.of(SEQUENCE.replace("id: a\n", "id: renamed\n"))
    with pytest.raises(InputValueError, match="no task a"):
        replay_from(
            original.execution,
            FlowIndex(other.flow),
            original.run("b").id,
            new_execution_id(),
            original.now,
        )


WORKDIR = """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: first
        type: Log
        message: first
      - id: second
        type: Fail
  - id: after
    type: Log
    message: after
"""


def test_inside_a_working_directory_its_whole_job_runs_again() -> None:
    original = Driver.of(WORKDIR)
    original.plan(Start())
    wdir = original.run("wdir")
    original.plan(TaskStarted(wdir.id, 1))
    original.plan(ChildStarted(wdir.id, 1, 1, "first"))
    original.plan(ChildResult(wdir.id, 1, 1, "first", State.SUCCESS))
    original.plan(ChildStarted(wdir.id, 1, 1, "second"))
    original.plan(ChildResult(wdir.id, 1, 1, "second", State.FAILED, error="boom"))
    original.plan(original.result("wdir", State.FAILED, error="boom"))
    assert original.execution.state is State.FAILED
    d = _replayed(original, "second")
    assert d.states() == [("wdir", "RESTARTED")]
    d.plan(Start())
    assert d.dispatched() == ["wdir"]
