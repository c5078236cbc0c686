"""Planner events to and from stored event rows (kind + JSON payload)."""

from __future__ import annotations

from dataclasses import asdict
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


def encode(
    execution_id: str, event: Event, visible_at: datetime, dedup_key: str | None = None
) -> NewEvent:
    payload = asdict(event)
    if isinstance(event, TaskResult | SubflowEnded | ChildResult):
        payload["state"] = event.state.value
        payload["outputs"] = dict(event.outputs)
    elif isinstance(event, Resume):
        payload["inputs"] = dict(event.inputs)
    elif isinstance(event, SetLabels):
        payload["labels"] = dict(event.labels)
    elif isinstance(event, MarkTaskRun | ForceRun):
        payload["state"] = event.state.value
    return NewEvent(execution_id, type(event).__name__, payload, visible_at, dedup_key)


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
