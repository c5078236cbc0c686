"""The brokers' batch triggers (amqp.Trigger, redis.list.Trigger, mqtt.Trigger,
nats.Trigger) through the trigger runtime, ticked with given `now`s, on a real store,
a real local internal storage and the machine's brokers (queues, keys, topics and
streams of each test's own): one execution per evaluation with `trigger.uri` (an Ion
file of the messages) and the count, acknowledged once committed; what is not
committed goes back to the broker; two runtimes on one PostgreSQL fire a batch once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lanner.config import Config
from lanner.ion.reader import read_values
from lanner.model.triggers import RedisListTrigger
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime
from lanner.storage import LocalStorage, Storage, storage_path
from lanner.store import open_store
from lanner.store.base import Store
from lanner.tasks.redis.listener import open_listener as open_redis_listener
from tests.support.mosquitto import Mosquitto, mosquitto_fixture  # noqa: F401 (fixture)
from tests.support.nats_server import NatsServer, nats_server_fixture  # noqa: F401 (fixture)
from tests.support.postgres import PostgresServer
from tests.support.rabbitmq import Rabbit, rabbit_fixture  # noqa: F401 (fixture)
from tests.support.redis_server import RedisServer, redis_server_fixture  # noqa: F401 (fixture)
from tests.support.trigger_store import store_fixture, tick_together  # noqa: F401 (fixture)

T0 = datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC)
REDIS_TRIGGER = "io.kestra.plugin.redis.list.Trigger"
S = timedelta(seconds=1)
REGISTRY = TaskRegistry.from_entry_points()


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return LocalStorage(tmp_path / "storage")


def _runtime(store: Store, storage: Storage, owner: str = "me") -> TriggerRuntime:
    return TriggerRuntime(store, REGISTRY, Config(), owner=owner, storage=storage)


def _flow(trigger: str, flow_extra: str = "") -> str:
    return f"""id: batch
namespace: company.team
{flow_extra}
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.count }}}} messages in {{{{ trigger.uri }}}}"
triggers:
  - id: watch
    interval: PT30S
{trigger}
"""


def _batches(store: Store, storage: Storage) -> list[tuple[dict[str, Any], list[Any]]]:
    """Each execution's trigger variables and the rows of its file, oldest first."""
    found = []
    executions = store.list_executions(flow_id="batch", limit=100)
    for execution in sorted(executions, key=lambda e: e.histories[0].date):
        trigger = dict(execution.trigger or {})
        with storage.open(storage_path(str(trigger["uri"]))) as f:
            found.append((trigger, list(read_values(f, source=str(trigger["uri"])))))
    return found


# ---- AMQP


def _amqp(rabbit: Rabbit, extra: str = "") -> str:
    return f"""    type: io.kestra.plugin.amqp.Trigger
    host: 127.0.0.1
    port: {rabbit.port}
    username: guest
    password: guest
    queue: {rabbit.queue}
{extra}"""


def test_amqp_trigger_starts_one_execution_per_batch(
    store: Store, storage: Storage, rabbit: Rabbit
) -> None:
    store.deploy_flow("company.team", "batch", _flow(_amqp(rabbit, "    maxRecords: 3")))
    rabbit.publish([str(i) for i in range(5)])
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    ((trigger, rows),) = _batches(store, storage)
    assert trigger["type"] == "io.kestra.plugin.amqp.Trigger" and trigger["id"] == "watch"
    assert trigger["count"] == 3
    assert [r["data"] for r in rows] == ["0", "1", "2"]
    assert rows[0]["messageId"] == "m-0"
    assert "/executions/" in trigger["uri"] and trigger["uri"].endswith(
        "/trigger/watch/messages.ion"
    )
    assert rabbit.depth() == 2  # acknowledged; the rest wait for the next evaluation
    assert rt.tick(T0 + 10 * S) == 0  # not due
    assert rt.tick(T0 + 30 * S) == 1
    assert [[r["data"] for r in rows] for _, rows in _batches(store, storage)] == [
        ["0", "1", "2"],
        ["3", "4"],
    ]
    assert rt.tick(T0 + 60 * S) == 0  # an empty queue starts nothing
    assert rabbit.depth() == 0


def test_an_amqp_batch_is_not_bounded_by_a_prefetch_window(
    store: Store, storage: Storage, rabbit: Rabbit
) -> None:
    store.deploy_flow("company.team", "batch", _flow(_amqp(rabbit, "    maxRecords: 5000")))
    rabbit.publish([str(i) for i in range(2500)], ids=False)
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    ((trigger, rows),) = _batches(store, storage)
    assert trigger["count"] == 2500 and len(rows) == 2500
    assert rabbit.depth() == 0


def test_amqp_messages_go_back_when_no_execution_is_committed(
    store: Store, storage: Storage, rabbit: Rabbit
) -> None:
    # A required input without a default: the execution cannot be created.
    inputs = "inputs:\n  - id: needed\n    type: STRING\n"
    store.deploy_flow("company.team", "batch", _flow(_amqp(rabbit, "    maxRecords: 10"), inputs))
    rabbit.publish([str(i) for i in range(4)])
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 0
    assert store.list_executions(flow_id="batch", limit=10) == []
    assert rabbit.depth() == 4  # not acknowledged: back in the queue


