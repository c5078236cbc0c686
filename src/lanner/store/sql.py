"""The SQL both stores share: one text per statement, and the methods that only run them.

The two dialects differ in a few places only: how a job is claimed, how the
executor picks its next execution, how a job is completed, what the data
version is, how connections and transactions work, and the placeholder
(``?`` in sqlite3, ``%s`` in psycopg). Those stay in the dialect modules
(``sqlite*.py``, ``postgres*.py``). Everything else is here, written once:

- :class:`Statements`: every statement whose text is the same on both
  databases but for its placeholders, written with ``?`` and built once per
  dialect at import, so that they stay constant strings (sqlite3's statement
  cache, psycopg's prepared statements). Each dialect's subclass
  (``sqlitesql.SQL``, ``postgressql.SQL``) adds its own statements.
- :class:`SqlMethods`: the store methods whose steps are the same on both
  databases; a dialect lends them connections and transactions through a few
  hooks (``_read``, ``_snapshot``, ``_change``, ``_transaction``).
- :class:`SqlCycleMethods`: the same for the executor's transaction
  (``_guard``, ``_hold_flow``).

Column lists come from :mod:`lanner.store.codec`: one logical schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, ClassVar

from lanner.engine.execution import Execution
from lanner.store import codec, searchsql
from lanner.store.base import EventRow, FlowRecord, Job, LogRecord, NewEvent, ProcessRecord
from lanner.store.kvsql import KVStatements, SqlKVMethods
from lanner.store.purgesql import SqlPurgeMethods
from lanner.store.search import ExecutionPage, ExecutionSearch
from lanner.store.triggersql import SqlTriggerMethods, TriggerStatements

ERROR_LOG_PAGE = 500

FLOW_COLUMNS = "namespace, id, revision, source, updated_at"
LOG_COLUMNS = "execution_id, task_id, task_run_id, attempt, timestamp, level, message"


def _marks(n: int) -> str:
    return ", ".join(["?"] * n)


class Statements:
    """The shared statements, with one dialect's placeholder (see the module docstring)."""

    def __init__(self, placeholder: str) -> None:
        def p(text: str) -> str:
            # No statement has a "?" or a "%" of its own: every "?" is a placeholder.
            return text if placeholder == "?" else text.replace("?", placeholder)

        self.placeholder = placeholder

        # -- schema --------------------------------------------------------------
        self.SCHEMA_CURRENT = "SELECT max(version) FROM schema_version"
        self.SCHEMA_RECORD = p(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)"
        )

        # -- flows ---------------------------------------------------------------
        self.FLOW_LATEST = p(
            f"SELECT {FLOW_COLUMNS}, deleted FROM flow WHERE namespace = ? AND id = ?"
            " ORDER BY revision DESC LIMIT 1"
        )
        self.FLOW_REVISION = p(
            f"SELECT {FLOW_COLUMNS} FROM flow WHERE namespace = ? AND id = ? AND revision = ?"
        )
        # TRUE and FALSE are 1 and 0 on SQLite, BOOLEAN on PostgreSQL.
        self.FLOW_INSERT = p(
            f"INSERT INTO flow ({FLOW_COLUMNS}, deleted) VALUES ({_marks(5)}, FALSE)"
        )
        self.FLOW_LIST = (
            f"SELECT {FLOW_COLUMNS} FROM flow AS f WHERE NOT deleted AND revision ="
            " (SELECT max(revision) FROM flow AS g WHERE g.namespace = f.namespace AND g.id = f.id)"
            " ORDER BY namespace, id"
        )
        self.FLOW_DELETE = p(
            "UPDATE flow SET deleted = TRUE WHERE namespace = ? AND id = ? AND NOT deleted"
        )

        # -- executions and task runs --------------------------------------------
        self.EXEC_LIST = f"SELECT {codec.EXECUTION_COLUMNS} FROM execution"
        self.EXEC_ORDER = p(" ORDER BY created_at DESC, id DESC LIMIT ?")
        self.EXEC_SELECT = p(f"SELECT {codec.EXECUTION_COLUMNS} FROM execution WHERE id = ?")
        self.EXEC_INSERT = p(
            f"INSERT INTO execution ({codec.EXECUTION_COLUMNS})"
            f" VALUES ({_marks(codec.EXECUTION_COLUMN_COUNT)})"
            " ON CONFLICT (id) DO NOTHING"
        )
        self.EXEC_UPDATE = p(
            "UPDATE execution SET state = ?, state_history = ?, inputs = ?, outputs = ?,"
            " labels = ?, variables = ?, trigger = ?, error = ?, secret_inputs = ?,"
            " terminal_at = ?, finalized_at = ?, version = ? WHERE id = ? AND version = ?"
        )
        self.RUNS_SELECT = p(
            f"SELECT {codec.TASK_RUN_COLUMNS} FROM task_run WHERE execution_id = ? ORDER BY seq"
        )
        # Identity columns (they make the id) and seq (creation order) never
        # change; leaving them out of the SET spares the index on
        # (execution_id, seq) a write.
        self.RUN_UPSERT = p(
            f"INSERT INTO task_run ({codec.TASK_RUN_COLUMNS}) VALUES ({_marks(15)})"
            " ON CONFLICT (id) DO UPDATE SET state = excluded.state,"
            " histories = excluded.histories, attempts = excluded.attempts,"
            " outputs = excluded.outputs, error = excluded.error, memo = excluded.memo,"
            " generation = excluded.generation"
        )

        # -- jobs and events -----------------------------------------------------
        self.JOB_INSERT = p(
            "INSERT INTO job (task_run_id, attempt, execution_id, payload, run_after)"
            f" VALUES ({_marks(5)}) ON CONFLICT (task_run_id, attempt) DO NOTHING"
        )
        self.JOB_INSERT_CLAIMED = p(
            "INSERT INTO job (task_run_id, attempt, execution_id, payload, run_after,"
            " claim_token, claimed_by, lease_expires_at, claims)"
            f" VALUES ({_marks(8)}, 1) ON CONFLICT (task_run_id, attempt) DO NOTHING"
        )
        self.EVENT_INSERT = p(
            "INSERT INTO execution_event (execution_id, kind, payload, visible_at, dedup_key)"
            f" VALUES ({_marks(5)}) ON CONFLICT (dedup_key) DO NOTHING"
        )
        self.EVENTS = p(
            "SELECT id, execution_id, kind, payload, visible_at FROM execution_event"
            " WHERE execution_id = ? AND visible_at <= ? ORDER BY id"
        )
        # claims is kept: the next claim counts this one (max claims, "worker lost").
        self.REQUEUE = p(
            "UPDATE job SET claim_token = NULL, claimed_by = NULL, lease_expires_at = NULL,"
            " run_after = ? WHERE task_run_id = ? AND attempt = ? AND claim_token = ?"
        )

        # -- logs ----------------------------------------------------------------
        self.LOG_SELECT = p(f"SELECT {LOG_COLUMNS} FROM log WHERE execution_id = ? ORDER BY id")
        self.LOG_ERRORS = p(
            f"SELECT id, {LOG_COLUMNS} FROM log WHERE execution_id = ? AND level = 'ERROR'"
            " AND id > ? ORDER BY id LIMIT ?"
        )
        self.LOG_INSERT = p(f"INSERT INTO log ({LOG_COLUMNS}) VALUES ({_marks(7)})")

        # -- live processes ------------------------------------------------------
        # started_at is written by the first heartbeat only.
        self.HEARTBEAT = p(
            f"INSERT INTO worker ({codec.PROCESS_COLUMNS}) VALUES ({_marks(7)})"
            " ON CONFLICT (id) DO UPDATE SET role = excluded.role, host = excluded.host,"
            " pid = excluded.pid, heartbeat_at = excluded.heartbeat_at, info = excluded.info"
        )
        self.PROCESSES = f"SELECT {codec.PROCESS_COLUMNS} FROM worker ORDER BY role, id"
        self.RUNNING_JOBS = (
            f"SELECT {codec.RUNNING_JOB_COLUMNS} FROM job WHERE claim_token IS NOT NULL"
            " AND claimed_by IN (SELECT id FROM worker) ORDER BY execution_id, task_run_id, attempt"
        )
        self.PROCESS_DELETE = p("DELETE FROM worker WHERE id = ?")
        self.PROCESS_PRUNE = p("DELETE FROM worker WHERE heartbeat_at < ?")

        # -- flow concurrency and flow-trigger state -----------------------------
        self.SLOTS_TAKEN = p(
            "SELECT count(*) FROM execution WHERE namespace = ? AND flow_id = ?"
            " AND finalized_at IS NULL AND state NOT IN ('CREATED', 'QUEUED') AND id <> ?"
        )
        self.OLDEST_QUEUED = p(
            "SELECT id FROM execution WHERE namespace = ? AND flow_id = ? AND state = 'QUEUED'"
            " AND finalized_at IS NULL ORDER BY created_at, id LIMIT 1"
        )
        self.TRIGGER_STATE = p(
            "SELECT data FROM flow_trigger_state"
            " WHERE namespace = ? AND flow_id = ? AND trigger_id = ?"
        )
        self.TRIGGER_PUT = p(
            "INSERT INTO flow_trigger_state (namespace, flow_id, trigger_id, data, updated_at)"
            f" VALUES ({_marks(5)}) ON CONFLICT (namespace, flow_id, trigger_id)"
            " DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at"
        )
        self.TRIGGER_DELETE = p(
            "DELETE FROM flow_trigger_state WHERE namespace = ? AND flow_id = ? AND trigger_id = ?"
        )

        # -- the KV store (kvsql) ------------------------------------------------
        self.kv = KVStatements(placeholder)
        # -- the trigger runtime's contexts (triggersql) --------------------------
        self.triggers = TriggerStatements(placeholder)

    # The dialect's own statements that the shared methods run, set by its subclass.
    FLOW_LOCK: str | None = None  # held by a deploy until it commits (none: a single writer)
    EXPIRED: str  # claimed jobs whose lease ended before ?, oldest first, at most ?
    RELEASE: str  # unclaim the jobs of the tokens in ?
    EXEC_VERSION: str  # an execution's version; PostgreSQL locks its row (a cycle holds it)
    PURGE_PICK: str  # ids of executions finalized before ?, oldest first, at most ?
    DELETE_PICK: str  # the id ? if that execution is finalized (locked where rows lock)
    PURGE: tuple[str, ...]  # delete the rows of the executions whose ids are in ?, table by table

    def ids(self, values: Sequence[str]) -> Any:
        """`values` as the one parameter that stands for a list of ids."""
        raise NotImplementedError

    def log_rows(self, records: Sequence[LogRecord]) -> list[tuple[Any, ...]]:
        """The parameters of LOG_INSERT for `records`."""
        return [codec.log_params(r) for r in records]


