"""The ``jq`` filter's programs run in helper processes, never in Lanner's.

A jq program can loop for ever (``def f: f; f``), allocate until the
process aborts (``[range(1e9)]``), read the environment (``$ENV``, ``env``)
or, through its module system, files (``import "x" as $x {search: "/"}``).
In-process none of this can be bounded or closed, so each program runs in a
helper (``lanner.expr.jqchild``) that:

* has an empty environment, and ``env``/``$ENV`` are ``{}`` besides;
* cannot use modules: a program starting with ``import``, ``include`` or
  ``module`` is refused, the prelude put before every program makes any
  module directive a syntax error, and the helper cannot open a file;
* is bounded in memory (address space) and time: over either, it is killed
  and the render fails with the limit named;
* has no side channel: ``debug`` and ``stderr`` pass their input through,
  ``input`` fails, ``inputs`` is empty, ``halt_error`` fails with its
  message, ``input_filename`` is null.

Helpers are kept in a small pool and reused, so a jq call costs a round trip
on a pipe; a helper is started (some 50 ms) only when none is idle, and one
that was killed or failed is not reused.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import re
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from lanner.errors import RenderError, SandboxError
from lanner.expr.sizes import human_bytes

__all__ = ["PRELUDE", "run_jq"]

_HEADER = struct.Struct(">Q")
_CHILD = str(Path(__file__).with_name("jqchild.py"))
_MAX_IDLE = 4
# A helper's start (Python, then jq) is not the program's time; on a loaded
# machine it can take a while, but not this long.
_START_SECONDS = 60.0

# Put before every program, on its first line (so `$__loc__` keeps its line):
# jq's grammar allows module directives only at the very start of a program.
PRELUDE = (
    "def env: {}; "
    'def input: error("jq input is not available: the jq filter reads only its input value"); '
    "def inputs: empty; "
    "def debug: .; def debug(msg): .; def stderr: .; "
    "def input_filename: null; "
    'def halt_error: error(if type == "string" then . else tojson end); '
    "def halt_error($code): halt_error; "
    "def get_search_list: []; def get_prog_origin: null; def get_jq_origin: null; "
    'def modulemeta: error("jq modules are not available"); '
    "{} as $ENV | "
)

_LEADING = re.compile(r"(?:\s+|#[^\n]*)*")
_MODULE_DIRECTIVE = re.compile(r"(?:import|include|module)\b")


class _Helper:
    def __init__(self, memory: int) -> None:
        self.memory = memory
        self.ended = False  # its stdout closed: it has ended or is ending
        self.process = subprocess.Popen(
            [sys.executable, "-I", _CHILD, str(memory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={},
            cwd="/",
            close_fds=True,
        )
        if self._read(_HEADER.size, time.monotonic() + _START_SECONDS) is None:
            self.kill()
            raise RenderError("The jq helper process did not start")

    @property
    def _stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    def ask(self, request: bytes, data: bytes, deadline: float) -> bytes | None:
        """The answer, or None if the helper ended or the deadline passed."""
        try:
            frame = _HEADER.pack(len(request)) + request + _HEADER.pack(len(data))
            self._stdin.write(frame)
            self._stdin.write(data)
            self._stdin.flush()
        except (BrokenPipeError, OSError):
            self.ended = True
            return None
        header = self._read(_HEADER.size, deadline)
        if header is None:
            return None
        return self._read(_HEADER.unpack(header)[0], deadline)

    def _read(self, size: int, deadline: float) -> bytes | None:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        chunks: list[bytes] = []
        left = size
        while left:
            timeout = deadline - time.monotonic()
            if timeout <= 0 or not select.select([fd], [], [], timeout)[0]:
                return None
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                self.ended = True
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class _Pool:
    def __init__(self) -> None:
        self._idle: list[_Helper] = []
        self._lock = threading.Lock()

    def take(self, memory: int) -> _Helper:
        with self._lock:
            for i, helper in enumerate(self._idle):
                if helper.memory == memory:
                    return self._idle.pop(i)
        return _Helper(memory)

    def give_back(self, helper: _Helper) -> None:
        with self._lock:
            if len(self._idle) < _MAX_IDLE:
                self._idle.append(helper)
                return
        helper.kill()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for helper in idle:
            helper.kill()

    def forget(self) -> None:
        """In a forked child: the helpers are the parent's, not to be shared."""
        self._idle = []
        self._lock = threading.Lock()


_POOL = _Pool()
atexit.register(_POOL.close)
os.register_at_fork(after_in_child=_POOL.forget)


def _refuse_modules(program: str) -> None:
    start = _LEADING.match(program)
    rest = program[start.end() if start else 0 :]
    if _MODULE_DIRECTIVE.match(rest):
        raise SandboxError("jq modules (import, include, module) are not available in Lanner")


def run_jq(program: str, data_json: str, *, seconds: float, memory: int, limit: int) -> list[Any]:
    """The results of ``program`` on the JSON text ``data_json``.

    ``seconds`` and ``memory`` bound the program, ``limit`` the characters of
    its results as JSON; each breach is a SandboxError naming the limit, and
    a program jq refuses or that fails is a RenderError with jq's message.
    """
    _refuse_modules(program)
    if not math.isfinite(seconds) or seconds <= 0:
        raise SandboxError("No time is left in this render to run jq")
    request = json.dumps({"program": program, "prelude": PRELUDE, "limit": limit}).encode()
    data = data_json.encode("utf-8")
    helper = _POOL.take(memory)
    answer = helper.ask(request, data, time.monotonic() + seconds)
    if answer is None and helper.ended and helper.process.poll() == 0:
        # An idle helper that had ended (its stdin closed from outside): once more.
        helper.kill()
        helper = _Helper(memory)
        answer = helper.ask(request, data, time.monotonic() + seconds)
    if answer is None:
        helper.kill()
        if not helper.ended:
            raise SandboxError(f"jq program ran longer than {seconds:g} s, the time limit")
        # jq aborts when an allocation fails: the address-space limit was hit.
        raise SandboxError(f"jq program needed more than {human_bytes(memory)}, the memory limit")
    reply = json.loads(answer)
    if "memory" in reply:
        helper.kill()
        raise SandboxError(f"jq program needed more than {human_bytes(memory)}, the memory limit")
    _POOL.give_back(helper)
    if "error" in reply:
        raise RenderError(f"Invalid jq expression '{program}': {reply['error']}")
    results: list[Any] = reply["ok"]
    return results
