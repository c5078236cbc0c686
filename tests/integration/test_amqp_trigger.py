"""io.kestra.plugin.amqp.RealtimeTrigger in the trigger runtime, over a real SQLite store
and the machine's RabbitMQ (a queue of each test's own): one CREATED execution per
message, acknowledged once stored; a message delivered again is dropped by its id."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from lanner.config import Config
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime, set_trigger_disabled
from lanner.store import open_store
from lanner.store.base import Store
from tests.support.rabbitmq import Rabbit, rabbit_fixture  # noqa: F401 (fixture)
from tests.support.trigger_store import store_fixture, wait_until  # noqa: F401 (fixture)

AMQP = "io.kestra.plugin.amqp.RealtimeTrigger"


def _flow(rabbit: Rabbit, extra: str = "", flow_extra: str = "") -> str:
    return f"""id: orders
namespace: company.team
{flow_extra}
labels:
  team: sales
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.data }}}}"
triggers:
  - id: amqp
    type: {AMQP}
    host: 127.0.0.1
    port: {rabbit.port}
    username: guest
    password: guest
    queue: {rabbit.queue}
{extra}
"""


@pytest.fixture
def runtimes(store: Store) -> Iterator[list[TriggerRuntime]]:
    made: list[TriggerRuntime] = []
    yield made
    for rt in made:
        rt.close()


def _runtime(store: Store, made: list[TriggerRuntime]) -> TriggerRuntime:
    rt = TriggerRuntime(store, TaskRegistry.from_entry_points(), Config())
    made.append(rt)
    return rt


def _count(store: Store) -> int:
    return len(store.list_executions(flow_id="orders", limit=100_000))


def test_one_created_execution_per_message_acknowledged_once_stored(
    store: Store, runtimes: list[TriggerRuntime], rabbit: Rabbit
) -> None:
    store.deploy_flow(
        "company.team",
        "orders",
        _flow(rabbit, '    serdeType: JSON\n    labels:\n      source: "{{ trigger.messageId }}"'),
    )
    rt = _runtime(store, runtimes)
    rt.tick()
    rabbit.publish([f'{{"n": {i}}}' for i in range(20)])
    wait_until(lambda: _count(store) == 20, "20 executions")
    wait_until(lambda: rabbit.depth() == 0, "an empty queue")
    executions = store.list_executions(flow_id="orders", limit=100)
    assert {e.state.value for e in executions} == {"CREATED"}
    by_n = {e.trigger["data"]["n"]: e for e in executions if e.trigger}
    assert sorted(by_n) == list(range(20))
    first = by_n[0]
    assert first.trigger is not None
    assert first.trigger["id"] == "amqp" and first.trigger["type"] == AMQP
    assert first.trigger["messageId"] == "m-0"
    assert first.labels["team"] == "sales" and first.labels["source"] == "m-0"
    assert first.labels["system.correlationId"] == first.id
    context = store.get_trigger_context("company.team", "orders", "amqp")
    assert context is not None and context.locked_by == rt.owner
    assert rt.fired == 20


def test_a_message_delivered_again_starts_nothing(
    store: Store, runtimes: list[TriggerRuntime], rabbit: Rabbit
) -> None:
    store.deploy_flow("company.team", "orders", _flow(rabbit))
    rt = _runtime(store, runtimes)
    rt.tick()
    rabbit.publish(["a", "b"])
    wait_until(lambda: _count(store) == 2, "2 executions")
    rabbit.publish(["a again", "b again", "c"])  # ids m-0, m-1 (seen), m-2 (new)
    wait_until(lambda: rabbit.depth() == 0, "an empty queue")
    wait_until(lambda: _count(store) == 3, "3 executions")
    time.sleep(0.3)
    data = sorted(str((e.trigger or {})["data"]) for e in store.list_executions(limit=10))
    assert data == ["a", "b", "c"]


def test_messages_without_an_id_each_start_an_execution(
    store: Store, runtimes: list[TriggerRuntime], rabbit: Rabbit
) -> None:
    store.deploy_flow("company.team", "orders", _flow(rabbit))
    _runtime(store, runtimes).tick()
    rabbit.publish(["same", "same", "same"], ids=False)
    wait_until(lambda: _count(store) == 3, "3 executions")


def test_two_runtimes_on_one_store_hold_one_listener(
    store: Store, runtimes: list[TriggerRuntime], rabbit: Rabbit
) -> None:
    store.deploy_flow("company.team", "orders", _flow(rabbit))
    first, second = _runtime(store, runtimes), _runtime(store, runtimes)
    first.tick()
    second.tick()
    assert len(first.runners) + len(second.runners) == 1
    rabbit.publish([str(i) for i in range(50)])
    wait_until(lambda: _count(store) == 50, "50 executions")
    assert first.fired + second.fired == 50


def test_a_disabled_trigger_stops_listening_and_leaves_messages_queued(
    store: Store, runtimes: list[TriggerRuntime], rabbit: Rabbit
) -> None:
    store.deploy_flow("company.team", "orders", _flow(rabbit))
    rt = _runtime(store, runtimes)
    rt.tick()
    assert rt.runners
    set_trigger_disabled(store, ("company.team", "orders", "amqp"), True, rt.clock())
    rt.tick()
    assert not rt.runners
    rabbit.publish(["later"])
    time.sleep(0.5)
    assert _count(store) == 0 and rabbit.depth() == 1
    set_trigger_disabled(store, ("company.team", "orders", "amqp"), False, rt.clock())
    rt.tick()
    wait_until(lambda: _count(store) == 1, "the queued message's execution")


def test_a_deleted_flow_stops_its_listener(
    store: Store, runtimes: list[TriggerRuntime], rabbit: Rabbit
) -> None:
    store.deploy_flow("company.team", "orders", _flow(rabbit))
    rt = _runtime(store, runtimes)
    rt.tick()
    assert rt.runners
    store.delete_flow("company.team", "orders")
    rt.tick()
    assert not rt.runners
    assert store.get_trigger_context("company.team", "orders", "amqp") is None


def test_a_missing_queue_is_retried_not_fatal(
    store: Store, runtimes: list[TriggerRuntime], rabbit: Rabbit
) -> None:
    flow = _flow(rabbit).replace(f"queue: {rabbit.queue}", f"queue: {rabbit.queue}-later")
    store.deploy_flow("company.team", "orders", flow)
    rt = _runtime(store, runtimes)
    rt.tick()
    wait_until(lambda: not next(iter(rt.runners.values())).is_alive(), "the failed listener", 10)
    connection = rabbit.connect()
    try:
        connection.channel().queue_declare(rabbit.queue + "-later")
        rabbit.publish(["now"], queue=rabbit.queue + "-later")
        rt.tick()  # a new listener
        wait_until(lambda: _count(store) == 1, "the execution of the queue's message")
    finally:
        rt.close()
        connection.channel().queue_delete(rabbit.queue + "-later")
        connection.close()


def test_two_servers_on_one_database_start_each_message_once(
    db_url: str, runtimes: list[TriggerRuntime], rabbit: Rabbit
) -> None:
    """Two trigger runtimes with stores of their own on one database (SQLite file or
    PostgreSQL), as two `lanner server` processes: one listener, each message once."""
    stores = [open_store(db_url), open_store(db_url)]
    try:
        stores[0].migrate()
        stores[0].deploy_flow("company.team", "orders", _flow(rabbit))
        first, second = (_runtime(s, runtimes) for s in stores)
        first.tick()
        second.tick()
        assert len(first.runners) + len(second.runners) == 1
        rabbit.publish([str(i) for i in range(100)])
        wait_until(lambda: _count(stores[0]) == 100, "100 executions")
        first.close()  # the listener's process stops: the other takes over
        second.close()
        third = _runtime(stores[1], runtimes)
        third.tick()
        rabbit.publish([str(i) for i in range(100, 150)], ids=False)
        wait_until(lambda: _count(stores[1]) == 150, "150 executions")
    finally:
        for rt in runtimes:
            rt.close()
        for s in stores:
            s.close()
