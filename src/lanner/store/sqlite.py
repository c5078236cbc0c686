"""SQLiteStore: the embedded store, one database file shared by threads and processes.

Concurrency model (DESIGN.md, "Exactly-once effects"):

- One connection per thread for reads (the store object is shared by the
  executor thread and the worker threads of a process), and one connection
  for all the writes of the process, used under the process's write lock.
  Connections are opened lazily and reused, so the driver's prepared-statement
  cache stays warm (statements are module constants: the same SQL string hits
  that cache). One writer also keeps SQLite's page cache: a connection drops
  its whole cache when another connection committed since its last
  transaction, so cycles run by different threads on their own connections
  would read every page again.
- WAL checkpoints run on a thread of their own (:mod:`walcheckpoint`).
- WAL journal: readers never block the single writer. Every write runs in an
  explicit ``BEGIN IMMEDIATE`` transaction, which takes the write lock up
  front; a deferred transaction that later upgrades can deadlock against
  another upgrader and fail with "database is locked" instead of waiting.
- ``synchronous=NORMAL``: in WAL mode a power loss may drop the last commits
  but never corrupts the file; a crashed *process* loses nothing.
- The executor holds the write lock for one whole cycle: that is what makes
  SQLite "one executor decides for one execution at a time".

SQLite's own SQL is in :mod:`lanner.store.sqlitesql`; the statements and
methods shared with PostgreSQL in :mod:`lanner.store.sql`. Date-time columns
are epoch microseconds (INTEGER); see ``migrations/sqlite/0001_initial.sql``
and :mod:`lanner.store.codec`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lanner.engine.execution import Execution
from lanner.errors import StoreError
from lanner.store import codec, migrations
from lanner.store import sqliterows as rows
from lanner.store import sqlitesql as lite
from lanner.store.base import (
    CycleWrite,
    EventRow,
    Scope,
)
from lanner.store.sql import event_rows, read_execution
from lanner.store.sqlitemethods import SQLiteCycleMethods, SQLiteMethods
from lanner.store.sqlitesql import SQL
from lanner.store.walcheckpoint import BACKSTOP_PAGES, WalCheckpointer, checkpoint_long_wal

BUSY_TIMEOUT_SECONDS = 10.0
WRITER_CACHE_KIB = 32 * 1024  # SQLite's default is 2 MiB per connection

# None binds as NULL either way, but sqlite3, finding no adapter registered for it, asks
# its protocol type for __adapt__: an AttributeError built and dropped for every NULL
# parameter (about 2,000 instructions each, a dozen per cycle). A registered adapter ends
# that search; an empty dict's get returns None for any key, without a Python frame.
_NULL: dict[None, None] = {}
sqlite3.register_adapter(type(None), _NULL.get)


def _describe(exc: sqlite3.Error, what: str, path: str) -> StoreError:
    """A driver error as a StoreError that says what failed and what to do."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(
            f"cannot {what}: database is locked ({path}): another connection held the write"
            f" lock for more than {BUSY_TIMEOUT_SECONDS:g} s"
        )
    if "unable to open" in text:
        return StoreError(f"cannot open database file {path}")
    return StoreError(f"cannot {what}: {text} ({path})")


