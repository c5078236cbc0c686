"""Kestra's AMQP (RabbitMQ) task types, `io.kestra.plugin.amqp.*` (docs/tasks-brokers.md):
`Publish`, `Consume`, `CreateQueue`, `DeclareExchange` and `QueueBind`, on pika.

Registered through their own `lanner.tasks` entry point (`amqp`); the
RealtimeTrigger's listener is in listener.py (runtime/brokertriggers.py).
"""

from __future__ import annotations

from lanner.plugin import TaskType


def task_types() -> list[TaskType]:
    from lanner.tasks.amqp import tasks

    return tasks.TASK_TYPES
