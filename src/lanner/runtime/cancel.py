"""An attempt's cancellation signal (a kill, a timeout, a lost claim, a shutdown)."""

from __future__ import annotations

import threading


class CancelEvent(threading.Event):
    """A `threading.Event` that passes on to the events linked to it: the kill or the
    timeout of a one_job task (WorkingDirectory) stops the child running in its job."""

    def __init__(self) -> None:
        super().__init__()
        self._linked: list[threading.Event] = []
        self._link_lock = threading.Lock()

    def set(self) -> None:
        super().set()
        with self._link_lock:
            linked = list(self._linked)
        for event in linked:
            event.set()

    def link(self, event: threading.Event) -> None:
        with self._link_lock:
            self._linked.append(event)
        if self.is_set():
            event.set()

    def unlink(self, event: threading.Event) -> None:
        with self._link_lock:
            self._linked.remove(event)
