"""Validation examples of the message brokers' task types (docs/tasks-brokers.md), for
tests/unit/model/test_task_validation.py's tables (kept here, beside their tests)."""

from __future__ import annotations

from typing import Any

AMQP = "io.kestra.plugin.amqp."
REDIS = "io.kestra.plugin.redis."
URL = "redis://127.0.0.1:6379/0"
MQTT = "io.kestra.plugin.mqtt."
SERVER = {"server": "tcp://127.0.0.1:1883", "clientId": "kestraProducer"}
NATS = "io.kestra.plugin.nats."
NATS_URL = "nats://127.0.0.1:4222"
BROKER = {"host": "127.0.0.1", "port": 5672, "username": "guest", "password": "guest"}

VALID: dict[str, list[dict[str, Any]]] = {
    AMQP + "Publish": [
        {**BROKER, "exchange": "orders", "routingKey": "new", "from": '{"data": "one"}'},
        {"url": "amqp://guest:guest@127.0.0.1:5672/", "exchange": "", "from": '[{"data": 1}]'},
        {**BROKER, "exchange": "x", "from": "kestra:///a/b/_files/m.ion", "serdeType": "JSON"},
    ],
    AMQP + "Consume": [
        {**BROKER, "queue": "orders", "maxRecords": 10},
        {**BROKER, "queue": "orders", "maxDuration": "PT5S", "serdeType": "JSON"},
    ],
    AMQP + "CreateQueue": [{**BROKER, "name": "orders", "durability": False}],
    AMQP + "DeclareExchange": [{**BROKER, "name": "orders", "exchangeType": "TOPIC"}],
    AMQP + "QueueBind": [{**BROKER, "exchange": "orders", "queue": "q", "routingKey": "a.*"}],
    REDIS + "list.ListPush": [
        {"url": URL, "key": "jobs", "from": ["a", "b"]},
        {"url": URL, "key": "jobs", "from": "kestra:///a/b/_files/e.ion", "serdeType": "JSON"},
    ],
    REDIS + "list.ListPop": [{"url": URL, "key": "jobs", "maxRecords": 10, "count": 5}],
    REDIS + "string.Set": [
        {"url": URL, "key": "k", "value": "v", "get": True},
        {"url": URL, "key": "k", "value": '{"a": 1}', "serdeType": "JSON"},
    ],
    REDIS + "string.Get": [{"url": URL, "key": "k", "serdeType": "JSON"}],
    REDIS + "string.Delete": [{"url": URL, "keys": ["a", "b"], "failedOnMissing": True}],
    MQTT + "Publish": [
        {
            **SERVER,
            "topic": "kestra/sensors/cpu",
            "serdeType": "JSON",
            "retain": True,
            "from": '{"a": 1}',
        },
        {**SERVER, "topic": "t", "serdeType": "STRING", "from": "hello", "mqttVersion": "V3"},
    ],
    MQTT + "Subscribe": [
        {**SERVER, "topic": ["kestra/sensors/cpu"], "serdeType": "JSON", "maxRecords": 10},
        {**SERVER, "topic": ["a/#", "b"], "maxDuration": "PT10S", "qos": 0},
    ],
    NATS + "Produce": [
        {"url": NATS_URL, "subject": "kestra.publish", "from": '{"data": "hi"}'},
        {
            "url": NATS_URL,
            "username": "u",
            "password": "p",
            "subject": "s",
            "from": "kestra:///a/b/_files/m.ion",
        },
    ],
    NATS + "Consume": [
        {
            "url": NATS_URL,
            "subject": "kestra.>",
            "durableId": "d",
            "pollDuration": "PT5S",
            "maxRecords": 5,
        },
        {
            "url": NATS_URL,
            "subject": "s",
            "deliverPolicy": "ByStartTime",
            "since": "2025-01-01T00:00:00Z",
            "maxDuration": "PT1M",
        },
    ],
    REDIS + "pubsub.Publish": [
        {"url": URL, "channel": "mych", "from": ["value1", "value2"]},
        {"url": URL, "channel": "mych", "from": '[{"a": 1}]', "serdeType": "JSON"},
        {"url": URL, "channel": "c", "from": "kestra:///a/b/_files/v.ion"},
    ],
    NATS + "kv.CreateBucket": [
        {"url": NATS_URL, "username": "u", "password": "p", "name": "my_bucket"},
        {
            "url": NATS_URL,
            "name": "my_bucket",
            "description": "my bucket for special purposes",
            "historyPerKey": 2,
            "bucketSize": 1024,
            "valueSize": 1024,
            "metadata": {"key1": "value1", "key2": "value2"},
        },
    ],
    NATS + "kv.Put": [
        {"url": NATS_URL, "bucketName": "b", "values": {"key1": "value1", "key2": {"a": 1}}},
    ],
    NATS + "kv.Get": [
        {"url": NATS_URL, "bucketName": "b", "keys": ["key1", "key2"]},
        {"url": NATS_URL, "bucketName": "b", "keyRevisions": {"key1": 1, "key2": 3}},
    ],
    NATS + "kv.Delete": [{"url": NATS_URL, "bucketName": "b", "keys": ["key1", "key2"]}],
}

INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    AMQP + "Publish": [
        ({**BROKER, "from": {"data": "x"}}, "exchange", "missing required"),
        (
            {**BROKER, "exchange": "x", "from": {"data": "x"}, "routingkey": "a"},
            "routingkey",
            "unknown",
        ),
        (
            {**BROKER, "exchange": "x", "from": {"data": "x", "priority": 999}},
            "from.priority",
            "255",
        ),
    ],
    AMQP + "Consume": [
        ({**BROKER, "queue": "orders", "maxDuration": "soon"}, "maxDuration", "duration"),
        ({**BROKER, "queue": "q", "maxRecords": 1, "serdeType": "XML"}, "serdeType", "JSON"),
    ],
    AMQP + "CreateQueue": [({**BROKER}, "name", "missing required")],
    AMQP + "DeclareExchange": [
        ({**BROKER, "name": "x", "exchangeType": "FAN"}, "exchangeType", "FANOUT")
    ],
    AMQP + "QueueBind": [({**BROKER, "exchange": "x"}, "queue", "missing required")],
    REDIS + "list.ListPush": [({"url": URL, "from": ["a"]}, "key", "missing required")],
    REDIS + "list.ListPop": [
        ({"url": URL, "key": "k", "maxDuration": "later"}, "maxDuration", "duration")
    ],
    REDIS + "string.Set": [
        ({"url": URL, "key": "k", "value": "v", "options": {"ex": 1}}, "options.ex", "unknown")
    ],
    REDIS + "string.Get": [({"key": "k"}, "url", "missing required")],
    REDIS + "string.Delete": [({"url": URL}, "keys", "missing required")],
    MQTT + "Publish": [
        ({**SERVER, "topic": "t", "from": "x"}, "serdeType", "missing required"),
        (
            {**SERVER, "topic": "t", "from": "x", "serdeType": "JSON", "authMethod": "SCRAM"},
            "authMethod",
            "not supported here",
        ),
    ],
    MQTT + "Subscribe": [
        ({**SERVER, "topic": "t", "maxRecords": 1, "mqttVersion": "V4"}, "mqttVersion", "V5")
    ],
    NATS + "Produce": [({"url": NATS_URL, "from": {"data": "x"}}, "subject", "missing required")],
    NATS + "Consume": [
        (
            {"url": NATS_URL, "subject": "s", "maxRecords": 1, "creds": "/x"},
            "creds",
            "not supported here",
        ),
        (
            {"url": NATS_URL, "subject": "s", "maxRecords": 1, "batchSize": 0},
            "batchSize",
            "greater than",
        ),
    ],
    REDIS + "pubsub.Publish": [
        ({"url": URL, "from": ["a"]}, "channel", "missing required"),
        ({"url": URL, "channel": "c"}, "from", "missing required"),
    ],
    NATS + "kv.CreateBucket": [
        ({"url": NATS_URL}, "name", "missing required"),
        ({"url": NATS_URL, "name": "b", "metadata": "x"}, "metadata", "dict"),
    ],
    NATS + "kv.Put": [({"url": NATS_URL, "bucketName": "b"}, "values", "missing required")],
    NATS + "kv.Get": [
        ({"url": NATS_URL, "bucketName": "b", "keys": {"a": 1}}, "keys", "list"),
        ({"url": NATS_URL, "bucketName": "b", "keyRevisions": {"k": "x"}}, "keyRevisions.k", "int"),
    ],
    NATS + "kv.Delete": [({"url": NATS_URL, "keys": ["k"]}, "bucketName", "missing required")],
}
