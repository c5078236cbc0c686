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
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from lanner.store import codec
from lanner.store.base import Job, NewEvent, ProcessRecord

# As sqlite._EVENT_INSERT (that module imports this one).
_EVENT_INSERT = (
    "INSERT INTO execution_event (execution_id, kind, payload, visible_at, dedup_key)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING"
)

# started_at is written by the first heartbeat only.
_HEARTBEAT = (
    f"INSERT INTO worker ({codec.PROCESS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET role = excluded.role, host = excluded.host,"
    " pid = excluded.pid, heartbeat_at = excluded.heartbeat_at, info = excluded.info"
)
_PROCESSES = f"SELECT {codec.PROCESS_COLUMNS} FROM worker ORDER BY role, id"
_RUNNING_JOBS = (
    f"SELECT {codec.RUNNING_JOB_COLUMNS} FROM job WHERE claim_token IS NOT NULL"
    " AND claimed_by IN (SELECT id FROM worker) ORDER BY execution_id, task_run_id, attempt"
)
_PROCESS_DELETE = "DELETE FROM worker WHERE id = ?"
_PROCESS_PRUNE = "DELETE FROM worker WHERE heartbeat_at < ?"

_EXPIRED = (
    f"SELECT {codec.JOB_COLUMNS} FROM job WHERE claim_token IS NOT NULL"
    " AND lease_expires_at < ? ORDER BY lease_expires_at, rowid LIMIT ?"
)
# claims is kept: the next claim counts this one (max claims, "worker lost").
_REQUEUE = (
    "UPDATE job SET claim_token = NULL, claimed_by = NULL, lease_expires_at = NULL,"
    " run_after = ? WHERE task_run_id = ? AND attempt = ? AND claim_token = ?"
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

_SLOTS_TAKEN = (
    "SELECT count(*) FROM execution WHERE namespace = ? AND flow_id = ?"
    " AND finalized_at IS NULL AND state NOT IN ('CREATED', 'QUEUED') AND id <> ?"
)
_OLDEST_QUEUED = (
    "SELECT id FROM execution WHERE namespace = ? AND flow_id = ? AND state = 'QUEUED'"
    " AND finalized_at IS NULL ORDER BY created_at, id LIMIT 1"
)
_TRIGGER_STATE = (
    "SELECT data FROM flow_trigger_state WHERE namespace = ? AND flow_id = ? AND trigger_id = ?"
)
_TRIGGER_PUT = (
    "INSERT INTO flow_trigger_state (namespace, flow_id, trigger_id, data, updated_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (namespace, flow_id, trigger_id)"
    " DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at"
)
_TRIGGER_DELETE = (
    "DELETE FROM flow_trigger_state WHERE namespace = ? AND flow_id = ? AND trigger_id = ?"
)

Db = AbstractContextManager[sqlite3.Connection]


class SQLiteRuntime:
    """The runtime methods of SQLiteStore (see the module docstring)."""

    # Provided by SQLiteStore: a single statement, a write transaction, a read.
    def _one(self, what: str) -> Db:
        raise NotImplementedError

    def _write(self, what: str) -> Db:
        raise NotImplementedError

    def _read(self, what: str, *, snapshot: bool = False) -> Db:
        raise NotImplementedError

    # -- processes -------------------------------------------------------------

    def heartbeat_process(
        self,
        process_id: str,
        role: str,
        host: str,
        pid: int,
        info: Mapping[str, Any],
        now: datetime,
    ) -> None:
        at = codec.to_micros(now)
        params = (process_id, role, host, pid, at, at, codec.dump_mapping(info))
        with self._one("record a process heartbeat") as db:
            db.execute(_HEARTBEAT, params)

    def list_processes(self) -> list[ProcessRecord]:
        with self._read("list processes", snapshot=True) as db:
            rows = db.execute(_PROCESSES).fetchall()
            jobs = db.execute(_RUNNING_JOBS).fetchall() if rows else []
        return codec.processes_from_rows(rows, jobs)

    def remove_process(self, process_id: str) -> None:
        with self._one("remove a process") as db:
            db.execute(_PROCESS_DELETE, (process_id,))

    def prune_processes(self, before: datetime) -> int:
        with self._one("prune processes") as db:
            return int(db.execute(_PROCESS_PRUNE, (codec.to_micros(before),)).rowcount)

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
            if db.execute(_REQUEUE, fence).rowcount == 0:
                return False  # completed, re-queued or claimed again meanwhile
            db.execute(_EVENT_INSERT, codec.event_params(event))
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

    def counts(self) -> Mapping[str, int]:
        with self._read("count rows") as db:
            row = db.execute(codec.COUNTS_SQL).fetchone()
        return dict(zip(codec.COUNTED, (int(n) for n in row), strict=True))


class SQLiteRuntimeTx:
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
            row = db.execute(_SLOTS_TAKEN, (namespace, flow_id, excluding)).fetchone()
        return int(row[0])

    def oldest_queued(self, namespace: str, flow_id: str) -> str | None:
        with self._guard("find a queued execution") as db:
            row = db.execute(_OLDEST_QUEUED, (namespace, flow_id)).fetchone()
        return None if row is None else str(row[0])

    def trigger_state(
        self, namespace: str, flow_id: str, trigger_id: str
    ) -> Mapping[str, Any] | None:
        with self._guard("read a trigger's state") as db:
            row = db.execute(_TRIGGER_STATE, (namespace, flow_id, trigger_id)).fetchone()
        return None if row is None else codec.load_mapping(row[0])

    def put_trigger_state(
        self,
        namespace: str,
        flow_id: str,
        trigger_id: str,
        data: Mapping[str, Any] | None,
        now: datetime,
    ) -> None:
        key = (namespace, flow_id, trigger_id)
        with self._guard("save a trigger's state") as db:
            if data is None:
                db.execute(_TRIGGER_DELETE, key)
            else:
                db.execute(_TRIGGER_PUT, (*key, codec.dump_value(data), codec.to_micros(now)))
