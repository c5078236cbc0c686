"""PostgresStore's connections: the pool, sessions, and driver errors as StoreError.

One :class:`Connections` per store object (per process): a small
``psycopg_pool.ConnectionPool`` opened on first use (never shared across
``fork()``), connections in autocommit mode, and :meth:`Connections.session`,
which lends a connection to one store call, or runs the call in the
executor cycle that is open on the calling thread.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from lanner.errors import StoreError
from lanner.store import codec
from lanner.store import postgressql as pg

CONNECT_TIMEOUT_SECONDS = 10
POOL_TIMEOUT_SECONDS = 30.0  # waiting for a free connection of the pool
POOL_MIN_SIZE = 1
POOL_MAX_SIZE = 8
# A process frozen inside a transaction (SIGSTOP, a suspended VM, a debugger)
# keeps its row locks, and the reaper could never take back the job that
# process holds. The server ends such a session after this long, unless the
# URL (``?options=-c%20idle_in_transaction_session_timeout%3D...``), the role
# or the database already set a limit. Well above any executor cycle's pause
# between two statements.
IDLE_IN_TRANSACTION_TIMEOUT = "60s"

Conn = psycopg.Connection[tuple[Any, ...]]


def one_line(text: str) -> str:
    return " ".join(text.split())


class Session:
    """A connection lent to one store call (or to one executor cycle)."""

    __slots__ = ("changed", "conn")

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.changed = False  # something was written: bump the data version after the commit


class LocalState(threading.local):
    session: Session | None = None  # set while this thread is inside executor_tx()
    memo: codec.JsonMemo | None = None  # JSON encodings of this thread (not thread-safe)

    def json_memo(self) -> codec.JsonMemo:
        memo = self.memo
        if memo is None:
            memo = self.memo = codec.JsonMemo()
        return memo


class Connections:
    """The pool of one store object, and the sessions lent from it."""

    def __init__(self, url: str, max_connections: int = POOL_MAX_SIZE) -> None:
        conninfo = "postgresql://" + url.split("://", 1)[1] if "://" in url else url
        try:
            params = conninfo_to_dict(conninfo)
        except psycopg.Error as exc:
            raise StoreError(f"not a valid PostgreSQL URL: {one_line(str(exc))}") from exc
        host = str(params.get("host") or "localhost")
        port = str(params.get("port") or "5432")
        self._conninfo = conninfo
        self.where = f"{host}:{port}"  # for messages: where the server is
        self.url = without_password(conninfo)
        self._max = max(max_connections, POOL_MIN_SIZE)
        self._pool_obj: ConnectionPool[Conn] | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self.local = LocalState()
        self._closed = False

    def error(self, exc: psycopg.Error, what: str) -> StoreError:
        """A driver error as a StoreError that says what failed and where."""
        if isinstance(exc, PoolTimeout):
            return StoreError(
                f"cannot {what}: no connection to PostgreSQL at {self.where} within"
                f" {POOL_TIMEOUT_SECONDS:g} s (the server is down, or all {self._max}"
                " connections of the pool are busy)"
            )
        # No SQLSTATE, class 08 (connection exception) or 57P0x (the server is
        # shutting down or restarting): the connection itself is gone.
        state = exc.sqlstate or "08"
        if isinstance(exc, psycopg.OperationalError) and state.startswith(("08", "57P0")):
            return StoreError(
                f"cannot {what}: lost the connection to PostgreSQL at {self.where}:"
                f" {one_line(str(exc))}"
            )
        return StoreError(f"cannot {what}: {one_line(str(exc))} (PostgreSQL at {self.where})")

    def _pool(self) -> ConnectionPool[Conn]:
        pool = self._pool_obj
        if pool is not None and self._pid == os.getpid():
            return pool
        with self._lock:
            if self._closed:
                raise StoreError(f"the store {self.url} is closed")
            if self._pool_obj is not None and self._pid == os.getpid():
                return self._pool_obj
            # A pool must not cross fork(): the child opens its own and leaves
            # the parent's connections alone.
            kwargs: dict[str, Any] = {
                "autocommit": True,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "application_name": "lanner",
            }
            # One plain connection first, for a precise error (the pool would
            # only time out): wrong host, port, user, database, password.
            try:
                psycopg.connect(self._conninfo, **kwargs).close()
            except psycopg.Error as exc:
                raise StoreError(
                    f"cannot connect to PostgreSQL at {self.where}: {one_line(str(exc))}"
                ) from exc
            pool = ConnectionPool(
                self._conninfo,
                min_size=POOL_MIN_SIZE,
                max_size=self._max,
                kwargs=kwargs,
                configure=limit_idle_transactions,
                timeout=POOL_TIMEOUT_SECONDS,
                open=False,
                name="lanner",
            )
            try:
                pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
            except psycopg.Error as exc:
                pool.close()
                raise StoreError(
                    f"cannot connect to PostgreSQL at {self.where}: {one_line(str(exc))}"
                ) from exc
            self._pool_obj = pool
            self._pid = os.getpid()
            return pool

    @contextlib.contextmanager
    def session(self, what: str, *, tx: bool = False) -> Iterator[Session]:
        """A connection for one call; `tx` runs the block in a transaction.

        Inside this thread's executor cycle, the cycle's connection and
        transaction are used (a savepoint when `tx`), and the data version is
        bumped when the cycle commits.
        """
        outer = self.local.session
        try:
            if outer is not None:
                if tx:
                    with outer.conn.transaction():
                        yield outer
                else:
                    yield outer
                return
            with self._pool().connection() as conn:
                session = Session(conn)
                if tx:
                    with conn.transaction():
                        yield session
                else:
                    yield session
                if session.changed:
                    conn.execute(pg.BUMP)
        except psycopg.Error as exc:
            raise self.error(exc, what) from exc

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool_obj = self._pool_obj, None
        if pool is not None and self._pid == os.getpid():
            pool.close()


def limit_idle_transactions(conn: Conn) -> None:
    """Give a new connection the idle-in-transaction limit, unless one is set."""
    current = conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()
    if current is not None and current[0] in ("0", "0ms"):
        conn.execute(
            "SELECT set_config('idle_in_transaction_session_timeout', %s, false)",
            (IDLE_IN_TRANSACTION_TIMEOUT,),
        )


def without_password(conninfo: str) -> str:
    """The URL as it may be shown: any password replaced by ``***``."""
    parts = urlsplit(conninfo)
    if parts.password is None:
        return conninfo
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))
