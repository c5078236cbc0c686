"""The HTTP Trigger through the trigger runtime, ticked with given `now`s, on a real
store and a real HTTP server on 127.0.0.1: the request it sends, the condition it
evaluates on the response, `trigger.*` of the execution it starts, and an evaluation
that gets no response."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lanner.config import Config
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime
from lanner.storage import LocalStorage
from lanner.store.base import Store
from tests.support.http_sink import HttpSink
from tests.support.trigger_store import store_fixture  # noqa: F401 (fixture)

T0 = datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC)
S = timedelta(seconds=1)
REGISTRY = TaskRegistry.from_entry_points()


def _runtime(store: Store, tmp_path: Path) -> TriggerRuntime:
    return TriggerRuntime(
        store, REGISTRY, Config(), owner="me", storage=LocalStorage(tmp_path / "storage")
    )


def _flow(uri: str, extra: str = "", kind: str = "io.kestra.plugin.core.http.Trigger") -> str:
    return f"""id: watch
namespace: company.team
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.body }}}}"
triggers:
  - id: http
    type: {kind}
    uri: {uri}
    interval: PT10S
{extra}
"""


def _triggers(store: Store) -> list[dict[str, Any]]:
    found = store.list_executions(limit=100)
    return [dict(e.trigger or {}) for e in sorted(found, key=lambda e: e.histories[0].date)]


def test_the_default_condition_fires_for_each_interval_the_code_is_below_400(
    store: Store, tmp_path: Path, http_sink: HttpSink
) -> None:
    http_sink.response_body = b'{"price": 100}'
    extra = """    method: POST
    body: '{"ask": "{{ flow.id }}"}'
    headers:
      X-Team: "{{ flow.namespace }}"
    labels:
      source: http"""
    store.deploy_flow("company.team", "watch", _flow(http_sink.url + "/price", extra))
    rt = _runtime(store, tmp_path)
    assert rt.tick(T0) == 1
    (request,) = http_sink.requests
    assert request.method == "POST" and request.path == "/price"
    assert request.json == {"ask": "watch"}
    assert request.header("x-team") == "company.team"
    assert request.header("content-type") == "application/json; charset=UTF-8"
    (trigger,) = _triggers(store)
    assert trigger["id"] == "http" and trigger["type"] == "io.kestra.plugin.core.http.Trigger"
    assert trigger["code"] == 200 and trigger["body"] == '{"price": 100}'
    assert trigger["uri"] == http_sink.url + "/price"
    assert trigger["headers"]["Content-Type"] == ["text/plain; charset=utf-8"]
    (execution,) = store.list_executions(limit=10)
    assert execution.labels["source"] == "http"

    assert rt.tick(T0 + 5 * S) == 0  # not due
    assert rt.tick(T0 + 10 * S) == 1  # still true: Kestra fires again
    http_sink.status = 503
    assert rt.tick(T0 + 20 * S) == 0  # answered, the default condition is false
    assert len(http_sink.requests) == 3


def test_the_response_condition_sees_the_body_and_the_alias_works(
    store: Store, tmp_path: Path, http_sink: HttpSink
) -> None:
    http_sink.response_body = b'{"price": 120}'
    extra = """    responseCondition: "{{ json(response.body).price <= 110 and response.statusCode == 404 }}"
    options:
      timeout:
        readIdleTimeout: PT5S"""
    flow = _flow(http_sink.url, extra, kind="io.kestra.plugin.fs.http.Trigger")
    store.deploy_flow("company.team", "watch", flow)
    rt = _runtime(store, tmp_path)
    http_sink.status = 404  # a failed code is no error of the trigger: the condition decides
    assert rt.tick(T0) == 0
    http_sink.response_body = b'{"price": 99}'
    assert rt.tick(T0 + 10 * S) == 1
    (trigger,) = _triggers(store)
    assert trigger["code"] == 404 and trigger["body"] == '{"price": 99}'
    assert trigger["type"] == "io.kestra.plugin.core.http.Trigger"


def test_no_response_is_a_failed_evaluation_tried_next_interval(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store.deploy_flow("company.team", "watch", _flow(f"http://127.0.0.1:{port}/"))
    with caplog.at_level("WARNING", logger="lanner.runtime.triggers"):
        assert _runtime(store, tmp_path).tick(T0) == 0
    assert any("evaluation failed" in r.getMessage() for r in caplog.records)
    assert any("cannot connect" in r.getMessage() for r in caplog.records)
    context = store.get_trigger_context("company.team", "watch", "http")
    assert context is not None and context.next_date == T0 + 10 * S
    assert store.list_executions(limit=10) == []
