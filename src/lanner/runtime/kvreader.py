"""What `kv()` reads in an executor cycle: the KV store, read-only, through the cycle.

The planner is pure: it is never handed a store. The executor gives each
cycle's PlanContext a :class:`CycleKV`, a lookup that reads a pair through
the store on the executor's thread, so inside the cycle's own transaction
(SQLite's single writer, PostgreSQL's cycle connection): what the renders of
one cycle read is one state of the store. Each pair is read once per cycle
and kept, so that a render repeated within the cycle gives the same value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lanner.store.base import Store


class CycleKV:
    """A `KVLookup` (lanner.expr.scope) over `store` for the cycle planned at `now`."""

    __slots__ = ("_now", "_seen", "_store")

    def __init__(self, store: Store, now: datetime) -> None:
        self._store = store
        self._now = now
        self._seen: dict[tuple[str, str], Any] = {}

    def __call__(self, namespace: str, key: str) -> Any:
        wanted = (namespace, key)
        if wanted not in self._seen:
            entry = self._store.kv_get(namespace, key, self._now)  # expired: None
            self._seen[wanted] = None if entry is None else entry.value
        return self._seen[wanted]

    def reads(self) -> dict[tuple[str, str], Any]:
        """What this cycle's renders read, pair by pair (None: missing or expired); a
        recording keeps it so that a replay gives the planner the same values."""
        return dict(self._seen)


_ENDED = frozenset({"SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED"})


class CycleHistory:
    """A `FlowHistory` (lanner.expr.scope) over `store`: the states of a flow's most recent
    ended executions, newest first, read once per cycle and flow."""

    __slots__ = ("_seen", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._seen: dict[tuple[str, str, str, int], list[str]] = {}

    def __call__(self, namespace: str, flow_id: str, leave_out: str, limit: int) -> list[str]:
        wanted = (namespace, flow_id, leave_out, limit)
        if wanted not in self._seen:
            # Executions still running are skipped: a streak is about ended ones.
            found = self._store.list_executions(
                namespace=namespace, flow_id=flow_id, limit=limit + 50
            )
            states: list[str] = [
                str(e.state.value) for e in found if e.id != leave_out and e.state.value in _ENDED
            ]
            self._seen[wanted] = states[:limit]
        return list(self._seen[wanted])

    def reads(self) -> dict[tuple[str, str, str, int], list[str]]:
        """What this cycle's renders read, question by question; a recording keeps it
        so that a replay gives the planner the same states (tests/golden)."""
        return {wanted: list(states) for wanted, states in self._seen.items()}
