"""The trigger runtime's SQL and methods, shared by SQLite and PostgreSQL (docs/triggers.md).

One row per evaluated trigger in ``trigger_context`` (migration 0004). Every
statement is the same on both databases but for its placeholder.

Exactly once: a firing is one transaction that updates the context only if
its ``version`` is still the one the evaluator read, then inserts the
executions of the fired dates (ids derived from the trigger and the date,
``ON CONFLICT DO NOTHING``). Two evaluators that computed the same firing
race on the version: PostgreSQL's row lock makes the second update wait and
then match no row (its version moved); SQLite has one writer. The loser
writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from lanner.store import codec
from lanner.store.base import NewExecution, TriggerContext

if TYPE_CHECKING:
    from lanner.store.sql import Statements

_COLUMNS = (
    "namespace, flow_id, trigger_id, type, next_date, last_date, data, disabled,"
    " execution_id, locked_by, locked_until, version, updated_at"
)
_KEY = "namespace = ? AND flow_id = ? AND trigger_id = ?"


class TriggerStatements:
    """The trigger-context statements with one dialect's placeholder."""

    def __init__(self, placeholder: str) -> None:
        def p(text: str) -> str:
            return text if placeholder == "?" else text.replace("?", placeholder)

        self.LIST = (
            f"SELECT {_COLUMNS} FROM trigger_context ORDER BY namespace, flow_id, trigger_id"
        )
        self.LIST_NS = p(
            f"SELECT {_COLUMNS} FROM trigger_context WHERE namespace = ?"
            " ORDER BY namespace, flow_id, trigger_id"
        )
        self.GET = p(f"SELECT {_COLUMNS} FROM trigger_context WHERE {_KEY}")
        self.INIT = p(
            f"INSERT INTO trigger_context ({_COLUMNS})"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (namespace, flow_id, trigger_id) DO NOTHING"
        )
        self.DELETE = p(f"DELETE FROM trigger_context WHERE {_KEY}")
        self.ADVANCE = p(
            "UPDATE trigger_context SET type = ?, next_date = ?, last_date = ?, data = ?,"
            " disabled = ?, execution_id = ?, version = version + 1, updated_at = ?"
            f" WHERE {_KEY} AND version = ?"
        )
        self.LOCK = p(
            "UPDATE trigger_context SET locked_by = ?, locked_until = ?"
            f" WHERE {_KEY} AND (locked_by IS NULL OR locked_by = ? OR locked_until <= ?)"
        )
        self.UNLOCK = p(
            "UPDATE trigger_context SET locked_by = NULL, locked_until = NULL"
            f" WHERE {_KEY} AND locked_by IS NOT NULL"
        )
        self.UNLOCK_OWNER = p(
            "UPDATE trigger_context SET locked_by = NULL, locked_until = NULL"
            f" WHERE {_KEY} AND locked_by = ?"
        )


def context_from_row(row: Sequence[Any]) -> TriggerContext:
    ns, flow, tid, kind, nxt, last, data, disabled, exe, by, until, version, updated = row
    return TriggerContext(
        namespace=ns,
        flow_id=flow,
        trigger_id=tid,
        type=kind,
        next_date=codec.opt_from_micros(nxt),
        last_date=codec.opt_from_micros(last),
        data=codec.load_mapping(data),
        disabled=bool(disabled),
        execution_id=exe,
        locked_by=by,
        locked_until=codec.opt_from_micros(until),
        version=int(version),
        updated_at=codec.from_micros(updated),
    )


class SqlTriggerMethods:
    """The trigger store methods (see the module docstring) over a dialect's hooks."""

    sql: ClassVar[Statements]

    def _read(self, what: str) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _change(self, what: str, query: str, params: tuple[Any, ...]) -> int:
        raise NotImplementedError

    def _transaction(self, what: str) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _json_memo(self) -> codec.JsonMemo:
        raise NotImplementedError

    def list_trigger_contexts(self, namespace: str | None = None) -> list[TriggerContext]:
        t = self.sql.triggers
        with self._read("list triggers") as db:
            if namespace is None:
                rows = db.execute(t.LIST).fetchall()
            else:
                rows = db.execute(t.LIST_NS, (namespace,)).fetchall()
        return [context_from_row(row) for row in rows]

    def get_trigger_context(
        self, namespace: str, flow_id: str, trigger_id: str
    ) -> TriggerContext | None:
        with self._read("read a trigger") as db:
            row = db.execute(self.sql.triggers.GET, (namespace, flow_id, trigger_id)).fetchone()
        return None if row is None else context_from_row(row)

    def init_trigger_context(self, context: TriggerContext, now: datetime) -> bool:
        c = context
        params = (
            c.namespace,
            c.flow_id,
            c.trigger_id,
            c.type,
            codec.opt_micros(c.next_date),
            codec.opt_micros(c.last_date),
            codec.dump_value(dict(c.data)),
            int(c.disabled),
            c.execution_id,
            None,
            None,
            0,
            codec.to_micros(now),
        )
        return self._change("save a trigger", self.sql.triggers.INIT, params) == 1

    def delete_trigger_context(self, namespace: str, flow_id: str, trigger_id: str) -> bool:
        key = (namespace, flow_id, trigger_id)
        return self._change("delete a trigger", self.sql.triggers.DELETE, key) > 0

    def advance_trigger(
        self,
        before: TriggerContext,
        after: TriggerContext,
        executions: Sequence[NewExecution],
        now: datetime,
    ) -> bool:
        from lanner.store.sql import insert_execution

        a = after
        params = (
            a.type,
            codec.opt_micros(a.next_date),
            codec.opt_micros(a.last_date),
            codec.dump_value(dict(a.data)),
            int(a.disabled),
            a.execution_id,
            codec.to_micros(now),
            *before.key,
            before.version,
        )
        memo = self._json_memo()
        with self._transaction("fire a trigger") as s:
            if s.conn.execute(self.sql.triggers.ADVANCE, params).rowcount != 1:
                return False
            for new in executions:
                insert_execution(self.sql, s.conn, new.execution, new.events, memo)
            s.changed = True
        return True

    def lock_trigger(
        self,
        namespace: str,
        flow_id: str,
        trigger_id: str,
        owner: str,
        until: datetime,
        now: datetime,
    ) -> bool:
        params = (
            owner,
            codec.to_micros(until),
            namespace,
            flow_id,
            trigger_id,
            owner,
            codec.to_micros(now),
        )
        return self._change("lock a trigger", self.sql.triggers.LOCK, params) == 1

    def unlock_trigger(
        self, namespace: str, flow_id: str, trigger_id: str, owner: str | None = None
    ) -> bool:
        t = self.sql.triggers
        key = (namespace, flow_id, trigger_id)
        if owner is None:
            return self._change("unlock a trigger", t.UNLOCK, key) == 1
        return self._change("unlock a trigger", t.UNLOCK_OWNER, (*key, owner)) == 1
