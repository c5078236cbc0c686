"""Kestra's HTTP task types (`io.kestra.plugin.core.http.*`), on httpx; docs/tasks-http.md.

Registered through their own `lanner.tasks` entry point (`http`).
"""

from __future__ import annotations

from lanner.plugin import TaskType


def task_types() -> list[TaskType]:
    """`Request` and `Download`, with their old names."""
    from lanner.tasks.http import download, request

    return [*request.TASK_TYPES, *download.TASK_TYPES]