def test_a_missing_queue_is_logged_and_tried_again(
    store: Store, storage: Storage, rabbit: Rabbit, caplog: pytest.LogCaptureFixture
) -> None:
    missing = _amqp(rabbit, "    maxRecords: 1").replace(rabbit.queue, rabbit.queue + "-none")
    store.deploy_flow("company.team", "batch", _flow(missing))
    rt = _runtime(store, storage)
    with caplog.at_level("WARNING"):
        assert rt.tick(T0) == 0
    assert "evaluation failed" in caplog.text and "NOT_FOUND" in caplog.text
    context = store.get_trigger_context("company.team", "batch", "watch")
    assert context is not None and context.locked_by is None  # the next one may try
    assert context.next_date == T0 + 30 * S


def test_conditions_that_do_not_hold_consume_nothing(
    store: Store, storage: Storage, rabbit: Rabbit
) -> None:
    condition = (
        "    maxRecords: 10\n    conditions:\n"
        "      - type: io.kestra.plugin.core.condition.Expression\n"
        '        expression: "{{ false }}"\n'
    )
    store.deploy_flow("company.team", "batch", _flow(_amqp(rabbit, condition)))
    rabbit.publish(["a", "b"])
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 0
    assert rabbit.depth() == 2  # not even consumed


def test_amqp_batch_of_ids_delivered_again_starts_nothing(
    store: Store, storage: Storage, rabbit: Rabbit
) -> None:
    """The execution id of a batch whose messages all have ids is derived from them: a
    batch delivered again after its commit (a kill before the acknowledgement) is a
    no-op, and is acknowledged then."""
    store.deploy_flow("company.team", "batch", _flow(_amqp(rabbit, "    maxRecords: 10")))
    rabbit.publish(["a", "b"])
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    rabbit.publish(["a", "b"])  # the same ids (m-0, m-1), as a redelivery would give
    rt.tick(T0 + 30 * S)
    assert len(store.list_executions(flow_id="batch", limit=10)) == 1
    assert rabbit.depth() == 0


def test_two_runtimes_on_one_postgres_consume_each_message_once(
    postgres_server: PostgresServer, tmp_path: Path, rabbit: Rabbit
) -> None:
    database = postgres_server.new_database()
    open_store(database).close()  # migrated
    storage = LocalStorage(tmp_path / "storage")
    stores = [open_store(database) for _ in range(2)]
    try:
        extra = "    maxDuration: PT2S"
        stores[0].deploy_flow("company.team", "batch", _flow(_amqp(rabbit, extra)))
        runtimes = [_runtime(s, storage, owner=f"server-{i}") for i, s in enumerate(stores)]
        published = 0
        for step in range(3):
            rabbit.publish([str(n) for n in range(published, published + 20)], ids=False)
            published += 20
            tick_together(runtimes, T0 + step * 30 * S)
        batches = _batches(stores[0], storage)
        assert len(batches) == 3  # one per interval, whichever server evaluated it
        data = sorted(int(r["data"]) for _, rows in batches for r in rows)
        assert data == list(range(60))
        assert rabbit.depth() == 0
    finally:
        for s in stores:
            s.close()


# ---- Redis list


def _redis(redis_server: RedisServer, key: str, extra: str = "") -> str:
    return f"""    type: io.kestra.plugin.redis.list.Trigger
    url: {redis_server.url}
    key: {key}
    serdeType: JSON
{extra}"""


def test_redis_list_trigger_pops_a_batch(
    store: Store, storage: Storage, redis_server: RedisServer
) -> None:
    key = redis_server.key("jobs")
    extra = "    maxRecords: 4\n    count: 2"
    store.deploy_flow("company.team", "batch", _flow(_redis(redis_server, key, extra)))
    redis_server.client.rpush(key, *[f'{{"n": {i}}}' for i in range(6)])
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    ((trigger, rows),) = _batches(store, storage)
    assert trigger["count"] == 4
    assert rows == [{"value": {"n": i}} for i in range(4)]
    assert redis_server.client.llen(key) == 2
    assert redis_server.client.keys(key + ":lanner-inflight:*") == []  # trimmed once stored
    assert rt.tick(T0 + 30 * S) == 1
    assert rt.tick(T0 + 60 * S) == 0


