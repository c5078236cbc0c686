"""The brokers' batch triggers as the flow model validates them (model/brokers.py):
Kestra's documentation examples load under every name; an evaluation must end
(maxRecords or maxDuration, at most PT1M) and what Lanner does not do is rejected,
located, with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.model.triggers import AmqpTrigger, MqttTrigger, NatsTrigger, RedisListTrigger
from tests.unit.model.flowtools import flow_data, load, messages, problems

AMQP = {"type": "io.kestra.plugin.amqp.Trigger", "host": "localhost", "queue": "q"}


@pytest.mark.parametrize(
    ("props", "model"),
    [
        # Kestra's plugin documentation examples.
        (
            {
                "type": "io.kestra.plugin.amqp.Trigger",
                "url": "amqp://guest:guest@localhost:5672/my_vhost",
                "maxRecords": 2,
                "queue": "amqpTrigger.queue",
            },
            AmqpTrigger,
        ),
        (
            {
                "type": "io.kestra.plugin.amqp.Trigger",
                "host": "localhost",
                "port": 5672,
                "username": "guest",
                "password": "guest",
                "virtualHost": "/my_vhost",
                "maxRecords": 2,
                "queue": "amqpTrigger.queue",
            },
            AmqpTrigger,
        ),
        (
            {
                "type": "io.kestra.plugin.redis.list.Trigger",
                "url": "redis://localhost:6379/0",
                "key": "mytriggerkey",
                "maxRecords": 2,
            },
            RedisListTrigger,
        ),
        (
            {
                "type": "io.kestra.plugin.redis.TriggerList",
                "url": "redis://localhost:6379/0",
                "key": "mytriggerkey",
                "maxRecords": 2,
            },
            RedisListTrigger,
        ),
        (
            {
                "type": "io.kestra.plugin.mqtt.Trigger",
                "server": "tcp://localhost:1883",
                "clientId": "kestraProducer",
                "topic": ["kestra/sensors/cpu", "kestra/sensors/mem"],
                "serdeType": "JSON",
                "maxRecords": 10,
            },
            MqttTrigger,
        ),
        (
            {
                "type": "io.kestra.plugin.nats.Trigger",
                "url": "nats://localhost:4222",
                "username": "nats_user",
                "password": "nats_password",
                "subject": "kestra.trigger",
                "durableId": "natsTrigger",
                "deliverPolicy": "All",
                "maxRecords": 1,
            },
            NatsTrigger,
        ),
        (
            {
                "type": "io.kestra.plugin.nats.core.Trigger",
                "url": "nats://localhost:4222",
                "subject": "kestra.trigger",
                "maxDuration": "PT10S",
                "interval": "PT30S",
            },
            NatsTrigger,
        ),
    ],
)
def test_kestra_examples_load(props: dict[str, Any], model: type[Any]) -> None:
    trigger = (load(flow_data(triggers=[{"id": "watch", **props}])).triggers or [])[0]
    assert isinstance(trigger, model)
    assert getattr(trigger, "interval") in ("PT1M", "PT30S")  # noqa: B009


@pytest.mark.parametrize(
    ("props", "path", "fragment"),
    [
        ({**AMQP}, "triggers[0]", "give maxRecords or maxDuration"),
        ({**AMQP, "maxDuration": "PT5M"}, "triggers[0]", "at most PT1M"),
        ({**AMQP, "maxRecords": 0}, "triggers[0]", "at least 1"),
        ({**AMQP, "maxRecords": 1, "autoAck": True}, "triggers[0]", "once its execution is"),
        ({**AMQP, "maxRecords": 1, "interval": "PT0.5S"}, "triggers[0].interval", "PT1S"),
        (
            {
                **AMQP,
                "maxRecords": 1,
                "conditions": [
                    {"type": "io.kestra.plugin.core.condition.ExecutionStatus", "in": ["FAILED"]}
                ],
            },
            "triggers[0]",
            "conditions[0]",
        ),
        ({**AMQP, "maxRecords": 1, "queu": "q"}, "triggers[0].queu", "unknown"),
        (
            {"type": "io.kestra.plugin.redis.list.Trigger", "url": "redis://h", "maxRecords": 1},
            "triggers[0].key",
            "missing required",
        ),
        (
            {
                "type": "io.kestra.plugin.nats.Trigger",
                "url": "nats://h",
                "subject": "s",
                "maxRecords": 1,
                "creds": "/x",
            },
            "triggers[0].creds",
            "not supported here",
        ),
    ],
)
def test_rejected_with_place_and_reason(props: dict[str, Any], path: str, fragment: str) -> None:
    found = problems(flow_data(triggers=[{"id": "watch", **props}]))
    located = [p for p in found if p.path == path]
    assert located, messages(found)
    assert fragment in located[0].message, messages(found)
    assert located[0].line is not None
