"""PostgresStore's part of the store contract that serves the durable runtime.

Live processes, the lease reaper, hand-back on shutdown, retention, flow
concurrency and flow-trigger state (docs/store.md). Mixed into
:class:`lanner.store.postgres.PostgresStore` and its executor transaction;
the SQL is in :mod:`lanner.store.postgressql`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from lanner.store import codec
from lanner.store import postgressql as pg
from lanner.store.base import Job, NewEvent, ProcessRecord
from lanner.store.postgresconn import Conn, Connections, Session
from lanner.store.sql import POSTGRES as SQL
from lanner.store.sql import SqlCycleMethods, SqlMethods


class PostgresRuntime(SqlMethods):
    """The runtime methods of PostgresStore (see the module docstring)."""

    _db: Connections  # set by PostgresStore

    # -- processes -------------------------------------------------------------

    def list_processes(self) -> list[ProcessRecord]:
        with self._db.session("list processes") as s:
            if self._db.local.session is s:  # inside a cycle: its own view
                rows = s.conn.execute(SQL.PROCESSES).fetchall()
                jobs = s.conn.execute(SQL.RUNNING_JOBS).fetchall() if rows else []
            else:
                # One snapshot, so that the jobs match the processes.
                with s.conn.transaction():
                    s.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    rows = s.conn.execute(SQL.PROCESSES).fetchall()
                    jobs = s.conn.execute(SQL.RUNNING_JOBS).fetchall() if rows else []
        return codec.processes_from_rows(rows, jobs)

    # -- the lease reaper and hand-back --------------------------------------------

    def expired_jobs(self, now: datetime, limit: int) -> list[Job]:
        if limit <= 0:
            return []
        with self._db.session("find expired leases") as s:
            rows = s.conn.execute(pg.EXPIRED, (codec.to_micros(now), limit)).fetchall()
        return [codec.job_from_row(row) for row in rows]

    def requeue_job(self, job: Job, event: NewEvent, now: datetime) -> bool:
        fence = (codec.to_micros(now), job.task_run_id, job.attempt, job.claim_token)
        with self._db.session("requeue a job", tx=True) as s:
            # The UPDATE locks the row: a complete_job or a renewal by the old
            # claim waits for this commit, then finds the token gone.
            if s.conn.execute(SQL.REQUEUE, fence).rowcount == 0:
                return False  # completed, re-queued or claimed again meanwhile
            s.conn.execute(SQL.EVENT_INSERT, codec.event_params(event))
            s.changed = True
        return True

    def release_jobs(self, tokens: Sequence[str]) -> int:
        if not tokens:
            return 0
        with self._db.session("release jobs") as s:
            released = s.conn.execute(pg.RELEASE, (list(tokens),)).rowcount
            s.changed = released > 0
        return released

    # -- retention and counts ------------------------------------------------------

    def purge_executions(self, before: datetime, limit: int = 1000) -> int:
        limit = max(1, limit)
        cutoff = codec.to_micros(before)
        total = 0
        while True:
            with self._db.session("purge executions", tx=True) as s:
                rows = s.conn.execute(pg.PURGE_PICK, (cutoff, limit)).fetchall()
                ids = [row[0] for row in rows]
                if ids:
                    with s.conn.pipeline():
                        for statement in pg.PURGE:
                            s.conn.execute(statement, (ids,))
                    s.changed = True
            total += len(ids)
            if len(ids) < limit:
                return total


class PostgresRuntimeTx(SqlCycleMethods):
    """The executor-transaction methods for flow concurrency and flow-trigger state."""

    __slots__ = ()

    _session: Session | None  # set by PostgresExecutorTx while the cycle is open

    # Provided by PostgresExecutorTx: the cycle's connection, errors translated.
    def _guard(self, what: str) -> AbstractContextManager[Conn]:
        raise NotImplementedError

    def slots_taken(self, namespace: str, flow_id: str, excluding: str) -> int:
        with self._guard("count concurrency slots") as db:
            # Two statements, not one: under READ COMMITTED the count's
            # snapshot is taken when it starts, so it must start after the
            # lock is granted to see what the previous holder committed.
            db.execute(pg.SLOTS_LOCK, (f"{namespace}\x1f{flow_id}",))
            row = db.execute(SQL.SLOTS_TAKEN, (namespace, flow_id, excluding)).fetchone()
        assert row is not None
        return int(row[0])

    def oldest_queued(self, namespace: str, flow_id: str) -> str | None:
        with self._guard("find a queued execution") as db:
            # The same lock: without it, a cycle that frees a slot and one
            # that queues an execution could each miss the other's write (the
            # first sees no queued execution, the second counts the slot still
            # taken) and leave that execution queued for ever.
            db.execute(pg.SLOTS_LOCK, (f"{namespace}\x1f{flow_id}",))
            row = db.execute(SQL.OLDEST_QUEUED, (namespace, flow_id)).fetchone()
        return None if row is None else str(row[0])

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
