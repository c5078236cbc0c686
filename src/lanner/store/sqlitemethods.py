"""SQLite's own part of the store contract that serves the durable runtime.

Re-queueing an expired job, purging old executions, and the flow-slot hold
(none: the single writer already serialises executors). The rest of the
runtime methods (processes, the reaper's read, hand-back, flow slots,
flow-trigger state) are the shared ones of :mod:`lanner.store.sql`, which
these classes extend. Mixed into :class:`lanner.store.sqlite.SQLiteStore`
and its executor transaction, whose transactions (the single writer) these
methods use.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from lanner.store import codec
from lanner.store import sqlitesql as lite
from lanner.store.sql import SqlCycleMethods, SqlMethods

Db = AbstractContextManager[sqlite3.Connection]


class SQLiteMethods(SqlMethods):
    """SQLiteStore's own methods over the shared ones (see the module docstring)."""

    # Provided by SQLiteStore: a write transaction.
    def _write(self, what: str) -> Db:
        raise NotImplementedError

    # -- retention -----------------------------------------------------------------

    def purge_executions(self, before: datetime, limit: int = 1000) -> int:
        # One transaction per batch: the write lock is never held for long.
        limit = max(1, limit)
        cutoff = codec.to_micros(before)
        total = 0
        while True:
            with self._write("purge executions") as db:
                ids = [row[0] for row in db.execute(lite.PURGE_PICK, (cutoff, limit)).fetchall()]
                if ids:
                    batch = (json.dumps(ids),)
                    for statement in lite.PURGE:
                        db.execute(statement, batch)
            total += len(ids)
            if len(ids) < limit:
                return total


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
