"""The KV store as tasks and the `lanner kv` commands use it: checked, typed, timed.

:class:`StoreKV` is the ``kv`` member of a worker's TaskContext
(``lanner.plugin.KVAccess``), and what ``lanner kv`` runs: it checks keys,
parses a value into its ``kvType``, turns ``ttl`` into an expiry, and makes a
value that holds a secret this process knows a tainted one again (a task is
given plain text: ``lanner.runtime.worker``), so that the store seals it at
rest and displays mask it (docs/secrets.md). The clock is read here, when a
pair is written or read, never in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from lanner.errors import InputError
from lanner.expr import taint
from lanner.model.kvtypes import KVEntry, KVType, check_key, coerce, expiry
from lanner.store.base import Store


def _utcnow() -> datetime:
    return datetime.now(UTC)


class StoreKV:
    """A `KVAccess` over a store, for one execution's namespace (or the CLI's)."""

    def __init__(
        self,
        store: Store,
        namespace: str,
        clock: Callable[[], datetime] = _utcnow,
        writer: str | None = None,
    ) -> None:
        """`writer`: the idempotency key of the task run attempt that writes (none for
        the CLI), so that the attempt resubmitted finds its own write (store.kv_put)."""
        self._store = store
        self._namespace = namespace
        self._clock = clock
        self._writer = writer

    @property
    def namespace(self) -> str:
        return self._namespace

    def get(self, namespace: str, key: str) -> KVEntry | None:
        return self._store.kv_get(namespace, _key(key), self._clock())

    def set(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        kv_type: KVType | None = None,
        ttl: str | None = None,
        overwrite: bool = True,
        description: str | None = None,
    ) -> KVEntry:
        now = self._clock()
        try:
            kind, parsed = coerce(value, kv_type)
            expires = expiry(ttl, now)
        except ValueError as exc:
            raise InputError(f"cannot set the KV pair '{key}' in '{namespace}': {exc}") from None
        if taint.is_active():
            parsed = taint.retaint(parsed)
        entry = KVEntry(namespace, _key(key), kind, parsed, description, now, expires)
        if not self._store.kv_put(entry, now, overwrite=overwrite, writer=self._writer):
            raise InputError(
                f"the key '{key}' already exists in the namespace '{namespace}'"
                " and overwrite is false"
            )
        return entry

    def delete(self, namespace: str, key: str) -> bool:
        return self._store.kv_delete(namespace, _key(key), self._clock())

    def entries(self, namespace: str) -> list[KVEntry]:
        return self._store.kv_list(namespace, self._clock())

    def index(self) -> list[tuple[str, str, datetime | None]]:
        return self._store.kv_index()

    def purge(self, pairs: Sequence[tuple[str, str]], *, expired_only: bool) -> int:
        return self._store.kv_delete_many(pairs, self._clock() if expired_only else None)


def _key(key: str) -> str:
    try:
        return check_key(key)
    except ValueError as exc:
        raise InputError(str(exc)) from None
