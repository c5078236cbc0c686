"""Telegram's Bot API tasks against a local HTTP server standing in for the Bot API
(`endpointOverride`): the request, the token kept out of errors, the summary."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lanner.model.states import State
from lanner.plugin import ExecutionView, Outcome
from lanner.tasks.notify.telegram import (
    TelegramExecution,
    TelegramSend,
    run_telegram_execution,
    run_telegram_send,
)
from tests.support.http_sink import HttpSink, http_sink
from tests.support.task_context import LocalTaskContext

TOKEN = "6090305634:AAH-secret-token"


@pytest.fixture
def api() -> Iterator[HttpSink]:
    yield from http_sink()


def send(api: HttpSink, ctx: LocalTaskContext, **props: Any) -> Outcome:
    task = TelegramSend.model_validate(
        {"id": "tg", "type": "t", "token": TOKEN, "endpointOverride": api.url, **props}
    )
    return run_telegram_send(task, ctx)


def test_a_json_payload_is_sent_to_send_message(api: HttpSink) -> None:
    ctx = LocalTaskContext({"flow": {"id": "etl"}})
    outcome = send(
        api, ctx, channel="2072728690", payload='{"text": "{{ flow.id }} failed"}', parseMode="HTML"
    )
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = api.wait_for(1)
    assert request.path == f"/bot{TOKEN}/sendMessage"
    assert request.json == {"text": "etl failed", "chat_id": "2072728690", "parse_mode": "HTML"}


def test_a_plain_payload_is_the_text(api: HttpSink) -> None:
    outcome = send(api, LocalTaskContext(), channel="42", payload="*bold*", parseMode="MARKDOWNV2")
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = api.wait_for(1)
    assert request.json == {"text": "*bold*", "chat_id": "42", "parse_mode": "MarkdownV2"}


def test_an_api_error_fails_the_task_without_showing_the_token(api: HttpSink) -> None:
    api.status = 400
    api.response_body = b'{"ok": false, "description": "Bad Request: chat not found"}'
    outcome = send(api, LocalTaskContext(), channel="nope", payload="hi")
    assert outcome.state is State.FAILED
    assert outcome.error is not None
    assert "chat not found" in outcome.error and "/bot***/sendMessage" in outcome.error
    assert TOKEN not in outcome.error


def test_the_execution_summary(api: HttpSink) -> None:
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    view = ExecutionView(
        id="exec1",
        namespace="prod",
        flow_id="orders",
        flow_revision=1,
        state=State.FAILED,
        start_date=start,
        end_date=start + timedelta(seconds=3),
        labels={},
        inputs={},
        failed_task_id="load",
        failed_message="boom",
    )
    ctx = LocalTaskContext(server_url="http://lanner.local", executions={"exec1": view})
    task = TelegramExecution.model_validate(
        {
            "id": "tg",
            "type": "t",
            "token": TOKEN,
            "channel": "42",
            "endpointOverride": api.url,
            "executionId": "exec1",
        }
    )
    outcome = run_telegram_execution(task, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    [request] = api.wait_for(1)
    text = request.json["text"]
    assert text.startswith("[prod] orders ➛ FAILED")
    assert "Failed task: load" in text and "http://lanner.local/ui/executions/exec1" in text
    assert request.json["chat_id"] == "42"
