"""What a user asks of an execution from outside: start, kill, resume, restart.

`lanner executions ...` and the REST API call the same functions: each
checks the request against the execution as stored, then writes one event
(or a new execution) for an executor running on the store to carry out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lanner.engine.execution import Execution, TaskRun
from lanner.errors import InputError, InputValueError, LannerError, NotFoundError
from lanner.model.flow import Flow, PluginDefault
from lanner.model.inputvalues import FileInputs
from lanner.model.states import State
from lanner.plugin import TaskRegistry
from lanner.runtime.finalwait import FinalizedSignals
from lanner.runtime.kvreader import CycleKV
from lanner.store.base import Store


class ExecutionStateError(InputError):
    """The execution is not in a state that allows this action."""


def get_execution(store: Store, execution_id: str) -> Execution:
    execution = store.get_execution(execution_id)
    if execution is None:
        raise NotFoundError(f"execution {execution_id} not found in {store.url}")
    return execution


def deployed_flow(
    store: Store,
    registry: TaskRegistry,
    defaults: Sequence[PluginDefault],
    namespace: str,
    flow_id: str,
    revision: int | None = None,
) -> tuple[Flow, int]:
    """The deployed flow (its latest revision unless told), validated, with its revision."""
    from lanner.model.validate import load_flow

    record = store.get_flow(namespace, flow_id, revision)
    if record is None:
        which = f" revision {revision}" if revision is not None else ""
        raise NotFoundError(f"flow {namespace}.{flow_id}{which} not found in {store.url}")
    return load_flow(record.source, registry, defaults=defaults), record.revision


def start_execution(
    store: Store,
    flow: Flow,
    revision: int,
    inputs: Mapping[str, Any],
    *,
    labels: Mapping[str, str] | None = None,
    execution_id: str | None = None,
    files: FileInputs | None = None,
    start_at: datetime | None = None,
) -> Execution:
    """Create the execution (inputs checked from their text form) and its Start event;
    `files` stores its FILE inputs (under `execution_id`, which it was made for). With a
    future `start_at` it stays CREATED until then (its Start event is due then)."""
    from lanner.runtime.newexecution import new_execution, start_event

    now = datetime.now(UTC)
    execution = new_execution(
        flow,
        revision,
        inputs,
        now,
        labels=labels,
        execution_id=execution_id,
        files=files,
        kv=CycleKV(store, now),
    )
    due = start_at if start_at is not None and start_at > now else now
    store.create_execution(execution, [start_event(execution, due)])
    return execution


def wait_finalized(
    store: Store,
    execution_id: str,
    timeout: float | None,
    stop: threading.Event | None = None,
    signals: FinalizedSignals | None = None,
) -> Execution:
    """Poll the store until the execution is finalized (afterExecution done); once `stop`
    is set, the execution as it stands. With `signals` (this process's executors), the
    execution is read as soon as one of them finalizes it, between polls."""
    deadline = None if timeout is None else time.monotonic() + timeout
    delay, longest = 0.005, 0.1
    event = None
    if signals is not None:
        event = signals.listen(execution_id)
        # Told at once when this process ends it: the polls only catch an execution
        # that another process ends, and can be rare (each is a read of it whole).
        delay, longest = 0.05, 0.2
    try:
        while True:
            execution = get_execution(store, execution_id)
            if execution.finalized_at is not None or (stop is not None and stop.is_set()):
                return execution
            if deadline is not None and time.monotonic() > deadline:
                raise LannerError(
                    f"execution {execution_id} is still {execution.state.value} after"
                    f" {timeout} s (is an executor running on this store?)"
                )
            if event is not None:
                event.wait(delay)
            else:
                time.sleep(delay)
            delay = min(delay * 2, longest)
    finally:
        if signals is not None and event is not None:
            signals.forget(execution_id, event)


def _send(store: Store, execution: Execution, event: Any, key: str) -> bool:
    from lanner.runtime import eventcodec

    return store.add_event(eventcodec.encode(execution.id, event, datetime.now(UTC), key))


def request_kill(store: Store, execution_id: str) -> Execution:
    """Ask for a kill: running tasks stop, afterExecution still runs."""
    from lanner.engine.events import Kill

    execution = get_execution(store, execution_id)
    if execution.terminal_at is not None:
        raise ExecutionStateError(
            f"execution {execution_id} already ended {execution.state.value}: nothing to kill"
        )
    _send(store, execution, Kill(), f"kill:{execution_id}")
    return execution


def request_resume(
    store: Store,
    registry: TaskRegistry,
    defaults: Sequence[PluginDefault],
    execution_id: str,
    given: Mapping[str, str],
) -> Execution:
    """Resume a PAUSED execution, with the Pause task's onResume inputs (from text)."""
    from lanner.engine.events import Resume

    execution = get_execution(store, execution_id)
    if execution.state is not State.PAUSED:
        raise ExecutionStateError(
            f"execution {execution_id} is {execution.state.value}, not PAUSED: nothing to resume"
        )
    paused = [r for r in execution.ordered_task_runs() if r.state is State.PAUSED]
    target = paused[0] if paused else None
    values = _resume_inputs(store, registry, defaults, execution, target, given) if target else {}
    _send(
        store,
        execution,
        Resume(values, target.id if target else None),
        f"resume:{execution_id}:{target.id if target else ''}:{len(execution.histories)}",
    )
    return execution


def request_resume_with(store: Store, execution_id: str, values: Mapping[str, Any]) -> Execution:
    """Resume a PAUSED execution with typed onResume values (the Resume task's
    `inputs`), which the planner checks against the Pause's declarations when it
    applies the event (a refusal is logged on the paused task run)."""
    from lanner.engine.events import Resume

    execution = get_execution(store, execution_id)
    if execution.state is not State.PAUSED:
        raise ExecutionStateError(
            f"execution {execution_id} is {execution.state.value}, not PAUSED: nothing to resume"
        )
    _send(
        store,
        execution,
        Resume(dict(values), None),
        f"resume:{execution_id}::{len(execution.histories)}",
    )
    return execution


def _resume_inputs(
    store: Store,
    registry: TaskRegistry,
    defaults: Sequence[PluginDefault],
    execution: Execution,
    paused: TaskRun,
    given: Mapping[str, str],
) -> dict[str, object]:
    """Check the values against the paused task's `onResume` definitions."""
    from lanner.engine.inputrender import input_renderer
    from lanner.model.inputs import parse_inputs
    from lanner.model.validate import load_flow

    record = store.get_flow(execution.namespace, execution.flow_id, execution.flow_revision)
    if record is None:
        return dict(given)
    flow = load_flow(record.source, registry, defaults=defaults)
    task = next((t for t in flow.all_tasks() if t.id == paused.task_id), None)
    declared = list(getattr(task, "onResume", None) or ())
    if not declared:
        if given:
            raise InputValueError(
                "the paused task declares no onResume inputs; given: " + ", ".join(sorted(given))
            )
        return {}
    render = input_renderer(flow.namespace, flow.id, flow.revision, datetime.now(UTC))
    return dict(parse_inputs(declared, given, from_strings=True, render=render))


def request_restart(store: Store, execution_id: str) -> Execution:
    """Restart a finished FAILED or KILLED execution from its failed task runs."""
    from lanner.engine.events import Restart

    execution = get_execution(store, execution_id)
    if execution.state not in (State.FAILED, State.KILLED) or execution.finalized_at is None:
        raise ExecutionStateError(
            f"execution {execution_id} is {execution.state.value}"
            f"{'' if execution.finalized_at else ' and not finalized'}:"
            " only a finished FAILED or KILLED execution can be restarted"
        )
    _send(store, execution, Restart(), f"restart:{execution_id}:{len(execution.histories)}")
    return execution


def replay_execution(
    store: Store,
    registry: TaskRegistry,
    defaults: Sequence[PluginDefault],
    execution_id: str,
    revision: int | None = None,
    latest: bool = False,
) -> Execution:
    """A new execution of a finished one's flow, with its inputs and labels: of the
    same revision, or of `revision`, or of the latest when `latest`."""
    from lanner.runtime.newexecution import new_execution, start_event

    original = get_execution(store, execution_id)
    if original.finalized_at is None:
        raise ExecutionStateError(
            f"execution {execution_id} is {original.state.value}: only a finished execution"
            " can be replayed"
        )
    if latest:
        revision = None
    elif revision is None:
        revision = original.flow_revision
    flow, rev = deployed_flow(
        store, registry, defaults, original.namespace, original.flow_id, revision
    )
    now = datetime.now(UTC)
    execution = new_execution(
        flow,
        rev,
        original.inputs,
        now,
        from_strings=False,
        labels=original.labels,
        kv=CycleKV(store, now),
    )
    store.create_execution(execution, [start_event(execution, now)])
    return execution
