"""Order.DAG: the Dag flowable's children, each started once the children it depends
on ended well (docs/flowables.md). Pure, over the task list and its task runs."""

from __future__ import annotations

from collections.abc import Sequence

from lanner.engine.containers import NewChild
from lanner.engine.execution import Phase, TaskRun
from lanner.model.states import State
from lanner.model.task import Task

# A dependency is met once its task run ended in one of these. SKIPPED (a false
# `runIf`) is met too: the dependent would otherwise never start.
_MET = frozenset({State.SUCCESS, State.WARNING, State.SKIPPED})


def entries(task: Task) -> list[tuple[Task, list[str]]]:
    """(task, ids it depends on) of each entry of the Dag `task`, as declared."""
    spec = task.behaviour.dag
    assert spec is not None  # Order.DAG goes with `dag` (Behaviour checks it)
    out: list[tuple[Task, list[str]]] = []
    for entry in getattr(task, task.behaviour.children[0]) or ():
        child = getattr(entry, spec.task)
        out.append((child, list(getattr(entry, spec.depends_on, None) or ())))
    return out


def next_children(
    task: Task, main: Sequence[Task], runs: Sequence[TaskRun], limit: int
) -> list[NewChild]:
    """The children whose dependencies are all met and that have no task run yet, in
    the list's order, up to `limit` running at once (0: no limit). A dependency on a
    disabled task (it gets no task run) counts as met."""
    enabled = {t.id for t in main}
    started = {r.task_id for r in runs}
    met = {r.task_id for r in runs if r.state in _MET}
    running = sum(1 for r in runs if not r.state.terminated)
    out: list[NewChild] = []
    for child, depends in entries(task):
        if child.id not in enabled or child.id in started:
            continue
        if all(d in met or d not in enabled for d in depends):
            if limit > 0 and running + len(out) >= limit:
                break
            out.append(NewChild(child, Phase.MAIN))
    return out


__all__ = ["entries", "next_children"]
