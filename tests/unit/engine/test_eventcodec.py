"""Every planner event survives a trip through a stored event row (JSON payload)."""

from __future__ import annotations

import json

import pytest

from lanner.engine.events import (
    Dequeue,
    Event,
    Kill,
    LoopDue,
    PauseElapsed,
    Restart,
    Resubmitted,
    Resume,
    RetryDue,
    SlaDue,
    Start,
    SubflowEnded,
    TaskResult,
    TaskStarted,
    TimeoutDue,
)
from lanner.model.states import State
from lanner.runtime.eventcodec import decode, encode, timer_key
from lanner.store.base import EventRow
from tests.unit.engine.support import T0

EVENTS: list[Event] = [
    Start(),
    Kill(),
    TaskResult("r", 2, State.FAILED, {"a": 1}, "boom", "WorkerLost"),
    TaskStarted("r", 1),
    RetryDue("r", 1),
    TimeoutDue("r", 1),
    Resubmitted("r", 1),
    Resume({"ok": True, "n": "3"}),
    Resume({}, "r"),
    PauseElapsed("r", 1),
    SubflowEnded("r", 1, "child", State.WARNING, {"out": [1, 2]}),
    Restart(),
    Dequeue(),
    SlaDue(1, "max", 2),
    LoopDue("r", 1, 3),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_event_round_trip(event: Event) -> None:
    row = encode("ex", event, T0, "key")
    payload = json.loads(json.dumps(row.payload))  # what a store keeps
    assert decode(EventRow(1, "ex", row.kind, payload, T0)) == event


def test_each_loop_iteration_has_its_own_timer_key() -> None:
    keys = {timer_key("ex", LoopDue("r", 1, i)) for i in (2, 3)}
    assert len(keys) == 2
