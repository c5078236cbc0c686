"""What a ForEach does with its other children once one fails: its `onChildFailure`
(Kestra's OnChildFailureInterface; `childFailurePolicy: STOP` is CANCEL).

CONTINUE changes nothing: the value groups in progress go on (until the loop
itself ends, see SPEC §3.5). CANCEL and FAIL interrupt, as soon as a child of
the loop's main list ends FAILED, every task run still going under that list,
at any depth: each ends CANCELLED or FAILED with an error of type `Interrupted`
(a restart runs it again), its job gets a `Cancel`, and a WARN line names the
task that failed. Groups not started are never started after a
failure, whatever the policy (the loop then runs its `errors` and `finally`).
"""

from __future__ import annotations

from collections.abc import Sequence

from lanner.engine.cycle import Cycle
from lanner.engine.events import Cancel
from lanner.engine.execution import ErrorInfo, Phase, TaskRun, evolve
from lanner.model.states import State
from lanner.model.task import Task, TaskKind

_INTERRUPTED = {"CANCEL": State.CANCELLED, "FAIL": State.FAILED}
INTERRUPTED = "Interrupted"  # the error type of an interrupted task run


def interrupt(cycle: Cycle, task: Task, runs: Sequence[TaskRun]) -> bool:
    """Interrupt what still goes among `runs` (the loop's main-list task runs that
    are not known complete) if one of them failed and the policy says so. Whether
    anything was interrupted."""
    policy = task.behaviour.child_failure  # the property naming the policy, if any
    state = _INTERRUPTED.get(getattr(task, policy) if policy is not None else "CONTINUE")
    if state is None:
        return False
    going = [r for r in runs if not r.state.terminated]
    failed = next((r for r in runs if r.state is State.FAILED), None)
    if not going or failed is None:
        return False
    # The task that really failed: the error a failed flowable carries names it.
    culprit = (failed.error.task_id if failed.error else None) or failed.task_id
    for run in going:
        _stop(cycle, run, state, culprit)
    return True


def _stop(cycle: Cycle, run: TaskRun, state: State, culprit: str) -> None:
    for phase in Phase:
        for child in cycle.runs_of(run.id, phase):
            if not child.state.terminated:
                _stop(cycle, child, state, culprit)
    if cycle.index.task(run.task_id).kind is TaskKind.RUNNABLE and run.state in (
        State.SUBMITTED,
        State.RUNNING,
    ):
        cycle.emit(Cancel(run.id))
    message = f"Task terminated because sibling task '{culprit}' failed."
    cycle.log("WARN", message, run)
    attempts = run.attempts
    if attempts:
        attempts = (*attempts[:-1], attempts[-1].to(state, cycle.now))
    # The error marks the run as interrupted (a restart runs it again), also when CANCELLED.
    error = ErrorInfo(message, INTERRUPTED, run.task_id, run.id)
    cycle.put(evolve(run.to(state, cycle.now), attempts=attempts, error=error))
