"""Tasks whose children run as one job (`Behaviour.one_job`: WorkingDirectory).

The planner dispatches such a task run as one worker job, like any runnable
task, and never starts its children itself: the worker runs them in order in
one working directory and reports each child's start (`ChildStarted`) and end
(`ChildResult`), fenced by the job's claim. Here those reports become the
children's task runs, each with its own state, attempts and outputs, under
the one_job task run, as Kestra shows them.

Its children are its `tasks` (phase MAIN) and its own `errors` and `finally`
(phases ERRORS and FINALLY), which the worker runs in the same job and directory.

A child is not retried by the planner (its retry would be a job of its own,
outside the shared directory): the worker retries a child with its own `retry`
inside the job, reporting the failed attempt as `ChildResult(retrying=True)`
(the child is RETRYING, never FAILED, as a task of its own would be) and the
next one with a new ChildStarted. A report for a child whose parent moved on
(killed, timed out, resubmitted to a later claim) changes nothing.

When the job runs again (a lost worker's job re-queued, a retry or a restart
of the one_job task run), its children keep their ids: the new run gives each
child it starts a new attempt, and closes an attempt the lost run left open as
RESUBMITTED.
"""

from __future__ import annotations

from lanner.engine.cycle import Cycle
from lanner.engine.events import ChildResult, ChildStarted, TaskResult
from lanner.engine.execution import (
    Attempt,
    ErrorInfo,
    History,
    TaskRun,
    evolve,
    task_run_id,
)
from lanner.model.states import State

_RUN = "jobRun"  # a child's memo: [attempt, claims] of the job run that started it
_RETRIED = "retried"  # a child's memo: this attempt is a retry in the same job run


def _parent(cycle: Cycle, event: ChildStarted | ChildResult) -> TaskRun | None:
    """The one_job task run the report is about, when it still runs that attempt."""
    parent = cycle.runs.get(event.task_run_id)
    if parent is None or parent.state not in (State.SUBMITTED, State.RUNNING):
        return None
    if len(parent.attempts) != event.attempt:
        return None
    task = cycle.index.task(parent.task_id)
    if not task.behaviour.one_job:
        return None
    # Its `tasks`, and its own `errors` and `finally`: the job runs them all.
    listed = (t for name in task.child_fields for t in getattr(task, name) or ())
    if not any(child.id == event.task_id for child in listed):
        return None
    return parent


def in_job(cycle: Cycle, run: TaskRun) -> bool:
    """Whether `run` is a child of a one_job task run: the worker starts it, never the
    planner (a restarted child waits for its parent's job to run it again)."""
    parent = cycle.runs.get(run.parent_id) if run.parent_id else None
    return parent is not None and cycle.index.task(parent.task_id).behaviour.one_job


def _job_run(event: ChildStarted | ChildResult) -> list[int]:
    return [event.attempt, event.claims]


def child_id(cycle: Cycle, parent: TaskRun, task_id: str) -> str:
    return task_run_id(cycle.ex.id, parent.id, task_id, None, None, 0)


def started(cycle: Cycle, event: ChildStarted) -> None:
    parent = _parent(cycle, event)
    if parent is None:
        return
    if parent.state is State.SUBMITTED:  # its start event was applied before, or is lost
        attempts = (*parent.attempts[:-1], parent.attempts[-1].to(State.RUNNING, cycle.now))
        parent = evolve(parent.to(State.RUNNING, cycle.now), attempts=attempts)
        cycle.put(parent)
    run_id = child_id(cycle, parent, event.task_id)
    child = cycle.runs.get(run_id)
    running = Attempt(State.RUNNING, (History(State.RUNNING, cycle.now),))
    if child is None:
        child = TaskRun(
            id=run_id,
            execution_id=cycle.ex.id,
            task_id=event.task_id,
            parent_id=parent.id,
            value=None,
            iteration=None,
            phase=cycle.index.tasks[event.task_id].phase,
            seq=len(cycle.runs),
            state=State.RUNNING,
            histories=(History(State.CREATED, cycle.now), History(State.RUNNING, cycle.now)),
            attempts=(running,),
            memo={_RUN: _job_run(event)},
        )
        cycle.add(child)
        return
    memo = child.memo or {}
    same_run = list(memo.get(_RUN) or ()) == _job_run(event)
    if same_run and child.state is State.RUNNING:
        return  # this start was applied already
    # The same run of the job starting it again: the retry of a RETRYING child.
    retried = same_run and child.state is State.RETRYING
    attempts = child.attempts
    if attempts and not attempts[-1].state.terminated:
        # The attempt a lost worker left open.
        attempts = (*attempts[:-1], attempts[-1].to(State.RESUBMITTED, cycle.now))
    cycle.put(
        evolve(
            child.to(State.RUNNING, cycle.now),
            attempts=(*attempts, running),
            memo={**memo, _RUN: _job_run(event), _RETRIED: retried},
            outputs=None,
            error=None,
        )
    )
    if cycle.ex.state is State.RETRYING and not cycle.any_retrying():
        cycle.set_ex(State.RUNNING)


def ended(cycle: Cycle, event: ChildResult) -> None:
    parent = _parent(cycle, event)
    if parent is None:
        return
    child = cycle.runs.get(child_id(cycle, parent, event.task_id))
    if child is None or child.state is not State.RUNNING:
        return
    if list((child.memo or {}).get(_RUN) or ()) != _job_run(event):
        return  # another run of the job started it
    task = cycle.index.task(child.task_id)
    state = event.state
    error = None
    if state is State.FAILED:
        error = ErrorInfo(
            event.error or "Task failed", event.error_type or "TaskFailure", child.task_id, child.id
        )
        if event.retrying:  # its worker runs it again (its own retry): never FAILED
            attempts = child.attempts
            if attempts:
                attempts = (*attempts[:-1], attempts[-1].to(State.FAILED, cycle.now))
            retrying = child.to(State.RETRYING, cycle.now)
            outputs = dict(event.outputs) or None
            cycle.put(evolve(retrying, attempts=attempts, outputs=outputs, error=error))
            if cycle.ex.state is State.RUNNING:
                cycle.set_ex(State.RETRYING)
            return
        if task.allowFailure:
            state = State.WARNING
    retried = bool((child.memo or {}).get(_RETRIED))
    if state is State.SUCCESS and retried and task.retry and task.retry.warningOnRetry:
        state = State.WARNING
    if state is State.WARNING and task.allowWarning:
        state = State.SUCCESS
    attempts = child.attempts
    if attempts:
        attempts = (*attempts[:-1], attempts[-1].to(event.state, cycle.now))
    child = evolve(child, attempts=attempts, outputs=dict(event.outputs) or None)
    cycle.finish(child, state, error=error if state is State.FAILED else None)


def after_result(cycle: Cycle, event: TaskResult) -> None:
    """The one_job task run's own result: a child its job left running is stopped."""
    run = cycle.runs.get(event.task_run_id)
    if run is None or not run.state.terminated:
        return
    if not cycle.index.task(run.task_id).behaviour.one_job:
        return
    cycle.stop_descendants(run, State.KILLED)
