"""The Process task runner: one script as a local process group.

The process starts in a session of its own, so that a kill or a timeout
stops it and everything it started (SIGTERM to the group, SIGKILL after a
grace period). Its stdout and stderr are read as they come and handed over
line by line; when the main process has exited, whatever it left behind in
its group is stopped too, so that a background child holding the pipes open
cannot keep the task running.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lanner.errors import LannerError

KILL_GRACE_SECONDS = 2.0  # between SIGTERM and SIGKILL of a stopped script
_POLL_SECONDS = 0.05  # how often the reader looks at the cancellation flag
_READ_SIZE = 65536
_MAX_LINE = 1 << 20  # a "line" longer than this is handed over in pieces

LineSink = Callable[[str, bool], None]  # (line without its newline, is it stderr)


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int
    stopped: bool  # stopped by a kill or timeout, not ended by itself


def run_process(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    on_line: LineSink,
    cancelled: Callable[[], bool],
) -> ProcessResult:
    """Run `argv` in `cwd` with exactly `env`; every output line goes to `on_line`."""
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise LannerError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from None
    assert proc.stdout is not None and proc.stderr is not None
    stopped = False
    pending = {False: b"", True: b""}
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ, False)
    selector.register(proc.stderr, selectors.EVENT_READ, True)
    exited_at: float | None = None
    try:
        while selector.get_map():
            if not stopped and cancelled():
                stopped = True
                _stop_group(proc)
            for key, _ in selector.select(_POLL_SECONDS):
                is_err = bool(key.data)
                chunk = os.read(key.fd, _READ_SIZE)
                if not chunk:
                    selector.unregister(key.fileobj)
                    if pending[is_err]:
                        on_line(_decode(pending[is_err]), is_err)
                        pending[is_err] = b""
                    continue
                data = pending[is_err] + chunk
                *lines, rest = data.split(b"\n")
                for line in lines:
                    on_line(_decode(line.removesuffix(b"\r")), is_err)
                while len(rest) > _MAX_LINE:
                    on_line(_decode(rest[:_MAX_LINE]), is_err)
                    rest = rest[_MAX_LINE:]
                pending[is_err] = rest
            if exited_at is None and proc.poll() is not None:
                exited_at = time.monotonic()
            elif exited_at is not None and time.monotonic() - exited_at > 0.2:
                # The script ended but something it started still holds the pipes.
                _signal_group(proc.pid, signal.SIGKILL)
        code = proc.wait()
    finally:
        selector.close()
        proc.stdout.close()
        proc.stderr.close()
        if proc.poll() is None:  # an error while reading: leave nothing running
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    # Whatever the script left running in its group ends with the task.
    _signal_group(proc.pid, signal.SIGKILL)
    return ProcessResult(code, stopped)


def _decode(line: bytes) -> str:
    return line.decode("utf-8", errors="replace")


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group; SIGKILL when it has not ended after the grace period."""
    _signal_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(KILL_GRACE_SECONDS)
    _signal_group(proc.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pgid, sig)
