"""Zenduty's tasks run directly against a real TaskContext and a real HTTP receiver on
127.0.0.1 (the `sink` of tests/conftest.py): ZendutyAlert posts its payload,
ZendutyExecution the event it builds from the execution `executionId` names."""

from __future__ import annotations

from lanner.model.states import State
from lanner.tasks.notify.zenduty import (
    ZendutyAlert,
    ZendutyExecution,
    run_zenduty_alert,
    run_zenduty_execution,
)
from tests.support.execution_views import FAILED
from tests.support.http_sink import HttpSink
from tests.support.task_context import LocalTaskContext


def test_zenduty_alert_posts_its_rendered_payload(sink: HttpSink) -> None:
    ctx = LocalTaskContext({"flow": {"id": "orders"}})
    task = ZendutyAlert.model_validate(
        {
            "id": "alert",
            "type": "io.kestra.plugin.zenduty.ZendutyAlert",
            "url": f"{sink.url}/api/events/KEY/",
            "payload": '{"alert_type": "info", "message": "{{ flow.id }} failed"}',
        }
    )
    outcome = run_zenduty_alert(task, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = sink.wait_for(1)
    assert request.method == "POST" and request.path == "/api/events/KEY/"
    assert request.json == {"alert_type": "info", "message": "orders failed"}
    assert request.header("content-type") == "application/json"


def test_zenduty_execution_sums_up_the_execution(sink: HttpSink) -> None:
    ctx = LocalTaskContext(
        {"trigger": {"executionId": FAILED.id}},
        server_url="http://lanner.local:8080",
        executions={FAILED.id: FAILED},
    )
    task = ZendutyExecution.model_validate(
        {
            "id": "notify",
            "type": "io.kestra.plugin.zenduty.ZendutyExecution",
            "url": f"{sink.url}/api/events/KEY/",
            "executionId": "{{ trigger.executionId }}",
            "customMessage": "Orders are late",
        }
    )
    outcome = run_zenduty_execution(task, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = sink.wait_for(1)
    event = request.json
    assert event["message"] == "[prod.sales] orders ➛ FAILED"
    assert event["alert_type"] == "error" and event["entity_id"] == FAILED.id
    assert event["summary"].startswith("Orders are late\nNamespace: prod.sales\n")
    assert "Failed task: load" in event["summary"]
    assert event["payload"]["Failed task"] == "load"
    assert event["urls"] == [f"http://lanner.local:8080/ui/executions/{FAILED.id}"]


def test_zenduty_execution_properties_replace_the_defaults(sink: HttpSink) -> None:
    ctx = LocalTaskContext(execution_id=FAILED.id, executions={FAILED.id: FAILED})
    task = ZendutyExecution.model_validate(
        {
            "id": "notify",
            "type": "io.kestra.plugin.zenduty.ZendutyExecution",
            "url": sink.url,
            "message": "Execution failed",
            "summary": "see the logs",
            "alertType": "CRITICAL",
            "entityId": "orders-{{ 1 + 1 }}",
            "urls": ["http://runbook/{{ 'orders' }}"],
        }
    )
    assert run_zenduty_execution(task, ctx).state is State.SUCCESS
    [request] = sink.wait_for(1)
    event = request.json
    assert (event["message"], event["summary"]) == ("Execution failed", "see the logs")
    assert (event["alert_type"], event["entity_id"]) == ("critical", "orders-2")
    assert event["urls"] == ["http://runbook/orders"]


def test_an_unknown_execution_fails_and_sends_nothing(sink: HttpSink) -> None:
    task = ZendutyExecution.model_validate(
        {"id": "n", "type": "t", "url": sink.url, "executionId": "nope"}
    )
    outcome = run_zenduty_execution(task, LocalTaskContext())
    assert outcome.state is State.FAILED
    assert outcome.error == "executionId: no execution 'nope' in the store"
    assert sink.requests == []