Db = AbstractContextManager[Any]


class SqlMethods(SqlKVMethods, SqlTriggerMethods, SqlPurgeMethods):
    """The store methods that are the same statements on both dialects.

    A dialect provides :attr:`sql` (its :class:`Statements`), ``_read(what)``
    (a connection for reads, joining the calling thread's executor cycle if
    one is open), ``_snapshot(what)`` (the same, where several reads must see
    one state of the database), ``_change(what, query, params)`` (one
    data-changing statement, committed on its own; it returns the row count,
    and a dialect that signals changes to other processes signals it when rows
    changed) and ``_transaction(what)`` (a write transaction: an object with
    ``conn`` and ``changed``, to be set when the transaction wrote something).
    """

    sql: ClassVar[Statements]

    @property
    def kv_sql(self) -> KVStatements:
        return self.sql.kv

    @property
    def purge_sql(self) -> Statements:
        return self.sql

    def _read(self, what: str) -> Db:
        raise NotImplementedError

    def _snapshot(self, what: str) -> Db:
        raise NotImplementedError

    def _change(self, what: str, query: str, params: tuple[Any, ...]) -> int:
        raise NotImplementedError

    def _transaction(self, what: str) -> Db:
        raise NotImplementedError

    def _json_memo(self) -> codec.JsonMemo:
        """The calling thread's memo of encoded values (used inside `_transaction`)."""
        raise NotImplementedError

    # -- flows -----------------------------------------------------------------

    def get_flow(
        self, namespace: str, flow_id: str, revision: int | None = None
    ) -> FlowRecord | None:
        sql = self.sql
        with self._read("read a flow") as db:
            if revision is None:
                row = db.execute(sql.FLOW_LATEST, (namespace, flow_id)).fetchone()
                if row is not None and row[5]:
                    return None
            else:
                row = db.execute(sql.FLOW_REVISION, (namespace, flow_id, revision)).fetchone()
        return None if row is None else codec.flow_from_row(row)

    def deploy_flow(self, namespace: str, flow_id: str, source: str) -> tuple[int, bool]:
        sql = self.sql
        with self._transaction("deploy a flow") as s:
            db = s.conn
            if sql.FLOW_LOCK is not None:
                # Two processes deploying one flow must not both take revision n+1.
                db.execute(sql.FLOW_LOCK, (f"{namespace}\x1f{flow_id}",))
            latest = db.execute(sql.FLOW_LATEST, (namespace, flow_id)).fetchone()
            if latest is not None and not latest[5] and latest[3] == source:
                return int(latest[2]), False
            revision = 1 if latest is None else int(latest[2]) + 1
            now = codec.to_micros(datetime.now(UTC))
            db.execute(sql.FLOW_INSERT, (namespace, flow_id, revision, source, now))
            s.changed = True
            return revision, True

    def list_flows(self) -> list[FlowRecord]:
        with self._read("list flows") as db:
            return [codec.flow_from_row(row) for row in db.execute(self.sql.FLOW_LIST).fetchall()]

    def delete_flow(self, namespace: str, flow_id: str) -> bool:
        return self._change("delete a flow", self.sql.FLOW_DELETE, (namespace, flow_id)) > 0

    # -- executions ------------------------------------------------------------

    def list_executions(
        self,
        *,
        namespace: str | None = None,
        flow_id: str | None = None,
        limit: int = 50,
        state: str | None = None,
    ) -> list[Execution]:
        sql = self.sql
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("namespace", namespace), ("flow_id", flow_id), ("state", state)):
            if value is not None:
                where.append(f"{column} = {sql.placeholder}")
                params.append(value)
        query = sql.EXEC_LIST + (" WHERE " + " AND ".join(where) if where else "") + sql.EXEC_ORDER
        with self._read("list executions") as db:
            found = db.execute(query, (*params, limit)).fetchall()
        return [codec.execution_from_row(row, ()) for row in found]

    def search_executions(self, search: ExecutionSearch) -> ExecutionPage:
        page, params, count, count_params = searchsql.build(search, self.sql.placeholder)
        # One snapshot: the total, the page and its task runs agree.
        open_db = self._snapshot if count is not None or search.task_runs else self._read
        with open_db("search executions") as db:
            found = db.execute(page, params).fetchall()
            total = int(db.execute(count, count_params).fetchone()[0]) if count else 0
            runs: dict[str, list[Any]] = {row[0]: [] for row in found}
            if search.task_runs and found:
                query = searchsql.task_runs_of(len(found), self.sql.placeholder)
                for run in db.execute(query, tuple(runs)).fetchall():
                    runs[run[1]].append(run)
        executions = [codec.execution_from_row(row, runs[row[0]]) for row in found]
        return ExecutionPage(executions, total)

    def create_execution(self, execution: Execution, events: Sequence[NewEvent]) -> None:
        """Insert the execution, its task runs and its events together.

        Creating an execution whose id exists is a no-op (nothing is written):
        triggers use deterministic ids, so a trigger that fires twice creates one.
        """
        memo = self._json_memo()
        with self._transaction("create an execution") as s:
            if insert_execution(self.sql, s.conn, execution, events, memo):
                s.changed = True

    def purge_executions(self, before: datetime, limit: int = 1000) -> int:
        sql = self.sql
        limit = max(1, limit)
        cutoff = codec.to_micros(before)
        total = 0
        while True:
            # One transaction per batch: no lock is held for long.
            with self._transaction("purge executions") as s:
                ids = [row[0] for row in s.conn.execute(sql.PURGE_PICK, (cutoff, limit))]
                if ids:
                    batch = (sql.ids(ids),)
                    for statement in sql.PURGE:
                        s.conn.execute(statement, batch)
                    s.changed = True
            total += len(ids)
            if len(ids) < limit:
                return total

    def delete_execution(self, execution_id: str) -> bool:
        sql = self.sql
        with self._transaction("delete an execution") as s:
            if s.conn.execute(sql.DELETE_PICK, (execution_id,)).fetchone() is None:
                return False
            batch = (sql.ids([execution_id]),)
            for statement in sql.PURGE:
                s.conn.execute(statement, batch)
            s.changed = True
        return True

    def get_execution(self, execution_id: str) -> Execution | None:
        # One snapshot, so that the task runs match the execution row.
        with self._snapshot("read an execution") as db:
            return read_execution(self.sql, db, execution_id)

    def get_execution_head(self, execution_id: str) -> Execution | None:
        with self._read("read an execution") as db:
            row = db.execute(self.sql.EXEC_SELECT, (execution_id,)).fetchone()
        return None if row is None else codec.execution_from_row(row, ())

    def add_event(self, event: NewEvent) -> bool:
        params = codec.event_params(event)
        return self._change("add an event", self.sql.EVENT_INSERT, params) == 1

    # -- logs ------------------------------------------------------------------

    def append_logs(self, records: Sequence[LogRecord]) -> None:
        if records:
            with self._transaction("append logs") as s:
                s.conn.cursor().executemany(self.sql.LOG_INSERT, self.sql.log_rows(records))
                s.changed = True

    def get_logs(self, execution_id: str) -> list[LogRecord]:
        with self._read("read logs") as db:
            rows = db.execute(self.sql.LOG_SELECT, (execution_id,)).fetchall()
        return [codec.log_from_row(row) for row in rows]

    def iter_error_logs(self, execution_id: str) -> Iterator[LogRecord]:
        # Pages by id rather than one open cursor: a cursor left half-read by
        # the caller would hold a connection and pin a read snapshot (on
        # SQLite, it would stall WAL checkpoints).
        last = 0
        while True:
            with self._read("read logs") as db:
                params = (execution_id, last, ERROR_LOG_PAGE)
                page = db.execute(self.sql.LOG_ERRORS, params).fetchall()
            for row in page:
                yield codec.log_from_row(row[1:])
            if len(page) < ERROR_LOG_PAGE:
                return
            last = page[-1][0]

    # -- live processes --------------------------------------------------------

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
        self._change("record a process heartbeat", self.sql.HEARTBEAT, params)

    def list_processes(self) -> list[ProcessRecord]:
        sql = self.sql
        # One snapshot, so that the jobs match the processes.
        with self._snapshot("list processes") as db:
            rows = db.execute(sql.PROCESSES).fetchall()
            jobs = db.execute(sql.RUNNING_JOBS).fetchall() if rows else []
        return codec.processes_from_rows(rows, jobs)

    def remove_process(self, process_id: str) -> None:
        self._change("remove a process", self.sql.PROCESS_DELETE, (process_id,))

    def prune_processes(self, before: datetime) -> int:
        return self._change("prune processes", self.sql.PROCESS_PRUNE, (codec.to_micros(before),))

    # -- the lease reaper, hand-back and counts --------------------------------

    def expired_jobs(self, now: datetime, limit: int) -> list[Job]:
        if limit <= 0:
            return []
        with self._read("find expired leases") as db:
            rows = db.execute(self.sql.EXPIRED, (codec.to_micros(now), limit)).fetchall()
        return [codec.job_from_row(row) for row in rows]

    def requeue_job(self, job: Job, event: NewEvent, now: datetime) -> bool:
        sql = self.sql
        fence = (codec.to_micros(now), job.task_run_id, job.attempt, job.claim_token)
        with self._transaction("requeue a job") as s:
            # On PostgreSQL the UPDATE locks the row: a complete_job or a
            # renewal by the old claim waits for this commit, then finds the
            # token gone. On SQLite the single writer orders them.
            if s.conn.execute(sql.REQUEUE, fence).rowcount == 0:
                return False  # completed, re-queued or claimed again meanwhile
            s.conn.execute(sql.EVENT_INSERT, codec.event_params(event))
            s.changed = True
        return True

    def release_jobs(self, tokens: Sequence[str]) -> int:
        if not tokens:
            return 0
        sql = self.sql
        return self._change("release jobs", sql.RELEASE, (sql.ids(tokens),))

    def counts(self) -> Mapping[str, int]:
        with self._read("count rows") as db:
            row = db.execute(codec.COUNTS_SQL).fetchone()
        return dict(zip(codec.COUNTED, (int(n) for n in row), strict=True))


