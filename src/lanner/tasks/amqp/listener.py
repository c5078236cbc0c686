"""The AMQP RealtimeTrigger's listener (runtime/realtime.py drives it): a consumer on
the trigger's queue with manual acknowledgements, acknowledged by the runtime once
the executions of what it received are stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lanner.model.brokers import AmqpBatchProperties, AmqpRealtimeTrigger
from lanner.runtime.triggertypes import Message
from lanner.tasks.amqp.connection import connect, message_fields

# Deliveries the broker sends ahead of the acknowledgements: two batches keep the
# next one arriving while the runtime commits the current one.
PREFETCH = 1000
BATCH_PREFETCH = 65535  # the largest prefetch count AMQP 0-9-1 carries


class AmqpListener:
    def __init__(
        self, trigger: AmqpRealtimeTrigger | AmqpBatchProperties, render: Callable[[Any], Any]
    ) -> None:
        self.serde = trigger.serdeType
        self.connection = connect(trigger, render)
        try:
            self.channel = self.connection.channel()
            self.channel.basic_qos(prefetch_count=_prefetch(trigger, render))
            self._pending: list[tuple[int, Message]] = []
            self._last: int | None = None  # the last delivery tag handed out
            self.channel.basic_consume(
                str(render(trigger.queue)),
                self._on_message,
                auto_ack=False,
                consumer_tag=str(render(trigger.consumerTag)),
            )
        except Exception:
            self.connection.close()
            raise

    def _on_message(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        fields = message_fields(properties, body, self.serde)
        message_id = properties.message_id
        self._pending.append((method.delivery_tag, Message(fields, message_id)))

    def receive(self, max_messages: int, timeout: float) -> Sequence[Message]:
        if not self._pending:
            self.connection.process_data_events(time_limit=timeout)
        else:
            self.connection.process_data_events(time_limit=0)
        taken, self._pending = self._pending[:max_messages], self._pending[max_messages:]
        if taken:
            self._last = taken[-1][0]
        return [m for _, m in taken]

    def ack(self) -> None:
        if self._last is not None:
            self.channel.basic_ack(delivery_tag=self._last, multiple=True)
            self._last = None

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


def _prefetch(
    trigger: AmqpRealtimeTrigger | AmqpBatchProperties, render: Callable[[Any], Any]
) -> int:
    """A batch trigger's evaluation acknowledges nothing before its commit, so the
    broker must send the whole batch ahead: maxRecords (AMQP allows 65,535 at most)."""
    if isinstance(trigger, AmqpRealtimeTrigger):
        return PREFETCH
    if trigger.maxRecords is None:
        return BATCH_PREFETCH
    return max(1, min(int(render(trigger.maxRecords)), BATCH_PREFETCH))


def open_listener(trigger: Any, render: Callable[[Any], Any], name: str) -> AmqpListener:
    assert isinstance(trigger, (AmqpRealtimeTrigger, AmqpBatchProperties))
    return AmqpListener(trigger, render)
