"""io.kestra.plugin.amqp.* tasks against the machine's RabbitMQ (a queue of each test's own)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from lanner.ion import read_values
from lanner.model.states import State
from lanner.model.task import Task
from lanner.storage import LocalStorage, storage_path
from lanner.tasks.amqp.model import Consume, CreateQueue, DeclareExchange, Publish, QueueBind
from lanner.tasks.amqp.tasks import (
    run_consume,
    run_create_queue,
    run_declare_exchange,
    run_publish,
    run_queue_bind,
)
from tests.support.rabbitmq import Rabbit, rabbit_fixture  # noqa: F401 (fixture)
from tests.support.task_context import LocalTaskContext


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "t", "type": "any", **props})


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture
def ctx(storage: LocalStorage) -> LocalTaskContext:
    return LocalTaskContext({"inputs": {"who": "Ada"}}, storage=storage, execution_id="E1")


def consume(rabbit: Rabbit, ctx: LocalTaskContext, storage: LocalStorage, **props: Any) -> Any:
    task = make(Consume, host=rabbit.host, port=rabbit.port, queue=rabbit.queue, **props)
    outcome = run_consume(task, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    with storage.open(storage_path(outcome.outputs["uri"])) as f:
        return outcome.outputs["count"], list(read_values(f))


def test_publish_then_consume_with_properties(
    rabbit: Rabbit, ctx: LocalTaskContext, storage: LocalStorage
) -> None:
    publish = make(
        Publish,
        host=rabbit.host,
        port=str(rabbit.port),
        username="guest",
        password="guest",
        virtualHost="/",
        exchange="",
        routingKey=rabbit.queue,
        **{
            "from": [
                {"data": "hello {{ inputs.who }}", "headers": {"h": "v"}, "messageId": "id-1"},
                {
                    "data": "two",
                    "appId": "unit",
                    "timestamp": "2023-01-09T08:46:33Z",
                    "expiration": "PT1H",
                },
            ]
        },
    )
    outcome = run_publish(publish, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs == {"messagesCount": 2}
    count, rows = consume(rabbit, ctx, storage, maxRecords=2)
    assert count == 2
    assert rows[0]["data"] == "hello Ada"
    assert rows[0]["headers"] == {"h": "v"}
    assert rows[0]["messageId"] == "id-1"
    assert rows[1]["appId"] == "unit"
    assert rows[1]["timestamp"] == "2023-01-09T08:46:33Z"
    assert rows[1]["expiration"] == "3600000"
    assert rabbit.depth() == 0  # acknowledged


def test_json_serde_and_from_a_json_string(
    rabbit: Rabbit, ctx: LocalTaskContext, storage: LocalStorage
) -> None:
    publish = make(
        Publish,
        url=rabbit.url,
        exchange="",
        routingKey=rabbit.queue,
        serdeType="JSON",
        **{"from": '[{"data": {"a": 1}}, {"data": [1, 2]}]'},
    )
    assert run_publish(publish, ctx).outputs == {"messagesCount": 2}
    count, rows = consume(rabbit, ctx, storage, maxDuration="PT1S", serdeType="JSON")
    assert count == 2
    assert [r["data"] for r in rows] == [{"a": 1}, [1, 2]]


def test_consume_stops_at_max_records_and_leaves_the_rest(
    rabbit: Rabbit, ctx: LocalTaskContext, storage: LocalStorage
) -> None:
    rabbit.publish([f"m{i}" for i in range(5)])
    count, rows = consume(rabbit, ctx, storage, maxRecords=3)
    assert count == 3
    assert [r["data"] for r in rows] == ["m0", "m1", "m2"]
    assert rabbit.depth() == 2


def test_declare_exchange_queue_and_bind_route_messages(
    rabbit: Rabbit, ctx: LocalTaskContext, storage: LocalStorage
) -> None:
    suffix = secrets.token_hex(4)
    exchange, queue = f"lanner-test-x-{suffix}", f"lanner-test-q-{suffix}"
    conn = {"host": rabbit.host, "port": rabbit.port}
    try:
        out = run_declare_exchange(
            make(DeclareExchange, name=exchange, exchangeType="TOPIC", durability=False, **conn),
            ctx,
        )
        assert out.outputs == {"exchange": exchange}, out.error
        out = run_create_queue(make(CreateQueue, name=queue, autoDelete=False, **conn), ctx)
        assert out.outputs == {"queue": queue}, out.error
        out = run_queue_bind(
            make(QueueBind, exchange=exchange, queue=queue, routingKey="orders.*", **conn), ctx
        )
        assert out.outputs == {"queue": queue, "exchange": exchange}, out.error
        publish = make(
            Publish, exchange=exchange, routingKey="orders.new", **{"from": {"data": "x"}}, **conn
        )
        assert run_publish(publish, ctx).outputs == {"messagesCount": 1}
        assert rabbit.depth(queue) == 1
    finally:
        connection = rabbit.connect()
        channel = connection.channel()
        channel.queue_delete(queue)
        channel.exchange_delete(exchange)
        connection.close()


def test_a_missing_queue_fails_the_task_with_the_broker(
    rabbit: Rabbit, ctx: LocalTaskContext
) -> None:
    task = make(
        Consume, host=rabbit.host, port=rabbit.port, queue="nope-" + rabbit.queue, maxRecords=1
    )
    outcome = run_consume(task, ctx)
    assert outcome.state is State.FAILED
    assert f"AMQP broker {rabbit.host}:{rabbit.port}" in str(outcome.error)
    assert "NOT_FOUND" in str(outcome.error)


def test_an_unreachable_broker_fails_the_task(ctx: LocalTaskContext) -> None:
    from tests.support.ports import free_port

    task = make(Publish, host="127.0.0.1", port=free_port(), exchange="", **{"from": {"data": "x"}})
    outcome = run_publish(task, ctx)
    assert outcome.state is State.FAILED
    assert "AMQP broker 127.0.0.1" in str(outcome.error)


@pytest.mark.parametrize(
    ("model", "props", "fragment"),
    [
        (Publish, {"exchange": "x", "from": {"data": 1}}, "give the broker's `host`"),
        (Consume, {"host": "h", "queue": "q"}, "give maxRecords or maxDuration"),
    ],
)
def test_rules_across_properties(model: type[Task], props: dict[str, Any], fragment: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=fragment.replace("`", ".")):
        make(model, **props)
