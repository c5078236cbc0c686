"""A user's change of an ended task run's state (Kestra's `.../state`, engine
restart.mark) and force-run / unqueue (control.force_run)."""

from __future__ import annotations

from lanner.engine.events import (
    ChildResult,
    ChildStarted,
    Dequeue,
    ForceRun,
    MarkTaskRun,
    Start,
    TaskStarted,
)
from lanner.engine.flowindex import FlowIndex
from lanner.engine.restart import mark_refusal
from lanner.model.states import State
from tests.unit.engine.support import Driver

FLOW = """
tasks:
  - id: seq
    type: Sequential
    tasks:
      - id: first
        type: Log
        message: one
      - id: second
        type: Log
        message: two
  - id: last
    type: Log
    message: last
errors:
  - id: handle
    type: Log
    message: failed
finally:
  - id: fin
    type: Log
    message: fin
"""


def failed_at_first() -> Driver:
    d = Driver.of(FLOW)
    d.plan(Start())
    d.plan(d.result("first", State.FAILED, error="boom"))
    d.plan(d.result("handle"))
    d.plan(d.result("fin"))
    assert d.execution.state is State.FAILED
    assert d.execution.finalized_at is not None
    return d


def test_a_failed_task_run_marked_success_lets_the_execution_go_on() -> None:
    d = failed_at_first()
    first = d.run("first")
    d.plan(MarkTaskRun(first.id, State.SUCCESS))
    assert d.run("first").state is State.SUCCESS
    assert d.run("first").attempts[-1].state is State.SUCCESS
    assert d.run("first").error is None
    assert d.execution.state is State.RUNNING
    assert d.execution.finalized_at is None
    assert "handle" not in [t for t, _ in d.states()]  # the errors list is gone
    assert d.dispatched()[-1] == "second"
    d.plan(d.result("second"))
    d.plan(d.result("last"))
    d.plan(d.result("fin"))  # finally runs again
    assert d.execution.state is State.SUCCESS
    assert d.execution.finalized_at is not None
    assert d.states() == [
        ("seq", "SUCCESS"),
        ("first", "SUCCESS"),
        ("second", "SUCCESS"),
        ("last", "SUCCESS"),
        ("fin", "SUCCESS"),
    ]
    assert any("changed by a user from FAILED to SUCCESS" in x.message for x in d.logs())


def test_marked_warning_ends_the_execution_in_warning() -> None:
    d = failed_at_first()
    d.plan(MarkTaskRun(d.run("first").id, State.WARNING))
    d.plan(d.result("second"))
    d.plan(d.result("last"))
    d.plan(d.result("fin"))
    assert d.run("seq").state is State.WARNING
    assert d.execution.state is State.WARNING


def test_a_success_marked_failed_fails_the_execution_through_its_errors() -> None:
    d = Driver.of(FLOW)
    d.plan(Start())
    for task in ("first", "second", "last", "fin"):
        d.plan(d.result(task))
    assert d.execution.state is State.SUCCESS
    d.plan(MarkTaskRun(d.run("last").id, State.FAILED))
    assert d.run("last").state is State.FAILED
    assert d.dispatched()[-1] == "handle"
    d.plan(d.result("handle"))
    d.plan(d.result("fin"))
    assert d.execution.state is State.FAILED
    assert d.execution.finalized_at is not None


def test_refused_marks_change_nothing() -> None:
    d = Driver.of(FLOW)
    d.plan(Start())
    running = d.execution
    d.plan(MarkTaskRun(d.run("first").id, State.SUCCESS))  # the execution runs
    assert d.execution.task_runs == running.task_runs
    d.plan(d.result("first", State.FAILED))
    d.plan(d.result("handle"))
    d.plan(d.result("fin"))
    ended = d.execution
    for event in (
        MarkTaskRun(d.run("handle").id, State.FAILED),  # an errors task run
        MarkTaskRun(d.run("first").id, State.FAILED),  # already FAILED
        MarkTaskRun(d.run("first").id, State.RUNNING),  # not a state one marks
        MarkTaskRun("nope", State.SUCCESS),
    ):
        d.plan(event)
        assert d.execution.state is State.FAILED
        assert d.execution.task_runs == ended.task_runs


def limited() -> Driver:
    d = Driver.of("""
        concurrency:
          limit: 1
          behavior: QUEUE
        tasks:
          - id: a
            type: Log
            message: a
        """)
    d.slots_taken = 1
    return d


