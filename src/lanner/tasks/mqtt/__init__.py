"""Kestra's MQTT task types, `io.kestra.plugin.mqtt.*` (docs/tasks-brokers.md):
`Publish` and `Subscribe`, on paho-mqtt.

Registered through their own `lanner.tasks` entry point (`mqtt`); the
RealtimeTrigger's listener is in listener.py (runtime/brokertriggers.py).
"""

from __future__ import annotations

from lanner.plugin import TaskType


def task_types() -> list[TaskType]:
    from lanner.tasks.mqtt import tasks

    return tasks.TASK_TYPES
