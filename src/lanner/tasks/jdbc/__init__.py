"""`io.kestra.plugin.jdbc.{postgresql,mysql,mariadb,sqlite,duckdb}.Query` and
`Queries` (docs/tasks-jdbc.md): the `jdbc` entry point of `lanner.tasks`."""

from __future__ import annotations

from functools import partial
from typing import Any

from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.jdbc.copy import CopyIn, CopyOut, run_copy_in, run_copy_out
from lanner.tasks.jdbc.model import (
    DuckDbQueries,
    DuckDbQuery,
    JdbcQuery,
    PostgresQueries,
    PostgresQuery,
    Queries,
    SqliteQueries,
    SqliteQuery,
)
from lanner.tasks.jdbc.run import run_jdbc

_PACKAGES = {
    "postgresql": ("postgresql", PostgresQuery, PostgresQueries),
    "mysql": ("mysql", JdbcQuery, Queries),
    "mariadb": ("mariadb", JdbcQuery, Queries),
    "sqlite": ("sqlite", SqliteQuery, SqliteQueries),
    "duckdb": ("duckdb", DuckDbQuery, DuckDbQueries),
}


def _runner(kind: str) -> Any:
    def run(task: Task, ctx: TaskContext) -> Outcome:
        assert isinstance(task, JdbcQuery)
        return run_jdbc(task, ctx, kind)

    return partial(run)


def task_types() -> list[TaskType]:
    """The JDBC task types (the `jdbc` entry point)."""
    types: list[TaskType] = []
    for kind, (package, query, queries) in _PACKAGES.items():
        run = _runner(kind)
        base = f"io.kestra.plugin.jdbc.{package}."
        types.append(TaskType(name=base + "Query", model=query, run=run))
        types.append(TaskType(name=base + "Queries", model=queries, run=run))
    pg = "io.kestra.plugin.jdbc.postgresql."
    types.append(TaskType(name=pg + "CopyOut", model=CopyOut, run=run_copy_out))
    types.append(TaskType(name=pg + "CopyIn", model=CopyIn, run=run_copy_in))
    return types