def test_force_run_starts_a_queued_execution_past_the_limit() -> None:
    d = limited()
    d.plan(Start())
    assert d.execution.state is State.QUEUED
    d.plan(ForceRun())
    assert d.execution.state is State.RUNNING
    assert d.dispatched() == ["a"]
    d.plan(Dequeue())  # a later Dequeue changes nothing
    d.plan(d.result("a"))
    assert d.execution.state is State.SUCCESS


def test_force_run_of_a_created_execution_and_its_late_start() -> None:
    d = limited()
    d.plan(ForceRun())
    assert d.execution.state is State.RUNNING
    d.plan(Start())  # its Start event, due later (scheduleDate), changes nothing
    assert d.dispatched() == ["a"]


def test_unqueue_to_another_state_ends_it() -> None:
    d = limited()
    d.plan(Start())
    d.plan(ForceRun(State.CANCELLED))
    assert d.execution.state is State.CANCELLED
    assert d.execution.finalized_at is not None
    assert d.dispatched() == []
    d.plan(ForceRun())  # ended: nothing
    assert d.execution.state is State.CANCELLED


def test_a_failed_branch_of_a_parallel_marked_success() -> None:
    d = Driver.of("""
        tasks:
          - id: both
            type: Parallel
            tasks:
              - id: a
                type: Log
                message: a
              - id: b
                type: Log
                message: b
          - id: last
            type: Log
            message: last
        """)
    d.plan(Start())
    d.plan(d.result("a"), d.result("b", State.FAILED, error="boom"))
    assert d.execution.state is State.FAILED
    d.plan(MarkTaskRun(d.run("b").id, State.SUCCESS))
    assert d.run("both").state is State.SUCCESS
    assert d.dispatched()[-1] == "last"
    d.plan(d.result("last"))
    assert d.execution.state is State.SUCCESS
    assert len(d.run("a").attempts) == 1  # not run again


def test_a_failed_iteration_of_a_foreach_marked_success() -> None:
    d = Driver.of("""
        tasks:
          - id: each
            type: ForEach
            values: ["x", "y"]
            tasks:
              - id: step
                type: Log
                message: "{{ taskrun.value }}"
          - id: last
            type: Log
            message: last
        """)
    d.plan(Start())
    x, *_ = [r for r in d.execution.ordered_task_runs() if r.task_id == "step"]
    d.plan(d.result_of(x, State.FAILED))
    assert d.execution.state is State.FAILED
    assert [v for t, v in d.states() if t == "step"] == ["FAILED"]
    d.plan(MarkTaskRun(x.id, State.SUCCESS))
    y = [r for r in d.execution.ordered_task_runs() if r.task_id == "step"][-1]
    assert y.value == "y" and y.state is not State.SUCCESS
    d.plan(d.result_of(y))
    d.plan(d.result("last"))
    assert d.execution.state is State.SUCCESS
    assert [v for t, v in d.states() if t == "step"] == ["SUCCESS", "SUCCESS"]


def test_a_task_run_inside_a_working_directory_is_refused_the_directory_is_not() -> None:
    d = Driver.of("""
        tasks:
          - id: wdir
            type: io.kestra.plugin.core.flow.WorkingDirectory
            tasks:
              - id: inner
                type: io.kestra.plugin.core.log.Log
                message: in
          - id: after
            type: io.kestra.plugin.core.log.Log
            message: after
        """)
    d.plan(Start())
    wdir = d.run("wdir")
    d.plan(TaskStarted(wdir.id, 1))
    d.plan(ChildStarted(wdir.id, 1, 1, "inner"))
    d.plan(ChildResult(wdir.id, 1, 1, "inner", State.FAILED, error="boom"))
    d.plan(d.result("wdir", State.FAILED))
    assert d.execution.state is State.FAILED
    inner = d.run("inner")
    why = mark_refusal(d.execution.task_runs, FlowIndex(d.flow), inner.id, State.SUCCESS)
    assert why is not None and "mark wdir itself" in why
    ended = d.execution
    d.plan(MarkTaskRun(inner.id, State.SUCCESS))
    assert d.execution.task_runs == ended.task_runs
    d.plan(MarkTaskRun(wdir.id, State.SUCCESS))
    assert d.dispatched()[-1] == "after"
    d.plan(d.result("after"))
    assert d.execution.state is State.SUCCESS
