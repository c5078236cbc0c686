"""Kestra's Redis task types (docs/tasks-brokers.md): `io.kestra.plugin.redis.list.*`
(`ListPush`, `ListPop`) and `io.kestra.plugin.redis.string.*` (`Set`, `Get`,
`Delete`), on redis-py.

Registered through their own `lanner.tasks` entry point (`redis`); the list
RealtimeTrigger's listener is in listener.py (runtime/brokertriggers.py).
"""

from __future__ import annotations

from lanner.plugin import TaskType


def task_types() -> list[TaskType]:
    from lanner.tasks.redis import tasks

    return tasks.TASK_TYPES
