"""The Redis list RealtimeTrigger's listener (runtime/realtime.py drives it).

A list has no acknowledgements: an element popped is gone. So the listener
moves each element atomically (LMOVE) from the list to an in-flight list of
its own, `<key>:lanner-inflight:<namespace.flow.trigger>`, and removes it
from there once its execution is stored (ack). A listener that starts finds
the elements a killed one left in flight and hands them out again first: no
element is lost (at least once; an element has no id, so one in flight at the
kill may start a second execution).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from lanner.model.brokers import RedisListBatchProperties, RedisListRealtimeTrigger
from lanner.runtime.triggertypes import Message
from lanner.tasks.redis.connection import client, decode


class RedisListListener:
    def __init__(
        self,
        trigger: RedisListRealtimeTrigger | RedisListBatchProperties,
        render: Callable[[Any], Any],
        name: str,
    ) -> None:
        self.serde = trigger.serdeType
        self.key = str(render(trigger.key))
        self.inflight = f"{self.key}:lanner-inflight:{name}"
        self.redis = client(str(render(trigger.url)), blocking=1.0)
        self.redis.ping()
        self._recovered = False
        self._handed = 0  # elements of the in-flight list handed out, not acknowledged

    def _message(self, raw: bytes) -> Message:
        return Message({"value": decode(raw, self.serde)})

    def receive(self, max_messages: int, timeout: float) -> Sequence[Message]:
        if not self._recovered:  # what a killed listener left in flight, first
            self._recovered = True
            left = self.redis.lrange(self.inflight, self._handed, -1)
            if left:
                self._handed += len(left)
                return [self._message(raw) for raw in left]
        first = self.redis.blmove(self.key, self.inflight, max(timeout, 0.01), "LEFT", "RIGHT")
        if first is None:
            return []
        raws = [first]
        pipe = self.redis.pipeline(transaction=False)
        for _ in range(max_messages - 1):
            pipe.lmove(self.key, self.inflight, "LEFT", "RIGHT")
        raws.extend(raw for raw in pipe.execute() if raw is not None)
        self._handed += len(raws)
        return [self._message(raw) for raw in raws]

    def ack(self) -> None:
        if self._handed:
            self.redis.ltrim(self.inflight, self._handed, -1)
            self._handed = 0

    def close(self) -> None:
        self.redis.close()


class RedisListBatchListener(RedisListListener):
    """The batch Trigger's listener (runtime/brokerbatch.py): a batch has an id, kept
    beside the in-flight list (`<in-flight list>:batch`) before anything is moved,
    and each element's id is (batch id, its place in the batch). An evaluation that
    finds elements in flight (its predecessor was killed) hands out those only, under
    their batch's id: the same execution id as the one a killed evaluation may have
    committed, so that batch starts once (creating an execution whose id exists is a
    no-op), committed or not before the kill."""

    def __init__(
        self, trigger: RedisListBatchProperties, render: Callable[[Any], Any], name: str
    ) -> None:
        super().__init__(trigger, render, name)
        self.batch_key = f"{self.inflight}:batch"
        self._position = 0
        self._only_left = int(self.redis.llen(self.inflight)) > 0
        stored = self.redis.get(self.batch_key) if self._only_left else None
        if stored is not None:
            self.batch = stored.decode()
        else:
            self.batch = uuid.uuid4().hex
            self.redis.set(self.batch_key, self.batch)

    def _message(self, raw: bytes) -> Message:
        message = Message({"value": decode(raw, self.serde)}, f"{self.batch}:{self._position}")
        self._position += 1
        return message

    @property
    def exhausted(self) -> bool:
        """A batch handed out again is that batch, nothing more: consuming stops."""
        return self._only_left and self._recovered

    def receive(self, max_messages: int, timeout: float) -> Sequence[Message]:
        if self.exhausted:
            return []
        return super().receive(max_messages, timeout)

    def ack(self) -> None:
        if self._handed:
            pipe = self.redis.pipeline(transaction=True)
            pipe.ltrim(self.inflight, self._handed, -1)
            pipe.delete(self.batch_key)
            pipe.execute()
            self._handed = 0


def open_listener(trigger: Any, render: Callable[[Any], Any], name: str) -> RedisListListener:
    if isinstance(trigger, RedisListBatchProperties):
        return RedisListBatchListener(trigger, render, name)
    assert isinstance(trigger, RedisListRealtimeTrigger)
    return RedisListListener(trigger, render, name)
