"""SPEC §2.4: flow concurrency, checked by the planner on Start and Dequeue."""

from __future__ import annotations

import pytest

from lanner.engine import control
from lanner.engine.events import Dequeue, Event, Kill, Start
from lanner.engine.execution import evolve
from lanner.model.states import State
from tests.unit.engine.support import Driver, history


def limited(behavior: str, taken: int) -> Driver:
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
    d.slots_taken = taken
    return d


@pytest.mark.parametrize("behavior", ["QUEUE", "CANCEL", "FAIL"])
def test_concurrency_slot_free_starts(behavior: str) -> None:
    d = limited(behavior, 1)
    d.plan(Start())
    assert d.execution.state is State.RUNNING
    assert d.dispatched() == ["a"]


def test_concurrency_queue_then_dequeue() -> None:
    d = limited("QUEUE", 2)
    d.plan(Start())
    assert d.execution.state is State.QUEUED
    assert d.execution.task_runs == {}
    d.plan(Dequeue())  # still full
    assert d.execution.state is State.QUEUED
    d.slots_taken = 1
    d.plan(Dequeue(), Dequeue())
    assert history(d.execution) == ["CREATED", "QUEUED", "RUNNING"]
    assert d.dispatched() == ["a"]
    d.plan(Dequeue())  # running: nothing to do
    assert history(d.execution) == ["CREATED", "QUEUED", "RUNNING"]


def test_concurrency_cancel() -> None:
    d = limited("CANCEL", 2)
    d.plan(Start())
    assert d.execution.state is State.CANCELLED
    assert d.execution.terminal_at is not None
    assert d.dispatched() == ["x"]  # afterExecution runs
    d.plan(d.result("x"))
    assert d.execution.finalized_at is not None


def test_concurrency_fail() -> None:
    d = limited("FAIL", 3)
    d.plan(Start())
    assert d.execution.state is State.FAILED
    assert d.execution.error is not None
    assert d.execution.error.message == "Execution is FAILED due to concurrency limit exceeded"
    assert d.dispatched() == ["x"]


def test_concurrency_without_slot_counter_starts() -> None:
    d = limited("QUEUE", 5)
    d.slots_taken = None  # a runtime that does not count: no limit
    d.plan(Start())
    assert d.execution.state is State.RUNNING


def test_concurrency_queued_execution_killed() -> None:
    d = limited("QUEUE", 2)
    d.plan(Start())
    d.plan(Kill())
    assert d.execution.state is State.KILLED
    assert d.dispatched() == ["x"]


def test_concurrency_start_twice_equals_once() -> None:
    d = limited("QUEUE", 2)
    d.plan(Start(), Start())
    assert history(d.execution) == ["CREATED", "QUEUED"]


LIMITED = "concurrency:\n  limit: 1\ntasks:\n  - id: a\n    type: Log\n    message: a\n"
FREE = "tasks:\n  - id: a\n    type: Log\n    message: a\n"


@pytest.mark.parametrize(
    ("body", "state", "events", "counts"),
    [
        (LIMITED, State.CREATED, [Start()], True),
        (LIMITED, State.QUEUED, [Kill(), Dequeue()], True),
        (LIMITED, State.CREATED, [Kill()], False),
        (LIMITED, State.QUEUED, [Kill()], False),
        (LIMITED, State.RUNNING, [Dequeue()], False),
        (LIMITED, State.QUEUED, [Start()], False),
        (FREE, State.CREATED, [Start()], False),
    ],
)
def test_concurrency_slots_counted_only_for_a_cycle_that_may_ask(
    body: str, state: State, events: list[Event], counts: bool
) -> None:
    """The runtime reads the count before the cycle (PlanContext.slots_taken is a value),
    and only when the cycle may need it: the read takes the flow's lock."""
    d = Driver.of(body)
    execution = evolve(d.execution, state=state)
    assert control.counts_slots(d.flow, execution, events) is counts
