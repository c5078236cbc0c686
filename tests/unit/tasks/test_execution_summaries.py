"""The execution summaries run directly against a real TaskContext and a real HTTP
receiver on 127.0.0.1: the execution `executionId` names, the link built from
`server.url`, Discord's extra embeds, and the errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lanner.model.states import State
from lanner.plugin import ExecutionView, Outcome
from lanner.tasks.notify.executions import (
    DiscordExecution,
    GoogleChatExecution,
    SlackExecution,
    WebhookSummary,
    run_webhook_summary,
)
from lanner.tasks.notify.summary import execution_link
from tests.support.http_sink import HttpSink, http_sink
from tests.support.task_context import LocalTaskContext

START = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
UPSTREAM = ExecutionView(
    id="6pHq0Y1upstream",
    namespace="prod.sales",
    flow_id="orders",
    flow_revision=3,
    state=State.SUCCESS,
    start_date=START,
    end_date=START + timedelta(minutes=1, seconds=5),
    labels={},
    inputs={},
    task_run_count=2,
)


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    yield from http_sink()


def run(model: type[WebhookSummary], ctx: LocalTaskContext, **props: Any) -> Outcome:
    task = model.model_validate({"id": "notify", "type": "t", **props})
    return run_webhook_summary(task, ctx)


def test_the_execution_named_by_execution_id_is_summarised(sink: HttpSink) -> None:
    ctx = LocalTaskContext(
        {"trigger": {"executionId": UPSTREAM.id}},
        server_url="http://lanner.local:8080",
        executions={UPSTREAM.id: UPSTREAM},
    )
    outcome = run(
        SlackExecution,
        ctx,
        url=f"{sink.url}/hook",
        executionId="{{ trigger.executionId }}",
        messageText="Orders loaded",
        iconUrl="http://lanner.local/icon.png",
    )
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = sink.wait_for(1)
    body = request.json
    assert body["text"] == "Orders loaded"
    assert body["icon_url"] == "http://lanner.local/icon.png"
    [attachment] = body["attachments"]
    assert attachment["color"] == "#2EA043"
    assert attachment["title"] == "[prod.sales] orders ➛ SUCCESS"
    assert attachment["title_link"] == f"http://lanner.local:8080/ui/executions/{UPSTREAM.id}"
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields["Duration"] == "00:01:05.000"
    assert fields["Start date"] == "2026-05-01T08:00:00Z"
    assert "Failed task" not in fields


def test_an_unknown_execution_fails_the_task_and_sends_nothing(sink: HttpSink) -> None:
    ctx = LocalTaskContext()
    outcome = run(GoogleChatExecution, ctx, url=sink.url, executionId="nope")
    assert outcome.state is State.FAILED
    assert outcome.error == "executionId: no execution 'nope' in the store"
    assert sink.requests == []


def test_without_server_url_the_summary_has_no_link(sink: HttpSink) -> None:
    ctx = LocalTaskContext(execution_id=UPSTREAM.id, executions={UPSTREAM.id: UPSTREAM})
    outcome = run(DiscordExecution, ctx, url=sink.url)  # default: the current execution
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = sink.wait_for(1)
    assert "url" not in request.json["embeds"][0]
    assert any("No server.url" in m for m in ctx.messages("DEBUG"))


def test_discord_embed_list_follows_the_summary(sink: HttpSink) -> None:
    ctx = LocalTaskContext(execution_id=UPSTREAM.id, executions={UPSTREAM.id: UPSTREAM})
    outcome = run(
        DiscordExecution,
        ctx,
        url=sink.url,
        embedList=[{"title": "More", "color": [255, 255, 255], "footer": "by Lanner"}],
    )
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = sink.wait_for(1)
    assert request.json["embeds"][1] == {
        "title": "More",
        "color": 0xFFFFFF,
        "footer": {"text": "by Lanner"},
    }


def test_a_bad_embed_color_fails_the_task(sink: HttpSink) -> None:
    ctx = LocalTaskContext(execution_id=UPSTREAM.id, executions={UPSTREAM.id: UPSTREAM})
    outcome = run(DiscordExecution, ctx, url=sink.url, embedList=[{"color": [300, 0, 0]}])
    assert outcome.state is State.FAILED
    assert outcome.error is not None and "color must be [red, green, blue]" in outcome.error


def test_the_link_opens_lanners_ui() -> None:
    assert execution_link("https://l.example.com/", UPSTREAM) == (
        f"https://l.example.com/ui/executions/{UPSTREAM.id}"
    )
    assert execution_link(None, UPSTREAM) is None


def test_a_text_payload_comes_first_and_the_summary_follows(sink: HttpSink) -> None:
    # As in Kestra's blueprints: `payload` written as plain text on SlackExecution.
    ctx = LocalTaskContext(
        {"trigger": {"executionId": UPSTREAM.id}}, executions={UPSTREAM.id: UPSTREAM}
    )
    outcome = run(
        SlackExecution,
        ctx,
        url=sink.url,
        executionId="{{ trigger.executionId }}",
        payload="The workflow execution {{ trigger.executionId }} failed",
    )
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = sink.wait_for(1)
    assert request.json["text"] == f"The workflow execution {UPSTREAM.id} failed"
    assert request.json["attachments"][0]["title"] == "[prod.sales] orders ➛ SUCCESS"


def test_a_json_payload_is_sent_instead_of_the_summary(sink: HttpSink) -> None:
    ctx = LocalTaskContext(execution_id=UPSTREAM.id, executions={UPSTREAM.id: UPSTREAM})
    outcome = run(GoogleChatExecution, ctx, url=sink.url, payload='{"text": "my own"}')
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = sink.wait_for(1)
    assert request.json == {"text": "my own"}
