"""Replay from a task run (Kestra's replay with `taskRunId`): a new execution whose
task runs before the given one are copied as they ended, while the given task run,
its ancestors and what follows it run again.

What is copied and what runs again, for the given task run and each of its
ancestors (its container's list, walking up to the root):

- the task run itself (or, inside a WorkingDirectory, that task's, whose one job
  runs all its children) goes back to RESTARTED (a new attempt, as a restart's), and
  its own task runs are dropped: a flowable runs its children again;
- in its list, the task runs created after it are dropped (they run again), except
  in a Parallel, whose other branches do not follow it and are kept as they ended;
- the task runs of its container's later lists (`errors`, `finally`, and the flow's
  `afterExecution`) are dropped: they run again when their turn comes.

Everything else is copied as it ended, under new ids of the new execution (task-run
ids derive from the execution id); the planner then goes on as after a restart.
"""

from __future__ import annotations

from datetime import datetime

from lanner.engine.execution import (
    BASE,
    ROOT,
    Execution,
    History,
    Phase,
    TaskRun,
    evolve,
    task_run_id,
)
from lanner.engine.flowindex import FlowIndex
from lanner.errors import InputValueError
from lanner.model.behaviour import Order
from lanner.model.states import State

_PHASE_ORDER = {Phase.MAIN: 0, Phase.ERRORS: 1, Phase.FINALLY: 2, Phase.AFTER: 3}


def replay_from(
    original: Execution,
    index: FlowIndex,
    target_id: str,
    new_id: str,
    now: datetime,
    revision: int | None = None,
) -> Execution:
    """The new CREATED execution (`new_id`) replaying `original` from `target_id`, for
    the flow `index` holds (its revision `revision`, else the original's)."""
    runs = original.task_runs
    target = runs.get(target_id)
    if target is None:
        raise InputValueError(f"taskRunId {target_id}: not a task run of execution {original.id}")
    children: dict[str | None, list[TaskRun]] = {}
    for run in runs.values():
        children.setdefault(run.parent_id, []).append(run)
    dropped: set[str] = set()

    def drop(run: TaskRun) -> None:
        dropped.add(run.id)
        for child in children.get(run.id, ()):
            drop(child)

    chain = [target]
    while chain[-1].parent_id:
        chain.append(runs[chain[-1].parent_id])
    _check_tasks(index, chain)
    # A task run inside a one_job task (WorkingDirectory) cannot run alone: its job runs
    # every child in one working directory. The replay starts from that job.
    jobs = [i for i, run in enumerate(chain) if index.task(run.task_id).behaviour.one_job]
    if jobs:
        chain = chain[jobs[-1] :]
        target = chain[0]
    for child in children.get(target.id, ()):
        drop(child)
    for node in chain:
        keep_later = node.parent_id is not None and _parallel(index, runs[node.parent_id])
        for sibling in children.get(node.parent_id, ()):
            if sibling.id == node.id:
                continue
            if sibling.phase is node.phase:
                if sibling.seq > node.seq and not keep_later:
                    drop(sibling)
            elif _PHASE_ORDER[sibling.phase] > _PHASE_ORDER[node.phase]:
                drop(sibling)
    again = {run.id for run in chain}
    kept = sorted((r for r in runs.values() if r.id not in dropped), key=lambda r: r.seq)
    _check_tasks(index, kept)
    ids: dict[str, str] = {}
    task_runs: dict[str, TaskRun] = {}
    lists: dict[tuple[str, Phase], list[str]] = {}
    for seq, run in enumerate(kept):
        parent = ids[run.parent_id] if run.parent_id else None
        run_id = task_run_id(new_id, parent, run.task_id, run.value, run.iteration, run.generation)
        ids[run.id] = run_id
        copy = evolve(run, id=run_id, execution_id=new_id, parent_id=parent, seq=seq)
        if run.id in again:
            memo = {**(run.memo or {}), BASE: len(run.attempts)}
            copy = evolve(copy.to(State.RESTARTED, now), error=None, outputs=None, memo=memo)
        task_runs[run_id] = copy
        lists.setdefault((parent or ROOT, run.phase), []).append(run_id)
    return Execution(
        id=new_id,
        namespace=original.namespace,
        flow_id=original.flow_id,
        flow_revision=revision if revision is not None else original.flow_revision,
        state=State.CREATED,
        histories=(History(State.CREATED, now),),
        inputs=original.inputs,
        labels=original.labels,
        variables=original.variables,
        trigger=original.trigger,
        task_runs=task_runs,
        children={key: tuple(value) for key, value in lists.items()},
        secret_inputs=original.secret_inputs,
    )


def _parallel(index: FlowIndex, container: TaskRun) -> bool:
    return index.task(container.task_id).behaviour.order is Order.PARALLEL


def _check_tasks(index: FlowIndex, runs: list[TaskRun]) -> None:
    """The flow replayed must have the task of every task run copied."""
    missing = sorted({r.task_id for r in runs if r.task_id not in index.tasks})
    if missing:
        raise InputValueError(
            f"the flow revision replayed has no task {', '.join(missing)}: replay from this"
            " task run with a revision that has the tasks it copies"
        )