class _Tx:
    """A transaction on this thread's connection: commit on success, roll back on error.

    ``begin="BEGIN IMMEDIATE"`` takes the write lock up front. A read
    (``"BEGIN"``, or None for one statement, which needs no transaction)
    joins a transaction already open on the connection, e.g. a read inside
    the executor's cycle, so that it sees the cycle's own writes. Driver
    errors leave as StoreError either way.
    """

    __slots__ = (
        "_begin",
        "_committed",
        "_control",
        "_db",
        "_local",
        "_lock",
        "_own",
        "_path",
        "_what",
    )

    def __init__(
        self,
        db: sqlite3.Connection,
        path: str,
        what: str,
        begin: str | None,
        lock: threading.RLock | None = None,
        committed: Callable[[], None] | None = None,
        local: _LocalState | None = None,
        control: sqlite3.Cursor | None = None,
    ) -> None:
        self._db = db
        # Runs BEGIN and COMMIT: a cursor kept with the write connection, where one is
        # given (a statement through the connection makes and drops a cursor each time).
        self._control: sqlite3.Connection | sqlite3.Cursor = db if control is None else control
        self._path = path
        self._what = what
        self._begin = begin
        self._own = False
        self._lock = lock
        self._committed = committed  # told of each commit, under the write lock
        self._local = local  # counts this thread's write transactions (reads join them)

    def __enter__(self) -> sqlite3.Connection:
        # Writers of this process queue on a lock instead of on SQLite's busy
        # handler, which sleeps in whole milliseconds between retries.
        if self._lock is not None:
            self._lock.acquire()
            if self._local is not None:
                self._local.writing += 1
        db = self._db
        if self._begin is None or (self._begin == "BEGIN" and db.in_transaction):
            return db
        try:
            self._control.execute(self._begin)
        except sqlite3.Error as exc:
            self._release()
            raise _describe(exc, self._what, self._path) from exc
        self._own = True
        return db

    def _release(self) -> None:
        if self._lock is not None:
            if self._local is not None:
                self._local.writing -= 1
            self._lock.release()
            self._lock = None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            self._finish(exc)
        finally:
            self._release()

    def _finish(self, exc: BaseException | None) -> None:
        if not self._own:
            if isinstance(exc, sqlite3.Error):
                raise _describe(exc, self._what, self._path) from exc
            return
        if exc is None:
            try:
                self._control.execute("COMMIT")
            except sqlite3.Error as commit_exc:
                self._rollback()
                raise _describe(commit_exc, self._what, self._path) from commit_exc
            if self._committed is not None:
                self._committed()
            return
        self._rollback()
        if isinstance(exc, sqlite3.Error):
            raise _describe(exc, self._what, self._path) from exc

    def _rollback(self) -> None:
        # Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back.
        if self._db.in_transaction:
            # The original error is the one worth reporting.
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")


