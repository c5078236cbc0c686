"""Planner events to and from stored event rows (kind + JSON payload)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from lanner.engine.events import (
    ChildResult,
    ChildStarted,
    Dequeue,
    Event,
    ForceRun,
    Kill,
    LoopDue,
    MarkTaskRun,
    PauseElapsed,
    Restart,
    Resubmitted,
    Resume,
    RetryDue,
    SetLabels,
    SlaDue,
    Start,
    SubflowEnded,
    TaskResult,
    TaskStarted,
    TimeoutDue,
    UserPause,
)
from lanner.model.states import State
from lanner.store.base import EventRow, NewEvent

_KINDS: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        Start,
        Kill,
        TaskResult,
        TaskStarted,
        RetryDue,
        TimeoutDue,
        Resubmitted,
        Resume,
        PauseElapsed,
        SubflowEnded,
        Restart,
        Dequeue,
        SlaDue,
        ChildStarted,
        ChildResult,
        LoopDue,
        UserPause,
        SetLabels,
        MarkTaskRun,
        ForceRun,
    )
}


# What a payload keeps as it is: asdict() gives these values back unchanged (a
# deep copy of an immutable scalar is the scalar). A subclass (a tainted text) goes
# the whole way through asdict.
_ATOMS = frozenset({str, int, float, bool, type(None)})


def _state(state: State) -> str:
    return state.value


# The fields whose stored form is not asdict's: a state by its value, a mapping as a
# plain dict of its items (not asdict's deep copy).
_STORED_AS: dict[str, Callable[[Any], Any]] = {
    "state": _state,
    "outputs": dict,
    "inputs": dict,
    "labels": dict,
}
_PLANS: dict[type[Any], tuple[tuple[str, Callable[[Any], Any] | None], ...]] = {
    cls: tuple((f.name, _STORED_AS.get(f.name)) for f in fields(cls)) for cls in _KINDS.values()
}


def encode(
    execution_id: str, event: Event, visible_at: datetime, dedup_key: str | None = None
) -> NewEvent:
    # The payload is asdict()'s, built field by field: asdict copies every value deeply
    # through a recursive walk, about 4 % of a wide Parallel's CPU for one TaskStarted
    # per start of a job that waited for a thread. A field of any other value (a list,
    # a datetime) takes asdict's way for the whole event.
    payload: dict[str, Any] = {}
    for name, stored_as in _PLANS[type(event)]:
        value = getattr(event, name)
        if stored_as is not None:
            payload[name] = stored_as(value)
        elif type(value) in _ATOMS:
            payload[name] = value
        else:
            payload = _slow_payload(event)
            break
    return NewEvent(execution_id, type(event).__name__, payload, visible_at, dedup_key)


def _slow_payload(event: Event) -> dict[str, Any]:
    payload = asdict(event)
    for name, stored_as in _PLANS[type(event)]:
        if stored_as is not None:
            payload[name] = stored_as(getattr(event, name))
    return payload


def decode(row: EventRow) -> Event:
    cls = _KINDS[row.kind]
    payload = dict(row.payload)
    if cls in (TaskResult, SubflowEnded, ChildResult, MarkTaskRun, ForceRun):
        payload["state"] = State(payload["state"])
    event: Event = cls(**payload)
    return event


def result_key(task_run_id: str, attempt: int) -> str:
    return f"result:{task_run_id}:{attempt}"


def timer_key(execution_id: str, event: Event) -> str:
    if isinstance(event, SlaDue):  # one timer per SLA of the flow and run of the execution
        return f"timer:{execution_id}:SlaDue:{event.index}:{event.generation}"
    if isinstance(event, LoopDue):  # one timer per iteration of the loop
        return f"timer:{execution_id}:LoopDue:{event.task_run_id}:{event.attempt}:{event.iteration}"
    return f"timer:{execution_id}:{type(event).__name__}:{getattr(event, 'task_run_id', '')}:{getattr(event, 'attempt', '')}"
