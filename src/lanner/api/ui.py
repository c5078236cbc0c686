"""The web UI's routes: `/` redirects to `/ui/`, `/ui/static/...` serves the
files of `lanner/ui/static/`, `/ui/schema/flow.json` the flow language's JSON Schema
(for the editor's completion), and every other `/ui/...` path answers the one
page (`lanner/ui/index.html`), whose JavaScript routes on the path and reads
everything through the REST API (docs/ui.md).

Nothing here is imported outside `lanner server`'s HTTP server."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

UI = Path(__file__).resolve().parent.parent / "ui"
# The UI loads nothing from elsewhere: no CDN, no inline script, no frame.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self';"
        " script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-cache",
}


class _Static(StaticFiles):
    """Static files with the UI's headers (revalidated: an upgrade shows at once)."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(HEADERS)
        return response


def install(app: FastAPI) -> None:
    app.mount("/ui/static", _Static(directory=UI / "static"), name="ui-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    schema: list[dict[str, Any]] = []  # built at the first request, then kept

    @app.get("/ui/schema/flow.json", include_in_schema=False)
    def flow_schema(request: Request) -> JSONResponse:
        """The flow language's JSON Schema with the task types this server knows:
        the editor's completion reads it."""
        from lanner.api.context import context
        from lanner.model.schema import flow_json_schema

        if not schema:
            schema.append(flow_json_schema(context(request).registry))
        return JSONResponse(schema[0], headers=HEADERS)

    index = (UI / "index.html").read_text(encoding="utf-8")

    @app.get("/ui", include_in_schema=False)
    @app.get("/ui/{path:path}", include_in_schema=False)
    def page(path: str = "") -> HTMLResponse:
        return HTMLResponse(_with_preload(index, path), headers=HEADERS)


def _with_preload(index: str, path: str) -> str:
    """An execution's page asks for the execution first (execution.js): the page
    names that request, so that the browser starts it while it loads the modules
    rather than after (the largest answer the UI reads)."""
    parts = path.strip("/").split("/")
    if len(parts) != 2 or parts[0] != "executions" or not parts[1]:
        return index
    # Spelled as execution.js spells it (encodeURIComponent), or the browser would
    # not match the preload to the request.
    url = f"/api/v1/main/executions/{quote(parts[1], safe=_URI_COMPONENT)}"
    link = f'<link rel="preload" as="fetch" crossorigin href="{html.escape(url)}">'
    # Only the modules that page imports: half the requests (app.js imports a
    # page's module when it opens it).
    lines = [
        line
        for line in index.replace("<head>", f"<head>\n  {link}", 1).splitlines()
        if 'rel="modulepreload"' not in line or _module(line) in _EXECUTION_MODULES
    ]
    return "\n".join(lines) + "\n"


def _module(line: str) -> str:
    return line.split('href="/ui/static/', 1)[1].split('"', 1)[0]


_EXECUTION_MODULES = {
    "dom.js",
    "api.js",
    "execution.js",
    "files.js",
    "inputs.js",
    "labels.js",
    "replay.js",
    "dialog.js",
}


_URI_COMPONENT = "!'()*"
