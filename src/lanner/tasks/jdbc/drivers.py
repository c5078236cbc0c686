"""One connection to one database, as the JDBC tasks use it.

Each database has its Python driver: psycopg (PostgreSQL, a core
dependency), PyMySQL (MySQL and MariaDB), the standard library's sqlite3
and duckdb; the last two but sqlite3 are optional extras (`lanner[jdbc]`)
and a missing one fails the task with the extra to install. A `Session`
runs one statement at a time in autocommit mode (transactions are explicit
BEGIN/COMMIT), and `cancel()` may be called from another thread to stop the
statement that runs: psycopg's cancel request, a `KILL` of the MySQL
connection from a second connection, sqlite's and duckdb's interrupt.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lanner.tasks.jdbc.sqltext import split_statements
from lanner.tasks.jdbc.urls import JdbcUrl, JdbcUrlError
from lanner.tasks.jdbc.values import parse_json_text

_CONNECT_TIMEOUT = 10  # seconds, when the URL gives none


class MissingDriverError(RuntimeError):
    """A database driver that is not installed."""


def _need(module: str, package: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDriverError(
            f"the {package} driver is not installed: install Lanner's `jdbc` extra"
            f" (pip install 'lanner[jdbc]') or `pip install {package}`"
        ) from None


@dataclass(frozen=True)
class Statement:
    sql: str


class Result:
    """The rows of one statement, read in batches."""

    def __init__(
        self,
        columns: list[str],
        fetch: Callable[[int], list[tuple[Any, ...]]],
        convert: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None,
        done: Callable[[], None] | None = None,
    ) -> None:
        self.columns = columns
        self._fetch = fetch
        self._convert = convert
        self._done = done

    def batch(self, size: int) -> list[tuple[Any, ...]]:
        rows = self._fetch(size)
        return [self._convert(r) for r in rows] if self._convert else list(rows)

    def finish(self) -> None:
        """Called once every row was read: a server-side cursor is closed here."""
        if self._done is not None:
            done, self._done = self._done, None
            done()


class Session:
    """A connection; subclasses per database."""

    placeholder = "?"
    escape_percent = False
    backslash_escapes = False

    def statements(self, sql: str) -> list[Statement]:
        return [
            Statement(s) for s in split_statements(sql, backslash_escapes=self.backslash_escapes)
        ]

    def execute(
        self, statement: Statement, values: list[Any] | None, stream: int | None = None
    ) -> Result | None:
        """Run one statement; its rows, or None when it returns none. `stream`: every
        row will be read, `stream` at a time, so a driver may stream them from the
        server instead of receiving them all first."""
        raise NotImplementedError

    def begin(self) -> None:
        self.execute(Statement("BEGIN"), None)

    def commit(self) -> None:
        self.execute(Statement("COMMIT"), None)

    def rollback(self) -> None:
        self.execute(Statement("ROLLBACK"), None)

    def cancel(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def _only(url: JdbcUrl, known: Mapping[str, str]) -> None:
    unknown = sorted(set(url.params) - set(known))
    if unknown:
        raise JdbcUrlError(
            f"url: the parameter(s) {', '.join(unknown)} are not supported here"
            f" (supported: {', '.join(sorted(known))})"
        )


def _seconds(url: JdbcUrl, name: str, millis: bool) -> float:
    text = url.params.get(name)
    if text is None:
        return _CONNECT_TIMEOUT
    try:
        number = float(text)
    except ValueError:
        raise JdbcUrlError(f"url: {name}={text!r} is not a number") from None
    return number / 1000 if millis else number


# -- PostgreSQL -------------------------------------------------------------------------

_PG_PARAMS = {
    "user": "user",
    "password": "password",
    "sslmode": "sslmode",
    "ApplicationName": "application_name",
    "applicationName": "application_name",
    "connectTimeout": "connect_timeout",
    "currentSchema": "",
    "options": "options",
}


# Statements that a server-side cursor may stream: DECLARE takes a SELECT or VALUES,
# not a data-modifying WITH nor SELECT INTO (those, and anything unsure, are read the
# plain way, which is always right).
_CURSOR_HEAD = re.compile(
    r"(?:\s|--[^\n]*\n|/\*.*?\*/|\()*(select|values|table|with)\b", re.I | re.S
)
_CURSOR_NOT = re.compile(r"\b(insert|update|delete|merge|into)\b", re.I)
_cursor_names = itertools.count(1)


def _cursor_friendly(sql: str) -> bool:
    head = _CURSOR_HEAD.match(sql)
    return head is not None and not _CURSOR_NOT.search(sql)


class PostgresSession(Session):
    placeholder = "%s"
    escape_percent = True

    def __init__(self, url: JdbcUrl, username: str | None, password: str | None) -> None:
        import psycopg

        _only(url, _PG_PARAMS)
        kwargs: dict[str, Any] = {_PG_PARAMS[k]: v for k, v in url.params.items() if _PG_PARAMS[k]}
        kwargs["connect_timeout"] = max(1, int(_seconds(url, "connectTimeout", False)))
        if "currentSchema" in url.params:
            kwargs["options"] = (
                kwargs.get("options", "") + f" -csearch_path={url.params['currentSchema']}"
            ).strip()
        if username is not None:
            kwargs["user"] = username
        if password is not None:
            kwargs["password"] = password
        self._conn = psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            dbname=url.database or kwargs.get("user") or "postgres",
            autocommit=True,
            **kwargs,
        )

    def execute(
        self, statement: Statement, values: list[Any] | None, stream: int | None = None
    ) -> Result | None:
        query = statement.sql.encode() if values is None else statement.sql
        if stream is not None and _cursor_friendly(statement.sql):
            return self._stream(query, values)
        cur = self._conn.cursor()
        cur.execute(query, values)
        if cur.description is None:
            return None
        return Result([d.name for d in cur.description], cur.fetchmany)

    def _stream(self, query: str | bytes, values: list[Any] | None) -> Result:
        """The rows through a server-side cursor, `fetchSize` at a time: psycopg's
        default cursor receives the whole result first (1M rows: several hundred MB).
        A cursor lives in a transaction: one is opened for it unless one is open."""
        from psycopg.pq import TransactionStatus

        own = self._conn.info.transaction_status == TransactionStatus.IDLE
        if own:
            self._conn.execute(b"BEGIN")
        cur = self._conn.cursor(name=f"lanner_rows_{next(_cursor_names)}")
        try:
            cur.execute(query, values)
        except BaseException:
            if own:
                with contextlib.suppress(Exception):  # the connection may be gone (killed)
                    self._conn.execute(b"ROLLBACK")
            raise

        def done() -> None:
            cur.close()
            if own:
                self._conn.execute(b"COMMIT")

        assert cur.description is not None  # a SELECT or VALUES always describes its rows
        return Result([d.name for d in cur.description], cur.fetchmany, done=done)

    @property
    def connection(self) -> Any:
        """The psycopg connection (CopyIn/CopyOut use its COPY support)."""
        return self._conn

    def cancel(self) -> None:
        self._conn.cancel_safe(timeout=5)

    def close(self) -> None:
        self._conn.close()


# -- MySQL and MariaDB ------------------------------------------------------------------

# Properties the MySQL/MariaDB JDBC drivers take that change nothing here.
_MYSQL_NEUTRAL = {"useUnicode", "characterEncoding", "allowPublicKeyRetrieval", "autoReconnect"}
_MYSQL_PARAMS = {k: k for k in ("user", "password", "connectTimeout", *_MYSQL_NEUTRAL)}
_MYSQL_JSON = 245
_MYSQL_TIME = 11


class MySqlSession(Session):
    placeholder = "%s"
    escape_percent = True
    backslash_escapes = True

    def __init__(self, url: JdbcUrl, username: str | None, password: str | None) -> None:
        self._pymysql = _need("pymysql", "PyMySQL")
        _only(url, _MYSQL_PARAMS)
        self._args: dict[str, Any] = {
            "host": url.host,
            "port": url.port or 3306,
            "user": username if username is not None else url.params.get("user"),
            "password": (password if password is not None else url.params.get("password")) or "",
            "connect_timeout": _seconds(url, "connectTimeout", True),
            "charset": "utf8mb4",
            "autocommit": True,
        }
        if url.database:
            self._args["database"] = url.database
        self._conn = self._pymysql.connect(**self._args)
        self._thread_id = self._conn.thread_id()

    def execute(
        self, statement: Statement, values: list[Any] | None, stream: int | None = None
    ) -> Result | None:
        # An unbuffered cursor streams the rows from the server as they are read
        # (PyMySQL's default one receives the whole result first); closing it reads
        # what is left, so the connection is free for the next statement.
        streaming = stream is not None
        cur = self._conn.cursor(self._pymysql.cursors.SSCursor if streaming else None)
        cur.execute(statement.sql, values)
        if cur.description is None:
            cur.close()
            return None
        kinds = [d[1] for d in cur.description]
        return Result(
            [d[0] for d in cur.description],
            cur.fetchmany,
            _mysql_row(kinds),
            done=cur.close if streaming else None,
        )

    def cancel(self) -> None:
        other = self._pymysql.connect(**self._args)
        try:
            with other.cursor() as cur:
                cur.execute(f"KILL {int(self._thread_id)}")
        finally:
            other.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already killed: nothing to close
            self._conn.close()


def _mysql_row(kinds: list[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    import datetime as dt

    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(row)
        for i, kind in enumerate(kinds):
            v = out[i]
            if kind == _MYSQL_JSON:
                out[i] = parse_json_text(v)
            elif (
                kind == _MYSQL_TIME
                and isinstance(v, dt.timedelta)
                and dt.timedelta(0) <= v < dt.timedelta(days=1)
            ):
                # PyMySQL reads TIME as a duration; a time of day is what it holds.
                out[i] = (dt.datetime.min + v).time()
        return tuple(out)

    return convert


# -- SQLite -----------------------------------------------------------------------------


class SqliteSession(Session):
    def __init__(self, path: Path | None) -> None:
        self._conn = sqlite3.connect(
            str(path) if path is not None else ":memory:",
            isolation_level=None,  # autocommit; BEGIN/COMMIT are explicit
            check_same_thread=False,  # cancel() interrupts from the watcher thread
        )

    def statements(self, sql: str) -> list[Statement]:
        # A trigger's body holds `;`: glue pieces until SQLite says the statement is whole.
        out: list[Statement] = []
        pending = ""
        for piece in split_statements(sql):
            pending = f"{pending}; {piece}" if pending else piece
            if sqlite3.complete_statement(pending + ";"):
                out.append(Statement(pending))
                pending = ""
        if pending:
            out.append(Statement(pending))
        return out

    def execute(
        self, statement: Statement, values: list[Any] | None, stream: int | None = None
    ) -> Result | None:
        cur = self._conn.execute(statement.sql, values or ())
        if cur.description is None:
            return None
        return Result([d[0] for d in cur.description], cur.fetchmany)

    def cancel(self) -> None:
        self._conn.interrupt()

    def close(self) -> None:
        self._conn.close()


# -- DuckDB -----------------------------------------------------------------------------

_DUCKDB_COUNTS = (["Count"], ["Success"])


class DuckDbSession(Session):
    def __init__(self, path: Path | None, config: dict[str, str], search_path: Path) -> None:
        self._duckdb = _need("duckdb", "duckdb")
        self._conn = self._duckdb.connect(
            str(path) if path is not None else ":memory:", config=dict(config)
        )
        # Relative file names in the SQL (read_csv_auto('data.csv')) are the inputFiles.
        self._conn.execute("SET file_search_path = ?", [str(search_path)])

    def _returns_rows(self, sql: str) -> bool | None:
        """True for a query; None when only the answer tells (a change, or RETURNING)."""
        try:
            [parsed] = self._duckdb.extract_statements(sql)
        except Exception:  # executing it reports the error
            return None
        kinds = self._duckdb.StatementType
        return True if parsed.type in (kinds.SELECT, kinds.PRAGMA, kinds.EXPLAIN) else None

    def execute(
        self, statement: Statement, values: list[Any] | None, stream: int | None = None
    ) -> Result | None:
        self._conn.execute(statement.sql, values)
        description = self._conn.description
        if description is None:
            return None
        columns = [d[0] for d in description]
        # DuckDB answers a change with a Count (or Success) column: no result set.
        if columns in _DUCKDB_COUNTS and not self._returns_rows(statement.sql):
            return None
        return Result(columns, self._conn.fetchmany)

    def begin(self) -> None:
        self._conn.execute("BEGIN TRANSACTION")

    def cancel(self) -> None:
        self._conn.interrupt()

    def close(self) -> None:
        self._conn.close()
