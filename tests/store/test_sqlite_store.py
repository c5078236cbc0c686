"""What is particular to SQLiteStore: URLs, files, migrations, locking, codecs."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lanner.engine.execution import Attempt, History
from lanner.errors import StoreError
from lanner.model.states import State
from lanner.store import SQLiteStore, codec, default_db_url, migrations, open_store
from lanner.store import sqlite as sqlite_module
from lanner.store.base import LogRecord


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.parametrize(
    "form", ["sqlite:///{path}", "sqlite:////{path}", "{path}"], ids=["url", "url4", "plain"]
)
def test_open_store_url_forms(tmp_path: Path, form: str) -> None:
    path = tmp_path / "deep" / "dir" / "lanner.db"
    store = open_store(form.format(path=str(path).lstrip("/") if "sqlite" in form else path))
    try:
        assert isinstance(store, SQLiteStore)
        assert store.url == f"sqlite://{path}"
        assert path.exists()
        assert {"flow", "execution", "task_run", "job", "execution_event", "log"} <= _tables(path)
    finally:
        store.close()


def test_open_store_relative_plain_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("rel/lanner.db")
    store.close()
    assert store.url == f"sqlite://{tmp_path / 'rel' / 'lanner.db'}"


def test_default_db_url(tmp_path: Path) -> None:
    url = default_db_url(tmp_path / "home")
    assert url == f"sqlite://{tmp_path}/home/lanner.db"
    open_store(url).close()
    assert (tmp_path / "home" / "lanner.db").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://relative.db", "not an absolute SQLite URL"),
        ("mysql://x", "unsupported store URL"),
        ("", "empty store URL"),
    ],
)
def test_open_store_rejects(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)


def test_unwritable_path_is_a_clear_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match=r"cannot open database file .*a-file/lanner\.db"):
        open_store(f"sqlite://{blocker}/lanner.db")
    with pytest.raises(StoreError, match=f"cannot open database file {tmp_path}"):
        open_store(str(tmp_path))  # a directory


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "lanner.db"
    first = open_store(str(path))
    first.deploy_flow("ns", "f", "id: f")
    first.migrate()
    second = open_store(str(path))
    second.migrate()
    assert second.get_flow("ns", "f") is not None
    with sqlite3.connect(path) as db:
        versions = db.execute("SELECT version, name FROM schema_version ORDER BY version")
        assert versions.fetchall() == [
            (1, "initial"),
            (2, "runtime"),
            (3, "kv"),
            (4, "trigger_context"),
            (5, "execution_chain"),
            (6, "log_rowid"),
        ]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    first.close()
    second.close()


_MIGRATE = """
import sys
from lanner.store import open_store
open_store(sys.argv[1]).close()
"""


def test_several_processes_migrate_one_new_file_at_once(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'lanner.db'}"
    children = [subprocess.Popen([sys.executable, "-c", _MIGRATE, url]) for _ in range(4)]
    assert [c.wait(timeout=60) for c in children] == [0, 0, 0, 0]
    with sqlite3.connect(tmp_path / "lanner.db") as db:
        count = db.execute("SELECT count(*) FROM schema_version").fetchone()[0]
    assert count == len(migrations.load("sqlite"))


def test_a_lock_held_too_long_is_a_clear_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Any
) -> None:
    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_SECONDS", 0.05)
    store = open_store(str(tmp_path / "lanner.db"))
    other = sqlite3.connect(tmp_path / "lanner.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="database is locked"):
            store.create_execution(make.execution(), [])
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.create_execution(make.execution(), [])  # usable again once the lock is gone
    store.close()


def test_a_closed_store_refuses_work(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "lanner.db"))
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_flows()


def test_codec_documents_are_versioned() -> None:
    now = dt.datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    text = codec.dump_histories((History(State.CREATED, now),))
    assert text == '{"v":1,"h":[["CREATED","2025-01-02T03:04:05.000006+00:00"]]}'
    attempts = (Attempt(State.SUCCESS, (History(State.RUNNING, now),)),)
    assert codec.load_attempts(codec.dump_attempts(attempts)) == attempts
    assert codec.load_value(codec.dump_value({"a": [1, "é"]})) == {"a": [1, "é"]}
    with pytest.raises(StoreError, match="unsupported histories document"):
        codec.load_histories('{"v":99,"h":[]}')
    with pytest.raises(StoreError, match="unsupported value document"):
        codec.load_value("[1, 2]")


def test_codec_dates_are_utc() -> None:
    naive = dt.datetime(2025, 1, 2, 3, 4, 5, 6)
    paris = dt.datetime(2025, 1, 2, 4, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert codec.to_micros(naive) == codec.to_micros(paris)
    back = codec.from_micros(codec.to_micros(paris))
    assert back == paris and back.tzinfo is dt.UTC
    [history] = codec.load_histories(codec.dump_histories((History(State.RUNNING, paris),)))
    assert history.date == paris and history.date.utcoffset() == dt.timedelta(0)


def test_codec_values_that_are_not_json_are_a_store_error() -> None:
    assert codec.load_value(codec.dump_value({"at": dt.date(2025, 1, 2)})) == {"at": "2025-01-02"}
    with pytest.raises(StoreError, match="cannot store a value as JSON"):
        codec.dump_value({"x": object()})


def test_a_database_of_schema_1_is_upgraded_in_place(tmp_path: Path) -> None:

    path = tmp_path / "lanner.db"
    first = migrations.load("sqlite")[0]
    with sqlite3.connect(path) as db:
        for statement in migrations.split_sqlite(first.sql):
            db.execute(statement)
        db.execute(
            "CREATE TABLE schema_version"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        db.execute("INSERT INTO schema_version VALUES (1, 'initial', 0)")
        db.execute(
            "INSERT INTO execution (id, namespace, flow_id, flow_revision, state, state_history,"
            " parent_execution_id, created_at, version) VALUES ('old', 'ns', 'f', 1, 'RUNNING',"
            ' \'{"v":1,"h":[["CREATED","2025-01-02T10:30:15.123456+00:00"]]}\', \'p\', 0, 3)'
        )
    store = open_store(str(path))
    try:
        old = store.get_execution("old")
        assert old is not None and old.parent_execution_id == "p" and old.version == 3
        assert (old.parent_task_run_id, old.parent_attempt) == (None, None)
        assert "flow_trigger_state" in _tables(path)
    finally:
        store.close()


def test_migration_6_keeps_the_logs_and_drops_autoincrement(tmp_path: Path) -> None:
    """0006 copies the log table without AUTOINCREMENT: the stored lines, their order
    and index stay; new lines follow them; sqlite_sequence no longer tracks the table."""
    path = tmp_path / "lanner.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE schema_version"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        for m in migrations.load("sqlite")[:5]:
            for statement in migrations.split_sqlite(m.sql):
                db.execute(statement)
            db.execute("INSERT INTO schema_version VALUES (?, ?, 0)", (m.version, m.name))
        for i in (1, 2, 3):
            db.execute(
                "INSERT INTO log (execution_id, task_id, task_run_id, attempt, timestamp,"
                " level, message) VALUES ('e', 't', 'r', 1, ?, 'INFO', ?)",
                (i, f"line {i}"),
            )
        db.execute("DELETE FROM log WHERE message = 'line 2'")
    store = open_store(str(path))
    try:
        at = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
        store.append_logs([LogRecord("e", "t", "r", 1, at, "INFO", "line 4")])
        assert [r.message for r in store.get_logs("e")] == ["line 1", "line 3", "line 4"]
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        ids = [r[0] for r in db.execute("SELECT id FROM log ORDER BY id")]
        assert ids == [1, 3, 4]
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'log'").fetchone()[0]
        assert "AUTOINCREMENT" not in sql.upper()
        assert (
            db.execute("SELECT count(*) FROM sqlite_sequence WHERE name = 'log'").fetchone()[0] == 0
        )
        indexes = {r[1] for r in db.execute("PRAGMA index_list(log)")}
        assert "log_execution" in indexes


def test_reads_inside_a_cycle_see_its_writes(tmp_path: Path, make: Any) -> None:
    """Writes go through the process's one write connection; a read on the thread of an
    open cycle joins that cycle's transaction instead of reading beside it."""
    from dataclasses import replace

    from lanner.store.base import CycleWrite

    store = open_store(str(tmp_path / "lanner.db"))
    try:
        store.create_execution(make.execution(), [])
        with store.executor_tx() as tx:
            execution = tx.load("exec1")
            assert execution is not None
            new = replace(execution, version=execution.version + 1)
            tx.write(CycleWrite(new, execution.version, logs=[make.log("inside")]))
            seen = store.get_execution("exec1")
            assert seen is not None and seen.version == new.version
            assert [r.message for r in store.get_logs("exec1")] == ["inside"]
        other: list[int] = []
        thread = threading.Thread(target=lambda: other.append(_version(store)))
        thread.start()
        thread.join()
        assert other == [execution.version + 1]  # committed: every thread sees it
    finally:
        store.close()


def _version(store: Any) -> int:
    found = store.get_execution("exec1")
    assert found is not None
    return int(found.version)


def test_wal_checkpoints_run_on_their_own_thread(tmp_path: Path, make: Any) -> None:
    from lanner.store.walcheckpoint import COMMITS_PER_CHECKPOINT

    store = open_store(str(tmp_path / "lanner.db"))
    assert isinstance(store, SQLiteStore)
    try:
        store.create_execution(make.execution(), [])
        for i in range(COMMITS_PER_CHECKPOINT * 2):
            store.append_logs([make.log(f"line {i}")])
        checkpointer = store._checkpointer
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            threading.Event().wait(0.01)
        assert checkpointer.checkpoints >= 1
        assert len(store.get_logs("exec1")) == COMMITS_PER_CHECKPOINT * 2
    finally:
        store.close()
    assert not any(t.name == "lanner-sqlite-checkpoint" for t in threading.enumerate())
