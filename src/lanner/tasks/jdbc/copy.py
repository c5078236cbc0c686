"""`io.kestra.plugin.jdbc.postgresql.CopyOut` / `CopyIn`: PostgreSQL's COPY
between a table (or a query) and a file of internal storage, streamed
(docs/tasks-jdbc.md)."""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from lanner.model.common import DynamicBool, Text, is_dynamic
from lanner.model.states import State
from lanner.model.task import Task
from lanner.model.unsupported import unsupported
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.jdbc.drivers import PostgresSession
from lanner.tasks.jdbc.model import PG_FIELDS, PG_REASONS
from lanner.tasks.jdbc.run import Watcher
from lanner.tasks.jdbc.urls import JdbcUrlError, parse_jdbc_url

_CHUNK = 1 << 20
_NAME = re.compile(r'^(?:[A-Za-z_][\w$]*|"(?:[^"]|"")+")(?:\.(?:[A-Za-z_][\w$]*|"(?:[^"]|"")+"))?$')
_FORMATS = ("TEXT", "CSV", "BINARY")


class _Copy(Task):
    type: str
    url: Text = Field(description="The JDBC URL, e.g. jdbc:postgresql://127.0.0.1:5432/db.")
    username: Text | None = None
    password: Text | None = None
    table: Text | None = Field(None, description="The table (schema.table).")
    columns: list[Text] | None = Field(None, description="The columns to copy (default all).")
    format: Text = Field("TEXT", description="TEXT, CSV or BINARY.")
    header: DynamicBool | None = Field(None, description="CSV: a header line.")
    delimiter: Text | None = None
    nullString: Text | None = None
    quote: Text | None = None
    escape: Text | None = None
    encoding: Text | None = None
    freeze: DynamicBool | None = None
    oids: DynamicBool | None = None
    ssl: Any = None
    sslMode: Any = None
    sslRootCert: Any = None
    sslCert: Any = None
    sslKey: Any = None
    sslKeyPassword: Any = None
    _pg_not_supported = unsupported(*PG_FIELDS, reasons=PG_REASONS)

    @model_validator(mode="after")
    def _check(self) -> _Copy:
        if not is_dynamic(self.format) and self.format.upper() not in _FORMATS:
            raise ValueError(f"format must be one of {', '.join(_FORMATS)}, got {self.format!r}")
        if self.oids is True:
            raise ValueError("'oids' is not supported here: PostgreSQL 12 removed WITH OIDS")
        return self


class CopyOut(_Copy):
    """Copy a table or a query's rows into a file of internal storage."""

    sql: Text | None = Field(None, description="A query to copy instead of a table.")
    forceQuote: list[Text] | None = Field(None, description="CSV: columns always quoted.")

    @model_validator(mode="after")
    def _one_source(self) -> CopyOut:
        if (self.sql is None) == (self.table is None):
            raise ValueError("give either `table` or `sql`")
        return self


class CopyIn(_Copy):
    """Copy a file of internal storage into a table."""

    from_: Text = Field(alias="from", description="The kestra:// file to copy in.")
    forceNotNull: list[Text] | None = None
    forceNull: list[Text] | None = None

    @model_validator(mode="after")
    def _needs_table(self) -> CopyIn:
        if self.table is None:
            raise ValueError("`table` is required")
        return self


