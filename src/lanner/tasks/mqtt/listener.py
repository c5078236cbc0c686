"""The MQTT RealtimeTrigger's listener (runtime/realtime.py drives it).

The listener holds a persistent session on the broker (a stable client id,
MQTT 5 session expiry or MQTT 3 `cleanSession: false`) and acknowledges
QoS 1/2 messages by hand, once their executions are stored: a listener that
dies leaves them unacknowledged and the broker sends them again when the
next one connects with the same client id; messages published meanwhile are
kept for the session. MQTT gives messages no id of their own (a packet id is
reused), so delivery is at least once. The session keeps the subscriptions of
an earlier revision of the trigger: messages of topics the trigger no longer
names are acknowledged and dropped.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from lanner.model.brokers import MqttBatchProperties, MqttRealtimeTrigger
from lanner.runtime.triggertypes import Message
from lanner.tasks.mqtt.connection import close, connect, message_fields

BARRIER_WAIT = 10.0  # seconds to wait for the broker to answer after acknowledgements


def default_client_id(name: str) -> str:
    # One per trigger, stable across restarts (the session is the client id's);
    # short enough for any broker (MQTT 3.1 allows 23 characters).
    return "lanner-" + hashlib.sha256(name.encode()).hexdigest()[:16]


class MqttListener:
    def __init__(
        self,
        trigger: MqttRealtimeTrigger | MqttBatchProperties,
        render: Callable[[Any], Any],
        name: str,
    ) -> None:
        self.serde = trigger.serdeType
        self.qos = trigger.qos
        topics = [str(render(t)) for t in trigger.topic]
        self.topics = topics
        self._received: queue.Queue[Any] = queue.Queue()
        self._handed: list[Any] = []
        client_id = str(render(trigger.clientId)) if trigger.clientId else default_client_id(name)

        def subscribe(client: Any) -> None:
            client.subscribe([(t, self.qos) for t in topics])

        self.client = connect(
            trigger,
            render,
            client_id=client_id,
            persistent=True,
            manual_ack=True,
            on_connect=subscribe,
            on_message=self._received.put,
        )

    def receive(self, max_messages: int, timeout: float) -> Sequence[Message]:
        try:
            first = self._received.get(timeout=timeout)
        except queue.Empty:
            return []
        taken = [first]
        while len(taken) < max_messages:
            try:
                taken.append(self._received.get_nowait())
            except queue.Empty:
                break
        from paho.mqtt.client import topic_matches_sub

        kept = []
        for message in taken:
            if any(topic_matches_sub(t, message.topic) for t in self.topics):
                kept.append(message)
            elif message.qos > 0:
                # A subscription an earlier revision left in the persistent session.
                self.client.ack(message.mid, message.qos)
        self._handed.extend(kept)
        return [Message(message_fields(m, self.serde)) for m in kept]

    def ack(self) -> None:
        acked = False
        for message in self._handed:
            if message.qos > 0:
                self.client.ack(message.mid, message.qos)
                acked = True
        self._handed = []
        if acked:
            self._barrier()

    def _barrier(self) -> None:
        """Wait until the broker has read the acknowledgements: it answers packets of a
        connection in order, so the answer to an UNSUBSCRIBE of a topic nobody uses
        comes after them. Without it, a client that reconnects at once with the same
        id (the next evaluation of a batch trigger) may take the session over before
        the broker has read them, and get the messages again."""
        answered = threading.Event()
        self.client.on_unsubscribe = lambda *args: answered.set()
        self.client.unsubscribe(f"lanner/barrier/{uuid.uuid4().hex}")
        answered.wait(BARRIER_WAIT)

    def close(self) -> None:
        close(self.client)


def open_listener(trigger: Any, render: Callable[[Any], Any], name: str) -> MqttListener:
    assert isinstance(trigger, (MqttRealtimeTrigger, MqttBatchProperties))
    return MqttListener(trigger, render, name)
