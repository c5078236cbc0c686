"""Running a task's asynchronous I/O (httpx's async client) from a worker thread,
stopped when the attempt is cancelled: the HTTP, Slack and other sending tasks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.05  # how often an in-flight exchange looks at the cancellation flag


async def unless_cancelled(work: Coroutine[Any, Any, T], cancelled: Callable[[], bool]) -> T | None:
    """`work`'s result, or None once `cancelled()` turns true (the work is cancelled,
    which closes its connection)."""
    import asyncio  # imported on use: loading every task module must stay cheap

    running = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({running}, timeout=POLL_SECONDS)
        if done:
            return running.result()
        if cancelled():
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            return None


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]], name: str) -> T:
    """Run a coroutine to completion from synchronous code, even under a running event
    loop (then on a thread of its own, called `name`)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(factory()))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
