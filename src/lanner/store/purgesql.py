"""Selective purges, shared by SQLite and PostgreSQL: the executions and the logs that
Kestra's PurgeExecutions and PurgeLogs tasks name by namespace, flow, dates, states
and levels (docs/tasks-core.md).

The statements are built per call from the filters given (an absent filter adds no
condition), with the dialect's placeholder, and run through the dialect's hooks
(``_read``, ``_transaction``). A namespace filter is a prefix, Kestra's rule: the
namespace itself or one below it, compared with ``substr`` (a LIKE pattern would read
the ``_`` of a namespace as a wildcard). Only finalized executions are purged: one
still running belongs to an executor.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from lanner.store import codec

Db = AbstractContextManager[Any]


class _Statements(Protocol):
    placeholder: str
    PURGE: tuple[str, ...]

    def ids(self, values: Sequence[str]) -> Any: ...


def _namespace_condition(
    column: str, namespace: str, exact: bool, mark: str
) -> tuple[str, list[Any]]:
    if exact:
        return f"{column} = {mark}", [namespace]
    below = namespace + "."
    return (
        f"({column} = {mark} OR substr({column}, 1, {mark}) = {mark})",
        [namespace, len(below), below],
    )


class SqlPurgeMethods:
    """The store's selective purge methods (see the module docstring)."""

    @property
    def purge_sql(self) -> _Statements:
        """The dialect's statements (lanner.store.sql.Statements)."""
        raise NotImplementedError

    def _read(self, what: str) -> Db:
        raise NotImplementedError

    def _transaction(self, what: str) -> Db:
        raise NotImplementedError

    def select_executions(
        self,
        *,
        before: datetime,
        after: datetime | None = None,
        namespace: str | None = None,
        flow_id: str | None = None,
        states: Sequence[str] | None = None,
    ) -> list[tuple[str, str, str]]:
        """(id, namespace, flow id) of the finalized executions created before `before`
        (and at or after `after`), of `namespace` and the namespaces below it (its own
        only with `flow_id`), in `states` when given; oldest first."""
        mark = self.purge_sql.placeholder
        where = ["finalized_at IS NOT NULL", f"created_at < {mark}"]
        params: list[Any] = [codec.to_micros(before)]
        if after is not None:
            where.append(f"created_at >= {mark}")
            params.append(codec.to_micros(after))
        if namespace is not None:
            text, values = _namespace_condition("namespace", namespace, flow_id is not None, mark)
            where.append(text)
            params.extend(values)
        if flow_id is not None:
            where.append(f"flow_id = {mark}")
            params.append(flow_id)
        if states is not None:
            if not states:
                return []
            where.append(f"state IN ({', '.join([mark] * len(states))})")
            params.extend(states)
        query = (
            "SELECT id, namespace, flow_id FROM execution WHERE "
            + " AND ".join(where)
            + " ORDER BY created_at, id"
        )
        with self._read("select executions to purge") as db:
            rows = db.execute(query, tuple(params)).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def delete_executions(self, ids: Sequence[str], *, rows: bool, logs: bool) -> tuple[int, int]:
        """Delete, in one transaction, the logs of these executions (`logs`) and their
        rows with task runs, jobs and events (`rows`), finalized ones only; returns
        (executions deleted, log lines deleted)."""
        if not ids or not (rows or logs):
            return 0, 0
        sql = self.purge_sql
        log_delete, *row_deletes = sql.PURGE  # the log table comes first (see sql.PURGE)
        mark = sql.placeholder
        with self._transaction("purge executions") as s:
            # Finalized ones only, read again inside the transaction.
            finalized = [
                r[0]
                for r in s.conn.execute(
                    f"SELECT id FROM execution WHERE finalized_at IS NOT NULL AND id IN"
                    f" ({', '.join([mark] * len(ids))})",
                    tuple(ids),
                ).fetchall()
            ]
            if not finalized:
                return 0, 0
            batch = (sql.ids(finalized),)
            log_count = 0
            if logs:
                log_count = max(s.conn.execute(log_delete, batch).rowcount, 0)
            if rows:
                for statement in row_deletes:
                    s.conn.execute(statement, batch)
            s.changed = True
        return (len(finalized) if rows else 0), log_count

    def delete_logs(
        self,
        *,
        before: datetime,
        after: datetime | None = None,
        namespace: str | None = None,
        flow_id: str | None = None,
        execution_id: str | None = None,
        levels: Sequence[str] | None = None,
    ) -> int:
        """Delete the log lines written before `before` (at or after `after`), of the
        executions of `namespace` (a prefix unless `flow_id` is given), `flow_id` and
        `execution_id`, at `levels` when given; how many."""
        mark = self.purge_sql.placeholder
        where = [f"timestamp < {mark}"]
        params: list[Any] = [codec.to_micros(before)]
        if after is not None:
            where.append(f"timestamp >= {mark}")
            params.append(codec.to_micros(after))
        if execution_id is not None:
            where.append(f"execution_id = {mark}")
            params.append(execution_id)
        if levels is not None:
            if not levels:
                return 0
            where.append(f"level IN ({', '.join([mark] * len(levels))})")
            params.extend(levels)
        owner: list[str] = []
        if namespace is not None:
            text, values = _namespace_condition("namespace", namespace, flow_id is not None, mark)
            owner.append(text)
            params.extend(values)
        if flow_id is not None:
            owner.append(f"flow_id = {mark}")
            params.append(flow_id)
        if owner:
            where.append(
                "execution_id IN (SELECT id FROM execution WHERE " + " AND ".join(owner) + ")"
            )
        query = "DELETE FROM log WHERE " + " AND ".join(where)
        with self._transaction("purge logs") as s:
            count = max(s.conn.execute(query, tuple(params)).rowcount, 0)
            if count:
                s.changed = True
        return int(count)
