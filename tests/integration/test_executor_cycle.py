"""The executor's cycle over a real SQLite store, stepped by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lanner.config import Config
from lanner.engine.events import Kill
from lanner.expr import SecretMasker
from lanner.plugin import TaskRegistry
from lanner.runtime import eventcodec
from lanner.runtime.executor import Executor
from lanner.store import open_store


def test_events_of_a_purged_execution_are_dropped_and_the_executor_goes_on(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite://{tmp_path / 'lanner.db'}")
    try:
        executor = Executor(store, TaskRegistry.from_entry_points(), Config(), SecretMasker())
        store.add_event(eventcodec.encode("gone", Kill(), datetime.now(UTC), "kill:gone"))
        assert executor.run_once()  # consumed the orphan instead of failing on it
        assert store.counts()["execution_event"] == 0
        assert not executor.run_once()  # nothing left to do
    finally:
        store.close()
