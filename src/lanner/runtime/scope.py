"""The executions one `lanner run` works on: its own execution and the Subflow
children its cycles start (and theirs, down the tree).

Its executor consumes only their events and its workers claim only their
jobs (the store's scoped `next_execution`, `has_due_events`, `claim_jobs`):
several `lanner run` on one store never take each other's work, which an
exiting run would otherwise abandon. Executions that Flow triggers start are
not part of it: like the triggers themselves, they wait for a server.
Servers, executors and workers have no scope and take any execution's work,
an execution left behind by a killed `lanner run` included.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class RunScope:
    """A growing set of execution ids, read without a lock by the claim loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Replaced, never mutated: a reader holds a consistent snapshot.
        self.ids: tuple[str, ...] = ()

    def add(self, execution_ids: Iterable[str]) -> None:
        with self._lock:
            new = [i for i in execution_ids if i not in self.ids]
            if new:
                self.ids = (*self.ids, *new)

    def discard(self, execution_id: str) -> None:
        """Forget a finalized execution: nothing more is to be done for it, and a
        long-lived runtime (a benchmark's) keeps its scope, and queries, small."""
        with self._lock:
            if execution_id in self.ids:
                self.ids = tuple(i for i in self.ids if i != execution_id)

    def __contains__(self, execution_id: object) -> bool:
        return execution_id in self.ids
