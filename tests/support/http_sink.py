"""A real HTTP server on 127.0.0.1 that records every request it receives.

Tests point webhook tasks (Slack, HTTP) at it and read back what arrived::

    sink = HttpSink()
    ...  # run a task with url=sink.url + "/services/T0/B0/XYZ"
    [request] = sink.wait_for(1)
    assert request.json == {"text": "hello"}
    sink.close()

The status it answers with (``status``), the body (``response_body``) and a
delay before answering (``delay``, seconds) can be changed at any time. A
request is recorded when it has been read, before the delay, so that a test
can see it arrive and then cancel the client while it waits.

``http_sink()`` is a plain generator for a pytest fixture (wrap it with
``pytest.fixture`` in a conftest). The module also runs on its own, for
examples and subprocess tests; it prints its URL on the first line, then
appends one JSON line per request to ``--record``::

    python -m tests.support.http_sink --port 0 --record /tmp/requests.jsonl
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the sink received it. Header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    time: float  # time.time() when the request was read
    json: Any = field(default=None)  # the body parsed as JSON, None when it is not JSON

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-line form written by ``--record``."""
        return {
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.text,
            "json": self.json,
            "time": self.time,
        }


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    sink: HttpSink

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (a cancelled task) is expected here, not an error to print.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sink = self.server.sink
        sink._record(
            RecordedRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                time=time.time(),
                json=_parse_json(body),
            )
        )
        status, response_body, delay = sink._response()
        if delay > 0 and sink._closing.wait(delay):
            self.close_connection = True
            return  # closing: drop the connection without an answer
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(response_body)))
        self.end_headers()
        self.wfile.write(response_body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the sink's record is the log


class HttpSink:
    """A recording HTTP server on 127.0.0.1 (port 0 picks a free port)."""

    def __init__(
        self,
        port: int = 0,
        *,
        status: int = 200,
        response_body: bytes = b"ok",
        delay: float = 0.0,
        record: Path | None = None,
    ) -> None:
        self.status = status
        self.response_body = response_body
        self.delay = delay
        self._record_path = record
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._closing = threading.Event()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.sink = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="http-sink",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least `count` requests arrived; raise TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            received = self.requests
            if len(received) >= count:
                return received
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"the HTTP sink received {len(received)} request(s), "
                    f"expected {count} within {timeout}s"
                )
            self._closing.wait(0.01)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> HttpSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            if self._record_path is not None:
                with self._record_path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(request.to_dict()) + "\n")

    def _response(self) -> tuple[int, bytes, float]:
        with self._lock:
            return self.status, self.response_body, self.delay


def http_sink() -> Iterator[HttpSink]:
    """Fixture body: a fresh sink per test, closed afterwards."""
    sink = HttpSink()
    try:
        yield sink
    finally:
        sink.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.http_sink",
        description="Record HTTP requests on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    parser.add_argument("--record", type=Path, help="append one JSON line per request here")
    parser.add_argument("--status", type=int, default=200, help="status code to answer with")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    args = parser.parse_args(argv)

    sink = HttpSink(args.port, status=args.status, delay=args.delay, record=args.record)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(sink.url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