class SQLiteExecutorTx(SQLiteCycleMethods):
    """The executor's cycle: the write lock is held from enter to exit.

    Its own statements run on one cursor of the write connection, kept with it
    (a statement through the connection makes and drops a cursor each time),
    and translate driver errors in place, without a context manager per call.
    """

    __slots__ = ("_committed", "_cur", "_db", "_loaded", "_local", "_lock", "_memo", "_path")

    sql = SQL

    def __init__(
        self,
        db: sqlite3.Connection,
        cur: sqlite3.Cursor,
        memo: codec.JsonMemo,
        path: str,
        lock: threading.RLock,
        committed: Callable[[], None],
        local: _LocalState,
    ) -> None:
        self._db = db
        self._cur = cur
        self._memo = memo
        self._path = path
        self._lock = lock
        self._committed = committed  # told of the commit, under the write lock
        self._local = local  # counts this thread's write transactions (reads join them)
        self._loaded: Execution | None = None  # as stored when the cycle loaded it

    def __enter__(self) -> SQLiteExecutorTx:
        # Writers of this process queue on a lock instead of on SQLite's busy
        # handler, which sleeps in whole milliseconds between retries.
        self._lock.acquire()
        self._local.writing += 1
        try:
            self._cur.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._release()
            raise _describe(exc, _CYCLE, self._path) from exc
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is None:
                try:
                    self._cur.execute("COMMIT")
                except sqlite3.Error as commit_exc:
                    self._rollback()
                    raise _describe(commit_exc, _CYCLE, self._path) from commit_exc
                self._committed()
                return
            self._rollback()
            if isinstance(exc, sqlite3.Error):
                raise _describe(exc, _CYCLE, self._path) from exc
        finally:
            self._release()

    def _release(self) -> None:
        self._local.writing -= 1
        self._lock.release()

    def _rollback(self) -> None:
        # Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back.
        if self._db.in_transaction:
            # The original error is the one worth reporting.
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def _guard(self, what: str) -> _Tx:
        # The shared methods (sql.SqlCycleMethods) translate driver errors through it:
        # a caller may catch errors inside the `with` block, and nothing above the
        # store sees sqlite3.
        return _Tx(self._db, self._path, what, None)

    def next_execution(self, now: datetime, scope: Scope = None) -> str | None:
        try:
            row = rows.next_execution(self._cur, now, scope)
        except sqlite3.Error as exc:
            raise _describe(exc, "find the next execution", self._path) from exc
        return None if row is None else str(row[0])

    def load(self, execution_id: str, cached: Execution | None = None) -> Execution | None:
        cur = self._cur
        try:
            row = cur.execute(SQL.EXEC_VERSION, (execution_id,)).fetchone()
            if row is None:
                loaded = None
            # The hot path: the executor keeps executions in memory between cycles.
            elif cached is not None and cached.id == execution_id and cached.version == row[0]:
                loaded = cached
            else:
                loaded = read_execution(SQL, cur, execution_id)
        except sqlite3.Error as exc:
            raise _describe(exc, "load an execution", self._path) from exc
        self._loaded = loaded
        return loaded

    def events(self, execution_id: str, now: datetime) -> list[EventRow]:
        try:
            found = self._cur.execute(SQL.EVENTS, (execution_id, codec.to_micros(now))).fetchall()
        except sqlite3.Error as exc:
            raise _describe(exc, "read events", self._path) from exc
        return event_rows(found)

    def take_jobs(self, claims: Sequence[tuple[str, int, str]]) -> list[bool]:
        execute = self._cur.execute
        try:
            if len(claims) == 1:  # a chain's cycle: its one result (no comprehension to run)
                return [execute(lite.JOB_TAKE, claims[0]).rowcount == 1]
            return [execute(lite.JOB_TAKE, claim).rowcount == 1 for claim in claims]
        except sqlite3.Error as exc:
            raise _describe(exc, "complete jobs", self._path) from exc

    def drop_events(self, event_ids: Sequence[int]) -> None:
        try:
            rows.many(self._cur, lite.EVENT_DELETE, [(i,) for i in event_ids])
        except sqlite3.Error as exc:
            raise _describe(exc, "drop events", self._path) from exc

    def write(self, cycle: CycleWrite) -> None:
        """Apply the cycle; the row's version becomes ``cycle.expected_version + 1``.

        The version is taken from the cycle, not from ``cycle.execution``: the
        caller keeps ``replace(execution, version=expected + 1)`` in memory so
        that its next ``load(..., cached)`` is a hit.
        """
        try:
            self._write(cycle)
        except sqlite3.Error as exc:
            raise _describe(exc, "write an executor cycle", self._path) from exc

    def _write(self, cycle: CycleWrite) -> None:
        memo = self._memo
        cur = self._cur
        expected = cycle.expected_version
        new = cycle.execution
        loaded = self._loaded
        if loaded is not None and loaded.id == new.id and loaded.version == expected:
            # The stored row is `loaded`'s: only the columns that changed are set.
            mask, values = codec.execution_changes(loaded, new, memo)
            values += (expected + 1, new.id, expected)
            changed = cur.execute(lite.exec_update(mask), values).rowcount
        else:
            e = codec.execution_params(new, expected + 1, memo)
            params = (*e[4:13], *e[15:18], new.id, expected)
            changed = cur.execute(SQL.EXEC_UPDATE, params).rowcount
        if changed != 1:
            raise StoreError(
                f"execution {new.id} changed concurrently (expected version {expected})"
            )
        if cycle.delete_task_runs:
            rows.many(cur, lite.RUN_DELETE, [(i,) for i in cycle.delete_task_runs])
        if cycle.upsert_task_runs:
            # A task run this writer wrote before is updated; one that turns out not to
            # be stored (a rolled-back cycle wrote it, a later one deleted it) is upserted
            # after all. Rows are written in the cycle's order, new ones in batches.
            upserts: list[tuple[Any, ...]] = []
            for t in cycle.upsert_task_runs:
                if not memo.wrote(t.id):
                    upserts.append(codec.task_run_params(t, memo))
                    continue
                if upserts:
                    rows.many(cur, SQL.RUN_UPSERT, upserts)
                    upserts = []
                # Only the values the update sets are built; the whole row only when the
                # update finds none (its texts come from the memo then: the same).
                if (
                    cur.execute(lite.RUN_UPDATE, codec.task_run_update_params(t, memo)).rowcount
                    != 1
                ):
                    cur.execute(SQL.RUN_UPSERT, codec.task_run_params(t, memo))
            if upserts:
                rows.many(cur, SQL.RUN_UPSERT, upserts)
        new_jobs = cycle.new_jobs
        if len(new_jobs) == 1:  # a chain's next task: no lists to build
            token = new_jobs[0].claim_token
            if token is None:
                cur.execute(SQL.JOB_INSERT, codec.job_params(new_jobs[0]))
            elif token:
                cur.execute(SQL.JOB_INSERT_CLAIMED, codec.claimed_job_params(new_jobs[0]))
        elif new_jobs:
            free = [codec.job_params(j) for j in new_jobs if j.claim_token is None]
            claimed = [codec.claimed_job_params(j) for j in new_jobs if j.claim_token]
            if free:
                rows.many(cur, SQL.JOB_INSERT, free)
            if claimed:
                rows.many(cur, SQL.JOB_INSERT_CLAIMED, claimed)
        if cycle.cancel_jobs:
            rows.many(cur, lite.JOB_CANCEL, [(i,) for i in cycle.cancel_jobs])
        if cycle.new_executions:
            rows.insert_executions(cur, memo, cycle.new_executions)
        # Consumed events go first: a key they carried is free for a new event.
        if cycle.consumed_events:
            rows.many(cur, lite.EVENT_DELETE, [(i,) for i in cycle.consumed_events])
        if cycle.new_events:
            rows.insert_events(cur, cycle.new_events)
        if cycle.logs:
            rows.insert_logs(cur, cycle.logs)


