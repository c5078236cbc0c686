"""SQLiteStore's part of the store contract that serves the durable runtime.

Live processes, the lease reaper, hand-back on shutdown, retention, flow
concurrency and flow-trigger state (docs/store.md). Mixed into
:class:`lanner.store.sqlite.SQLiteStore` and its executor transaction, whose
transactions (the single writer) these methods use; kept apart so that
neither module grows past a readable size.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from lanner.store import codec
from lanner.store.base import Job, NewEvent, ProcessRecord
from lanner.store.sql import SQLITE as SQL
from lanner.store.sql import SqlCycleMethods, SqlMethods

_EXPIRED = (
    f"SELECT {codec.JOB_COLUMNS} FROM job WHERE claim_token IS NOT NULL"
    " AND lease_expires_at < ? ORDER BY lease_expires_at, rowid LIMIT ?"
)
_RELEASE = (
    "UPDATE job SET claim_token = NULL, claimed_by = NULL, lease_expires_at = NULL"
    " WHERE claim_token IN (SELECT value FROM json_each(?))"
)

_PURGE_PICK = "SELECT id FROM execution WHERE finalized_at < ? ORDER BY finalized_at LIMIT ?"
# The ids of one batch as one JSON array: one SQL text (one cached statement) per table.
_PURGE = tuple(
    f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))"
    for table, column in (
        ("log", "execution_id"),
        ("execution_event", "execution_id"),
        ("job", "execution_id"),
        ("task_run", "execution_id"),
        ("execution", "id"),
    )
)

Db = AbstractContextManager[sqlite3.Connection]


class SQLiteRuntime(SqlMethods):
    """The runtime methods of SQLiteStore (see the module docstring)."""

    # Provided by SQLiteStore: a single statement, a write transaction, a read.
    def _one(self, what: str) -> Db:
        raise NotImplementedError

    def _write(self, what: str) -> Db:
        raise NotImplementedError

    def _read(self, what: str, *, snapshot: bool = False) -> Db:
        raise NotImplementedError

    # -- processes -------------------------------------------------------------

    def list_processes(self) -> list[ProcessRecord]:
        with self._read("list processes", snapshot=True) as db:
            rows = db.execute(SQL.PROCESSES).fetchall()
            jobs = db.execute(SQL.RUNNING_JOBS).fetchall() if rows else []
        return codec.processes_from_rows(rows, jobs)

    # -- the lease reaper and hand-back --------------------------------------------

    def expired_jobs(self, now: datetime, limit: int) -> list[Job]:
        if limit <= 0:
            return []
        with self._read("find expired leases") as db:
            rows = db.execute(_EXPIRED, (codec.to_micros(now), limit)).fetchall()
        return [codec.job_from_row(row) for row in rows]

    def requeue_job(self, job: Job, event: NewEvent, now: datetime) -> bool:
        fence = (codec.to_micros(now), job.task_run_id, job.attempt, job.claim_token)
        with self._write("requeue a job") as db:
            if db.execute(SQL.REQUEUE, fence).rowcount == 0:
                return False  # completed, re-queued or claimed again meanwhile
            db.execute(SQL.EVENT_INSERT, codec.event_params(event))
        return True

    def release_jobs(self, tokens: Sequence[str]) -> int:
        if not tokens:
            return 0
        with self._one("release jobs") as db:
            return int(db.execute(_RELEASE, (json.dumps(list(tokens)),)).rowcount)

    # -- retention and counts ------------------------------------------------------

    def purge_executions(self, before: datetime, limit: int = 1000) -> int:
        # One transaction per batch: the write lock is never held for long.
        limit = max(1, limit)
        cutoff = codec.to_micros(before)
        total = 0
        while True:
            with self._write("purge executions") as db:
                ids = [row[0] for row in db.execute(_PURGE_PICK, (cutoff, limit)).fetchall()]
                if ids:
                    batch = (json.dumps(ids),)
                    for statement in _PURGE:
                        db.execute(statement, batch)
            total += len(ids)
            if len(ids) < limit:
                return total


class SQLiteRuntimeTx(SqlCycleMethods):
    """The executor-transaction methods for flow concurrency and flow-trigger state.

    SQLite's single writer already serialises executors: a count taken in a
    cycle holds until the cycle commits.
    """

    __slots__ = ()

    # Provided by SQLiteExecutorTx: a statement inside the cycle's transaction.
    def _guard(self, what: str) -> Db:
        raise NotImplementedError

    def slots_taken(self, namespace: str, flow_id: str, excluding: str) -> int:
        with self._guard("count concurrency slots") as db:
            row = db.execute(SQL.SLOTS_TAKEN, (namespace, flow_id, excluding)).fetchone()
        return int(row[0])

    def oldest_queued(self, namespace: str, flow_id: str) -> str | None:
        with self._guard("find a queued execution") as db:
            row = db.execute(SQL.OLDEST_QUEUED, (namespace, flow_id)).fetchone()
        return None if row is None else str(row[0])
