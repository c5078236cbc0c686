"""Running a JDBC Query or Queries task: open the session, run the statements
under a watcher that cancels them when the attempt is stopped, and shape
the outputs (docs/tasks-jdbc.md)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lanner.errors import LannerError
from lanner.model.states import State
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.jdbc import values
from lanner.tasks.jdbc.drivers import (
    DuckDbSession,
    MissingDriverError,
    MySqlSession,
    PostgresSession,
    Result,
    Session,
    SqliteSession,
    Statement,
)
from lanner.tasks.jdbc.model import FetchType, JdbcQuery, Queries
from lanner.tasks.jdbc.sqltext import ParameterError, bind_named
from lanner.tasks.jdbc.urls import JdbcUrl, JdbcUrlError, parse_jdbc_url

_WATCH_SECONDS = 0.1


class _Cancelled(Exception):
    pass


class _Files:
    """The SQLite/DuckDB file properties of one attempt."""

    def __init__(self) -> None:
        self.db_path: Path | None = None
        self.output_db = False
        self.output_files: dict[str, Path] = {}


def _bool(ctx: TaskContext, value: Any) -> bool:
    rendered = ctx.render(value)
    return rendered if isinstance(rendered, bool) else str(rendered).strip().lower() == "true"


def _fetch_type(task: JdbcQuery, ctx: TaskContext) -> FetchType:
    name = as_text(ctx.render(task.fetchType)).strip()
    if name not in FetchType.__members__:
        raise ValueError(f"fetchType must be one of {', '.join(FetchType)}, got {name!r}")
    chosen = FetchType(name)
    if chosen is not FetchType.NONE:
        return chosen
    # The deprecated booleans, in Kestra's order: fetchOne, then store, then fetch.
    for flag, kind in ((task.fetchOne, FetchType.FETCH_ONE), (task.store, FetchType.STORE)):
        if flag is not None and _bool(ctx, flag):
            return kind
    if task.fetch is not None and _bool(ctx, task.fetch):
        return FetchType.FETCH
    return FetchType.NONE


def _positive(ctx: TaskContext, value: Any, name: str) -> int:
    rendered = ctx.render(value)
    try:
        number = int(str(rendered).strip())
    except ValueError:
        raise ValueError(f"{name}: expected an integer, got {rendered!r}") from None
    if number < 1:
        raise ValueError(f"{name}: must be at least 1, got {number}")
    return number


def _parameters(ctx: TaskContext, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    rendered = ctx.render(value)
    if isinstance(rendered, str):
        try:
            rendered = json.loads(rendered)
        except ValueError:
            raise ValueError("parameters: expected a map of name: value") from None
    if not isinstance(rendered, Mapping):
        raise ValueError("parameters: expected a map of name: value")
    return {str(k): v for k, v in rendered.items()}


def _safe_name(name: str, what: str) -> str:
    parts = Path(name).parts
    if not name or Path(name).is_absolute() or ".." in parts or "\x00" in name:
        raise ValueError(
            f"{what}: {name!r} must be a relative file name inside the working directory"
        )
    return name


def _copy_in(ctx: TaskContext, uri: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with ctx.open_file(uri) as src, target.open("wb") as out:
        shutil.copyfileobj(src, out)


def _local_db(
    ctx: TaskContext, url: JdbcUrl, source: str | None, output: bool, default: str
) -> Path | None:
    """The database file: the URL's (relative to the working directory), a copy of
    `source`, or a new file when it must be stored; None in memory."""
    path = Path(url.path) if url.path else None
    if path is not None and not path.is_absolute():
        path = ctx.working_directory() / _safe_name(url.path or "", "url")
    if source:
        if path is not None and Path(url.path or "").is_absolute():
            raise ValueError(
                "give the database either as a file in `url` or as a kestra:// file, not both"
            )
        path = path or ctx.working_directory() / default
        _copy_in(ctx, source, path)
    elif path is None and output:
        path = ctx.working_directory() / default
    return path


_WORKING_DIR = re.compile(r"\{\{\s*workingDir\s*\}\}")
_OUTPUT_FILE = re.compile(
    r"\{\{\s*outputFiles(?:\.([A-Za-z_][\w-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])\s*\}\}"
)


def _duckdb_sql(sql: str, workdir: Path, outputs: Mapping[str, Path]) -> str:
    """`{{ workingDir }}` and `{{ outputFiles.NAME }}`, given before the rest is rendered."""

    def output(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in outputs:
            raise ValueError(f"sql uses outputFiles.{name}, which `outputFiles` does not list")
        return str(outputs[name])

    return _OUTPUT_FILE.sub(output, _WORKING_DIR.sub(str(workdir), sql))


def _input_files(ctx: TaskContext, value: Any) -> None:
    rendered = ctx.render(value)
    if isinstance(rendered, str):
        try:
            rendered = json.loads(rendered)
        except ValueError:
            raise ValueError(
                "inputFiles: expected a map of file name: kestra:// URI or text"
            ) from None
    if not isinstance(rendered, Mapping):
        raise ValueError("inputFiles: expected a map of file name: kestra:// URI or text")
    workdir = ctx.working_directory()
    for name, content in rendered.items():
        target = workdir / _safe_name(str(name), "inputFiles")
        text = as_text(content)
        if text.startswith("kestra://"):
            _copy_in(ctx, text, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")


def _open(task: JdbcQuery, ctx: TaskContext, kind: str, files: _Files) -> tuple[Session, str]:
    """The session and the SQL to run (DuckDB's file names put in)."""
    url = parse_jdbc_url(as_text(ctx.render(task.url)), kind)
    username = as_text(ctx.render(task.username)) if task.username is not None else None
    password = as_text(ctx.render(task.password)) if task.password is not None else None
    sql = task.sql
    if kind == "postgresql":
        return PostgresSession(url, username, password), as_text(ctx.render(sql))
    if kind in ("mysql", "mariadb"):
        return MySqlSession(url, username, password), as_text(ctx.render(sql))
    files.output_db = _bool(ctx, getattr(task, "outputDbFile", False))
    if kind == "sqlite":
        if url.params:
            raise JdbcUrlError(f"url: parameters ({', '.join(url.params)}) are not supported here")
        source = getattr(task, "sqliteFile", None)
        src = as_text(ctx.render(source)) if source is not None else None
        files.db_path = _local_db(ctx, url, src, files.output_db, "database.sqlite")
        return SqliteSession(files.db_path), as_text(ctx.render(sql))
    workdir = ctx.working_directory()
    source = getattr(task, "databaseUri", None)
    src = as_text(ctx.render(source)) if source is not None else None
    files.db_path = _local_db(ctx, url, src, files.output_db, "database.duckdb")
    inputs = getattr(task, "inputFiles", None)
    if inputs is not None:
        _input_files(ctx, inputs)
    for name in getattr(task, "outputFiles", None) or []:
        plain = _safe_name(as_text(ctx.render(name)), "outputFiles")
        files.output_files[plain] = workdir / plain
    sql = _duckdb_sql(sql, workdir, files.output_files)
    return DuckDbSession(files.db_path, url.params, workdir), as_text(ctx.render(sql))


class Watcher:
    """Cancels the running statement when the attempt is stopped."""

    def __init__(self, ctx: TaskContext, session: Session) -> None:
        self._ctx, self._session = ctx, session
        self._done = threading.Event()
        self.fired = False
        self._thread = threading.Thread(target=self._watch, name="jdbc-cancel", daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(_WATCH_SECONDS):
            if self._ctx.cancelled:
                self.fired = True
                with contextlib.suppress(Exception):  # the statement may have ended meanwhile
                    self._session.cancel()
                return


def _rows(result: Result, size: int) -> Iterator[tuple[Any, ...]]:
    while True:
        batch = result.batch(size)
        if not batch:
            return
        yield from batch


def _collect(
    ctx: TaskContext, result: Result | None, fetch: FetchType, size: int, zone: dt.tzinfo | None
) -> dict[str, Any]:
    """One statement's outputs: row / rows / uri, and size."""
    if fetch is FetchType.NONE or result is None:
        return {}
    columns = result.columns
    if fetch is FetchType.FETCH_ONE:
        first = result.batch(1)
        row = (
            {c: values.output_value(v, zone) for c, v in zip(columns, first[0], strict=True)}
            if first
            else None
        )
        return {"row": row, "size": 1 if first else 0}
    if fetch is FetchType.FETCH:
        rows = [
            {c: values.output_value(v, zone) for c, v in zip(columns, r, strict=True)}
            for r in _rows(result, size)
        ]
        result.finish()
        return {"rows": rows, "size": len(rows)}
    with tempfile.TemporaryDirectory(prefix="lanner-jdbc-") as tmp:
        path = Path(tmp) / "rows.ion"
        with path.open("wb") as out:
            count = values.store_rows(columns, _rows(result, size), zone, out)
        result.finish()
        uri = ctx.put_file(path, f"{uuid.uuid4().hex}.ion")
    return {"uri": uri, "size": count}


def _run_one(
    session: Session,
    statement: Statement,
    parameters: Mapping[str, Any] | None,
    stream: int | None = None,
) -> Result | None:
    if parameters is None:
        return session.execute(statement, None, stream)
    sql, bound = bind_named(
        statement.sql,
        parameters,
        placeholder=session.placeholder,
        escape_percent=session.escape_percent,
        backslash_escapes=session.backslash_escapes,
    )
    return session.execute(Statement(sql), bound or None, stream)


def run_jdbc(task: JdbcQuery, ctx: TaskContext, kind: str) -> Outcome:
    """Query: one script, the outputs of its last statement that returns rows.
    Queries: an `outputs` entry per statement that returns rows."""
    fetch = _fetch_type(task, ctx)
    size = _positive(ctx, task.fetchSize, "fetchSize")
    zone = values.parse_zone(as_text(ctx.render(task.timeZoneId))) if task.timeZoneId else None
    parameters = _parameters(ctx, task.parameters)
    many = isinstance(task, Queries)
    files = _Files()
    try:
        session, sql = _open(task, ctx, kind, files)
    except (ValueError, LannerError, MissingDriverError, OSError) as exc:
        # A bad URL, parameter or file property (JdbcUrlError and ParameterError are
        # ValueErrors), a kestra:// file that cannot be read, a missing driver.
        return Outcome(State.FAILED, error=str(exc))
    except Exception as exc:
        return Outcome(State.FAILED, error=f"cannot connect to {kind}: {exc}")
    try:
        with Watcher(ctx, session) as watcher:
            try:
                outputs = _statements(task, ctx, session, sql, fetch, size, zone, parameters, many)
            except ParameterError as exc:
                return Outcome(State.FAILED, error=str(exc))
            except Exception as exc:
                if watcher.fired or ctx.cancelled:
                    return Outcome(State.KILLED)
                return Outcome(State.FAILED, error=f"{kind} query failed: {exc}")
    finally:
        session.close()
    if ctx.cancelled:
        return Outcome(State.KILLED)
    return Outcome(outputs=_with_files(ctx, files, outputs))


def _statements(
    task: JdbcQuery,
    ctx: TaskContext,
    session: Session,
    sql: str,
    fetch: FetchType,
    size: int,
    zone: dt.tzinfo | None,
    parameters: Mapping[str, Any] | None,
    many: bool,
) -> dict[str, Any]:
    statements = session.statements(sql)
    after = as_text(ctx.render(task.afterSQL)) if task.afterSQL else None
    in_transaction = _bool(ctx, task.transaction) if isinstance(task, Queries) else bool(after)
    entries: list[dict[str, Any]] = []
    last: dict[str, Any] = {}
    if in_transaction:
        session.begin()
    try:
        for statement in statements:
            if ctx.cancelled:
                raise _Cancelled()
            # FETCH and STORE read every row: the driver may stream them.
            reads_all = fetch in (FetchType.FETCH, FetchType.STORE)
            result = _run_one(session, statement, parameters, size if reads_all else None)
            if result is None:
                continue
            last = _collect(ctx, result, fetch, size, zone)
            if many and fetch is not FetchType.NONE:
                entries.append(last)
        if after:
            for statement in session.statements(after):
                _run_one(session, statement, parameters)
        if in_transaction:
            session.commit()
    except BaseException:
        if in_transaction:
            with contextlib.suppress(Exception):  # the connection may be gone (killed)
                session.rollback()
        raise
    return {"outputs": entries} if many else last


def _with_files(ctx: TaskContext, files: _Files, outputs: dict[str, Any]) -> dict[str, Any]:
    if files.output_files:
        stored: dict[str, str] = {}
        for name, path in files.output_files.items():
            if not path.is_file():
                raise ValueError(f"outputFiles: the SQL wrote no file {name!r}")
            stored[name] = ctx.put_file(path, name)
        outputs["outputFiles"] = stored
    if files.output_db and files.db_path is not None:
        outputs["databaseUri"] = ctx.put_file(files.db_path, files.db_path.name)
    return outputs
