"""SPEC §2.4: flow concurrency, checked by the planner on Start and Dequeue."""

from __future__ import annotations

import pytest

from lanner.engine.events import Dequeue, Kill, Start
from lanner.model.states import State
from tests.unit.engine.support import Driver, history


def limited(behavior: str, taken: list[int]) -> Driver:
    d = Driver.of(f"""
        concurrency:
          limit: 2
          behavior: {behavior}
        tasks:
          - id: a
            type: Log
            message: a
        afterExecution:
          - id: x
            type: Log
            message: "{{{{ execution.state }}}}"
        """)
    d.slots_taken = lambda: taken[0]
    return d


@pytest.mark.parametrize("behavior", ["QUEUE", "CANCEL", "FAIL"])
def test_concurrency_slot_free_starts(behavior: str) -> None:
    d = limited(behavior, [1])
    d.plan(Start())
    assert d.execution.state is State.RUNNING
    assert d.dispatched() == ["a"]


def test_concurrency_queue_then_dequeue() -> None:
    taken = [2]
    d = limited("QUEUE", taken)
    d.plan(Start())
    assert d.execution.state is State.QUEUED
    assert d.execution.task_runs == {}
    d.plan(Dequeue())  # still full
    assert d.execution.state is State.QUEUED
    taken[0] = 1
    d.plan(Dequeue(), Dequeue())
    assert history(d.execution) == ["CREATED", "QUEUED", "RUNNING"]
    assert d.dispatched() == ["a"]
    d.plan(Dequeue())  # running: nothing to do
    assert history(d.execution) == ["CREATED", "QUEUED", "RUNNING"]


def test_concurrency_cancel() -> None:
    d = limited("CANCEL", [2])
    d.plan(Start())
    assert d.execution.state is State.CANCELLED
    assert d.execution.terminal_at is not None
    assert d.dispatched() == ["x"]  # afterExecution runs
    d.plan(d.result("x"))
    assert d.execution.finalized_at is not None


def test_concurrency_fail() -> None:
    d = limited("FAIL", [3])
    d.plan(Start())
    assert d.execution.state is State.FAILED
    assert d.execution.error is not None
    assert d.execution.error.message == "Execution is FAILED due to concurrency limit exceeded"
    assert d.dispatched() == ["x"]


def test_concurrency_without_slot_counter_starts() -> None:
    d = limited("QUEUE", [5])
    d.slots_taken = None  # a runtime that does not count: no limit
    d.plan(Start())
    assert d.execution.state is State.RUNNING


def test_concurrency_queued_execution_killed() -> None:
    d = limited("QUEUE", [2])
    d.plan(Start())
    d.plan(Kill())
    assert d.execution.state is State.KILLED
    assert d.dispatched() == ["x"]


def test_concurrency_start_twice_equals_once() -> None:
    d = limited("QUEUE", [2])
    d.plan(Start(), Start())
    assert history(d.execution) == ["CREATED", "QUEUED"]
