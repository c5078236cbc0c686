"""SQLite's own part of the store contract that serves the durable runtime.

Claiming jobs, renewing their leases, the fenced writes of a job's start and
end, and the flow-slot hold (none: the single writer already serialises
executors). The rest of the runtime methods (processes, the reaper's read,
re-queueing, hand-back, purging, flow slots, flow-trigger state) are the
shared ones of :mod:`lanner.store.sql`, which these classes extend. Mixed
into :class:`lanner.store.sqlite.SQLiteStore` and its executor transaction,
whose transactions (the single writer) these methods use.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from lanner.store import codec
from lanner.store import sqliterows as rows
from lanner.store import sqlitesql as lite
from lanner.store.base import Job, LogRecord, NewEvent, Renewal, Scope
from lanner.store.sql import SqlCycleMethods, SqlMethods

Db = AbstractContextManager[sqlite3.Connection]


class SQLiteMethods(SqlMethods):
    """SQLiteStore's own methods over the shared ones (see the module docstring)."""

    # Provided by SQLiteStore: a write transaction, and one statement that takes the
    # write lock when it starts (both on the write connection).
    def _write(self, what: str) -> Db:
        raise NotImplementedError

    def _one(self, what: str) -> Db:
        raise NotImplementedError

    # -- jobs --------------------------------------------------------------------

    def claim_jobs(
        self,
        process_id: str,
        limit: int,
        lease_seconds: float,
        now: datetime,
        scope: Scope = None,
    ) -> list[Job]:
        if limit <= 0 or (scope is not None and not scope):
            return []
        expires = now + timedelta(seconds=lease_seconds)
        head = (process_id, codec.to_micros(expires), codec.to_micros(now))
        with self._one("claim jobs") as db:
            if scope is None:
                claimed = db.execute(lite.CLAIM, (*head, limit)).fetchall()
            else:
                params = (*head, rows.scope_json(scope), limit)
                claimed = db.execute(lite.CLAIM_SCOPED, params).fetchall()
        return codec.claimed_jobs(claimed, expires)

    def renew_leases(
        self, process_id: str, tokens: Sequence[str], lease_seconds: float, now: datetime
    ) -> Renewal:
        if not tokens:
            return Renewal(frozenset(), frozenset())
        expires = codec.to_micros(now + timedelta(seconds=lease_seconds))
        with self._one("renew leases") as db:
            renewed = db.execute(
                lite.RENEW, (expires, process_id, json.dumps(list(tokens)))
            ).fetchall()
        return codec.renewal(tokens, renewed)

    def complete_job(self, job: Job, event: NewEvent, logs: Sequence[LogRecord] = ()) -> bool:
        with self._write("complete a job") as db:
            fence = (job.task_run_id, job.attempt, job.claim_token)
            if db.execute(lite.FENCED_DELETE, fence).rowcount == 0:
                return False  # a zombie: its job was completed or claimed again
            rows.insert_events(db, (event,))
            rows.insert_logs(db, logs)
        return True

    def job_started(self, job: Job, event: NewEvent) -> bool:
        with self._write("record a job start") as db:
            fence = (job.task_run_id, job.attempt, job.claim_token)
            if db.execute(lite.FENCED_EVENT_INSERT, (*codec.event_params(event), *fence)).rowcount:
                return True
            # Nothing inserted: the claim is gone, or an event with its dedup key exists.
            return db.execute(lite.FENCED_CHECK, fence).fetchone() is not None


class SQLiteCycleMethods(SqlCycleMethods):
    """The executor-transaction methods for flow concurrency and flow-trigger state.

    SQLite's single writer already serialises executors: a count taken in a
    cycle holds until the cycle commits.
    """

    __slots__ = ()

    # Provided by SQLiteExecutorTx: a statement inside the cycle's transaction.
    def _guard(self, what: str) -> Db:
        raise NotImplementedError

    def _hold_flow(self, db: Any, namespace: str, flow_id: str) -> None:
        pass  # the single writer: a count taken in a cycle holds until the cycle commits
