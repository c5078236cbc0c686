"""Which list of a container is active, and which children start next
(SPEC §3.1, §3.2, §5.5–§5.9). Pure functions over task lists and task runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lanner.engine.execution import Phase, TaskRun, fast_init
from lanner.model.states import State
from lanner.model.task import Task


@fast_init
@dataclass(frozen=True, slots=True)
class NewChild:
    """A task run to create: which task, in which list, for which loop value."""

    task: Task
    phase: Phase
    value: str | None = None
    iteration: int | None = None


def all_terminated(expected: int, runs: Sequence[TaskRun]) -> bool:
    return sum(1 for r in runs if r.state.terminated) >= expected


@fast_init
@dataclass(frozen=True, slots=True)
class Summary:
    """What the selector needs to know of a list's task runs."""

    terminated: int
    failed: bool

    @classmethod
    def of(cls, runs: Sequence[TaskRun], *, terminated: int = 0) -> Summary:
        done = terminated
        failed = False
        for r in runs:
            state = r.state
            if state.terminated:
                done += 1
                if state is State.FAILED:
                    failed = True
        return cls(done, failed)


def select(
    main: Sequence[Task],
    errors: Sequence[Task],
    finally_: Sequence[Task],
    main_runs: Summary,
    error_runs: Sequence[TaskRun],
    finally_runs: Sequence[TaskRun],
    main_expected: int | None = None,
) -> tuple[Phase, Sequence[Task]]:
    """Kestra's findTaskDependingFlowState, restated in SPEC §3.1.

    A FAILED task run here is always final: a task run that will be retried is
    RETRYING, never FAILED, so step 5a (wait for the retry) needs no check.
    """
    expected = len(main) if main_expected is None else main_expected
    if finally_runs:
        return Phase.FINALLY, finally_
    failed = main_runs.failed
    if error_runs or failed:
        if finally_ and errors and not all_terminated(len(errors), error_runs):
            return Phase.ERRORS, errors
        if not finally_:
            return Phase.ERRORS, errors
    if finally_ and (failed or main_runs.terminated >= expected):
        return Phase.FINALLY, finally_
    return Phase.MAIN, main


def sequential_next(tasks: Sequence[Task], runs: Sequence[TaskRun]) -> Task | None:
    """The task after the last terminated one; nothing while one is still going."""
    if any(not r.state.terminated for r in runs):
        return None
    return next_after(tasks, runs[-1].task_id if runs else None)


def next_after(tasks: Sequence[Task], last_task_id: str | None) -> Task | None:
    """The task after `last_task_id` in the list (the first when None)."""
    if not tasks:
        return None
    if last_task_id is None:
        return tasks[0]
    for i, t in enumerate(tasks):
        if t.id == last_task_id:
            return tasks[i + 1] if i + 1 < len(tasks) else None
    return None


def parallel_next(tasks: Sequence[Task], runs: Sequence[TaskRun], limit: int) -> list[Task]:
    """Every task without a task run yet, up to `limit` running at once (0: no limit)."""
    started = {r.task_id for r in runs}
    pending = [t for t in tasks if t.id not in started]
    if limit > 0:
        running = sum(1 for r in runs if not r.state.terminated)
        pending = pending[: max(limit - running, 0)]
    return pending


def loop_next(
    tasks: Sequence[Task],
    values: Sequence[str],
    runs: Sequence[TaskRun],
    limit: int,
    first: int = 0,
) -> tuple[list[NewChild], int]:
    """ForEach: one sequential group of `tasks` per value, at most `limit` groups
    going at once (0: all), started in order.

    `runs` must hold every task run of the groups from value index `first` on
    (groups before it are complete). Returns the children to create and the
    index of the first group that is not complete, so that the next call can
    skip the complete ones: a ForEach over n values stays linear, not quadratic.
    """
    by_value: dict[str | None, list[TaskRun]] = {}
    for r in runs:
        by_value.setdefault(r.value, []).append(r)
    out: list[NewChild] = []
    going = 0
    frontier: int | None = None
    for i in range(first, len(values)):
        value = values[i]
        group = by_value.get(value)
        if group is None:
            if limit > 0 and going >= limit:
                if frontier is None:
                    frontier = i
                break
            out.append(NewChild(tasks[0], Phase.MAIN, value, i))
            going += 1
            if frontier is None:
                frontier = i
            continue
        nxt = sequential_next(tasks, group)
        if nxt is not None:
            out.append(NewChild(nxt, Phase.MAIN, value, i))
        if nxt is not None or any(not r.state.terminated for r in group):
            going += 1
            if frontier is None:
                frontier = i
    return out, len(values) if frontier is None else frontier


def loop_parallel_next(
    tasks: Sequence[Task], values: Sequence[str], runs: Sequence[TaskRun], limit: int
) -> list[NewChild]:
    """EachParallel: every (value, task) pair at once, up to `limit` running."""
    started = {(r.value, r.task_id) for r in runs}
    running = sum(1 for r in runs if not r.state.terminated)
    out: list[NewChild] = []
    for i, value in enumerate(values):
        for t in tasks:
            if (value, t.id) in started:
                continue
            if limit > 0 and running + len(out) >= limit:
                return out
            out.append(NewChild(t, Phase.MAIN, value, i))
    return out
