"""SQLiteStore.checkpoint_long_wal: what a short-lived process (`lanner run`) does
with a long WAL before it leaves with os._exit."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanner.store import SQLiteStore, open_store, walcheckpoint


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    opened = open_store(f"sqlite:///{tmp_path}/lanner.db")
    assert isinstance(opened, SQLiteStore)
    try:
        yield opened
    finally:
        opened.close()


def _wal(store: SQLiteStore) -> Path:
    return Path(store.path + "-wal")


def _grow_wal(store: SQLiteStore, size: int) -> None:
    """Append about `size` bytes of frames to the WAL, none of them checkpointed: the
    store keeps its own connections open, so closing this one checkpoints nothing."""
    db = sqlite3.connect(store.path, isolation_level=None)
    try:
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("BEGIN")
        db.execute("CREATE TABLE padding (b BLOB)")
        db.executemany("INSERT INTO padding VALUES (?)", [(b"x" * 3000,)] * (size // 3000 + 1))
        db.execute("DROP TABLE padding")
        db.execute("COMMIT")
    finally:
        db.close()
    assert _wal(store).stat().st_size > size


def test_a_short_wal_is_left_alone(store: SQLiteStore) -> None:
    store.deploy_flow("ns", "f", "id: f\nnamespace: ns\ntasks: []\n")
    size = _wal(store).stat().st_size
    assert 0 < size <= walcheckpoint.EXIT_CHECKPOINT_BYTES

    assert store.checkpoint_long_wal() is False
    assert _wal(store).stat().st_size == size


def test_a_long_wal_is_checkpointed_and_emptied(store: SQLiteStore) -> None:
    store.deploy_flow("ns", "f", "id: f\nnamespace: ns\ntasks: []\n")
    _grow_wal(store, walcheckpoint.EXIT_CHECKPOINT_BYTES + 100_000)

    assert store.checkpoint_long_wal() is True
    assert _wal(store).stat().st_size == 0
    # Everything committed is in the database file, and the store goes on working.
    with sqlite3.connect(f"file:{store.path}?mode=ro", uri=True) as db:
        assert db.execute("SELECT count(*) FROM flow").fetchone() == (1,)
    store.deploy_flow("ns", "g", "id: g\nnamespace: ns\ntasks: []\n")
    assert store.get_flow("ns", "g") is not None


def test_a_busy_database_does_not_make_it_wait_or_fail(store: SQLiteStore) -> None:
    store.deploy_flow("ns", "f", "id: f\nnamespace: ns\ntasks: []\n")
    _grow_wal(store, walcheckpoint.EXIT_CHECKPOINT_BYTES + 100_000)
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        # Another process's writer holds the write lock and a read of an old snapshot.
        other.execute("BEGIN IMMEDIATE")
        other.execute("SELECT count(*) FROM flow").fetchone()
        start = time.monotonic()
        assert store.checkpoint_long_wal() is True
        # No busy handler: not the store's 10 s timeout.
        assert time.monotonic() - start < 2
        assert _wal(store).stat().st_size > walcheckpoint.EXIT_CHECKPOINT_BYTES
        other.execute("ROLLBACK")
    finally:
        other.close()
    # The write connection waits for locks again as before.
    db, _ = store._writer_conn()
    assert db.execute("PRAGMA busy_timeout").fetchone() == (10_000,)
    store.deploy_flow("ns", "g", "id: g\nnamespace: ns\ntasks: []\n")


def test_a_reader_of_an_old_snapshot_keeps_its_frames(store: SQLiteStore) -> None:
    store.deploy_flow("ns", "f", "id: f\nnamespace: ns\ntasks: []\n")
    reader = sqlite3.connect(store.path, isolation_level=None)
    try:
        # Another process reads the database as it was before the long WAL was written.
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM flow").fetchone() == (1,)
        _grow_wal(store, walcheckpoint.EXIT_CHECKPOINT_BYTES + 100_000)
        start = time.monotonic()
        assert store.checkpoint_long_wal() is True
        assert time.monotonic() - start < 2
        # Frames its snapshot may still need are neither copied over nor cut off.
        assert _wal(store).stat().st_size > walcheckpoint.EXIT_CHECKPOINT_BYTES
        assert reader.execute("SELECT count(*) FROM flow").fetchone() == (1,)
        reader.execute("COMMIT")
    finally:
        reader.close()
    # With the reader gone, the next exit empties it.
    assert store.checkpoint_long_wal() is True
    assert _wal(store).stat().st_size == 0
