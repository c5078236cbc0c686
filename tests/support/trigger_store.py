"""What the trigger runtime tests (realtime, polling, HTTP) share: a fresh SQLite store
in the test's folder, and a wait for what the trigger runtime does in its threads.

    from tests.support.trigger_store import store_fixture, wait_until  # noqa: F401
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lanner.store import open_store
from lanner.store.base import Store


@pytest.fixture(name="store")
def store_fixture(tmp_path: Path) -> Iterator[Store]:
    """Import it as `store_fixture` and ask for `store`."""
    opened = open_store(f"sqlite://{tmp_path / 'lanner.db'}")
    opened.migrate()
    yield opened
    opened.close()


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 30) -> None:
    """Poll `predicate` until it holds; an AssertionError naming `what` after `timeout`
    seconds (generous: the machine is shared)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
