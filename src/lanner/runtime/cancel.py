"""An attempt's cancellation signal (a kill, a timeout, a lost claim, a shutdown)."""

from __future__ import annotations

import threading

# Guards the first use of an event's condition: two threads must not make one each.
_MAKE = threading.Lock()


class CancelEvent:
    """A `threading.Event` (is_set, set, wait) that passes on to the events linked to
    it: the kill or the timeout of a one_job task (WorkingDirectory) stops the child
    running in its job.

    Every attempt has one and nearly none is ever set or waited on, so its condition
    is made on the first `set`, `wait` or `link`: a `threading.Event` builds a
    Condition up front, a tenth of the glue around a quick task."""

    __slots__ = ("_cond", "_flag", "_linked")

    def __init__(self) -> None:
        self._flag = False
        self._cond: threading.Condition | None = None
        self._linked: list[threading.Event | CancelEvent] = []

    def _condition(self) -> threading.Condition:
        cond = self._cond
        if cond is None:
            with _MAKE:
                cond = self._cond
                if cond is None:
                    cond = self._cond = threading.Condition(threading.Lock())
        return cond

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        cond = self._condition()
        with cond:
            self._flag = True
            cond.notify_all()
            linked = list(self._linked)
        for event in linked:
            event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until set or `timeout` seconds passed; whether it is set."""
        cond = self._condition()
        with cond:
            if not self._flag:
                cond.wait(timeout)
            return self._flag

    def link(self, event: threading.Event | CancelEvent) -> None:
        with self._condition():
            self._linked.append(event)
        if self._flag:
            event.set()

    def unlink(self, event: threading.Event | CancelEvent) -> None:
        with self._condition():
            self._linked.remove(event)
