"""Lanner's built-in task types, registered through the `lanner.tasks` entry point."""

from __future__ import annotations

from lanner.plugin import TaskFamily, TaskType

# Each module holds a TASK_TYPES list.
MODULES = (
    "flow",
    "loopuntil",
    "dag",
    "foreachitem",
    "control",
    "execution",
    "log",
    "fail",
    "sleep",
    "debug",
    "outputs",
    "slack",
    "kv",
    "workdir",
    "assertion",
    "templating",
    "state",
    "namespacefiles",
    "purge",
    "logfetch",
    "resume",
)


def task_family() -> TaskFamily:
    """The entry point: every built-in task type, module by module, each module imported
    when one of its types is first asked for (lanner.plugin.TaskRegistry)."""
    return TaskFamily(__name__, MODULES)


def task_types() -> list[TaskType]:
    """Every built-in task type."""
    import importlib

    return [t for m in MODULES for t in importlib.import_module(f"{__name__}.{m}").TASK_TYPES]
