"""Kestra's Redis task types (docs/tasks-brokers.md): `io.kestra.plugin.redis.list.*`
(`ListPush`, `ListPop`), `io.kestra.plugin.redis.string.*` (`Set`, `Get`,
`Delete`) and `io.kestra.plugin.redis.pubsub.Publish`, on redis-py.

Registered through their own `lanner.tasks` entry point (`redis`); the list
RealtimeTrigger's listener is in listener.py (runtime/brokertriggers.py; the batch
`list.Trigger` uses it too, runtime/brokerbatch.py).
"""

from __future__ import annotations

from lanner.plugin import TaskType


def task_types() -> list[TaskType]:
    from lanner.tasks.redis import tasks

    return tasks.TASK_TYPES
