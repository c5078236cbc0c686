"""The KV store's SQL and methods, shared by SQLite and PostgreSQL (docs/kv.md).

One row per (namespace, key) in the ``kv`` table (migration 0003). Every
statement is the same on both databases but for its placeholder, so each is
written once here with ``?``; :class:`lanner.store.sql.Statements` builds a
:class:`KVStatements` per dialect, and :class:`SqlKVMethods` runs them
through the dialect's hooks (``_read``, ``_change``, ``_transaction``).

An expired pair reads as missing everywhere (``now`` is an argument, never
the clock), and a Set that must not overwrite replaces an expired pair as if
it were absent: one upsert whose ``WHERE`` makes it a no-op on a live row, so
two processes setting the same key cannot both believe they created it. A
row remembers the task run attempt that wrote it (``written_by``, its
idempotency key): the same attempt resubmitted after its worker was lost
finds its own write and succeeds again (at-least-once, like every task).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from lanner.errors import StoreError
from lanner.model.kvtypes import KVEntry, KVType
from lanner.store import codec

KV_COLUMNS = "namespace, key, type, value, description, updated_at, expires_at"
_WRITE_COLUMNS = KV_COLUMNS + ", written_by"
_LIVE = "(expires_at IS NULL OR expires_at > ?)"
_UPSERT = (
    f"INSERT INTO kv ({_WRITE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (namespace, key) DO UPDATE SET type = excluded.type,"
    " value = excluded.value, description = excluded.description,"
    " updated_at = excluded.updated_at, expires_at = excluded.expires_at,"
    " written_by = excluded.written_by"
)


class KVStatements:
    """The KV statements with one dialect's placeholder."""

    def __init__(self, placeholder: str) -> None:
        def p(text: str) -> str:
            return text if placeholder == "?" else text.replace("?", placeholder)

        self.GET = p(f"SELECT {KV_COLUMNS} FROM kv WHERE namespace = ? AND key = ? AND {_LIVE}")
        self.LIST = p(f"SELECT {KV_COLUMNS} FROM kv WHERE namespace = ? AND {_LIVE} ORDER BY key")
        self.PUT = p(_UPSERT)
        # overwrite: false. The update happens only over an expired pair, or over the
        # pair this very attempt wrote (a resubmitted task run writing again).
        self.CREATE = p(
            _UPSERT + " WHERE (kv.expires_at IS NOT NULL AND kv.expires_at <= ?)"
            " OR kv.written_by = ?"
        )
        self.DELETE = p("DELETE FROM kv WHERE namespace = ? AND key = ? RETURNING expires_at")
        self.INDEX = "SELECT namespace, key, expires_at FROM kv ORDER BY namespace, key"
        self.DELETE_ONE = p("DELETE FROM kv WHERE namespace = ? AND key = ?")
        # Fenced on the expiry: a pair set again since it was found expired is kept.
        self.DELETE_EXPIRED_ONE = p(
            "DELETE FROM kv WHERE namespace = ? AND key = ? AND expires_at <= ?"
        )
        self.PURGE_EXPIRED = p("DELETE FROM kv WHERE expires_at <= ?")


def entry_from_row(row: Sequence[Any]) -> KVEntry:
    namespace, key, kind, value, description, updated, expires = row
    try:
        kv_type = KVType(kind)
    except ValueError:
        raise StoreError(f"unsupported KV type {kind!r} for {namespace}/{key}") from None
    return KVEntry(
        namespace=namespace,
        key=key,
        type=kv_type,
        value=codec.load_value(value),
        description=description,
        updated_at=codec.from_micros(updated),
        expires_at=codec.opt_from_micros(expires),
    )


def _params(entry: KVEntry, now: datetime, writer: str | None) -> tuple[Any, ...]:
    return (
        entry.namespace,
        entry.key,
        entry.type.value,
        codec.dump_value(entry.value),  # secret values are sealed here
        entry.description,
        codec.to_micros(entry.updated_at or now),
        codec.opt_micros(entry.expires_at),
        writer,
    )


class SqlKVMethods:
    """The KV store's methods (see the module docstring); `kv_sql` is the dialect's statements."""

    @property
    def kv_sql(self) -> KVStatements:
        raise NotImplementedError

    def _read(self, what: str) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _change(self, what: str, query: str, params: tuple[Any, ...]) -> int:
        raise NotImplementedError

    def _transaction(self, what: str) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def kv_get(self, namespace: str, key: str, now: datetime) -> KVEntry | None:
        with self._read("read a KV pair") as db:
            row = db.execute(self.kv_sql.GET, (namespace, key, codec.to_micros(now))).fetchone()
        return None if row is None else entry_from_row(row)

    def kv_list(self, namespace: str, now: datetime) -> list[KVEntry]:
        with self._read("list KV pairs") as db:
            rows = db.execute(self.kv_sql.LIST, (namespace, codec.to_micros(now))).fetchall()
        return [entry_from_row(row) for row in rows]

    def kv_put(
        self, entry: KVEntry, now: datetime, *, overwrite: bool = True, writer: str | None = None
    ) -> bool:
        params = _params(entry, now, writer)
        if overwrite:
            self._change("set a KV pair", self.kv_sql.PUT, params)
            return True
        # A NULL writer matches no row: `written_by = NULL` is never true.
        fence = (codec.to_micros(now), writer)
        return self._change("set a KV pair", self.kv_sql.CREATE, (*params, *fence)) == 1

    def kv_delete(self, namespace: str, key: str, now: datetime) -> bool:
        with self._transaction("delete a KV pair") as s:
            row = s.conn.execute(self.kv_sql.DELETE, (namespace, key)).fetchone()
            if row is None:
                return False
            s.changed = True
        return row[0] is None or row[0] > codec.to_micros(now)

    def kv_index(self) -> list[tuple[str, str, datetime | None]]:
        with self._read("list KV keys") as db:
            rows = db.execute(self.kv_sql.INDEX).fetchall()
        return [(ns, key, codec.opt_from_micros(expires)) for ns, key, expires in rows]

    def kv_delete_many(
        self, pairs: Sequence[tuple[str, str]], expired_at: datetime | None = None
    ) -> int:
        if not pairs:
            return 0
        count = 0
        with self._transaction("delete KV pairs") as s:
            for namespace, key in pairs:
                if expired_at is None:
                    found = s.conn.execute(self.kv_sql.DELETE_ONE, (namespace, key))
                else:
                    params = (namespace, key, codec.to_micros(expired_at))
                    found = s.conn.execute(self.kv_sql.DELETE_EXPIRED_ONE, params)
                count += found.rowcount
            s.changed = count > 0
        return count

    def kv_purge_expired(self, now: datetime) -> int:
        query = self.kv_sql.PURGE_EXPIRED
        return self._change("purge expired KV pairs", query, (codec.to_micros(now),))
