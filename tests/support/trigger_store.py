"""What the trigger runtime tests (realtime, polling, HTTP) share: a fresh SQLite store
in the test's folder, a wait for what the trigger runtime does in its threads, and
runtimes of several servers ticking at the same moment.

    from tests.support.trigger_store import store_fixture, wait_until  # noqa: F401
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from lanner.runtime.triggers import TriggerRuntime
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


def tick_together(runtimes: Sequence[TriggerRuntime], at: datetime) -> None:
    """Each runtime's tick at `at`, all let go at once from threads of their own (servers
    racing for one evaluation); back when every tick has ended."""
    barrier = threading.Barrier(len(runtimes))

    def tick(rt: TriggerRuntime) -> None:
        barrier.wait()
        rt.tick(at)

    threads = [threading.Thread(target=tick, args=(rt,)) for rt in runtimes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
