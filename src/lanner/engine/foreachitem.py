"""ForEachItem's `<id>_items` task run (docs/flowables.md): one child execution per batch.

The task run's `items` renders to the batch files' URIs (the `<id>_split` task
run's `uris`); each batch gets its own child execution of the flow the Subflow
properties name, its `inputs` rendered with `taskrun.items` (the batch's URI)
and `taskrun.iteration` (its number, from 1). A child's id is derived from its
batch file's URI (`child_id`): the storage lets that child, and no other
execution, read that file (storage/uris.py `batch_reader_id`).

A restart of a failed run starts again the batches whose child did not end well
(FAILED, KILLED, or never heard of), by `restartBehavior`: RETRY_FAILED (Kestra's
default) restarts that child; NEW_EXECUTION starts a new child for the batch, the
next of the first child's chain (`originalId`: the first child, which the batch
file names as its reader, so the new child may read it too; `attemptNumber` + 1).
The memo knows a batch by its first child's id and names the child that runs it
now in `current`; a child's end comes under its chain's first id (subflow.py).

The memo lists the children and how each ended; the outputs count them by state
(`iterations`, as Kestra's counter: CREATED for a child not ended yet) and list,
batch by batch, each child's id, state and outputs (`batches`: what
`<id>_merge` writes out). With `wait` the run stays RUNNING until every child
ended, then it ends as a Subflow would for the worst child state
(`transmitFailed`); without it, it ends SUCCESS once the children are created.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

from lanner.engine.cycle import Cycle
from lanner.engine.events import (
    Deliver,
    Kill,
    Restart,
    StartSubflow,
    SubflowEnded,
    TaskResult,
    TimeoutDue,
    Timer,
)
from lanner.engine.execution import Attempt, History, TaskRun, evolve, new_execution_id
from lanner.engine.subflow import TRANSMITTED, child_labels
from lanner.errors import LannerError
from lanner.model.inputvalues import parse_datetime
from lanner.model.states import State
from lanner.model.task import Task

# Kept equal to storage/uris.py's BATCH_SEED (tests/unit/storage/test_batch_reader.py):
# the engine may not import the storage layer.
BATCH_SEED = "foreachitem-batch:"

# The order in which a child's end decides the run's state with transmitFailed.
_WORST = (State.FAILED, State.KILLED, State.WARNING)


def child_id(batch_uri: str) -> str:
    """The one child execution of a batch file: replaying the cycle names the same."""
    return new_execution_id(BATCH_SEED + batch_uri)


def _uris(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"items must render to a list of URIs, got {value!r}") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"items must render to a list of URIs, got {value!r}")
    return list(value)


def _fail(cycle: Cycle, run: TaskRun, attempt: int, message: str) -> None:
    cycle.log("ERROR", message, run)
    failed = Attempt(State.FAILED, (History(State.FAILED, cycle.now),))
    cycle.put(evolve(run, attempts=(*run.attempts, failed)))
    cycle.on_result(
        TaskResult(run.id, attempt, State.FAILED, error=message, error_type="RenderError")
    )


def start(cycle: Cycle, run: TaskRun, task: Task) -> None:
    props: Any = task
    attempt = len(run.attempts) + 1
    earlier: dict[str, Any] = dict((run.memo or {}).get("children") or {})
    # The attempt that started each child: a restarted child's end names that one.
    started_by: dict[str, int] = dict((run.memo or {}).get("startedBy") or {})
    restarting = run.state is State.RESTARTED
    # Batch (its first child) -> the later child running it, and that child's number.
    current: dict[str, str] = dict((run.memo or {}).get("current") or {})
    numbers: dict[str, int] = dict((run.memo or {}).get("numbers") or {})
    batches = task.behaviour.batches
    try:
        uris = _uris(cycle.render(getattr(props, batches.items if batches else "items"), run))
        namespace = str(cycle.render(props.namespace, run))
        flow_id = str(cycle.render(props.flowId, run))
        revision = props.revision
        if revision is not None:
            revision = int(str(cycle.render(revision, run)))
        labels = child_labels(cycle, run, props.labels, props.inheritLabels)
        timeout = cycle.timeout_seconds(run, task) if props.wait else None
        schedule = props.scheduleDate
        if schedule is not None:
            schedule = parse_datetime(str(cycle.render(schedule, run)))
        base = cycle.scope(run)
        inputs: list[dict[str, Any]] = []
        for n, uri in enumerate(uris, 1):
            taskrun = {**base.variables["taskrun"], "items": uri, "iteration": n}
            scope = dataclasses.replace(base, variables={**base.variables, "taskrun": taskrun})
            inputs.append(cycle.engine.render_value(dict(props.inputs or {}), scope))
    except (LannerError, ValueError) as exc:
        _fail(cycle, run, attempt, exc.message if isinstance(exc, LannerError) else str(exc))
        return
    children: dict[str, str | None] = {}
    outputs: dict[str, Any] = dict((run.memo or {}).get("outputs") or {})
    for n, uri in enumerate(uris, 1):
        child = child_id(uri)
        if restarting and child in earlier:
            ended = earlier[child]
            if ended not in (None, State.FAILED.value, State.KILLED.value):
                children[child] = ended
                continue
            children[child] = None
            if props.restartBehavior != "NEW_EXECUTION":
                # Kestra restarts the children it started: those that did not end well
                # run again (one that cannot restart tells its end again: subflow.py).
                runner = current.get(child, child)
                cycle.emit(Deliver(runner, Restart(), f"restart:{runner}:{run.id}:{attempt}"))
                continue
            number = numbers.get(child, 1) + 1
            numbers[child] = number
            current[child] = new_execution_id(f"{BATCH_SEED}{uri}:{number}")
        children[child] = None
        started_by[child] = attempt
        cycle.emit(
            StartSubflow(
                run.id,
                attempt,
                current.get(child, child),
                namespace,
                flow_id,
                revision,
                inputs[n - 1],
                labels,
                cycle.ex.id,
                schedule,
                batch=n,
                original_id=child if child in current else None,
                attempt_number=numbers.get(child, 1),
            )
        )
    now = cycle.now
    running = Attempt(State.RUNNING, (History(State.RUNNING, now),))
    memo: dict[str, Any] = {
        "children": children,
        "startedBy": started_by,
        "waiting": bool(props.wait),
        "outputs": outputs,
    }
    if current:
        memo.update(current=current, numbers=numbers)
    run = evolve(
        run.to(State.RUNNING, now),
        attempts=(*run.attempts, running),
        memo=memo,
        outputs=_outputs(children, outputs, current),
    )
    if not props.wait or not children or all(children.values()):
        _end(cycle, run, props)
        return
    cycle.put(run)
    if timeout is not None:
        cycle.emit(Timer(now + timedelta(seconds=timeout), TimeoutDue(run.id, len(run.attempts))))


def _outputs(
    children: dict[str, str | None], outputs: dict[str, Any], current: dict[str, str]
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    batches = []
    for n, (child, state) in enumerate(children.items(), 1):
        shown = state or State.CREATED.value
        counts[shown] = counts.get(shown, 0) + 1
        runner = current.get(child, child)
        entry: dict[str, Any] = {"iteration": n, "executionId": runner, "state": shown}
        if child in outputs:
            entry["outputs"] = outputs[child]
        batches.append(entry)
    return {"numberOfBatches": len(children), "iterations": counts, "batches": batches}


def _end(cycle: Cycle, run: TaskRun, props: Any) -> None:
    memo = run.memo or {}
    states = [State(s) for s in memo.get("children", {}).values() if s]
    state = State.SUCCESS
    if props.wait and props.transmitFailed:
        state = next((s for s in _WORST if s in states and s in TRANSMITTED), State.SUCCESS)
    cycle.put(evolve(run, memo={**memo, "waiting": False}))
    error = None
    if state is not State.SUCCESS:
        error = f"A subflow execution of {run.task_id} ended {state.value}"
    cycle.on_result(
        TaskResult(
            run.id,
            len(run.attempts),
            state,
            dict(run.outputs or {}),
            error=error,
            error_type="SubflowFailed" if error else None,
        )
    )


def ended(cycle: Cycle, event: SubflowEnded) -> None:
    run = cycle.runs.get(event.task_run_id)
    if run is None or run.state is not State.RUNNING:
        return
    memo = run.memo or {}
    children: dict[str, str | None] = dict(memo.get("children") or {})
    if not memo.get("waiting") or event.execution_id not in children:
        return
    if memo.get("startedBy", {}).get(event.execution_id) != event.attempt:
        return  # an earlier attempt's end
    if children[event.execution_id] is not None:
        return  # heard already
    children[event.execution_id] = event.state.value
    outputs = {**memo.get("outputs", {}), event.execution_id: dict(event.outputs)}
    run = evolve(
        run,
        memo={**memo, "children": children, "outputs": outputs},
        outputs=_outputs(children, outputs, dict(memo.get("current") or {})),
    )
    if all(children.values()):
        _end(cycle, run, cycle.index.task(run.task_id))
    else:
        cycle.put(run)


def before_result(cycle: Cycle, event: TaskResult) -> None:
    """The runtime could not create one child (missing flow, invalid inputs): the run
    fails, and the children it did create are killed."""
    run = cycle.runs.get(event.task_run_id)
    if run is None or not run.memo or not run.memo.get("waiting"):
        return
    children = run.memo.get("children")
    if children is None or len(run.attempts) != event.attempt or run.state.terminated:
        return
    current = run.memo.get("current") or {}
    for child, state in children.items():
        if state is None:
            runner = current.get(child, child)
            cycle.emit(Deliver(runner, Kill(), f"kill:{runner}"))
    cycle.put(evolve(run, memo={**run.memo, "waiting": False}))
