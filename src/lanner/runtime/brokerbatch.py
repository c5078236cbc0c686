"""The message brokers' batch triggers (docs/tasks-brokers.md, "Batch triggers"):
`io.kestra.plugin.amqp.Trigger`, `redis.list.Trigger`, `mqtt.Trigger`, `nats.Trigger`.

Each interval, under the trigger context's lock (one process at a time across the
servers on one database), an evaluation opens the family's realtime listener
(tasks/<family>/listener.py), consumes until `maxRecords` or `maxDuration`, stores
the messages in an Ion file (`trigger.uri`, a row per message as the realtime
trigger gives it) and starts ONE execution with the count. The messages are
acknowledged once that execution is committed (`after_commit`), and the
connection is closed in every case (`release`): a firing that is not committed,
or a process killed before the acknowledgement, leaves the messages to the broker,
which delivers them again.

The execution's id is derived from the messages' ids when each has one (AMQP's
`message_id`, a JetStream stream sequence, a Redis batch's id and place): the same
batch delivered again after its execution was committed starts nothing. Otherwise
the batch gets a fresh id (at least once).
"""

from __future__ import annotations

import contextlib
import io
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from lanner.errors import LannerError
from lanner.expr import ExpressionEngine
from lanner.ion.writer import write_values
from lanner.model.brokers import AMQP, BATCH_LONGEST, MQTT, NATS, REDIS
from lanner.model.common import is_dynamic, parse_duration
from lanner.model.flow import Flow
from lanner.runtime.pollbase import Poll, PollingType
from lanner.runtime.realtime import OpenListener
from lanner.runtime.triggertypes import Listener, Message
from lanner.storage.base import Storage
from lanner.storage.uris import storage_path, trigger_file_uri
from lanner.store.base import TriggerContext
from lanner.tasks.amqp.listener import open_listener as open_amqp
from lanner.tasks.mqtt.listener import open_listener as open_mqtt
from lanner.tasks.nats.listener import open_listener as open_nats
from lanner.tasks.redis.listener import open_listener as open_redis_list

FILE_NAME = "messages.ion"
CHUNK = 500  # messages asked of the listener at a time
QUIET = 1.0  # seconds an evaluation without maxDuration waits for more messages
LONGEST = parse_duration(BATCH_LONGEST).total_seconds()  # an evaluation consumes no longer
# Beyond its consuming time, what an evaluation may take (connecting, storing the
# file, committing) before its lock lapses and another process may evaluate.
LOCK_MARGIN = timedelta(seconds=30)


class BrokerBatchType(PollingType):
    """A batch trigger of one broker family (see the module docstring)."""

    def __init__(
        self,
        type_name: str,
        open_listener: OpenListener,
        count_output: str,
        storage: Storage | None = None,
        engine: ExpressionEngine | None = None,
    ) -> None:
        super().__init__(storage, engine)
        self.type_name = type_name
        self.open_listener = open_listener
        self.count_output = count_output

    def bound(self, storage: Storage | None) -> BrokerBatchType:
        return BrokerBatchType(
            self.type_name, self.open_listener, self.count_output, storage, self.engine
        )

    def fingerprint(self, trigger: Any) -> str:
        return str(trigger.interval)

    def lock_for(self, trigger: Any) -> timedelta:
        """How long an evaluation holds the trigger's lock: its consuming time at most
        (maxDuration, or LONGEST) and a margin."""
        duration = trigger.maxDuration
        if duration is not None and not is_dynamic(str(duration)):
            consuming = min(parse_duration(str(duration)).total_seconds(), LONGEST)
        else:
            consuming = LONGEST
        return timedelta(seconds=consuming) + LOCK_MARGIN

    def poll(
        self,
        flow: Flow,
        revision: int,
        trigger: Any,
        context: TriggerContext,
        now: datetime,
        execution_id: Callable[[str], str],
    ) -> Poll:
        if self.storage is None:
            raise LannerError("a batch trigger needs the internal storage to keep the messages")
        render = self.renderer(flow, revision, now)
        listener = self.open_listener(trigger, render, ".".join(context.key))
        try:
            messages = consume(listener, trigger, render)
            if not messages:
                listener.close()
                return Poll()
            ids = [m.message_id for m in messages]
            fact = "\n".join(str(i) for i in ids) if all(ids) else uuid.uuid4().hex
            new_id = execution_id(fact)
            uri = trigger_file_uri(flow.namespace, flow.id, new_id, str(trigger.id), FILE_NAME)
            buffer = io.BytesIO()
            write_values(buffer, [dict(m.variables) for m in messages])
            buffer.seek(0)
            self.storage.put(storage_path(uri), buffer)
        except BaseException:
            _close_quietly(listener)
            raise
        count = len(messages)
        # Kestra's output name, and `count` for every family.
        variables = {"uri": uri, "count": count, self.count_output: count}
        return Poll(variables=variables, after_commit=listener.ack, release=listener.close)


def consume(listener: Listener, trigger: Any, render: Callable[[Any], Any]) -> list[Message]:
    """Receive until maxRecords or maxDuration; without maxDuration, until the broker
    has had nothing more for QUIET seconds (a poll must end: it holds the runtime)."""
    max_records = int(render(trigger.maxRecords)) if trigger.maxRecords is not None else None
    max_duration = (
        parse_duration(str(render(trigger.maxDuration))).total_seconds()
        if trigger.maxDuration is not None
        else None
    )
    # Without maxDuration an evaluation ends when the broker has nothing more, but never
    # consumes longer than LONGEST (a steady stream below maxRecords).
    deadline = time.monotonic() + min(max_duration or LONGEST, LONGEST)
    quiet_ends = max_duration is None
    wait = QUIET
    if getattr(trigger, "pollDuration", None) is not None:  # NATS: one fetch's wait
        wait = parse_duration(str(render(trigger.pollDuration))).total_seconds()
    chunk = CHUNK
    if getattr(trigger, "count", None) is not None:  # Redis: elements popped at once
        chunk = max(1, int(render(trigger.count)))
    if getattr(trigger, "batchSize", None) is not None:  # NATS: messages fetched at once
        chunk = int(trigger.batchSize)
    received: list[Message] = []
    last_seen = time.monotonic()  # when a message last came (or the start)
    while True:
        want = chunk if max_records is None else min(chunk, max_records - len(received))
        timeout = max(0.01, min(wait, deadline - time.monotonic()))
        got = listener.receive(want, timeout)
        received.extend(got)
        now = time.monotonic()
        if got:
            last_seen = now
        if max_records is not None and len(received) >= max_records:
            return received
        if getattr(listener, "exhausted", False):  # it has nothing more to give (Redis)
            return received
        # A receive may come back empty early (a client woken by something else than
        # a message): the broker is quiet once nothing came for `wait` seconds.
        if (quiet_ends and now - last_seen >= wait) or now >= deadline:
            return received


def _close_quietly(listener: Listener) -> None:
    # Already broken: the broker takes back what it handed out anyway.
    with contextlib.suppress(Exception):
        listener.close()


BATCH_TYPES: dict[str, PollingType] = {
    AMQP + "Trigger": BrokerBatchType(AMQP + "Trigger", open_amqp, "count"),
    REDIS + "list.Trigger": BrokerBatchType(REDIS + "list.Trigger", open_redis_list, "count"),
    MQTT + "Trigger": BrokerBatchType(MQTT + "Trigger", open_mqtt, "messagesCount"),
    NATS + "Trigger": BrokerBatchType(NATS + "Trigger", open_nats, "messagesCount"),
}
"""The batch trigger types by canonical Kestra name (runtime/polltrigger.py)."""
