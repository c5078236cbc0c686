"""An API server for each test: `lanner.runtime.serve.serve` (executor, one
worker thread, and the HTTP server on a free port of 127.0.0.1) on a thread,
over a fresh SQLite store; requests go over real HTTP with httpx."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanner.config import Config
from lanner.plugin import TaskRegistry
from lanner.runtime.serve import serve
from lanner.store import open_store
from lanner.store.base import Store

API = "/api/v1/main"


@dataclass
class ApiServer:
    url: str
    store: Store
    client: httpx.Client

    def deploy(self, source: str) -> dict[str, Any]:
        resp = self.client.post(
            f"{API}/flows", content=source, headers={"Content-Type": "application/x-yaml"}
        )
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def start(
        self, namespace: str, flow_id: str, inputs: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        # Kestra's clients send inputs as multipart form fields.
        files = {k: (None, v) for k, v in (inputs or {}).items()} or None
        return self.client.post(
            f"{API}/executions/{namespace}/{flow_id}", files=files, params=params
        )


def start_server(tmp_path: Path, config: Config, url: str | None = None) -> Iterator[ApiServer]:
    store = open_store(url or f"sqlite://{tmp_path / 'lanner.db'}")
    ready, stop = threading.Event(), threading.Event()
    urls: list[str] = []
    thread = threading.Thread(
        target=serve,
        args=(store, TaskRegistry.from_entry_points(), config),
        kwargs={
            "role": "server",
            "executor": True,
            "threads": 2,
            "ready": ready,
            "stop": stop,
            "http": ("127.0.0.1", 0),
            "on_http": urls.append,
        },
    )
    thread.start()
    try:
        assert ready.wait(60), "the server did not start"
        with httpx.Client(base_url=urls[0], timeout=60) as client:
            yield ApiServer(urls[0], store, client)
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runtime's internal storage (and instance key) live in the test's folder."""
    monkeypatch.setenv("LANNER_HOME", str(tmp_path))


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    yield from start_server(tmp_path, Config())


@pytest.fixture
def api_on_db(tmp_path: Path, db_url: str) -> Iterator[ApiServer]:
    """On each backend: a fresh SQLite file, a fresh PostgreSQL database."""
    yield from start_server(tmp_path, Config(), db_url)


@pytest.fixture
def api_factory(tmp_path: Path) -> Iterator[Callable[[Config], ApiServer]]:
    """A server with a configuration of the test's choosing (one per test)."""
    running: list[Iterator[ApiServer]] = []

    def make(config: Config) -> ApiServer:
        gen = start_server(tmp_path, config)
        running.append(gen)
        return next(gen)

    yield make
    for gen in running:
        next(gen, None)
