"""PostgreSQL's own part of the store contract that serves the durable runtime.

The flow-slot hold (an advisory lock). The rest of the runtime methods
(processes, the reaper's read, re-queueing, hand-back, purging, flow slots,
flow-trigger state) are the shared ones of
:mod:`lanner.store.sql`, which these classes extend. Mixed into
:class:`lanner.store.postgres.PostgresStore` and its executor transaction;
its own SQL is in :mod:`lanner.store.postgressql`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from lanner.store import postgressql as pg
from lanner.store.postgresconn import Conn, Connections, Session
from lanner.store.sql import SqlCycleMethods, SqlMethods


class PostgresMethods(SqlMethods):
    """PostgresStore's own methods over the shared ones (see the module docstring)."""

    _db: Connections  # set by PostgresStore


class PostgresCycleMethods(SqlCycleMethods):
    """The executor-transaction methods for flow concurrency and flow-trigger state."""

    __slots__ = ()

    _session: Session | None  # set by PostgresExecutorTx while the cycle is open

    # Provided by PostgresExecutorTx: the cycle's connection, errors translated.
    def _guard(self, what: str) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def _hold_flow(self, db: Conn, namespace: str, flow_id: str) -> None:
        # Held until the cycle's transaction ends: an executor counting the
        # same flow waits for it. The count must be a separate statement:
        # under READ COMMITTED its snapshot is taken when it starts, so it
        # must start after the lock is granted to see what the previous
        # holder committed.
        db.execute(pg.SLOTS_LOCK, (f"{namespace}\x1f{flow_id}",))

    def put_trigger_state(
        self,
        namespace: str,
        flow_id: str,
        trigger_id: str,
        data: Mapping[str, Any] | None,
        now: datetime,
    ) -> None:
        super().put_trigger_state(namespace, flow_id, trigger_id, data, now)
        if self._session is not None:
            self._session.changed = True
