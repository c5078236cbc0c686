"""The NATS server (JetStream on) of the NATS tests: the one at 127.0.0.1:4222 (override
with ``LANNER_TEST_NATS_URL``), each test with a stream and subjects of its own (the
stream is deleted afterwards): the machine's server is shared and never restarted.

When it cannot be reached its tests are skipped, except under CI (``CI=true``),
where they fail: .ci/run starts NATS, so a missing server there is a failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import pytest

T = TypeVar("T")


@dataclass(frozen=True)
class NatsServer:
    url: str
    stream: str  # a stream of this test, holding `<prefix>.>`
    prefix: str

    def subject(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    def publish(self, subject: str, bodies: list[str]) -> None:
        """Publish to JetStream, each message stored before the next."""

        async def go() -> None:
            import nats

            nc = await nats.connect(self.url)
            js = nc.jetstream()
            for body in bodies:
                await js.publish(subject, body.encode())
            await nc.close()

        run_alone(go())

    def pending(self, durable: str) -> int:
        """Messages of the stream the durable consumer has not had acknowledged."""

        async def go() -> int:
            import nats

            nc = await nats.connect(self.url)
            info = await nc.jetstream().consumer_info(self.stream, durable)
            await nc.close()
            return int(info.num_pending + info.num_ack_pending)

        return run_alone(go())


def run_alone(coroutine: Coroutine[Any, Any, T]) -> T:
    # On a thread of its own: this thread may run an event loop already (playwright's
    # sync API keeps one running in the main thread while its browser is open).
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def nats_unavailable(message: str) -> NoReturn:
    """Skip outside CI; fail in CI, where NATS must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: NATS is required)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(name="nats_server")
def nats_server_fixture() -> Iterator[NatsServer]:
    """Import it as `nats_server_fixture` and ask for `nats_server`."""
    try:
        import nats
    except ImportError as exc:
        nats_unavailable(f"nats-py is not installed: {exc}")
    url = os.environ.get("LANNER_TEST_NATS_URL", "nats://127.0.0.1:4222")
    token = secrets.token_hex(6)
    server = NatsServer(url, f"lanner-test-{token}", f"lanner.test.{token}")

    async def make() -> None:
        nc = await nats.connect(url, connect_timeout=5, allow_reconnect=False)
        await nc.jetstream().add_stream(name=server.stream, subjects=[server.prefix + ".>"])
        await nc.close()

    try:
        run_alone(make())
    except Exception as exc:
        nats_unavailable(f"NATS with JetStream is not reachable at {url}: {exc!r}")
    try:
        yield server
    finally:

        async def drop() -> None:
            nc = await nats.connect(url)
            await nc.jetstream().delete_stream(server.stream)
            await nc.close()

        run_alone(drop())