def _name(ctx: TaskContext, value: Any, what: str) -> str:
    name = as_text(ctx.render(value)).strip()
    if not _NAME.match(name):
        raise ValueError(f"{what}: {name!r} is not a table or column name")
    return name


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _statement(task: _Copy, ctx: TaskContext, direction: str) -> str:
    fmt = as_text(ctx.render(task.format)).strip().upper()
    if fmt not in _FORMATS:
        raise ValueError(f"format must be one of {', '.join(_FORMATS)}, got {fmt!r}")
    options = [f"FORMAT {fmt}"]

    def flag(name: str, value: Any) -> None:
        if value is not None:
            rendered = ctx.render(value)
            on = rendered if isinstance(rendered, bool) else str(rendered).lower() == "true"
            options.append(f"{name} {'true' if on else 'false'}")

    def text(name: str, value: Any) -> None:
        if value is not None:
            options.append(f"{name} {_literal(as_text(ctx.render(value)))}")

    def names(name: str, value: list[Any] | None) -> None:
        if value:
            options.append(f"{name} ({', '.join(_name(ctx, c, name) for c in value)})")

    flag("FREEZE", task.freeze)
    text("DELIMITER", task.delimiter)
    text("NULL", task.nullString)
    flag("HEADER", task.header)
    text("QUOTE", task.quote)
    text("ESCAPE", task.escape)
    if isinstance(task, CopyOut):
        names("FORCE_QUOTE", task.forceQuote)
    if isinstance(task, CopyIn):
        names("FORCE_NOT_NULL", task.forceNotNull)
        names("FORCE_NULL", task.forceNull)
    text("ENCODING", task.encoding)
    if isinstance(task, CopyOut) and task.sql is not None:
        source = f"({as_text(ctx.render(task.sql)).strip().rstrip(';')})"
    else:
        source = _name(ctx, task.table, "table")
        if task.columns:
            source += f" ({', '.join(_name(ctx, c, 'columns') for c in task.columns)})"
    return f"COPY {source} {direction} WITH ({', '.join(options)})"


def _session(task: _Copy, ctx: TaskContext) -> PostgresSession:
    url = parse_jdbc_url(as_text(ctx.render(task.url)), "postgresql")
    username = as_text(ctx.render(task.username)) if task.username is not None else None
    password = as_text(ctx.render(task.password)) if task.password is not None else None
    return PostgresSession(url, username, password)


def _run(task: _Copy, ctx: TaskContext, direction: str) -> Outcome:
    statement = _statement(task, ctx, direction)
    try:
        session = _session(task, ctx)
    except JdbcUrlError as exc:
        return Outcome(State.FAILED, error=str(exc))
    except Exception as exc:
        return Outcome(State.FAILED, error=f"cannot connect to postgresql: {exc}")
    try:
        with Watcher(ctx, session) as watcher:
            try:
                outputs = _copy(task, ctx, session, statement)
            except Exception as exc:
                if watcher.fired or ctx.cancelled:
                    return Outcome(State.KILLED)
                return Outcome(State.FAILED, error=f"postgresql COPY failed: {exc}")
    finally:
        session.close()
    return Outcome(outputs=outputs)


def _copy(
    task: _Copy, ctx: TaskContext, session: PostgresSession, statement: str
) -> dict[str, Any]:
    cur = session.connection.cursor()
    if isinstance(task, CopyIn):
        with (
            ctx.open_file(as_text(ctx.render(task.from_))) as src,
            cur.copy(statement.encode()) as copy,
        ):
            while chunk := src.read(_CHUNK):
                copy.write(chunk)
        return {"rowCount": cur.rowcount}
    with tempfile.TemporaryDirectory(prefix="lanner-copyout-") as tmp:
        path = Path(tmp) / "copy"
        with path.open("wb") as out, cur.copy(statement.encode()) as copy:
            for data in copy:
                out.write(data)
        rows = cur.rowcount
        uri = ctx.put_file(path, f"{uuid.uuid4().hex}.{_extension(task, ctx)}")
    return {"uri": uri, "rowCount": rows}


def _extension(task: _Copy, ctx: TaskContext) -> str:
    fmt = as_text(ctx.render(task.format)).strip().upper()
    return {"CSV": "csv", "BINARY": "bin"}.get(fmt, "txt")


def run_copy_out(task: CopyOut, ctx: TaskContext) -> Outcome:
    return _run(task, ctx, "TO STDOUT")


def run_copy_in(task: CopyIn, ctx: TaskContext) -> Outcome:
    return _run(task, ctx, "FROM STDIN")
