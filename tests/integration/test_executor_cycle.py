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


def test_maintenance_heartbeats_and_purges_by_the_configured_retention(tmp_path: Path) -> None:
    from datetime import timedelta

    from lanner.engine.execution import Execution, History
    from lanner.model.states import State
    from lanner.runtime.maintenance import Maintenance

    now = datetime.now(UTC)
    store = open_store(f"sqlite://{tmp_path / 'lanner.db'}")
    try:
        for execution_id, finalized in [
            ("old", now - timedelta(hours=2)),
            ("recent", now - timedelta(minutes=10)),
            ("running", None),
        ]:
            state = State.RUNNING if finalized is None else State.SUCCESS
            store.create_execution(
                Execution(
                    id=execution_id,
                    namespace="ns",
                    flow_id="f",
                    flow_revision=1,
                    state=state,
                    histories=(History(State.CREATED, now - timedelta(hours=3)),),
                    terminal_at=finalized,
                    finalized_at=finalized,
                ),
                [],
            )
        config = Config.model_validate({"retention": {"olderThan": "PT1H"}})
        Maintenance(store, config, "p1", "executor", reaper=True).tick(now)
        assert sorted(e.id for e in store.list_executions()) == ["recent", "running"]
        assert [(p.id, p.role) for p in store.list_processes()] == [("p1", "executor")]
    finally:
        store.close()
