"""Lanner's built-in task types, registered through the `lanner.tasks` entry point."""

from __future__ import annotations

from lanner.plugin import TaskType


def task_types() -> list[TaskType]:
    """Every built-in task type."""
    from lanner.tasks.core import (
        control,
        dag,
        debug,
        execution,
        fail,
        flow,
        kv,
        log,
        loopuntil,
        outputs,
        slack,
        sleep,
    )

    modules = (
        flow,
        loopuntil,
        dag,
        control,
        execution,
        log,
        fail,
        sleep,
        debug,
        outputs,
        slack,
        kv,
    )
    return [t for module in modules for t in module.TASK_TYPES]
