"""A worker that cannot renew its leases stops its own tasks (DESIGN.md): the
reaper may already have handed them to another worker. Here the store really
cannot be written: another connection holds SQLite's write lock."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from lanner.engine.execution import Execution, History
from lanner.expr import SecretMasker
from lanner.model.states import State
from lanner.plugin import TaskRegistry
from lanner.runtime.worker import WorkerPool
from lanner.storage import LocalStorage
from lanner.store import open_store
from lanner.store.base import CycleWrite, NewJob


def _poll(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_a_worker_that_cannot_renew_its_leases_stops_its_task(tmp_path: Path) -> None:
    path = tmp_path / "lanner.db"
    store = open_store(f"sqlite://{path}")
    now = datetime.now(UTC)
    execution = Execution("e1", "ns", "f", 1, State.RUNNING, (History(State.RUNNING, now),))
    store.create_execution(execution, [])
    payload = {
        "taskId": "nap",
        "type": "io.kestra.plugin.core.flow.Sleep",
        "properties": {"duration": "PT60S"},
        "timeout": None,
    }
    with store.executor_tx() as tx:
        tx.write(
            CycleWrite(
                replace(execution, version=1), 0, new_jobs=[NewJob("tr1", "e1", 1, payload, now)]
            )
        )
    pool = WorkerPool(
        store,
        TaskRegistry.from_entry_points(),
        SecretMasker(),
        LocalStorage(tmp_path / "storage"),
        threads=1,
    )
    pool.lease_seconds = 0.5
    peek = sqlite3.connect(path, timeout=30)
    try:
        pool.start()
        _poll(lambda: pool._running, 30, "the task to run")

        def start_committed() -> bool:
            # The worker commits a fenced start before the task's code runs; blocking
            # the store before that commit would stop the attempt before it began.
            rows = peek.execute("SELECT count(*) FROM execution_event WHERE kind = 'TaskStarted'")
            return bool(rows.fetchone()[0])

        _poll(start_committed, 30, "the task's start to be committed")
        blocker = sqlite3.connect(path, timeout=0, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # nothing can be written any more
        started = time.monotonic()
        _poll(lambda: not pool._running, 60, "the worker to stop its task")
        assert time.monotonic() - started < 45  # long before the 60 s sleep would end
        blocker.execute("ROLLBACK")
        blocker.close()

        def killed_result() -> bool:
            rows = peek.execute("SELECT payload FROM execution_event WHERE kind = 'TaskResult'")
            return any('"KILLED"' in row[0] for row in rows.fetchall())

        _poll(killed_result, 30, "the stopped attempt's KILLED result")
    finally:
        pool.stop()
        peek.close()
        store.close()
