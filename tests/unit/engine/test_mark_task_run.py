"""A user's change of an ended task run's state (Kestra's `.../state`, engine
restart.mark) and force-run / unqueue (control.force_run)."""

from __future__ import annotations

from lanner.engine.events import Dequeue, ForceRun, MarkTaskRun, Start
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
