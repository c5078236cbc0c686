"""The RabbitMQ broker of the AMQP tests: the server at 127.0.0.1:5672 (guest/guest;
override with ``LANNER_TEST_AMQP_HOST`` / ``_PORT``), with a queue of its own per test
(deleted afterwards): the machine's broker is shared and never restarted.

When it cannot be reached its tests are skipped, except under CI (``CI=true``),
where they fail: .ci/run starts RabbitMQ, so a missing broker there is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest


@dataclass(frozen=True)
class Rabbit:
    host: str
    port: int
    queue: str  # a fresh durable queue of this test

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@{self.host}:{self.port}/%2F"

    def connect(self) -> Any:
        import pika

        return pika.BlockingConnection(
            pika.ConnectionParameters(
                host=self.host, port=self.port, credentials=pika.PlainCredentials("guest", "guest")
            )
        )

    def publish(self, bodies: list[str], *, ids: bool = True, queue: str | None = None) -> None:
        """Publish to the queue through the default exchange, each body with a message id."""
        import pika

        connection = self.connect()
        try:
            channel = connection.channel()
            for i, body in enumerate(bodies):
                props = pika.BasicProperties(message_id=f"m-{i}" if ids else None)
                channel.basic_publish("", queue or self.queue, body.encode(), props)
        finally:
            connection.close()

    def publish_range(self, start: int, stop: int) -> None:
        """Publish the numbers start..stop-1 as bodies, message id `n-<number>`."""
        import pika

        connection = self.connect()
        try:
            channel = connection.channel()
            for n in range(start, stop):
                props = pika.BasicProperties(message_id=f"n-{n}")
                channel.basic_publish("", self.queue, str(n).encode(), props)
        finally:
            connection.close()

    def depth(self, queue: str | None = None) -> int:
        """How many messages wait in the queue (not counting unacknowledged ones)."""
        connection = self.connect()
        try:
            ok = connection.channel().queue_declare(queue or self.queue, passive=True)
            return int(ok.method.message_count)
        finally:
            connection.close()


def rabbitmq_unavailable(message: str) -> NoReturn:
    """Skip outside CI; fail in CI, where RabbitMQ must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: RabbitMQ is required)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(name="rabbit")
def rabbit_fixture() -> Iterator[Rabbit]:
    """Import it as `rabbit_fixture` and ask for `rabbit`."""
    try:
        import pika
    except ImportError as exc:
        rabbitmq_unavailable(f"pika is not installed: {exc}")
    host = os.environ.get("LANNER_TEST_AMQP_HOST", "127.0.0.1")
    port = int(os.environ.get("LANNER_TEST_AMQP_PORT", "5672"))
    params = pika.ConnectionParameters(
        host=host, port=port, credentials=pika.PlainCredentials("guest", "guest")
    )
    try:
        connection = pika.BlockingConnection(params)
    except pika.exceptions.AMQPError as exc:
        rabbitmq_unavailable(f"RabbitMQ is not reachable at {host}:{port}: {exc!r}")
    queue = f"lanner-test-{secrets.token_hex(6)}"
    connection.channel().queue_declare(queue, durable=True)
    connection.close()
    try:
        yield Rabbit(host, port, queue)
    finally:
        connection = pika.BlockingConnection(params)
        connection.channel().queue_delete(queue)
        connection.close()
