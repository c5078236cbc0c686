"""A NATS connection (nats-py, an optional extra, asyncio) used from one thread: the
session owns an event loop, run by a thread of its own, and each call waits for its
coroutine on that loop.

The loop has its own thread, not the caller's: a caller whose thread already runs
an event loop (an ASGI server's, a test runner's) could not run another one there,
and nats-py's background work (reading, pings) goes on between calls.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from lanner.model.brokers import DeliverPolicy, NatsConnection, NatsConsumer

T = TypeVar("T")
CONNECT_TIMEOUT = 10.0  # seconds


class MissingClientError(RuntimeError):
    """A broker client library that is not installed."""


class NatsError(RuntimeError):
    """The server refused or could not be reached."""


def need_nats() -> Any:
    try:
        import nats
    except ImportError:
        raise MissingClientError(
            "the NATS client nats-py is not installed: install Lanner's `nats` extra"
            " (pip install 'lanner[nats]') or `pip install nats-py`"
        ) from None
    return nats


def where(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    return f"{parts.hostname}:{parts.port or 4222}"


class NatsSession:
    def __init__(self, props: NatsConnection, render: Callable[[Any], Any]) -> None:
        nats = need_nats()
        self.url = str(render(props.url))
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="nats", daemon=True)
        self._thread.start()
        options: dict[str, Any] = {
            "servers": [self.url],
            "connect_timeout": CONNECT_TIMEOUT,
            "allow_reconnect": False,  # a lost connection ends the session: the caller retries
            # Also the attempts of the first connection (0 would try for ever).
            "max_reconnect_attempts": 1,
        }
        if props.username is not None:
            options["user"] = str(render(props.username))
        if props.password is not None:
            options["password"] = str(render(props.password))
        if props.token is not None:
            options["token"] = str(render(props.token))

        async def no_callback(*args: Any) -> None:
            return None

        options["error_cb"] = no_callback  # errors surface as exceptions of the calls
        try:
            self.nc = self.run(asyncio.wait_for(nats.connect(**options), CONNECT_TIMEOUT * 2))
        except Exception as exc:
            self._stop()
            detail = str(exc) or type(exc).__name__
            raise NatsError(f"NATS server {where(self.url)}: {detail}") from None
        self.js = self.nc.jetstream()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        try:
            if not self.nc.is_closed:
                self.run(self.nc.close())
        finally:
            self._stop()

    def _stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


def consumer_config(
    props: NatsConsumer,
    render: Callable[[Any], Any],
    durable: str,
    *,
    max_ack_pending: int | None = None,
) -> Any:
    """The durable consumer's configuration; `max_ack_pending`: how many messages the
    server hands out unacknowledged (its default is 1,000; -1: no limit)."""
    from nats.js import api

    policies = {
        DeliverPolicy.All: api.DeliverPolicy.ALL,
        DeliverPolicy.Last: api.DeliverPolicy.LAST,
        DeliverPolicy.New: api.DeliverPolicy.NEW,
        DeliverPolicy.ByStartTime: api.DeliverPolicy.BY_START_TIME,
        DeliverPolicy.LastPerSubject: api.DeliverPolicy.LAST_PER_SUBJECT,
    }
    start = None
    if props.deliverPolicy is DeliverPolicy.ByStartTime:
        start = datetime.fromisoformat(str(render(props.since)).replace("Z", "+00:00"))
    return api.ConsumerConfig(
        durable_name=durable,
        deliver_policy=policies[props.deliverPolicy],
        opt_start_time=start,
        ack_policy=api.AckPolicy.EXPLICIT,
        max_ack_pending=max_ack_pending,
    )


def durable_name(props: NatsConsumer, render: Callable[[Any], Any], default_seed: str) -> str:
    if props.durableId is not None:
        return str(render(props.durableId))
    # A durable name may not hold dots: a digest of what would name it.
    return "lanner-" + hashlib.sha256(default_seed.encode()).hexdigest()[:16]


def message_fields(message: Any) -> dict[str, Any]:
    """A JetStream message as Kestra's: `subject`, `headers`, `data`, `timestamp`."""
    fields: dict[str, Any] = {
        "subject": message.subject,
        "data": message.data.decode("utf-8", errors="replace"),
    }
    if message.headers:
        fields["headers"] = dict(message.headers)
    stamp = message.metadata.timestamp
    fields["timestamp"] = stamp.isoformat().replace("+00:00", "Z")
    return fields


def message_id(message: Any) -> str:
    """A JetStream message's identity: its stream, sequence in it, and the time it was
    stored (a stream deleted and made again restarts its sequences)."""
    meta = message.metadata
    return f"{meta.stream}:{meta.sequence.stream}:{meta.timestamp.isoformat()}"
