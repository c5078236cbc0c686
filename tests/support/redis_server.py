"""The Redis server of the Redis tests: the one at 127.0.0.1:6379 (override with
``LANNER_TEST_REDIS_URL``), each test with a key prefix of its own (its keys are
deleted afterwards): the machine's server is shared and never restarted.

When it cannot be reached its tests are skipped, except under CI (``CI=true``),
where they fail: .ci/run starts Redis, so a missing server there is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest


@dataclass(frozen=True)
class RedisServer:
    url: str
    prefix: str  # every key of this test starts with it
    client: Any

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"


def redis_unavailable(message: str) -> NoReturn:
    """Skip outside CI; fail in CI, where Redis must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: Redis is required)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(name="redis_server")
def redis_server_fixture() -> Iterator[RedisServer]:
    """Import it as `redis_server_fixture` and ask for `redis_server`."""
    try:
        import redis
    except ImportError as exc:
        redis_unavailable(f"redis-py is not installed: {exc}")
    url = os.environ.get("LANNER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        redis_unavailable(f"Redis is not reachable at {url}: {exc!r}")
    server = RedisServer(url, f"lanner-test-{secrets.token_hex(6)}:", client)
    try:
        yield server
    finally:
        keys = list(client.scan_iter(match=server.prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()
