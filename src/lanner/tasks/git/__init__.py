"""`io.kestra.plugin.git.*`: git repositories from tasks (docs/tasks-git.md), registered
through the `git` entry point."""

from __future__ import annotations

from lanner.plugin import TaskType


def task_types() -> list[TaskType]:
    """The git task types."""
    from lanner.tasks.git import clone, flows, nsfiles

    return [*clone.TASK_TYPES, *flows.TASK_TYPES, *nsfiles.TASK_TYPES]
