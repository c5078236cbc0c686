"""What a user asks of an execution from outside: start, kill, resume, restart.

`lanner executions ...` and the REST API call the same functions: each
checks the request against the execution as stored, then writes one event
(or a new execution) for an executor running on the store to carry out.
"""

from __future__ import annotations

import dataclasses
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


def request_pause(store: Store, execution_id: str) -> Execution:
    """Pause a RUNNING execution (Kestra's pause action): no task run starts until it is
    resumed; those already running end."""
    from lanner.engine.events import UserPause

    execution = get_execution(store, execution_id)
    if execution.state not in (State.RUNNING, State.RETRYING) or execution.terminal_at:
        raise ExecutionStateError(
            f"execution {execution_id} is {execution.state.value}: only a RUNNING execution"
            " can be paused"
        )
    _send(store, execution, UserPause(), f"pause:{execution_id}:{len(execution.histories)}")
    return execution


def request_labels(store: Store, execution_id: str, labels: Mapping[str, str]) -> Execution:
    """Add or update labels of a finished execution (the others are kept); the answer
    is the execution with them, as the executor will store it."""
    import json

    from lanner.engine.events import SetLabels
    from lanner.engine.execution import evolve

    execution = get_execution(store, execution_id)
    if execution.finalized_at is None:
        raise ExecutionStateError(
            f"execution {execution_id} is {execution.state.value}: labels are set on a"
            " finished execution only (a running flow sets its own with a Labels task)"
        )
    given = dict(labels)
    key = json.dumps(sorted(given.items()))
    _send(store, execution, SetLabels(given), f"labels:{execution_id}:{execution.version}:{key}")
    return evolve(execution, labels={**execution.labels, **given})


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


def request_mark(
    store: Store,
    registry: TaskRegistry,
    defaults: Sequence[PluginDefault],
    execution_id: str,
    task_run_id: str,
    state: str,
) -> Execution:
    """Change the state of an ended task run of a finished execution to SUCCESS, WARNING
    or FAILED (Kestra's change of a task run's state): the executor carries the
    execution on from it (engine/restart.py `mark`)."""
    from lanner.engine.events import MarkTaskRun
    from lanner.engine.flowindex import FlowIndex
    from lanner.engine.restart import MARKABLE, mark_refusal

    execution = get_execution(store, execution_id)
    if execution.finalized_at is None:
        raise ExecutionStateError(
            f"execution {execution_id} is {execution.state.value}: the state of a task run"
            " can be changed once the execution has ended"
        )
    try:
        wanted = State(state)
    except ValueError:
        wanted = None
    if wanted is None or wanted not in MARKABLE:
        raise InputValueError(f"state {state!r}: give SUCCESS, WARNING or FAILED")
    flow, _ = deployed_flow(
        store, registry, defaults, execution.namespace, execution.flow_id, execution.flow_revision
    )
    why = mark_refusal(execution.task_runs, FlowIndex(flow), task_run_id, wanted)
    if why is not None:
        raise InputValueError(f"taskRunId {task_run_id}: {why}")
    key = f"state:{execution_id}:{task_run_id}:{len(execution.histories)}"
    _send(store, execution, MarkTaskRun(task_run_id, wanted), key)
    return execution


def request_force_run(store: Store, execution_id: str, state: str = "RUNNING") -> Execution:
    """Start a CREATED or QUEUED execution now, whatever its flow's concurrency limit
    (Kestra's force-run); with another `state`, a QUEUED execution leaves the queue
    ended in it (Kestra's unqueue)."""
    from lanner.engine.control import UNQUEUE_STATES
    from lanner.engine.events import ForceRun

    try:
        wanted = State(state)
    except ValueError:
        wanted = None
    if wanted is None or wanted not in UNQUEUE_STATES:
        names = ", ".join(sorted(s.value for s in UNQUEUE_STATES))
        raise InputValueError(f"state {state!r}: give one of {names}")
    execution = get_execution(store, execution_id)
    allowed = (State.CREATED, State.QUEUED) if wanted is State.RUNNING else (State.QUEUED,)
    if execution.state not in allowed:
        which = " or ".join(s.value for s in allowed)
        raise ExecutionStateError(
            f"execution {execution_id} is {execution.state.value}: only a {which} execution"
            f" can be {'started now' if wanted is State.RUNNING else 'taken out of the queue'}"
        )
    _send(store, execution, ForceRun(wanted), f"force:{execution_id}")
    return execution


def replay_execution(
    store: Store,
    registry: TaskRegistry,
    defaults: Sequence[PluginDefault],
    execution_id: str,
    revision: int | None = None,
    latest: bool = False,
    task_run_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    files: FileInputs | None = None,
    new_id: str | None = None,
) -> Execution:
    """A new execution of a finished one's flow, with its inputs and labels: of the
    same revision, or of `revision`, or of the latest when `latest`. From `task_run_id`:
    the task runs before it are copied as they ended, and it and what follows run
    again (engine/replay.py). `inputs` (text, as a create's) replace the original's
    values of those inputs (Kestra's replay with inputs); `files` stores FILE inputs
    under `new_id`, the new execution's id."""
    from lanner.engine.execution import new_execution_id
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
    new_id = new_id or new_execution_id()
    values = dict(original.inputs)
    if inputs:
        values.update(_new_inputs(flow, rev, inputs, now, files, CycleKV(store, now)))
    if task_run_id:
        from lanner.engine.flowindex import FlowIndex
        from lanner.engine.replay import replay_from

        index = FlowIndex(flow)
        execution = replay_from(original, index, task_run_id, new_id, now, rev)
        if inputs:
            # Checked as a whole, as a replay from the start checks them.
            checked = new_execution(
                flow, rev, values, now, from_strings=False, files=files, kv=CycleKV(store, now)
            )
            execution = dataclasses.replace(execution, inputs=checked.inputs)
    else:
        execution = new_execution(
            flow,
            rev,
            values,
            now,
            from_strings=False,
            labels=original.labels,
            execution_id=new_id,
            files=files,
            kv=CycleKV(store, now),
        )
    # Kestra's replay is the next attempt of the original's chain (originalId, metadata).
    execution = dataclasses.replace(execution, **original.next_attempt())
    store.create_execution(execution, [start_event(execution, now)])
    return execution


def _new_inputs(
    flow: Flow,
    revision: int,
    given: Mapping[str, Any],
    now: datetime,
    files: FileInputs | None,
    kv: CycleKV,
) -> dict[str, Any]:
    """The values of the inputs given to a replay with inputs, parsed from their text
    form (the others keep the original's values)."""
    from lanner.engine.inputrender import input_renderer
    from lanner.model.inputvalues import parse_inputs

    declared = {i.id: i for i in flow.inputs or ()}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise InputValueError(
            f"input {', '.join(unknown)}: flow {flow.namespace}.{flow.id} declares no such input"
        )
    render = input_renderer(flow.namespace, flow.id, revision, now, kv=kv)
    chosen = [declared[k] for k in declared if k in given]
    return dict(parse_inputs(chosen, given, from_strings=True, render=render, files=files))
