"""Restart of a FAILED or KILLED execution (SPEC §2.2, §3.4, §4.4).

The failed (or killed, or interrupted by a ForEach's onChildFailure) task runs
of the main lists go back to RESTARTED with their failed ancestors, and run
again as a new attempt. The task runs of the
handler lists that would run again -- the root's `errors`, `finally` and
`afterExecution`, and the local `errors`/`finally` of every restarted
flowable -- are deleted (with their descendants) and created again later,
under new ids (a new `generation`), so that their jobs are new jobs.
"""

from __future__ import annotations

from collections.abc import Mapping

from lanner.engine import subflow
from lanner.engine.childfailure import INTERRUPTED
from lanner.engine.cycle import Cycle
from lanner.engine.events import Cancel, MarkTaskRun
from lanner.engine.execution import BASE, ROOT, Phase, TaskRun, evolve
from lanner.engine.flowindex import FlowIndex
from lanner.model.states import State
from lanner.model.task import TaskKind

RESTARTABLE = frozenset({State.FAILED, State.KILLED})


def restart(cycle: Cycle) -> None:
    if cycle.ex.state not in RESTARTABLE:
        # Only a failed or killed execution restarts; a repeated Restart is a no-op.
        if cycle.ex.finalized_at is not None:
            subflow.notify_parent_again(cycle)
        return
    runs = cycle.runs
    again: set[str] = set()
    for run in runs.values():
        if _restartable(run) and _in_main(runs, run):
            node: TaskRun | None = run
            while node is not None and node.id not in again:
                again.add(node.id)
                node = runs[node.parent_id] if node.parent_id else None
    _go_again(cycle, again)
    cycle.log("INFO", f"Execution restarted: {len(again)} task run(s) run again")


def _go_again(cycle: Cycle, again: set[str]) -> None:
    """The task runs `again` run once more (a new attempt); the handler lists of the
    root and of each of them are deleted, to run again when their turn comes."""
    runs = cycle.runs
    containers = {ROOT} | again
    doomed: list[str] = []
    for (parent, phase), ids in list(cycle.children.items()):
        if phase is not Phase.MAIN and parent in containers:
            for run_id in ids:
                _collect(cycle, run_id, doomed)
    _delete(cycle, doomed)
    now = cycle.now
    for run_id in sorted(again, key=lambda i: runs[i].seq):
        run = runs[run_id]
        cycle.forget_loop(run_id)  # its loop groups may be incomplete again
        memo = {**(run.memo or {}), BASE: len(run.attempts)}
        cycle.put(evolve(run.to(State.RESTARTED, now), error=None, memo=memo))
    cycle.set_ex(State.RESTARTED)
    cycle.set_ex(State.RUNNING)
    cycle.update_execution(terminal_at=None, finalized_at=None, error=None, outputs=None)
    # Counts kept between cycles are rebuilt: task runs left FAILED, which put() does not track.
    cycle.recount()


MARKABLE = frozenset({State.SUCCESS, State.WARNING, State.FAILED})


def mark_refusal(
    runs: Mapping[str, TaskRun], index: FlowIndex, run_id: str, state: State
) -> str | None:
    """Why the task run `run_id` of a finished execution cannot be marked `state`, or None."""
    run = runs.get(run_id)
    if run is None:
        return f"{run_id} is not a task run of this execution"
    if state not in MARKABLE:
        return f"a task run can be marked SUCCESS, WARNING or FAILED, not {state.value}"
    if not run.state.terminated:
        return f"task run {run_id} ({run.task_id}) is {run.state.value}, not ended"
    if run.state is state:
        return f"task run {run_id} ({run.task_id}) is {state.value} already"
    if not _in_main(runs, run):
        return (
            f"task run {run_id} ({run.task_id}) belongs to an errors, finally or"
            " afterExecution list, which runs again by itself: mark a task run of the main tasks"
        )
    node = runs[run.parent_id] if run.parent_id else None
    while node is not None:
        if index.task(node.task_id).behaviour.one_job:
            return (
                f"task run {run_id} ({run.task_id}) runs inside {node.task_id}, whose one job"
                f" runs all its tasks: mark {node.task_id} itself"
            )
        node = runs[node.parent_id] if node.parent_id else None
    return None


def mark(cycle: Cycle, event: MarkTaskRun) -> None:
    """Kestra's change of a task run's state: the task run (and its last attempt) takes
    the state, its ancestors run again (a flowable looks at its task runs again) and
    the execution goes on from there as after a restart: the tasks after it run, or
    its failure is handled, and the handler lists run again."""
    if cycle.ex.finalized_at is None or cycle.ex.state in (State.PAUSED, State.KILLING):
        return  # the API refuses first; a late or repeated request changes nothing
    if mark_refusal(cycle.runs, cycle.index, event.task_run_id, event.state) is not None:
        return
    runs = cycle.runs
    target = runs[event.task_run_id]
    again: set[str] = set()
    node = runs[target.parent_id] if target.parent_id else None
    while node is not None:
        again.add(node.id)
        node = runs[node.parent_id] if node.parent_id else None
    before = target.state
    marked = cycle.with_closed_attempt(target, event.state).to(event.state, cycle.now)
    cycle.put(evolve(marked, error=None if event.state is not State.FAILED else marked.error))
    _go_again(cycle, again)
    cycle.log(
        "INFO",
        f"Task run {target.task_id} changed by a user from {before.value} to"
        f" {event.state.value}: the execution goes on",
        target,
    )


def _restartable(run: TaskRun) -> bool:
    # A task run a ForEach's onChildFailure interrupted did not fail on its own: it
    # runs again, even CANCELLED.
    if run.state is State.CANCELLED:
        return run.error is not None and run.error.type == INTERRUPTED
    return run.state in RESTARTABLE


def _in_main(runs: Mapping[str, TaskRun], run: TaskRun) -> bool:
    node: TaskRun | None = run
    while node is not None:
        if node.phase is not Phase.MAIN:
            return False
        node = runs[node.parent_id] if node.parent_id else None
    return True


def _collect(cycle: Cycle, run_id: str, out: list[str]) -> None:
    out.append(run_id)
    for phase in Phase:
        for child in cycle.children.get((run_id, phase), ()):
            _collect(cycle, child, out)


def _delete(cycle: Cycle, doomed: list[str]) -> None:
    for run_id in doomed:
        run = cycle.runs[run_id]
        if (
            run.state in (State.SUBMITTED, State.RUNNING)
            and cycle.index.task(run.task_id).kind is TaskKind.RUNNABLE
        ):
            cycle.emit(Cancel(run_id))  # an afterExecution job still going
        if run.memo and run.memo.get("waiting") and not run.state.terminated:
            cycle.kill_child(run)
    cycle.delete(doomed)


def stop_root(cycle: Cycle, state: State) -> None:
    """The root ends while some of its tasks still go: a restart restarted several
    of them at once. They take the root's state, as the still-running children of
    a flowable take the flowable's (SPEC §3.5)."""
    for run_id in sorted(cycle.active, key=lambda i: cycle.runs[i].seq):
        run = cycle.runs[run_id]
        if run.parent_id is not None or run.phase is not Phase.MAIN or run.state.terminated:
            continue
        cycle.stop_descendants(run, state)
        if (
            run.state in (State.SUBMITTED, State.RUNNING)
            and cycle.index.task(run.task_id).kind is TaskKind.RUNNABLE
        ):
            cycle.emit(Cancel(run.id))
        cycle.put(cycle.with_closed_attempt(run, state).to(state, cycle.now))
