"""The properties of the JDBC task types (docs/tasks-jdbc.md), as Kestra names them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from lanner.model.common import DynamicBool, DynamicInt, Text, is_dynamic
from lanner.model.task import Task
from lanner.model.unsupported import reject, unsupported
from lanner.tasks.jdbc.urls import FILE_KINDS, SERVER_KINDS, JdbcUrlError, parse_jdbc_url


class FetchType(StrEnum):
    FETCH = "FETCH"
    FETCH_ONE = "FETCH_ONE"
    STORE = "STORE"
    NONE = "NONE"


_SSL = "TLS options are not supported here; give `sslmode` in the url (jdbc:postgresql://...?sslmode=require)"


class JdbcQuery(Task):
    """Properties every JDBC Query and Queries task has."""

    type: str
    url: Text = Field(description="The JDBC URL, e.g. jdbc:postgresql://127.0.0.1:5432/db.")
    username: Text | None = Field(None, description="The user to connect as.")
    password: Text | None = Field(None, description="The user's password.")
    sql: Text = Field(description="The SQL to run; `:name` marks a named parameter.")
    parameters: dict[str, Any] | Text | None = Field(
        None, description="Values of the named parameters (`:name` in `sql`)."
    )
    fetchSize: DynamicInt = Field(10000, description="Rows read from the driver at a time.")
    fetchType: Text = Field("NONE", description="FETCH, FETCH_ONE, STORE or NONE.")
    fetch: DynamicBool | None = Field(None, description="Deprecated: fetchType: FETCH.")
    fetchOne: DynamicBool | None = Field(None, description="Deprecated: fetchType: FETCH_ONE.")
    store: DynamicBool | None = Field(None, description="Deprecated: fetchType: STORE.")
    afterSQL: Text | None = Field(
        None, description="SQL run after the query, in the same transaction."
    )
    timeZoneId: Text | None = Field(
        None, description="The zone timestamps with a zone are shown in (default: the worker's)."
    )
    autoCommit: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        # A url written out is read at load, as the run would read it, so that a
        # mistyped one is reported with its line before anything runs.
        kind = _kind(str(info.data.get("type", "")))
        if kind is not None and not is_dynamic(value):
            try:
                parse_jdbc_url(value, kind)
            except JdbcUrlError as exc:
                raise ValueError(str(exc).removeprefix("url: ")) from None
        return value

    @field_validator("fetchType")
    @classmethod
    def _fetch_type(cls, value: str) -> str:
        if not is_dynamic(value) and value not in FetchType.__members__:
            raise ValueError(f"fetchType must be one of {', '.join(FetchType)}, got {value!r}")
        return value

    @field_validator("fetchSize")
    @classmethod
    def _fetch_size(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError(f"fetchSize must be at least 1, got {value}")
        return value

    @field_validator("autoCommit")
    @classmethod
    def _auto_commit(cls, value: bool | None) -> bool | None:
        if value is False:
            reject(
                "autoCommit",
                value,
                "each statement commits alone, or with afterSQL (Query) or transaction"
                " (Queries) in one transaction",
            )
        return value


def _kind(type_name: str) -> str | None:
    """The database of io.kestra.plugin.jdbc.<kind>.Query/Queries, else None."""
    parts = type_name.split(".")
    known = parts[:4] == ["io", "kestra", "plugin", "jdbc"] and len(parts) == 6
    return parts[4] if known and parts[4] in SERVER_KINDS + FILE_KINDS else None


class Queries(JdbcQuery):
    """Several statements; each one that returns rows gives an entry of `outputs`."""

    transaction: DynamicBool = Field(True, description="Run all statements in one transaction.")


PG_FIELDS = ("ssl", "sslMode", "sslRootCert", "sslCert", "sslKey", "sslKeyPassword")
PG_REASONS = dict.fromkeys(PG_FIELDS, _SSL)


class PostgresQuery(JdbcQuery):
    ssl: Any = None
    sslMode: Any = None
    sslRootCert: Any = None
    sslCert: Any = None
    sslKey: Any = None
    sslKeyPassword: Any = None
    _pg_not_supported = unsupported(*PG_FIELDS, reasons=PG_REASONS)


class PostgresQueries(Queries):
    ssl: Any = None
    sslMode: Any = None
    sslRootCert: Any = None
    sslCert: Any = None
    sslKey: Any = None
    sslKeyPassword: Any = None
    _pg_not_supported = unsupported(*PG_FIELDS, reasons=PG_REASONS)


class SqliteQuery(JdbcQuery):
    url: Text = "jdbc:sqlite:"
    sqliteFile: Text | None = Field(
        None, description="A kestra:// SQLite file to work on (a copy of it)."
    )
    outputDbFile: DynamicBool = Field(False, description="Store the database file: `databaseUri`.")


class SqliteQueries(Queries):
    url: Text = "jdbc:sqlite:"
    sqliteFile: Text | None = None
    outputDbFile: DynamicBool = False


class DuckDbQuery(JdbcQuery):
    url: Text = "jdbc:duckdb:"
    databaseUri: Text | None = Field(
        None, description="A kestra:// DuckDB file to work on (a copy of it)."
    )
    inputFiles: dict[str, Text] | Text | None = Field(
        None, description="Files to put in the working directory: name -> kestra:// URI or text."
    )
    outputFiles: list[Text] | None = Field(
        None, description="Names of files the SQL writes (`{{ outputFiles.name }}`), then stored."
    )
    outputDbFile: DynamicBool = Field(False, description="Store the database file: `databaseUri`.")
    databaseFile: Any = None
    _duck_not_supported = unsupported(
        "databaseFile",
        reasons={"databaseFile": "give the file in `url` (jdbc:duckdb:/path) or use `databaseUri`"},
    )


class DuckDbQueries(Queries):
    url: Text = "jdbc:duckdb:"
    databaseUri: Text | None = None
    inputFiles: dict[str, Text] | Text | None = None
    outputFiles: list[Text] | None = None
    outputDbFile: DynamicBool = False
    databaseFile: Any = None
    _duck_not_supported = unsupported(
        "databaseFile",
        reasons={"databaseFile": "give the file in `url` (jdbc:duckdb:/path) or use `databaseUri`"},
    )
