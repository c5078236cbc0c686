"""The HTTP server inside `lanner server`: uvicorn on a thread of its own,
beside the executor, workers and maintenance.

The socket is bound on the caller's thread, so that a port already in use is
a clear error at start rather than a thread that dies quietly; port 0 takes
a free port (tests), which `port` then tells."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn

from lanner.api.app import create_app
from lanner.api.context import ApiContext
from lanner.config import Config
from lanner.errors import LannerError
from lanner.plugin import TaskRegistry
from lanner.storage import Storage
from lanner.store.base import Store

log = logging.getLogger(__name__)


class HttpServer:
    def __init__(
        self,
        store: Store,
        registry: TaskRegistry,
        config: Config,
        storage: Storage,
        host: str,
        port: int,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY on the accepted sockets
        # only when their proto says TCP; with 0, Nagle held each answer's last
        # segment until the client's delayed ACK (~40 ms per request).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise LannerError(
                f"cannot serve HTTP on {host}:{port}: {exc.strerror or exc}"
                " (choose another with --host/--port or server.host/server.port)"
            ) from None
        sock.listen(2048)
        sock.setblocking(False)
        self._socket = sock
        self.host = host
        self.port: int = sock.getsockname()[1]
        app = create_app(store, registry, config, storage)
        self._context: ApiContext = app.state.lanner
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=5,
            )
        )
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)

    @property
    def context(self) -> ApiContext:
        return self._context

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._context.stopping.set()  # before uvicorn waits for the requests in flight
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()
