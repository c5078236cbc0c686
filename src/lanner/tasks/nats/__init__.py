"""Kestra's NATS task types, `io.kestra.plugin.nats.*` (and their newer names
`io.kestra.plugin.nats.core.*`; docs/tasks-brokers.md): `Produce` and `Consume`
on JetStream, and the Key/Value tasks `kv.CreateBucket`, `Put`, `Get`, `Delete`
(kv.py), with nats-py.

Registered through their own `lanner.tasks` entry point (`nats`); the
RealtimeTrigger's listener is in listener.py (runtime/brokertriggers.py; the batch
`Trigger` uses it too, runtime/brokerbatch.py).
"""

from __future__ import annotations

from lanner.plugin import TaskType


def task_types() -> list[TaskType]:
    from lanner.tasks.nats import tasks

    return tasks.TASK_TYPES
