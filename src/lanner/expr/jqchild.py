"""The jq helper process: runs jq programs for ``lanner.expr.jqproc``.

Started as ``python -I jqchild.py MEMORY_BYTES`` with an empty environment,
it imports jq, then confines itself before it reads a program: an address
space of its start-up size plus MEMORY_BYTES (jq aborts, and so this process
ends, when a program wants more), no new file descriptors (jq's module
system cannot open a file), no files written, no core dump. It then says it is
ready (an empty frame) and answers requests on stdin until stdin closes.

A frame is an 8-byte big-endian length and that many bytes of UTF-8. A
request is two frames: ``{"program": P, "prelude": D, "limit": N}``, then
the input as JSON text (given to jq as text: no Python copy of it is made).
The answer is one frame, ``{"ok": [results]}``, ``{"error": message}`` or
``{"memory": true}``. This file imports
nothing of Lanner: it runs as a script, not as part of the package.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import struct
import sys
from typing import Any, BinaryIO

import jq

_HEADER = struct.Struct(">Q")
_PR_SET_DUMPABLE = 4


def _confine(memory: int) -> None:
    try:
        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the memory limit is the time limit's to enforce
        size = 0
    if size:
        resource.setrlimit(resource.RLIMIT_AS, (size + memory, size + memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    # No core dump, even where core_pattern is a pipe.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    resource.setrlimit(resource.RLIMIT_NOFILE, (3, 3))


def _read(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def _answer(request: dict[str, Any], data: str) -> dict[str, Any]:
    program: str = request["program"]
    try:
        compiled = jq.compile(request["prelude"] + program)
    except ValueError:
        # The message of the program as written, not of the prelude.
        try:
            jq.compile(program)
        except ValueError as exc:
            return {"error": str(exc)}
        return {"error": "jq modules (import, include, module) are not available"}
    try:
        results = compiled.input_text(data).all()
    except ValueError as exc:
        return {"error": str(exc)}
    text = json.dumps({"ok": results}, ensure_ascii=False, separators=(",", ":"))
    if len(text) > request["limit"]:
        return {"error": f"the result is longer than {request['limit']} characters, the limit"}
    return {"text": text}


def main() -> None:
    _confine(int(sys.argv[1]))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(_HEADER.pack(0))  # ready: a program's time starts now
    stdout.flush()
    while True:
        header = _read(stdin, _HEADER.size)
        if header is None:
            return
        body = _read(stdin, _HEADER.unpack(header)[0])
        header = _read(stdin, _HEADER.size) if body is not None else None
        data = _read(stdin, _HEADER.unpack(header)[0]) if header is not None else None
        if body is None or data is None:
            return
        try:
            answer = _answer(json.loads(body), data.decode("utf-8"))
            reply = answer.pop("text", None) or json.dumps(answer, ensure_ascii=False)
        except MemoryError:
            reply = json.dumps({"memory": True})
        data = reply.encode("utf-8")
        stdout.write(_HEADER.pack(len(data)) + data)
        stdout.flush()


if __name__ == "__main__":
    main()