class SqlCycleMethods:
    """The executor-transaction methods that are the same statements on both dialects.

    A dialect provides :attr:`sql`, ``_guard(what)`` (the cycle's
    connection, its driver errors translated) and ``_hold_flow(db, namespace,
    flow_id)``, which makes the executors that count one flow's concurrency
    slots take turns until the cycle ends.
    """

    __slots__ = ()

    sql: ClassVar[Statements]

    def _guard(self, what: str) -> Db:
        raise NotImplementedError

    def _hold_flow(self, db: Any, namespace: str, flow_id: str) -> None:
        raise NotImplementedError

    def slots_taken(self, namespace: str, flow_id: str, excluding: str) -> int:
        with self._guard("count concurrency slots") as db:
            self._hold_flow(db, namespace, flow_id)
            row = db.execute(self.sql.SLOTS_TAKEN, (namespace, flow_id, excluding)).fetchone()
        return int(row[0])

    def oldest_queued(self, namespace: str, flow_id: str) -> str | None:
        with self._guard("find a queued execution") as db:
            # The same hold: without it, a cycle that frees a slot and one
            # that queues an execution could each miss the other's write (the
            # first sees no queued execution, the second counts the slot still
            # taken) and leave that execution queued for ever.
            self._hold_flow(db, namespace, flow_id)
            row = db.execute(self.sql.OLDEST_QUEUED, (namespace, flow_id)).fetchone()
        return None if row is None else str(row[0])

    def load(self, execution_id: str, cached: Execution | None = None) -> Execution | None:
        sql = self.sql
        with self._guard("load an execution") as db:
            row = db.execute(sql.EXEC_VERSION, (execution_id,)).fetchone()
            if row is None:
                return None
            # The hot path: the executor keeps executions in memory between cycles.
            if cached is not None and cached.id == execution_id and cached.version == row[0]:
                return cached
            return read_execution(sql, db, execution_id)

    def trigger_state(
        self, namespace: str, flow_id: str, trigger_id: str
    ) -> Mapping[str, Any] | None:
        with self._guard("read a trigger's state") as db:
            row = db.execute(self.sql.TRIGGER_STATE, (namespace, flow_id, trigger_id)).fetchone()
        return None if row is None else codec.load_mapping(row[0])

    def put_trigger_state(
        self,
        namespace: str,
        flow_id: str,
        trigger_id: str,
        data: Mapping[str, Any] | None,
        now: datetime,
    ) -> None:
        sql = self.sql
        key = (namespace, flow_id, trigger_id)
        with self._guard("save a trigger's state") as db:
            if data is None:
                db.execute(sql.TRIGGER_DELETE, key)
            else:
                db.execute(sql.TRIGGER_PUT, (*key, codec.dump_value(data), codec.to_micros(now)))


