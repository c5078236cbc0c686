"""Each execution-control event applied twice gives the same execution as applied once,
and applying it again in a later cycle changes nothing more."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lanner.engine.events import (
    Dequeue,
    Event,
    PauseElapsed,
    Restart,
    Resubmitted,
    Resume,
    Start,
    StartSubflow,
    SubflowEnded,
    TaskStarted,
)
from lanner.engine.planner import PlanContext
from lanner.model.states import State
from tests.unit.engine.support import Driver


def resubmitted() -> tuple[Driver, Event]:
    d = Driver.of("tasks:\n  - id: a\n    type: Log\n    message: a\n")
    d.plan(Start())
    d.plan(TaskStarted(d.run("a").id, 1))
    return d, Resubmitted(d.run("a").id, 1)


def resume() -> tuple[Driver, Event]:
    d = Driver.of("tasks:\n  - id: p\n    type: Pause\n  - id: a\n    type: Log\n    message: a\n")
    d.plan(Start())
    return d, Resume({}, d.run("p").id)


def pause_elapsed() -> tuple[Driver, Event]:
    d = Driver.of("tasks:\n  - id: p\n    type: Pause\n    pauseDuration: PT1S\n")
    d.plan(Start())
    event = d.timers()[-1].event
    assert isinstance(event, PauseElapsed)
    return d, event


def subflow_ended() -> tuple[Driver, Event]:
    d = Driver.of("tasks:\n  - id: s\n    type: Subflow\n    namespace: a\n    flowId: b\n")
    d.plan(Start())
    c = d.of_type(StartSubflow)[-1]
    return d, SubflowEnded(c.task_run_id, c.attempt, c.execution_id, State.FAILED, {})


def restart() -> tuple[Driver, Event]:
    d = Driver.of(
        "tasks:\n  - id: a\n    type: Fail\nfinally:\n  - id: f\n    type: Log\n    message: f\n"
    )
    d.plan(Start())
    d.plan(d.result("a", State.FAILED))
    d.plan(d.result("f"))
    return d, Restart()


def dequeue() -> tuple[Driver, Event]:
    d = Driver.of("concurrency:\n  limit: 1\ntasks:\n  - id: a\n    type: Log\n    message: a\n")
    d.slots_taken = 1
    d.plan(Start())
    d.slots_taken = 0
    return d, Dequeue()


SCENARIOS: list[Callable[[], tuple[Driver, Event]]] = [
    resubmitted,
    resume,
    pause_elapsed,
    subflow_ended,
    restart,
    dequeue,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_control_event_twice_equals_once(
    scenario: Callable[[], tuple[Driver, Event]],
) -> None:
    d, event = scenario()
    context = PlanContext(now=d.now, slots_taken=d.slots_taken)
    once = d.planner.plan(d.execution, [event], context)
    twice = d.planner.plan(d.execution, [event, event], context)
    assert twice.execution == once.execution
    assert twice.deleted == once.deleted
    assert once.changed  # the event did something
    again = d.planner.plan(once.execution, [event], context)
    assert again.execution == once.execution
    assert not again.changed and not again.deleted