_CYCLE = "run an executor cycle"


class _Session:
    """A write transaction lent to a shared method (the single writer needs no change flag)."""

    __slots__ = ("changed", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.changed = False


class _LocalState(threading.local):
    """Per-thread state: the connection for reads."""

    db: sqlite3.Connection | None = None
    pid: int = 0
    writing: int = 0  # write transactions this thread has open (under the write lock)


# (pid, the write connection, its JSON memo, the cursor of its executor cycles, the
# cursor that begins and commits its other write transactions)
_Writer = tuple[int, sqlite3.Connection, codec.JsonMemo, sqlite3.Cursor, sqlite3.Cursor]


class SQLiteStore(SQLiteMethods):
    """The Store protocol on one SQLite file (see the module docstring)."""

    concurrent_writers = False
    sql = SQL

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(Path(path).expanduser().resolve())
        self.url = "sqlite://" + Path(self.path).as_posix()
        self._local = _LocalState()
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._connections: list[tuple[int, sqlite3.Connection]] = []  # (pid, connection)
        self._closed = False
        # The process's write connection, its JSON memo and the cursor of its cycles,
        # used under _write_lock.
        self._writer: _Writer | None = None
        self._checkpointer = WalCheckpointer(self._connect)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    # -- connections ---------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        db = local.db
        # A connection must not cross fork(): a child process opens its own.
        if db is None or local.pid != os.getpid():
            db = self._open()
        return db

    def _writer_conn(self) -> tuple[sqlite3.Connection, codec.JsonMemo]:
        """The write connection; it is used only under _write_lock."""
        writer = self._writer
        pid = os.getpid()
        # A connection must not cross fork(): a child process opens its own.
        if writer is None or writer[0] != pid:
            with self._lock:
                writer = self._writer
                if writer is None or writer[0] != pid:
                    db = self._connect(locked=True)
                    try:
                        db.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
                        # The writer's cache outlives its transactions (no other connection
                        # of the process commits), so a larger one saves reading pages again.
                        db.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
                    except sqlite3.Error as exc:
                        raise _describe(exc, "open the database", self.path) from exc
                    writer = (pid, db, codec.JsonMemo(), db.cursor(), db.cursor())
                    self._writer = writer
        return writer[1], writer[2]

    def _open(self) -> sqlite3.Connection:
        db = self._connect()
        local = self._local
        local.db = db
        local.pid = os.getpid()
        return db

    def _connect(self, *, locked: bool = False) -> sqlite3.Connection:
        """A new connection, registered for close(); `locked`: self._lock is held."""
        if self._closed:
            raise StoreError(f"the store {self.path} is closed")
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot open database file {self.path}: {exc.strerror}") from exc
        try:
            db = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # only so that close() may close it
                cached_statements=256,
            )
        except sqlite3.Error as exc:
            raise _describe(exc, "open the database", self.path) from exc
        try:
            # Set once per connection, never per call.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            # Execution search's REGEX filter (store/searchsql.py).
            db.create_function("regexp", 2, rows.regexp, deterministic=True)
        except sqlite3.Error as exc:
            db.close()
            raise _describe(exc, "open the database", self.path) from exc
        if locked:
            self._connections.append((os.getpid(), db))
        else:
            with self._lock:
                self._connections.append((os.getpid(), db))
        return db

    def _write(self, what: str) -> _Tx:
        db, _ = self._writer_conn()
        committed = self._checkpointer.committed
        writer = self._writer
        # (A stand-in for the connection, as bench/bench_cycle_sql.py makes, begins and
        # commits on itself.)
        control = writer[4] if writer is not None and writer[1] is db else None
        return _Tx(
            db,
            self.path,
            what,
            "BEGIN IMMEDIATE",
            self._write_lock,
            committed,
            self._local,
            control,
        )

    def _one(self, what: str) -> _Tx:
        """One DML statement: atomic on its own, and it takes the write lock when it starts."""
        db, _ = self._writer_conn()
        return _Tx(db, self.path, what, None, self._write_lock, local=self._local)

    def _change(self, what: str, query: str, params: tuple[Any, ...]) -> int:
        with self._one(what) as db:
            return db.execute(query, params).rowcount

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[_Session]:
        with self._write(what) as db:
            yield _Session(db)

    def _json_memo(self) -> codec.JsonMemo:
        return self._writer_conn()[1]  # the writer's: used under the write lock only

    def _snapshot(self, what: str) -> _Tx:
        return self._read(what, snapshot=True)

    def _read(self, what: str, *, snapshot: bool = False) -> _Tx:
        """Reads; `snapshot` when several statements must see one state of the database.
        Inside this thread's own write transaction a read joins it and sees its writes."""
        db = self._writer_conn()[0] if self._local.writing else self._conn()
        return _Tx(db, self.path, what, "BEGIN" if snapshot else None)

    def migrate(self) -> None:
        """Apply the migrations this database lacks; safe to run from many processes at once."""
        db = self._conn()
        pending = migrations.load("sqlite")
        try:
            # Fast path, no write lock: most opens find the schema current.
            current = db.execute("SELECT max(version) FROM schema_version").fetchone()[0]
            if current is not None and current >= pending[-1].version:
                return
        except sqlite3.OperationalError:
            pass  # no schema_version table yet
        with self._write("migrate the schema") as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version"
                " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            )
            # Read again under the lock: another process may have migrated meanwhile.
            current = db.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            for migration in pending:
                if migration.version <= current:
                    continue
                for statement in migrations.split_sqlite(migration.sql):
                    db.execute(statement)
                db.execute(
                    SQL.SCHEMA_RECORD,
                    (migration.version, migration.name, codec.to_micros(datetime.now(UTC))),
                )

    def checkpoint_long_wal(self) -> bool:
        """Before a short-lived process exits without closing the store: checkpoint a
        long WAL (:func:`walcheckpoint.checkpoint_long_wal`), so that the processes
        that open the store next do not read it all again. Bounded, never raises."""
        try:
            db, _ = self._writer_conn()
        except StoreError:
            return False
        with self._write_lock:
            if db.in_transaction:
                return False
            return checkpoint_long_wal(db, self.path, int(BUSY_TIMEOUT_SECONDS * 1000))

    def close(self) -> None:
        self._checkpointer.close()
        with self._lock:
            self._closed = True
            self._writer = None
            connections, self._connections = self._connections, []
        pid = os.getpid()
        for owner, db in connections:
            if owner == pid:  # a parent's connection, inherited through fork(), is not ours
                with contextlib.suppress(sqlite3.Error):  # at shutdown: nothing to do about it
                    db.close()
        self._local = _LocalState()

    # -- executions ------------------------------------------------------------

    def has_due_events(self, now: datetime, scope: Scope = None) -> bool:
        with self._read("look for due events") as db:
            return rows.next_execution(db, now, scope) is not None

    def executor_tx(self) -> SQLiteExecutorTx:
        db, memo = self._writer_conn()
        writer = self._writer
        # (A stand-in for the connection, as bench/bench_cycle_sql.py makes, gets a cursor.)
        cur = writer[3] if writer is not None and writer[1] is db else db.cursor()
        return SQLiteExecutorTx(
            db, cur, memo, self.path, self._write_lock, self._checkpointer.committed, self._local
        )

    def data_version(self) -> int:
        try:
            return int(self._conn().execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise _describe(exc, "read the data version", self.path) from exc
