"""SQLite's own part of the store contract that serves the durable runtime.

The flow-slot hold (none: the single writer already serialises executors).
The rest of the runtime methods (processes, the reaper's read, re-queueing,
hand-back, purging, flow slots, flow-trigger state) are the shared ones of :mod:`lanner.store.sql`, which
these classes extend. Mixed into :class:`lanner.store.sqlite.SQLiteStore`
and its executor transaction, whose transactions (the single writer) these
methods use.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import Any

from lanner.store.sql import SqlCycleMethods, SqlMethods

Db = AbstractContextManager[sqlite3.Connection]


class SQLiteMethods(SqlMethods):
    """SQLiteStore's own methods over the shared ones (see the module docstring)."""


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
