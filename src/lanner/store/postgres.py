"""PostgresStore: the store shared by any number of Lanner processes on any number of machines.

Concurrency model (DESIGN.md, "Exactly-once effects"):

- A small psycopg connection pool per store object (per process), shared by
  the executor thread and the worker threads. Connections are in autocommit
  mode: a method that is one statement (claim, renew, add an event) is one
  round trip; a method that writes several rows opens a transaction.
- One executor decides for one execution at a time: ``next_execution``
  locks the execution row with ``FOR UPDATE SKIP LOCKED``, so executors on
  other machines pass over it (never wait for it) until the cycle commits.
  Executors work on different executions in parallel, unlike SQLite's single
  writer. ``write`` still checks the execution's version (optimistic), so a
  cycle that did not come through ``next_execution`` is safe too.
- Workers claim with ``UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED)``:
  concurrent claimers take disjoint jobs without waiting for each other.
- READ COMMITTED everywhere except ``get_execution``, which reads the
  execution and its task runs in one REPEATABLE READ snapshot.
- A store method called on a thread that is inside its own ``executor_tx()``
  runs in that transaction (a write in a savepoint): it sees the cycle's
  writes and does not take a second connection from the pool.

Connections, the pool and error translation live in
:mod:`lanner.store.postgresconn`, PostgreSQL's own SQL in
:mod:`lanner.store.postgressql`; the statements and methods shared with SQLite
in :mod:`lanner.store.sql`. Schema and dates as on SQLite
(``migrations/postgres/0001_initial.sql``): BIGINT epoch microseconds and TEXT
JSON documents, so :mod:`lanner.store.codec` is shared. Every psycopg error
leaves as a StoreError.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import psycopg

from lanner.engine.execution import Execution
from lanner.errors import StoreError
from lanner.store import codec, migrations
from lanner.store import postgressql as pg
from lanner.store.base import (
    CycleWrite,
    EventRow,
    Job,
    LogRecord,
    NewEvent,
    Renewal,
    Scope,
)
from lanner.store.postgresconn import POOL_MAX_SIZE, Conn, Connections, Session
from lanner.store.postgresmethods import PostgresCycleMethods, PostgresMethods
from lanner.store.postgressql import SQL
from lanner.store.sql import event_rows, read_execution

# An executor that finds the execution it picked already consumed by another
# executor (which committed in between) looks again, a few times at most.
_PICK_ATTEMPTS = 4


class PostgresStore(PostgresMethods):
    """The Store protocol on one PostgreSQL database (see the module docstring)."""

    concurrent_writers = True
    sql = SQL

    def __init__(self, url: str, *, max_connections: int = POOL_MAX_SIZE) -> None:
        self._db = Connections(url, max_connections)
        self.url = self._db.url  # with any password replaced by ***
        self.where = self._db.where  # host:port, for messages

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r})"

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _read(self, what: str) -> Iterator[Conn]:
        with self._db.session(what) as s:
            yield s.conn

    def _transaction(self, what: str) -> contextlib.AbstractContextManager[Session]:
        return self._db.session(what, tx=True)

    def _json_memo(self) -> codec.JsonMemo:
        return self._db.local.json_memo()

    @contextlib.contextmanager
    def _snapshot(self, what: str) -> Iterator[Conn]:
        with self._db.session(what) as s:
            if self._db.local.session is s:  # inside a cycle: its own view
                yield s.conn
                return
            s.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield s.conn
            except BaseException:
                with contextlib.suppress(psycopg.Error):  # the first error is the one to report
                    s.conn.execute("ROLLBACK")
                raise
            s.conn.execute("COMMIT")

    def _change(self, what: str, query: str, params: tuple[Any, ...]) -> int:
        # Autocommit: the statement is its own transaction.
        with self._db.session(what) as s:
            changed = s.conn.execute(query, params).rowcount
            s.changed |= changed > 0  # never unset: the session may be an executor cycle's
        return changed

    def migrate(self) -> None:
        """Apply the migrations this database lacks; safe to run from many processes at once."""
        pending = migrations.load("postgres")
        with self._db.session("migrate the schema") as s:
            # Fast path, no lock: most opens find the schema current.
            if s.conn.execute(pg.SCHEMA_EXISTS).fetchone() == (True,):
                row = s.conn.execute(SQL.SCHEMA_CURRENT).fetchone()
                if row is not None and row[0] is not None and row[0] >= pending[-1].version:
                    return
        with self._db.session("migrate the schema", tx=True) as s:
            db = s.conn
            # Held until the commit: other processes wait here, then find the
            # schema current. CREATE TABLE is transactional on PostgreSQL, so
            # a failed migration leaves nothing behind.
            db.execute("SELECT pg_advisory_xact_lock(%s)", (pg.MIGRATE_LOCK,))
            db.execute(pg.SCHEMA_VERSION_TABLE)
            row = db.execute(SQL.SCHEMA_CURRENT).fetchone()
            current = 0 if row is None or row[0] is None else int(row[0])
            for migration in pending:
                if migration.version <= current:
                    continue
                db.execute(migration.sql.encode())  # a script: no parameters, several statements
                db.execute(
                    SQL.SCHEMA_RECORD,
                    (migration.version, migration.name, codec.to_micros(datetime.now(UTC))),
                )
                s.changed = True

    # -- executions ------------------------------------------------------------

    def has_due_events(self, now: datetime, scope: Scope = None) -> bool:
        if scope is not None and not scope:
            return False
        with self._db.session("look for due events") as s:
            if scope is None:
                row = s.conn.execute(pg.HAS_DUE_EVENTS, (codec.to_micros(now),)).fetchone()
            else:
                params = (codec.to_micros(now), list(scope))
                row = s.conn.execute(pg.HAS_DUE_EVENTS_SCOPED, params).fetchone()
        return row is not None and bool(row[0])

    def executor_tx(self) -> PostgresExecutorTx:
        return PostgresExecutorTx(self._db)

    def data_version(self) -> int:
        """A counter bumped after every commit that changed something, by any process.

        A wake-up hint only: it is bumped just after the commit (a crash in
        between loses the bump), and it never says what changed.
        """
        with self._db.session("read the data version") as s:
            row = s.conn.execute(pg.DATA_VERSION).fetchone()
        assert row is not None
        return int(row[0]) if row[1] else 0

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
        tail = (limit, process_id, codec.to_micros(expires))
        # No data-version bump: nobody waits for a claim, and a bump would send
        # every other worker to claim in vain.
        with self._db.session("claim jobs") as s:
            if scope is None:
                claimed = s.conn.execute(pg.CLAIM, (codec.to_micros(now), *tail)).fetchall()
            else:
                params = (codec.to_micros(now), list(scope), *tail)
                claimed = s.conn.execute(pg.CLAIM_SCOPED, params).fetchall()
        return codec.claimed_jobs(claimed, expires)

    def renew_leases(
        self, process_id: str, tokens: Sequence[str], lease_seconds: float, now: datetime
    ) -> Renewal:
        if not tokens:
            return Renewal(frozenset(), frozenset())
        expires = codec.to_micros(now + timedelta(seconds=lease_seconds))
        with self._db.session("renew leases") as s:  # no bump either: nobody waits for it
            renewed = s.conn.execute(pg.RENEW, (expires, process_id, list(tokens))).fetchall()
        return codec.renewal(tokens, renewed)

    def complete_job(self, job: Job, event: NewEvent, logs: Sequence[LogRecord] = ()) -> bool:
        columns = [list(c) for c in zip(*_log_rows(logs), strict=True)] or [[]] * 7
        params = (job.task_run_id, job.attempt, job.claim_token, *codec.event_params(event))
        with self._db.session("complete a job") as s:
            row = s.conn.execute(pg.JOB_COMPLETE, (*params, *columns)).fetchone()
            # None of it is written for a zombie (its job completed or claimed again).
            done = bool(row and row[0])
            s.changed |= done  # never unset: the session may be an executor cycle's
        return done

    def job_started(self, job: Job, event: NewEvent) -> bool:
        params = (job.task_run_id, job.attempt, job.claim_token, *codec.event_params(event))
        with self._db.session("record a job start") as s:
            row = s.conn.execute(pg.JOB_STARTED, params).fetchone()
            started = bool(row and row[0])
            s.changed |= started
        return started


class PostgresExecutorTx(PostgresCycleMethods):
    """The executor's cycle: one transaction on one connection, from enter to exit."""

    __slots__ = ("_cm", "_db", "_prefetched", "_session")

    sql = SQL

    def __init__(self, db: Connections) -> None:
        self._db = db
        self._cm: contextlib.AbstractContextManager[Session] | None = None
        self._session: Session | None = None
        self._prefetched: tuple[str, datetime, list[EventRow]] | None = None

    def __enter__(self) -> PostgresExecutorTx:
        db = self._db
        if db.local.session is not None:
            raise StoreError("an executor cycle is already open on this thread")
        cm = db.session("run an executor cycle", tx=True)
        self._session = cm.__enter__()
        self._cm = cm
        db.local.session = self._session
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._db.local.session = None
        cm, self._cm, self._session = self._cm, None, None
        assert cm is not None
        # Commit, or roll back; a driver error leaves as StoreError, any other
        # exception goes on as it is (never suppressed).
        cm.__exit__(exc_type, exc, tb)

    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[Conn]:
        # Each method translates driver errors itself: a caller may catch
        # errors inside the `with` block, and nothing above the store sees psycopg.
        session = self._session
        if session is None:
            raise StoreError(f"cannot {what}: the executor cycle is not open")
        try:
            yield session.conn
        except psycopg.Error as exc:
            raise self._db.error(exc, what) from exc

    def next_execution(self, now: datetime, scope: Scope = None) -> str | None:
        if scope is not None and not scope:
            return None
        micros = codec.to_micros(now)
        skipped: list[str] = []
        with self._guard("find the next execution") as db:
            for _ in range(_PICK_ATTEMPTS):
                if scope is None:
                    row = db.execute(pg.NEXT_EXECUTION, (micros, skipped)).fetchone()
                else:
                    params = (micros, list(scope), skipped)
                    row = db.execute(pg.NEXT_EXECUTION_SCOPED, params).fetchone()
                if row is None:
                    return None
                execution_id = str(row[0])
                # Read in a new snapshot, now that the row is ours: another
                # executor may have consumed the events that made us pick it
                # and committed just before we locked it.
                events = _events(db, execution_id, micros)
                if events:
                    self._prefetched = (execution_id, now, events)
                    return execution_id
                skipped.append(execution_id)
        return None

    def events(self, execution_id: str, now: datetime) -> list[EventRow]:
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[:2] == (execution_id, now):
            return prefetched[2]
        with self._guard("read events") as db:
            return _events(db, execution_id, codec.to_micros(now))

    def take_jobs(self, claims: Sequence[tuple[str, int, str]]) -> list[bool]:
        if not claims:
            return []
        columns = ([c[0] for c in claims], [c[1] for c in claims], [c[2] for c in claims])
        with self._guard("complete jobs") as db:
            taken = {tuple(row) for row in db.execute(pg.JOB_TAKE, columns).fetchall()}
        # As one DELETE per claim would answer: a claim given twice is taken once.
        found: list[bool] = []
        for claim in claims:
            found.append(claim in taken)
            taken.discard(claim)
        return found

    def drop_events(self, event_ids: Sequence[int]) -> None:
        if event_ids:
            with self._guard("drop events") as db:
                db.execute(pg.EVENT_DELETE, (list(event_ids),))

    def write(self, cycle: CycleWrite) -> None:
        """Apply the cycle; the row's version becomes ``cycle.expected_version + 1``."""
        expected = cycle.expected_version
        memo = self._db.local.json_memo()
        e = codec.execution_params(cycle.execution, expected + 1, memo)
        with self._guard("write an executor cycle") as db:
            changed = db.execute(
                SQL.EXEC_UPDATE, (*e[4:13], *e[15:18], cycle.execution.id, expected)
            ).rowcount
            if changed != 1:
                raise StoreError(
                    f"execution {cycle.execution.id} changed concurrently"
                    f" (expected version {expected})"
                )
            _insert_executions(db, memo, cycle.new_executions)
            # The rest in one round trip; an error fails the whole cycle.
            with db.pipeline():
                if cycle.delete_task_runs:
                    db.execute(pg.RUN_DELETE, (list(cycle.delete_task_runs),))
                if cycle.upsert_task_runs:
                    upserts = [codec.task_run_params(t, memo) for t in cycle.upsert_task_runs]
                    db.cursor().executemany(SQL.RUN_UPSERT, upserts)
                if cycle.new_jobs:
                    free = [codec.job_params(j) for j in cycle.new_jobs if j.claim_token is None]
                    claimed = [codec.claimed_job_params(j) for j in cycle.new_jobs if j.claim_token]
                    if free:
                        db.cursor().executemany(SQL.JOB_INSERT, free)
                    if claimed:
                        db.cursor().executemany(SQL.JOB_INSERT_CLAIMED, claimed)
                if cycle.cancel_jobs:
                    db.execute(pg.JOB_CANCEL, (list(cycle.cancel_jobs),))
                # Consumed events go first: a key they carried is free for a new event.
                if cycle.consumed_events:
                    db.execute(pg.EVENT_DELETE, (list(cycle.consumed_events),))
                _insert_events(db, cycle.new_events)
                _insert_logs(db, cycle.logs)
        assert self._session is not None
        self._session.changed = True


