"""The NATS RealtimeTrigger's listener (runtime/realtime.py drives it): a durable
JetStream pull consumer with explicit acknowledgements, sent once the executions
are stored. A listener that dies leaves its messages unacknowledged: JetStream
delivers them again after the consumer's ack wait (30 s by default). Each
message's id is its stream sequence (with the stream and the time it was
stored), so a message delivered again after its execution was stored starts
nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lanner.model.brokers import NatsBatchProperties, NatsRealtimeTrigger
from lanner.runtime.triggertypes import Message
from lanner.tasks.nats.session import (
    NatsSession,
    consumer_config,
    durable_name,
    message_fields,
    message_id,
)


class NatsListener:
    def __init__(
        self,
        trigger: NatsRealtimeTrigger | NatsBatchProperties,
        render: Callable[[Any], Any],
        name: str,
    ) -> None:
        self.session = NatsSession(trigger, render)
        try:
            subject = str(render(trigger.subject))
            # A new subject needs a new consumer: JetStream keeps a durable's filter.
            durable = durable_name(trigger, render, f"{name}|{subject}")
            # A batch trigger acknowledges nothing before its commit: the server must
            # hand out the whole batch (maxRecords and maxDuration bound it).
            window = -1 if isinstance(trigger, NatsBatchProperties) else None
            config = consumer_config(trigger, render, durable, max_ack_pending=window)
            self.subscription = self.session.run(
                self.session.js.pull_subscribe(subject, durable=durable, config=config)
            )
        except Exception:
            self.session.close()
            raise
        self._handed: list[Any] = []

    def receive(self, max_messages: int, timeout: float) -> Sequence[Message]:
        try:
            fetched = self.session.run(self.subscription.fetch(max_messages, timeout=timeout))
        except TimeoutError:  # nats-py's, or asyncio's from a short wait
            return []
        self._handed.extend(fetched)
        return [Message(message_fields(m), message_id(m)) for m in fetched]

    def ack(self) -> None:
        for message in self._handed:
            self.session.run(message.ack())
        if self._handed:
            self.session.run(self.session.nc.flush())
        self._handed = []

    def close(self) -> None:
        # What was handed out and not acknowledged (its execution was not committed) is
        # handed back at once, rather than after the consumer's ack wait.
        try:
            for message in self._handed:
                self.session.run(message.nak())
            if self._handed:
                self.session.run(self.session.nc.flush())
        except Exception:  # a broken connection: the ack wait hands them back
            pass
        finally:
            self._handed = []
            self.session.close()


def open_listener(trigger: Any, render: Callable[[Any], Any], name: str) -> NatsListener:
    assert isinstance(trigger, (NatsRealtimeTrigger, NatsBatchProperties))
    return NatsListener(trigger, render, name)