def test_redis_elements_popped_by_a_killed_evaluation_are_not_lost(
    store: Store, storage: Storage, redis_server: RedisServer
) -> None:
    """An evaluation killed between its pops and its commit leaves the elements in the
    trigger's in-flight list, under its batch's id: the next evaluation starts that
    batch's execution with them (and nothing more), the one after takes the rest."""
    key = redis_server.key("jobs")
    trigger = _redis(redis_server, key, "    maxRecords: 3").replace("JSON", "STRING")
    store.deploy_flow("company.team", "batch", _flow(trigger))
    redis_server.client.rpush(key, *[str(i) for i in range(5)])
    model = RedisListTrigger.model_validate(
        {"id": "watch", "type": REDIS_TRIGGER, "url": redis_server.url, "key": key, "maxRecords": 3}
    )
    # What the killed evaluation did: moved three elements in flight, then died.
    dead = open_redis_listener(model, lambda v: v, "company.team.batch.watch")
    assert len(dead.receive(3, 0.1)) == 3
    dead.close()
    assert redis_server.client.llen(key) == 2
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    assert rt.tick(T0 + 30 * S) == 1
    batches = [[r["value"] for r in rows] for _, rows in _batches(store, storage)]
    assert batches == [["0", "1", "2"], ["3", "4"]]
    assert redis_server.client.keys(key + "*") == []


# ---- MQTT


def test_mqtt_trigger_starts_one_execution_per_batch(
    store: Store, storage: Storage, mosquitto: Mosquitto
) -> None:
    topic = mosquitto.topic("sensors")
    trigger = f"""    type: io.kestra.plugin.mqtt.Trigger
    server: {mosquitto.server}
    clientId: batch-{mosquitto.prefix.replace("/", "-")}
    topic: {topic}
    serdeType: STRING
    maxRecords: 10
"""
    store.deploy_flow("company.team", "batch", _flow(trigger))
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 0  # subscribes: the persistent session keeps what comes next
    mosquitto.publish(topic, [f"m{i}" for i in range(5)])
    assert rt.tick(T0 + 30 * S) == 1
    ((variables, rows),) = _batches(store, storage)
    assert variables["messagesCount"] == 5 and variables["count"] == 5
    assert [r["payload"] for r in rows] == [f"m{i}" for i in range(5)]
    assert rows[0]["topic"] == topic
    assert rt.tick(T0 + 60 * S) == 0  # acknowledged: not delivered again


# ---- NATS JetStream


def test_nats_trigger_starts_one_execution_per_batch(
    store: Store, storage: Storage, nats_server: NatsServer
) -> None:
    subject = nats_server.subject("orders")
    trigger = f"""    type: io.kestra.plugin.nats.Trigger
    url: {nats_server.url}
    subject: {subject}
    durableId: batch-{nats_server.stream}
    pollDuration: PT0.5S
    maxRecords: 4
"""
    store.deploy_flow("company.team", "batch", _flow(trigger))
    nats_server.publish(subject, [f"o{i}" for i in range(6)])
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    assert rt.tick(T0 + 30 * S) == 1
    assert rt.tick(T0 + 60 * S) == 0
    batches = _batches(store, storage)
    assert [v["messagesCount"] for v, _ in batches] == [4, 2]
    assert [r["data"] for _, rows in batches for r in rows] == [f"o{i}" for i in range(6)]
    assert nats_server.pending(f"batch-{nats_server.stream}") == 0


def test_nats_messages_not_committed_are_handed_back_at_once(
    store: Store, storage: Storage, nats_server: NatsServer
) -> None:
    """Not committed: the messages are nak'ed, so the next evaluation gets them without
    waiting for the consumer's ack wait (30 s)."""
    subject = nats_server.subject("orders")
    durable = f"nak-{nats_server.stream}"
    trigger = f"""    type: io.kestra.plugin.nats.Trigger
    url: {nats_server.url}
    subject: {subject}
    durableId: {durable}
    pollDuration: PT0.5S
    maxRecords: 10
"""
    inputs = "inputs:\n  - id: needed\n    type: STRING\n"
    store.deploy_flow("company.team", "batch", _flow(trigger, inputs))
    nats_server.publish(subject, ["a", "b", "c"])
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 0  # the execution cannot be created: nothing committed
    assert nats_server.pending(durable) == 3
    store.deploy_flow("company.team", "batch", _flow(trigger))  # fixed: no input
    rt.tick(T0 + 1 * S)  # the new revision is read
    fired = rt.tick(T0 + 30 * S) + rt.tick(T0 + 31 * S)
    assert fired == 1
    ((_variables, rows),) = _batches(store, storage)
    assert [r["data"] for r in rows] == ["a", "b", "c"]
    assert nats_server.pending(durable) == 0


def test_a_nats_batch_is_not_bounded_by_the_ack_pending_window(
    store: Store, storage: Storage, nats_server: NatsServer
) -> None:
    subject = nats_server.subject("many")
    trigger = f"""    type: io.kestra.plugin.nats.Trigger
    url: {nats_server.url}
    subject: {subject}
    durableId: many-{nats_server.stream}
    batchSize: 500
    pollDuration: PT1S
    maxRecords: 5000
"""
    store.deploy_flow("company.team", "batch", _flow(trigger))
    nats_server.publish(subject, [str(i) for i in range(1200)])  # JetStream's default: 1,000
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    ((variables, rows),) = _batches(store, storage)
    assert variables["messagesCount"] == 1200 and len(rows) == 1200
