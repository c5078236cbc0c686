"""The long-running roles: `lanner server`, `lanner executor`, `lanner worker`.

One process runs the roles it was started with over one store until SIGTERM
or SIGINT: the executor thread, worker threads, and maintenance (its
heartbeat row, the lease reaper in every executor, retention). On the
signal it stops claiming, gives running tasks the configured grace period,
hands what is still running back to the store for another worker, and
removes its heartbeat row. `lanner server` also serves the REST API
(`lanner.api`) on a thread of its own.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from lanner.config import Config
from lanner.plugin import TaskRegistry
from lanner.runtime.maintenance import Maintenance
from lanner.runtime.process import Process
from lanner.runtime.triggers import TriggerRuntime, run_triggers
from lanner.store.base import Store

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0


def serve(
    store: Store,
    registry: TaskRegistry,
    config: Config,
    *,
    role: str,
    executor: bool,
    threads: int,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
    http: tuple[str, int] | None = None,
    on_http: Callable[[str], None] | None = None,
) -> int:
    """Run until `stop` is set (by SIGTERM/SIGINT when on the main thread); returns 0.
    With `http` (host, port), the REST API is served too; `on_http` gets its URL."""
    stop = stop or threading.Event()
    runtime = Process(store, registry, config, executor=executor, threads=threads)
    api = None
    if http is not None:
        # Imported here: the executor and worker roles never load FastAPI.
        from lanner.api.server import HttpServer

        api = HttpServer(store, registry, config, runtime.storage, *http)
        # `wait=true` answers as soon as this process's executors finalize the execution.
        for executor_ in (runtime.executor, *runtime.more_executors):
            executor_.listeners.append(api.context.finalized.on_commit)
    process_id = runtime.workers.process_id

    def info() -> dict[str, Any]:
        return {"threads": threads, "executor": executor}

    maintenance = Maintenance(store, config, process_id, role, reaper=executor, info=info)
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if stop.is_set():  # a second signal: do not wait for the grace period
                raise SystemExit(130)
            log.info("stopping (%s)", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    runtime.start()
    maintenance.tick(datetime.now(UTC))
    if api is not None:
        api.start()
        log.info("API on %s/api/v1/main", api.url)
        if on_http is not None:
            on_http(api.url)
    log.info(
        "%s on %s: %s%d worker thread(s)",
        process_id,
        store.url,
        "executor, " if executor else "",
        threads,
    )
    # Triggers fire from the processes that run an executor (docs/triggers.md).
    stop_triggers = threading.Event()
    triggers = None
    if executor:
        triggers = run_triggers(
            TriggerRuntime(store, registry, config, owner=process_id, storage=runtime.storage),
            stop_triggers,
            runtime.workers.on_complete,
        )
    if ready is not None:
        ready.set()
    try:
        while not stop.wait(TICK_SECONDS):
            maintenance.tick(datetime.now(UTC))
    finally:
        stop_triggers.set()
        if triggers is not None:
            triggers.join(5)
        if api is not None:
            api.stop()
        handed = runtime.workers.drain(config.worker.shutdownGraceSeconds)
        if handed:
            log.info("handed %d job(s) back", handed)
        runtime.stop()
        try:
            store.remove_process(process_id)
        finally:
            store.close()
    return 0
