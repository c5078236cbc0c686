"""The row writes and picks SQLiteStore and its executor cycle share.

Each runs on whatever it is given that executes statements: the write
connection, or the cursor a cycle keeps on it (one cursor for the whole
cycle, not one per statement). Driver errors are left to the caller, which
translates them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lanner.engine.execution import Execution
from lanner.store import codec
from lanner.store import sqlitesql as lite
from lanner.store.base import LogRecord, NewEvent, Scope
from lanner.store.sqlitesql import SQL

Runner = sqlite3.Connection | sqlite3.Cursor


# The last scope given as a tuple and its JSON array. A run's scope is a tuple replaced
# on each change, never mutated (runtime.scope.RunScope), and asked for on every poll of
# the executor and of the claim loops: its text is made once per change. The entry keeps
# its tuple alive, so an id() cannot be reused while it is held; replaced whole, it is
# read and written without a lock.
_last_scope: tuple[tuple[str, ...], str] = ((), "[]")


def scope_json(scope: Sequence[str]) -> str:
    """`scope` as a JSON array of ids (for ``json_each``)."""
    last = _last_scope
    if last[0] is scope:
        return last[1]
    text = json.dumps(list(scope))
    if type(scope) is tuple:  # a list may change in place: not kept
        _remember_scope(scope, text)
    return text


def _remember_scope(scope: tuple[str, ...], text: str) -> None:
    global _last_scope
    _last_scope = (scope, text)


def next_execution(db: Runner, now: datetime, scope: Scope) -> Any:
    """The row of the oldest due event (of `scope`'s executions), or None."""
    if scope is None:
        return db.execute(lite.NEXT_EXECUTION, (codec.to_micros(now),)).fetchone()
    if not scope:
        return None
    params = (codec.to_micros(now), scope_json(scope))
    return db.execute(lite.NEXT_EXECUTION_SCOPED, params).fetchone()


def many(db: Runner, sql: str, params: Sequence[tuple[Any, ...]]) -> int:
    """executemany, or execute for the common single row (less driver overhead)."""
    if len(params) == 1:
        return db.execute(sql, params[0]).rowcount
    return db.executemany(sql, params).rowcount


def insert_executions(db: Runner, memo: codec.JsonMemo, executions: Sequence[Execution]) -> int:
    """Insert new executions with their task runs; an existing id is left untouched.

    Returns how many were inserted.
    """
    count = 0
    for e in executions:
        if db.execute(SQL.EXEC_INSERT, codec.execution_params(e, e.version, memo)).rowcount:
            count += 1
            if e.task_runs:
                db.executemany(
                    SQL.RUN_UPSERT, [codec.task_run_params(t, memo) for t in e.ordered_task_runs()]
                )
    return count


def insert_events(db: Runner, events: Sequence[NewEvent]) -> int:
    """Insert events, dropping those whose dedup key exists; returns how many were inserted."""
    if not events:
        return 0
    return many(db, SQL.EVENT_INSERT, [codec.event_params(e) for e in events])


def insert_logs(db: Runner, records: Sequence[LogRecord]) -> None:
    if len(records) == 1:  # a chain's task's line: no list to build
        db.execute(SQL.LOG_INSERT, codec.log_params(records[0]))
    elif records:
        many(db, SQL.LOG_INSERT, [codec.log_params(r) for r in records])


def regexp(pattern: str, text: str | None) -> bool:
    """SQL's REGEXP (execution search, store/searchsql.py)."""
    try:
        return text is not None and re.search(pattern, text) is not None
    except re.error:
        return False
