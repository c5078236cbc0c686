"""Lanner's built-in task types, registered through the `lanner.tasks` entry point."""

from __future__ import annotations

from lanner.plugin import TaskType


def task_types() -> list[TaskType]:
    """Every built-in task type."""
    from lanner.tasks.core import (
        assertion,
        control,
        debug,
        execution,
        fail,
        flow,
        kv,
        log,
        logfetch,
        namespacefiles,
        outputs,
        purge,
        resume,
        slack,
        sleep,
        state,
        templating,
        workdir,
    )

    modules = (
        *(flow, control, execution, log, fail, sleep, debug, outputs, slack, kv, workdir),
        *(assertion, templating, state, namespacefiles, purge, logfetch, resume),
    )
    return [t for module in modules for t in module.TASK_TYPES]
