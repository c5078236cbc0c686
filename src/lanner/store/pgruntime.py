"""PostgresStore's part of the store contract that serves the durable runtime.

Live processes, the lease reaper, hand-back on shutdown, retention, flow
concurrency and flow-trigger state (docs/store.md). Mixed into
:class:`lanner.store.postgres.PostgresStore` and its executor transaction;
the SQL is in :mod:`lanner.store.pgsql`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from lanner.store import codec
from lanner.store import pgsql as sql
from lanner.store.base import Job, NewEvent, ProcessRecord
from lanner.store.pgconn import Conn, Connections, Session


class PgRuntime:
    """The runtime methods of PostgresStore (see the module docstring)."""

    _db: Connections  # set by PostgresStore

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
        with self._db.session("record a process heartbeat") as s:
            s.conn.execute(sql.HEARTBEAT, params)
            s.changed = True

    def list_processes(self) -> list[ProcessRecord]:
        with self._db.session("list processes") as s:
            if self._db.local.session is s:  # inside a cycle: its own view
                rows = s.conn.execute(sql.PROCESSES).fetchall()
                jobs = s.conn.execute(sql.RUNNING_JOBS).fetchall() if rows else []
            else:
                # One snapshot, so that the jobs match the processes.
                with s.conn.transaction():
                    s.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    rows = s.conn.execute(sql.PROCESSES).fetchall()
                    jobs = s.conn.execute(sql.RUNNING_JOBS).fetchall() if rows else []
        return codec.processes_from_rows(rows, jobs)

    def remove_process(self, process_id: str) -> None:
        with self._db.session("remove a process") as s:
            s.changed = s.conn.execute(sql.PROCESS_DELETE, (process_id,)).rowcount > 0

    def prune_processes(self, before: datetime) -> int:
        with self._db.session("prune processes") as s:
            pruned = s.conn.execute(sql.PROCESS_PRUNE, (codec.to_micros(before),)).rowcount
            s.changed = pruned > 0
        return pruned

    # -- the lease reaper and hand-back --------------------------------------------

    def expired_jobs(self, now: datetime, limit: int) -> list[Job]:
        if limit <= 0:
            return []
        with self._db.session("find expired leases") as s:
            rows = s.conn.execute(sql.EXPIRED, (codec.to_micros(now), limit)).fetchall()
        return [codec.job_from_row(row) for row in rows]

    def requeue_job(self, job: Job, event: NewEvent, now: datetime) -> bool:
        fence = (codec.to_micros(now), job.task_run_id, job.attempt, job.claim_token)
        with self._db.session("requeue a job", tx=True) as s:
            # The UPDATE locks the row: a complete_job or a renewal by the old
            # claim waits for this commit, then finds the token gone.
            if s.conn.execute(sql.REQUEUE, fence).rowcount == 0:
                return False  # completed, re-queued or claimed again meanwhile
            s.conn.execute(sql.EVENT_INSERT, codec.event_params(event))
            s.changed = True
        return True

    def release_jobs(self, tokens: Sequence[str]) -> int:
        if not tokens:
            return 0
        with self._db.session("release jobs") as s:
            released = s.conn.execute(sql.RELEASE, (list(tokens),)).rowcount
            s.changed = released > 0
        return released

    # -- retention and counts ------------------------------------------------------

    def purge_executions(self, before: datetime, limit: int = 1000) -> int:
        limit = max(1, limit)
        cutoff = codec.to_micros(before)
        total = 0
        while True:
            with self._db.session("purge executions", tx=True) as s:
                rows = s.conn.execute(sql.PURGE_PICK, (cutoff, limit)).fetchall()
                ids = [row[0] for row in rows]
                if ids:
                    with s.conn.pipeline():
                        for statement in sql.PURGE:
                            s.conn.execute(statement, (ids,))
                    s.changed = True
            total += len(ids)
            if len(ids) < limit:
                return total

    def counts(self) -> Mapping[str, int]:
        with self._db.session("count rows") as s:
            row = s.conn.execute(codec.COUNTS_SQL).fetchone()
        assert row is not None
        return dict(zip(codec.COUNTED, (int(n) for n in row), strict=True))


class PgRuntimeTx:
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
            db.execute(sql.SLOTS_LOCK, (f"{namespace}\x1f{flow_id}",))
            row = db.execute(sql.SLOTS_TAKEN, (namespace, flow_id, excluding)).fetchone()
        assert row is not None
        return int(row[0])

    def oldest_queued(self, namespace: str, flow_id: str) -> str | None:
        with self._guard("find a queued execution") as db:
            # The same lock: without it, a cycle that frees a slot and one
            # that queues an execution could each miss the other's write (the
            # first sees no queued execution, the second counts the slot still
            # taken) and leave that execution queued for ever.
            db.execute(sql.SLOTS_LOCK, (f"{namespace}\x1f{flow_id}",))
            row = db.execute(sql.OLDEST_QUEUED, (namespace, flow_id)).fetchone()
        return None if row is None else str(row[0])

    def trigger_state(
        self, namespace: str, flow_id: str, trigger_id: str
    ) -> Mapping[str, Any] | None:
        with self._guard("read a trigger's state") as db:
            row = db.execute(sql.TRIGGER_STATE, (namespace, flow_id, trigger_id)).fetchone()
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
                db.execute(sql.TRIGGER_DELETE, key)
            else:
                db.execute(sql.TRIGGER_PUT, (*key, codec.dump_value(data), codec.to_micros(now)))
        if self._session is not None:
            self._session.changed = True
