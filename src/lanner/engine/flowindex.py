"""A flow, indexed for the planner: every task by id, where it sits, and
the task lists of each container (the root or a flowable task), found
through the task's declared behaviour (lanner.model.behaviour)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lanner.engine.execution import Phase
from lanner.model.behaviour import Choice, TaskKind
from lanner.model.flow import Flow
from lanner.model.task import Retry, Task, TaskList


@dataclass(frozen=True, slots=True)
class TaskInfo:
    task: Task
    parent: str | None  # the id of the enclosing flowable task, None at the root
    phase: Phase  # which list of the parent it is in


def enabled(tasks: TaskList | None) -> tuple[Task, ...]:
    """Disabled tasks are removed before scheduling (SPEC §1.2): they get no task run."""
    return tuple(t for t in tasks or () if not t.disabled)


class FlowIndex:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.tasks: dict[str, TaskInfo] = {}
        root_lists = {
            Phase.MAIN: flow.tasks,
            Phase.ERRORS: flow.errors,
            Phase.FINALLY: flow.finally_,
            Phase.AFTER: flow.afterExecution,
        }
        for phase, tasks in root_lists.items():
            for t in tasks or ():
                self._add(t, None, phase)
        # Listener tasks run after the terminal state, as afterExecution (engine/listeners.py).
        for listener in flow.listeners or ():
            for t in listener.tasks:
                self._add(t, None, Phase.AFTER)
        self.root = {phase: enabled(tasks) for phase, tasks in root_lists.items()}
        self._handlers: dict[str, tuple[Task, tuple[tuple[Task, ...], tuple[Task, ...]]]] = {}
        self._mains: dict[str, tuple[Task, tuple[Task, ...] | None]] = {}
        # next_after(root[MAIN], last) by the last task id (None: the first task), so
        # that a long sequential flow does not scan its list for each task run.
        main = self.root[Phase.MAIN]
        self.root_next: dict[str | None, Task | None] = {None: main[0] if main else None}
        for i, t in enumerate(main):
            self.root_next.setdefault(t.id, main[i + 1] if i + 1 < len(main) else None)

    def _add(self, task: Task, parent: str | None, phase: Phase) -> None:
        self.tasks[task.id] = TaskInfo(task, parent, phase)
        behaviour = task.behaviour
        for field, child in task.children():
            self._add(child, task.id, _phase_of(field, behaviour.errors, behaviour.finally_))

    def task(self, task_id: str) -> Task:
        return self.tasks[task_id].task

    def retry_policy(self, task_id: str) -> tuple[Retry | None, bool]:
        """The retry policy of a task (SPEC §4.4): its own, else the nearest ancestor's,
        else the flow's. The boolean says whether it is the task's own."""
        info = self.tasks[task_id]
        if info.task.retry is not None:
            return info.task.retry, True
        parent = info.parent
        while parent is not None:
            pinfo = self.tasks[parent]
            if pinfo.task.retry is not None:
                return pinfo.task.retry, False
            parent = pinfo.parent
        return self.flow.retry, False

    def handler_lists(self, task: Task) -> tuple[tuple[Task, ...], tuple[Task, ...]]:
        # Kept per task (a flowable's every look asked again, a tuple built per list).
        found = self._handlers.get(task.id)
        if found is not None and found[0] is task:
            return found[1]
        behaviour = task.behaviour
        lists = _list(task, behaviour.errors), _list(task, behaviour.finally_)
        self._handlers[task.id] = (task, lists)
        return lists

    def main_list(self, task: Task, memo: dict[str, Any] | Any) -> tuple[Task, ...] | None:
        """`main_list`, kept per task when it does not depend on the memo (no branch or
        case to choose, no DAG): a Parallel's every look built the tuple of its tasks."""
        behaviour = task.behaviour
        if behaviour.choose is not Choice.ALL or behaviour.dag is not None:
            return main_list(task, memo)
        found = self._mains.get(task.id)
        if found is not None and found[0] is task:
            return found[1]
        main = main_list(task, memo)
        self._mains[task.id] = (task, main)
        return main

    @staticmethod
    def is_flowable(task: Task) -> bool:
        return task.behaviour.kind is TaskKind.FLOWABLE


def _list(task: Task, name: str | None) -> tuple[Task, ...]:
    return enabled(getattr(task, name)) if name is not None else ()


def _phase_of(field: str, errors: str | None, finally_: str | None) -> Phase:
    if field == errors:
        return Phase.ERRORS
    if field == finally_:
        return Phase.FINALLY
    return Phase.MAIN


def main_list(task: Task, memo: dict[str, Any] | Any) -> tuple[Task, ...] | None:
    """The MAIN list of a flowable once its branch is known (`behaviour.choose`); None
    when nothing matches (Choice.CASE with no matching case and no defaults)."""
    behaviour = task.behaviour
    lists = behaviour.children
    if behaviour.choose is Choice.CONDITION:
        return _list(task, lists[0] if memo.get("branch") == "then" else lists[1])
    if behaviour.choose is Choice.CASE:
        case = memo.get("case")
        if case is None:
            defaults = getattr(task, lists[1])
            return enabled(defaults) if defaults is not None else None
        return enabled((getattr(task, lists[0]) or {}).get(case))
    if behaviour.dag is not None:  # each entry wraps its task (engine/dag.py)
        wrapped = getattr(task, lists[0]) or ()
        return enabled(tuple(getattr(e, behaviour.dag.task) for e in wrapped))
    return _list(task, lists[0]) if lists else ()
