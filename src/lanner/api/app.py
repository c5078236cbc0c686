"""The FastAPI application: routes under `/api/v1/main/...` and `/api/v1/...`
(tenant `main`), health, basic authentication, and the error handlers."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from lanner.api import (
    errors,
    executionactions,
    executionchange,
    executionfiles,
    executions,
    flowgraph,
    flows,
    flowtransfer,
    follow,
    kv,
    logs,
    namespacefiles,
    namespaces,
    outputs,
    plugins,
    triggers,
    webhook,
)
from lanner.api.context import ApiContext
from lanner.config import BasicAuthConfig, Config
from lanner.plugin import TaskRegistry
from lanner.storage import Storage
from lanner.store.base import Store

TENANT = "main"
PREFIXES = (f"/api/v1/{TENANT}", "/api/v1")
HEALTH = "/health"


def create_app(store: Store, registry: TaskRegistry, config: Config, storage: Storage) -> FastAPI:
    import lanner

    app = FastAPI(
        title="Lanner",
        version=getattr(lanner, "__version__", "0"),
        description="Kestra's REST API, tenant `main` (docs/api.md).",
    )
    app.state.lanner = ApiContext(store, registry, config, storage)
    errors.install(app)
    for prefix in PREFIXES:
        for module in (
            webhook,
            follow,
            executionfiles,
            flowtransfer,
            flowgraph,
            flows,
            executionactions,
            executionchange,
            executions,
            logs,
            kv,
            outputs,
            namespacefiles,
            namespaces,
            triggers,
            plugins,
        ):
            app.include_router(module.router, prefix=prefix)

    from lanner.api import ui

    ui.install(app)

    @app.get(HEALTH, tags=["Health"])
    def health() -> dict[str, str]:
        return {"status": "UP"}

    auth = config.server.basicAuth
    if auth is not None:
        app.middleware("http")(_basic_auth(auth))
    return app


def _open(path: str) -> bool:
    """Kestra's default open URLs: health, and the webhook (its key is the secret)."""
    if path == HEALTH:
        return True
    return any(path.startswith(p + "/executions/webhook/") for p in PREFIXES)


def _basic_auth(
    auth: BasicAuthConfig,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    expected = f"{auth.username}:{auth.password}".encode()

    async def check(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if _open(request.url.path) or _allowed(request.headers.get("authorization"), expected):
            return await call_next(request)
        return JSONResponse(
            errors.error_body(
                "Unauthorized: this server needs basic authentication", request.url.path
            ),
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="lanner"'},
        )

    return check


def _allowed(header: str | None, expected: bytes) -> bool:
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        given = base64.b64decode(header[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, expected)
