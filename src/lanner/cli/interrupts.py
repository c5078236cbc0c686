"""SIGINT (Ctrl-C) and SIGTERM during `lanner run`, from its first instant to its exit.

Both signals mean the same (docs/runtime.md):

- before the execution exists (imports, the store opened or migrated, the
  flow loaded): KeyboardInterrupt, caught at the top; nothing is run, the
  process exits 130;
- while the execution is being created: held back, then answered as below;
- while it runs: the first signal kills it (running tasks stop, `errors` and
  `finally` do not run, afterExecution does) and the run waits for its end,
  then exits 130; a second one says how to leave at once; a third leaves at
  once, handing back what the process holds: the execution stays unfinished
  for any executor later started on the store;
- once it has ended: noted, the exit code is 130.

The handler runs on the main thread between two of its bytecodes, possibly
in the middle of a store call or a print: it writes nothing itself. The kill
event is written by a thread of its own, messages go straight to fd 2.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from lanner import cli
from lanner.cli.exitcodes import INTERRUPTED

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _say(message: str) -> None:
    with contextlib.suppress(OSError):  # stderr closed: nothing more to say there
        os.write(2, message.encode())


class RunSignals:
    """How one `lanner run` answers SIGINT and SIGTERM (see the module docstring)."""

    def __init__(self) -> None:
        # Shared with the entry point, which may have seen one already.
        self._noted = cli.noted_signals
        self._kill: Callable[[], None] | None = None
        self._killing = False
        self._holding = False
        self._ended = False

    @property
    def received(self) -> int:
        return len(self._noted)

    def install(self) -> None:
        for signum in SIGNALS:
            signal.signal(signum, self._handle)

    @contextmanager
    def starting(self) -> Iterator[None]:
        """Before the execution exists: an error raised while a signal came is the
        interrupt (Python reports a KeyboardInterrupt raised in some places, such
        as a class body's `__set_name__`, as a RuntimeError)."""
        try:
            yield
        except Exception:
            if self.received:
                raise KeyboardInterrupt from None
            raise

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold signals back while the execution is created and `running` is called."""
        if self.received:  # an interrupt Python swallowed (in a __del__, say)
            raise KeyboardInterrupt
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self.received:
            self._start_kill()

    def running(self, kill: Callable[[], None]) -> None:
        """The execution exists: a signal now kills it; one held back does at once."""
        self._kill = kill
        if self.received:
            self._start_kill()

    def ended(self) -> None:
        """The execution is finalized: a signal is only noted."""
        self._ended = True

    def _start_kill(self) -> None:
        if self._killing or self._kill is None:
            return
        self._killing = True
        _say("\nKilling the execution (afterExecution still runs)...\n")
        threading.Thread(target=self._write_kill, name="lanner-kill", daemon=True).start()

    def _write_kill(self) -> None:
        assert self._kill is not None
        try:
            self._kill()
        except Exception as exc:  # the store is unreachable: say so, no traceback
            _say(f"lanner run: cannot kill the execution: {getattr(exc, 'message', exc)}\n")

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._noted.append(signum)
        if self._ended or self._holding:
            return
        if self._kill is None:
            raise KeyboardInterrupt
        if not self._killing:
            self._start_kill()
        elif self.received == 2:
            _say(
                "lanner run: waiting for the killed execution to end (afterExecution);"
                " signal again to leave it unfinished for a server\n"
            )
        elif self.received >= 3:
            raise SystemExit(INTERRUPTED)
