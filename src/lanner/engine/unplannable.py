"""An execution the planner cannot take any further ends FAILED, as Kestra's
executor fails an execution it hits an exception on.

The planner raised on it (a bug), or its flow revision no longer loads (a
plugin uninstalled, a revision removed): every later cycle would fail the
same way, so the execution would never end, and on SQLite its events, oldest
first, would keep the executor from every other execution. Instead it ends
here, without the planner: its task runs that are still going end FAILED
(their workers are told to stop, Subflow children are killed), the execution
ends FAILED with the reason in an ERROR log and in ``error``, and it is
finalized at once (afterExecution needs the planner); the Subflow task run
that started it hears of it. An execution already terminal (the failure hit
its afterExecution) keeps its state, as a failing afterExecution task would
leave it.
"""

from __future__ import annotations

from datetime import datetime

from lanner.engine import subflow
from lanner.engine.cycle import child_kills
from lanner.engine.events import Cancel, Command, Decision, LogLine
from lanner.engine.execution import ErrorInfo, Execution, TaskRun, evolve
from lanner.model.states import State

ERROR_TYPE = "ExecutorError"


def fail_unplannable(execution: Execution, reason: str, now: datetime) -> Decision:
    """The decision that ends `execution` FAILED (KILLED when it was KILLING) for
    `reason`; `execution` is not finalized (a finalized one has nothing left to end)."""
    # A kill under way still ends KILLED, as it would have.
    state = State.KILLED if execution.state is State.KILLING else State.FAILED
    commands: list[Command] = []
    runs: dict[str, TaskRun] = dict(execution.task_runs)
    changed: set[str] = set()
    for run in execution.task_runs.values():
        if run.state.terminated:
            continue
        if run.state in (State.SUBMITTED, State.RUNNING):
            commands.append(Cancel(run.id))
        commands.extend(child_kills(run))
        attempts = run.attempts
        if attempts:
            attempts = (*attempts[:-1], attempts[-1].to(state, now))
        runs[run.id] = evolve(run.to(state, now), attempts=attempts)
        changed.add(run.id)
    message = f"The executor cannot go on with this execution: {reason}"
    commands.append(LogLine("ERROR", message))
    ex = execution
    if ex.terminal_at is None:
        ex = evolve(
            ex.to(state, now),
            error=ex.error or ErrorInfo(message, ERROR_TYPE),
            terminal_at=now,
        )
    ex = evolve(ex, task_runs=runs, finalized_at=now, active=frozenset(), failed_lists=None)
    notice = subflow.parent_notice(ex)
    if notice is not None:
        commands.append(notice)
    return Decision(ex, tuple(commands), frozenset(changed))
