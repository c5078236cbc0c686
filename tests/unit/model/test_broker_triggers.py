"""The message brokers' realtime triggers as the flow model validates them
(model/brokers.py): Kestra's examples load; what Lanner does not do is rejected,
located, with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from lanner.model.brokers import (
    AmqpRealtimeTrigger,
    MqttRealtimeTrigger,
    NatsRealtimeTrigger,
    RedisListRealtimeTrigger,
    SerdeType,
)
from tests.unit.model.flowtools import flow_data, load, messages, problems

AMQP = "io.kestra.plugin.amqp.RealtimeTrigger"


def _flow(**trigger: Any) -> dict[str, Any]:
    return flow_data(triggers=[{"id": "rt", "type": AMQP, **trigger}])


@pytest.mark.parametrize(
    "props",
    [
        # Kestra's plugin documentation examples.
        {"url": "amqp://guest:guest@localhost:5672/my_vhost", "queue": "amqpTrigger.queue"},
        {
            "host": "localhost",
            "port": 5672,
            "username": "guest",
            "password": "{{ secret('AMQP_PASSWORD') }}",
            "virtualHost": "/my_vhost",
            "queue": "amqpTrigger.queue",
            "serdeType": "JSON",
            "labels": {"source": "amqp"},
        },
    ],
)
def test_kestra_examples_load(props: dict[str, Any]) -> None:
    flow = load(_flow(**props))
    trigger = (flow.triggers or [])[0]
    assert isinstance(trigger, AmqpRealtimeTrigger)
    assert trigger.consumerTag == "Kestra"
    assert trigger.serdeType in (SerdeType.STRING, SerdeType.JSON)


@pytest.mark.parametrize(
    ("props", "path", "fragment"),
    [
        ({"host": "h"}, "triggers[0].queue", "missing required property 'queue'"),
        ({"queue": "q"}, "triggers[0]", "give the broker's `host`"),
        ({"host": "h", "queue": "q", "autoAck": True}, "triggers[0]", "once its execution is"),
        (
            {"host": "h", "queue": "q", "stopAfter": ["FAILED"]},
            "triggers[0].stopAfter",
            "not supported here",
        ),
        (
            {
                "host": "h",
                "queue": "q",
                "conditions": [
                    {"type": "io.kestra.plugin.core.condition.ExecutionNamespace", "namespace": "a"}
                ],
            },
            "triggers[0]",
            "'ExecutionNamespace' is not supported here on a realtime trigger",
        ),
        ({"host": "h", "queue": "q", "serdeType": "XML"}, "triggers[0].serdeType", "JSON"),
        ({"host": "h", "queue": "q", "queu": "q"}, "triggers[0].queu", "unknown"),
    ],
)
def test_rejected_with_place_and_reason(props: dict[str, Any], path: str, fragment: str) -> None:
    found = problems(_flow(**props))
    located = [p for p in found if p.path == path]
    assert located, messages(found)
    assert fragment in located[0].message, messages(found)


REDIS = "io.kestra.plugin.redis.list.RealtimeTrigger"


@pytest.mark.parametrize("name", [REDIS, "io.kestra.plugin.redis.RealtimeTrigger"])
def test_the_redis_list_trigger_loads_under_both_names(name: str) -> None:
    data = flow_data(
        triggers=[{"id": "watch", "type": name, "url": "redis://localhost:6379/0", "key": "k"}]
    )
    trigger = (load(data).triggers or [])[0]
    assert isinstance(trigger, RedisListRealtimeTrigger)


def test_the_redis_list_trigger_needs_its_key() -> None:
    data = flow_data(triggers=[{"id": "watch", "type": REDIS, "url": "redis://h"}])
    found = problems(data)
    assert any(p.path == "triggers[0].key" for p in found), messages(found)


def test_the_mqtt_trigger_takes_one_topic_or_several() -> None:
    one = {"id": "rt", "type": "io.kestra.plugin.mqtt.RealtimeTrigger", "server": "tcp://h:1883"}
    flow = load(flow_data(triggers=[{**one, "topic": "a/b"}]))
    trigger = (flow.triggers or [])[0]
    assert isinstance(trigger, MqttRealtimeTrigger)
    assert trigger.topic == ["a/b"] and trigger.qos == 1
    flow = load(flow_data(triggers=[{**one, "topic": ["a", "b"], "qos": 2}]))
    assert getattr((flow.triggers or [])[0], "topic", None) == ["a", "b"]
    found = problems(flow_data(triggers=[{**one, "topic": "a", "qos": 3}]))
    assert any(p.path == "triggers[0].qos" for p in found), messages(found)


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        ({"deliverPolicy": "ByStartTime"}, "needs `since`"),
        ({"deliverPolicy": "ByStartSequence"}, "not supported here"),
    ],
)
def test_the_nats_trigger_checks_where_it_starts(props: dict[str, Any], fragment: str) -> None:
    trigger = {"id": "w", "type": "io.kestra.plugin.nats.RealtimeTrigger", "url": "nats://h"}
    found = problems(flow_data(triggers=[{**trigger, "subject": "s", **props}]))
    assert any(fragment in p.message for p in found), messages(found)


def test_the_nats_trigger_loads_under_both_names() -> None:
    for name in (
        "io.kestra.plugin.nats.RealtimeTrigger",
        "io.kestra.plugin.nats.core.RealtimeTrigger",
    ):
        trigger = {"id": "w", "type": name, "url": "nats://h", "subject": "s", "durableId": "d"}
        assert isinstance(
            (load(flow_data(triggers=[trigger])).triggers or [])[0], NatsRealtimeTrigger
        )


def test_labels_as_a_list_and_log_level() -> None:
    trigger = {
        "id": "rt",
        "type": "io.kestra.plugin.amqp.RealtimeTrigger",
        "host": "h",
        "queue": "q",
        "labels": [{"key": "team", "value": "sales"}],
        "logLevel": "WARN",
    }
    loaded = (load(flow_data(triggers=[trigger])).triggers or [])[0]
    assert getattr(loaded, "labels", None) == {"team": "sales"}
    found = problems(flow_data(triggers=[{**trigger, "logLevel": "LOUD"}]))
    assert any(p.path == "triggers[0].logLevel" for p in found), messages(found)