def _events(db: Conn, execution_id: str, micros: int) -> list[EventRow]:
    return event_rows(db.execute(SQL.EVENTS, (execution_id, micros)).fetchall())


def _read_execution(db: Conn, execution_id: str) -> Execution | None:
    return read_execution(SQL, db, execution_id)


def _insert_executions(db: Conn, memo: codec.JsonMemo, executions: Sequence[Execution]) -> int:
    """Insert new executions with their task runs; an existing id is left untouched.

    Returns how many were inserted.
    """
    count = 0
    for e in executions:
        if db.execute(SQL.EXEC_INSERT, codec.execution_params(e, e.version, memo)).rowcount:
            count += 1
            if e.task_runs:
                db.cursor().executemany(
                    SQL.RUN_UPSERT, [codec.task_run_params(t, memo) for t in e.ordered_task_runs()]
                )
    return count


def _insert_events(db: Conn, events: Sequence[NewEvent]) -> None:
    """Insert events, dropping those whose dedup key exists."""
    if len(events) == 1:
        db.execute(SQL.EVENT_INSERT, codec.event_params(events[0]))
    elif events:
        db.cursor().executemany(SQL.EVENT_INSERT, [codec.event_params(e) for e in events])


def _insert_logs(db: Conn, records: Sequence[LogRecord]) -> None:
    if records:
        db.cursor().executemany(SQL.LOG_INSERT, _log_rows(records))


def _log_rows(records: Sequence[LogRecord]) -> list[tuple[Any, ...]]:
    return SQL.log_rows(records)  # NUL replaced: TEXT cannot hold it
