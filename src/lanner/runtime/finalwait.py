"""Waiting for an execution's end without polling the store in a tight loop.

The executors of this process tell :class:`FinalizedSignals` (a commit
listener) when a cycle finalized an execution; a waiter (the API's
`wait=true`, a Webhook's `wait`) then reads it at once. An execution that
another process finalizes (several servers on one PostgreSQL) is still seen
by the waiter's slower polling.
"""

from __future__ import annotations

import threading
from typing import Any

from lanner.engine.execution import Execution


class FinalizedSignals:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, list[threading.Event]] = {}

    def listen(self, execution_id: str) -> threading.Event:
        """An event set when an executor of this process finalizes the execution;
        give it back with :meth:`forget`."""
        event = threading.Event()
        with self._lock:
            self._waiting.setdefault(execution_id, []).append(event)
        return event

    def forget(self, execution_id: str, event: threading.Event) -> None:
        with self._lock:
            events = self._waiting.get(execution_id)
            if events is not None:
                events.remove(event)
                if not events:
                    del self._waiting[execution_id]

    def on_commit(self, execution: Execution, decision: Any) -> None:
        """The executor's commit listener: cheap when nobody waits."""
        if execution.finalized_at is None or not self._waiting:
            return
        with self._lock:
            events = list(self._waiting.get(execution.id, ()))
        for event in events:
            event.set()
