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


def open_listener(trigger: Any, render: Callable[[Any], Any], name: str) -> RedisListListener:
    assert isinstance(trigger, (RedisListRealtimeTrigger, RedisListBatchProperties))
    return RedisListListener(trigger, render, name)
