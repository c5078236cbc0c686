"""Lanner's built-in task types, registered through the `lanner.tasks` entry point."""

from __future__ import annotations

from lanner.plugin import TaskFamily


def task_types() -> TaskFamily:
    """Every built-in task type, module by module (each imported when one of its types
    is first asked for: lanner.plugin.TaskRegistry)."""
    return TaskFamily(
        "lanner.tasks.core",
        ("flow", "control", "execution", "log", "fail", "sleep", "debug", "outputs", "slack", "kv"),
    )