def insert_execution(
    sql: Statements,
    db: Any,
    execution: Execution,
    events: Sequence[NewEvent],
    memo: codec.JsonMemo,
) -> bool:
    """Insert the execution, its task runs and its events in the caller's transaction;
    False (nothing written) when an execution with its id exists."""
    params = codec.execution_params(execution, execution.version, memo)
    if not db.execute(sql.EXEC_INSERT, params).rowcount:
        return False
    if execution.task_runs:
        runs = [codec.task_run_params(t, memo) for t in execution.ordered_task_runs()]
        db.cursor().executemany(sql.RUN_UPSERT, runs)
    if events:  # those whose dedup key exists are dropped
        db.cursor().executemany(sql.EVENT_INSERT, [codec.event_params(e) for e in events])
    return True


def read_execution(sql: Statements, db: Any, execution_id: str) -> Execution | None:
    """The execution and its task runs, as `db` sees them (the caller picks the snapshot)."""
    row = db.execute(sql.EXEC_SELECT, (execution_id,)).fetchone()
    if row is None:
        return None
    return codec.execution_from_row(row, db.execute(sql.RUNS_SELECT, (execution_id,)).fetchall())


def event_rows(rows: list[Any]) -> list[EventRow]:
    """Rows of ``Statements.EVENTS`` as EventRows."""
    return [EventRow(i, e, k, codec.load_value(p), codec.from_micros(v)) for i, e, k, p, v in rows]
