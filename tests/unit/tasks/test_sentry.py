"""Sentry's tasks run directly against a real TaskContext and a real HTTP receiver on
127.0.0.1 (the `sink` of tests/conftest.py) given as the DSN's host: the ingest URL made of the DSN, the envelope (or
the bare event with STORE), SentryAlert's payload and SentryExecution's summary."""

from __future__ import annotations

import json
from typing import Any

from lanner.model.states import State
from lanner.tasks.notify.sentry import (
    EndpointType,
    SentryAlert,
    SentryExecution,
    ingest_url,
    run_sentry_alert,
    run_sentry_execution,
)
from tests.support.execution_views import FAILED
from tests.support.http_sink import HttpSink, RecordedRequest
from tests.support.task_context import LocalTaskContext


def _dsn(sink: HttpSink) -> str:
    return f"http://0a1b2c3d@127.0.0.1:{sink.port}/42"


def _envelope(request: RecordedRequest) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    header, item, event = request.body.decode("utf-8").rstrip("\n").split("\n")
    parsed_event = json.loads(event)
    assert json.loads(item)["length"] == len(event.encode("utf-8"))
    return json.loads(header), json.loads(item), parsed_event


def test_a_dsn_becomes_its_ingest_url() -> None:
    assert ingest_url("https://k3y@o1.ingest.sentry.io/99", EndpointType.ENVELOPE) == (
        "https://o1.ingest.sentry.io/api/99/envelope/?sentry_version=7&sentry_client=lanner"
        "&sentry_key=k3y"
    )
    assert ingest_url("http://k@127.0.0.1:9000/sentry/7", EndpointType.STORE).startswith(
        "http://127.0.0.1:9000/sentry/api/7/store/?"
    )
    # Not a DSN: posted to as it is.
    assert ingest_url("http://127.0.0.1:9000/hook", EndpointType.ENVELOPE) == (
        "http://127.0.0.1:9000/hook"
    )


def test_sentry_alert_sends_its_payload_in_an_envelope(sink: HttpSink) -> None:
    ctx = LocalTaskContext({"flow": {"id": "orders"}})
    task = SentryAlert.model_validate(
        {
            "id": "alert",
            "type": "io.kestra.plugin.sentry.SentryAlert",
            "dsn": _dsn(sink),
            "payload": '{"level": "warning", "message": {"message": "{{ flow.id }} is late"}}',
        }
    )
    outcome = run_sentry_alert(task, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = sink.wait_for(1)
    assert request.path.startswith("/api/42/envelope/?sentry_version=7")
    assert "sentry_key=0a1b2c3d" in request.path
    header, item, event = _envelope(request)
    assert header["dsn"] == _dsn(sink) and header["event_id"] == event["event_id"]
    assert len(event["event_id"]) == 32 and item["type"] == "event"
    assert event["message"] == {"message": "orders is late"} and event["level"] == "warning"


def test_sentry_alert_default_event_with_store(sink: HttpSink) -> None:
    ctx = LocalTaskContext()
    task = SentryAlert.model_validate(
        {"id": "alert", "type": "t", "dsn": _dsn(sink), "endpointType": "STORE"}
    )
    assert run_sentry_alert(task, ctx).state is State.SUCCESS
    [request] = sink.wait_for(1)
    assert request.path.startswith("/api/42/store/?")
    event = request.json
    assert event["level"] == "error"
    assert event["extra"]["Execution ID"] == ctx.execution_id
    assert event["message"]["message"] == f"Execution {ctx.execution_id} failed"


def test_sentry_execution_sums_up_the_execution(sink: HttpSink) -> None:
    ctx = LocalTaskContext(
        {"trigger": {"executionId": FAILED.id}},
        server_url="http://lanner.local:8080",
        executions={FAILED.id: FAILED},
    )
    task = SentryExecution.model_validate(
        {
            "id": "notify",
            "type": "io.kestra.plugin.sentry.SentryExecution",
            "dsn": _dsn(sink),
            "executionId": "{{ trigger.executionId }}",
            "transaction": "/execution/id/{{ trigger.executionId }}",
            "level": "FATAL",
            "customFields": {"shard": "eu"},
            "extra": {"team": "data"},
        }
    )
    outcome = run_sentry_execution(task, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = sink.wait_for(1)
    _, _, event = _envelope(request)
    assert event["message"]["message"] == "[prod.sales] orders ➛ FAILED"
    assert (event["level"], event["platform"]) == ("fatal", "java")
    assert event["transaction"] == f"/execution/id/{FAILED.id}"
    assert event["extra"]["Failed task"] == "load" and event["extra"]["shard"] == "eu"
    assert event["extra"]["team"] == "data"
    assert event["extra"]["Link"] == f"http://lanner.local:8080/ui/executions/{FAILED.id}"


def test_a_refused_event_fails_the_task_without_showing_the_key(sink: HttpSink) -> None:
    sink.status = 401
    task = SentryAlert.model_validate({"id": "a", "type": "t", "dsn": _dsn(sink)})
    outcome = run_sentry_alert(task, LocalTaskContext())
    assert outcome.state is State.FAILED
    assert outcome.error is not None and "401" in outcome.error
    assert "0a1b2c3d" not in outcome.error
