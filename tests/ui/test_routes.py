"""The UI's routes over plain HTTP: `/` redirects, every `/ui/...` path is the
one page, the static files are served with a policy that loads nothing from
elsewhere, and basic authentication covers the UI as it covers the API."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from lanner.config import Config
from tests.api.conftest import ApiServer, start_server


def test_root_redirects_and_ui_paths_answer_the_page(server: ApiServer) -> None:
    root = server.client.get("/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/ui/"
    for path in ("/ui", "/ui/", "/ui/flows", "/ui/executions/abc", "/ui/flows/a.b/c?tab=execute"):
        page = server.client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/ui/static/app.js">' in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
    script = server.client.get("/ui/static/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "default-src 'self'" in script.headers["content-security-policy"]
    assert server.client.get("/ui/static/nothing.js").status_code == 404
    assert "/ui" not in server.client.get("/openapi.json").text


def test_an_execution_page_preloads_its_execution_and_only_its_modules(
    server: ApiServer,
) -> None:
    page = server.client.get("/ui/executions/a%20b(1)").text
    # Spelled as execution.js asks it (encodeURIComponent), or it would not match.
    assert (
        '<link rel="preload" as="fetch" crossorigin href="/api/v1/main/executions/a%20b(1)">'
        in page
    )
    modules = set(re.findall(r'rel="modulepreload" href="/ui/static/([^"]+)"', page))
    assert "execution.js" in modules and "dom.js" in modules and "editor.js" not in modules
    for name in modules:
        assert server.client.get(f"/ui/static/{name}").status_code == 200, name
    other = server.client.get("/ui/flows").text
    assert 'rel="preload"' not in other and 'href="/ui/static/editor.js"' in other


def test_the_editor_reads_the_flow_schema_of_the_loaded_task_types(server: ApiServer) -> None:
    resp = server.client.get("/ui/schema/flow.json")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    schema = resp.json()
    assert "tasks" in schema["properties"]
    log = schema["$defs"]["task:io.kestra.plugin.core.log.Log"]
    assert "message" in log["properties"]
    assert server.client.get("/ui/schema/flow.json").json() == schema  # kept, not rebuilt


def test_basic_auth_covers_the_ui(tmp_path: Path) -> None:
    config = Config.model_validate(
        {"server": {"basicAuth": {"username": "admin", "password": "a long password"}}}
    )
    running = start_server(tmp_path, config)
    server = next(running)
    try:
        assert server.client.get("/ui/flows").status_code == 401
        assert server.client.get("/ui/static/app.js").status_code == 401
        with httpx.Client(base_url=server.url, auth=("admin", "a long password")) as client:
            assert client.get("/ui/flows").status_code == 200
            assert client.get("/ui/static/app.js").status_code == 200
    finally:
        next(running, None)
