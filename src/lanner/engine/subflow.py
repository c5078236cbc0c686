"""The Subflow task (SPEC §5.10) and the messages between parent and child executions.

The planner cannot load flows: a Subflow attempt emits `StartSubflow` and the
runtime creates the child (or answers a FAILED TaskResult). With `wait` the
task run stays RUNNING, its memo naming the child, until `SubflowEnded`
arrives; a task run stopped any other way (kill, timeout, a failing sibling)
sends the child a `Kill`. A finalized child tells its parent with `Deliver`.

A restart of the parent runs a failed Subflow task run again by its
`restartBehavior`: RETRY_FAILED (Kestra's default) restarts the child it
started, when that child ended FAILED or KILLED, and waits for it again;
NEW_EXECUTION, or a child that cannot be restarted, starts a new child.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from lanner.engine.cycle import Cycle
from lanner.engine.events import (
    Deliver,
    Restart,
    StartSubflow,
    SubflowEnded,
    TaskResult,
    TimeoutDue,
    Timer,
)
from lanner.engine.execution import (
    BASE,
    Attempt,
    Execution,
    History,
    TaskRun,
    evolve,
    new_execution_id,
)
from lanner.engine.timefmt import hms
from lanner.errors import LannerError
from lanner.model.inputvalues import parse_datetime
from lanner.model.states import State
from lanner.model.task import Task

CORRELATION = "system.correlationId"

# Child states a Subflow task run takes with transmitFailed (ExecutableUtils.guessState);
# any other end of the child (SUCCESS, CANCELLED, ...) is a SUCCESS.
TRANSMITTED = frozenset({State.FAILED, State.KILLED, State.WARNING})


def child_id(run_id: str, attempt: int) -> str:
    """The child execution of one attempt: replaying the cycle names the same child."""
    return new_execution_id(f"subflow:{run_id}:{attempt}")


def _restartable_child(run: TaskRun, props: Any) -> tuple[str, int] | None:
    """(child id, the attempt that started it) when a restart of `run` restarts that
    child: RETRY_FAILED, and the child ended FAILED or KILLED (as the parent heard)."""
    if run.state is not State.RESTARTED or props.restartBehavior != "RETRY_FAILED":
        return None
    memo, outputs = run.memo or {}, run.outputs or {}
    child = memo.get("child")
    if not child or outputs.get("executionId") != child:
        return None
    if outputs.get("state") not in (State.FAILED.value, State.KILLED.value):
        return None
    return str(child), int(memo.get("childAttempt", len(run.attempts)))


def start(cycle: Cycle, run: TaskRun, task: Task) -> None:
    props: Any = task
    attempt = len(run.attempts) + 1
    again = _restartable_child(run, props)
    # A retried or restarted run: its earlier child is no concern any more.
    kept = {k: v for k, v in (run.memo or {}).items() if k == BASE}
    if run.memo is not None:
        run = evolve(run, memo=kept or None)
    try:
        namespace = str(cycle.render(props.namespace, run))
        flow_id = str(cycle.render(props.flowId, run))
        revision = props.revision
        if revision is not None:
            revision = int(str(cycle.render(revision, run)))
        inputs = cycle.render(dict(props.inputs or {}), run)
        labels = child_labels(cycle, run, props.labels, props.inheritLabels)
        timeout = cycle.timeout_seconds(run, task) if props.wait else None
        schedule = props.scheduleDate
        if schedule is not None:
            schedule = parse_datetime(str(cycle.render(schedule, run)))
    except (LannerError, ValueError) as exc:
        message = exc.message if isinstance(exc, LannerError) else str(exc)
        cycle.log("ERROR", message, run)
        failed = Attempt(State.FAILED, (History(State.FAILED, cycle.now),))
        cycle.put(evolve(run, attempts=(*run.attempts, failed)))
        cycle.on_result(
            TaskResult(run.id, attempt, State.FAILED, error=message, error_type="RenderError")
        )
        return
    if again is not None:
        # The child keeps the attempt that started it: its end names that attempt.
        child, child_attempt = again
        kept = {**kept, "childAttempt": child_attempt}
        cycle.emit(Deliver(child, Restart(), f"restart:{child}:{run.id}:{attempt}"))
    else:
        child = child_id(run.id, attempt)
        cycle.emit(
            StartSubflow(
                run.id,
                attempt,
                child,
                namespace,
                flow_id,
                revision,
                inputs,
                labels,
                cycle.ex.id,
                schedule,
            )
        )
    now = cycle.now
    running = Attempt(State.RUNNING, (History(State.RUNNING, now),))
    run = evolve(
        run.to(State.RUNNING, now),
        attempts=(*run.attempts, running),
        outputs={"executionId": child},
        memo={**kept, "child": child, "waiting": bool(props.wait)},
    )
    if not props.wait:
        run = evolve(run, attempts=(*run.attempts[:-1], running.to(State.SUCCESS, now)))
        cycle.finish(run, State.SUCCESS)
        return
    cycle.put(run)
    if timeout is not None:
        cycle.emit(Timer(now + timedelta(seconds=timeout), TimeoutDue(run.id, attempt)))


def child_labels(cycle: Cycle, run: TaskRun, given: Any, inherit: bool) -> dict[str, str]:
    parent = cycle.ex.labels
    labels: dict[str, str] = {}
    if inherit:
        labels.update({k: v for k, v in parent.items() if not k.startswith("system.")})
    if given is not None:
        value = cycle.render(given, run)
        if isinstance(value, list):
            value = {str(item["key"]): item["value"] for item in value}
        if not isinstance(value, dict):
            raise ValueError("labels must be a map or a list of {key, value}")
        for key, val in value.items():
            labels[str(key)] = str(val).lower() if isinstance(val, bool) else str(val)
    # One correlation id for a whole tree of executions: the root's id.
    labels[CORRELATION] = parent.get(CORRELATION, cycle.ex.id)
    return labels


def before_result(cycle: Cycle, event: TaskResult) -> None:
    """The runtime could not create the child (missing flow, invalid inputs): nothing to kill."""
    run = cycle.runs.get(event.task_run_id)
    if run is None or not run.memo or not run.memo.get("waiting"):
        return
    if len(run.attempts) == event.attempt and not run.state.terminated:
        if event.state is State.FAILED and event.error:
            # The task's log says why, as a worker's failure would.
            cycle.log("ERROR", event.error, run)
        cycle.put(evolve(run, memo={**run.memo, "waiting": False}))


def ended(cycle: Cycle, event: SubflowEnded) -> None:
    run = cycle.runs.get(event.task_run_id)
    if run is None or run.state is not State.RUNNING:
        return
    memo = run.memo or {}
    if int(memo.get("childAttempt", len(run.attempts))) != event.attempt:
        return  # stale (an earlier attempt's child) or already handled
    if memo.get("child") != event.execution_id or not memo.get("waiting"):
        return
    props: Any = cycle.index.task(run.task_id)
    child_state = event.state
    state = child_state if props.transmitFailed and child_state in TRANSMITTED else State.SUCCESS
    outputs = {
        "executionId": event.execution_id,
        "state": child_state.value,
        "outputs": dict(event.outputs),
    }
    cycle.put(evolve(run, memo={**memo, "waiting": False}))
    _log_end(cycle, run, props, event.execution_id, state)
    error = f"Subflow execution {event.execution_id} ended {child_state.value}"
    # Through the runnable path: retry policy, allowFailure, allowWarning (SPEC §4.2).
    cycle.on_result(
        TaskResult(
            run.id, len(run.attempts), state, outputs, error=error, error_type="SubflowFailed"
        )
    )


def _log_end(cycle: Cycle, run: TaskRun, props: Any, child: str, state: State) -> None:
    """As Kestra's Subflow (1.x): the task run's log says when the child makes it end
    FAILED (an ERROR line) or WARNING (a WARN line), after allowFailure and
    allowWarning; any other end says nothing."""
    if state is State.FAILED and props.allowFailure:
        state = State.WARNING
    if state is State.FAILED:
        cycle.log("ERROR", f"Subflow execution {child} ends in FAILED state", run)
    elif state is State.WARNING and not props.allowWarning:
        cycle.log("WARN", f"Subflow execution {child} ends in WARNING state", run)


def timed_out(cycle: Cycle, event: TimeoutDue) -> bool:
    """The `timeout` of a waiting Subflow attempt elapsed: the child is killed and the
    attempt fails, then the retry policy and allowFailure apply (as for a runnable)."""
    run = cycle.runs.get(event.task_run_id)
    if run is None or run.state is not State.RUNNING or len(run.attempts) != event.attempt:
        return False
    memo = run.memo or {}
    if not memo.get("waiting"):
        return False
    task = cycle.index.task(run.task_id)
    seconds = cycle.timeout_seconds(run, task) or 0.0
    message = f"Timeout after {hms(timedelta(seconds=seconds))}"
    cycle.log("ERROR", message, run)
    cycle.kill_child(run)
    cycle.put(evolve(run, memo={**memo, "waiting": False}))
    cycle.on_result(
        TaskResult(run.id, event.attempt, State.FAILED, error=message, error_type="Timeout")
    )
    return True


def notify_parent(cycle: Cycle) -> None:
    """This execution is finalized: the Subflow task run that started it may go on."""
    notice = parent_notice(cycle.ex)
    if notice is not None:
        cycle.emit(notice)


def notify_parent_again(cycle: Cycle) -> None:
    """A Restart reached this finalized child, which cannot restart (restarted by hand
    and ended well since, say): the parent, restarted with RETRY_FAILED and waiting
    for it, hears again how it ended. A parent that does not wait ignores it."""
    notice = parent_notice(cycle.ex)
    if notice is not None:
        key = f"{notice.dedup_key}:again:{cycle.now.isoformat()}"
        cycle.emit(dataclasses.replace(notice, dedup_key=key))


def parent_notice(ex: Execution) -> Deliver | None:
    """What a finalized child execution tells the Subflow task run that started it."""
    if ex.parent_execution_id is None or ex.parent_task_run_id is None:
        return None
    if ex.parent_attempt is None or ex.state is State.RETRIED:
        return None  # a RETRIED child handed its end over to the next of its chain
    # A restarted child ends again: a new key, so that the parent hears of it.
    restarts = sum(1 for h in ex.histories if h.state is State.RESTARTED)
    # The parent knows the chain (CREATE_NEW_EXECUTION retries) by its first child.
    event = SubflowEnded(
        ex.parent_task_run_id, ex.parent_attempt, ex.origin_id, ex.state, dict(ex.outputs or {})
    )
    return Deliver(ex.parent_execution_id, event, f"subflow-ended:{ex.id}:{restarts}")
