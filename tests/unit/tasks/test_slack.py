"""SlackIncomingWebhook (SPEC §5.17, §0 decisions 4 and 10) against a real HTTP sink."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from lanner.model.states import State
from lanner.plugin import Outcome, TaskRegistry
from lanner.tasks.core import slack
from lanner.tasks.core.slack import (
    NO_MESSAGE,
    SlackIncomingWebhook,
    mask_url,
    message_body,
    run_slack_incoming_webhook,
    to_slack_mrkdwn,
)
from tests.support.http_sink import HttpSink, http_sink
from tests.support.task_context import LocalTaskContext

NAME = "io.kestra.plugin.slack.notifications.SlackIncomingWebhook"
SECRET_PATH = "/services/T000/B000/SECRETTOKEN"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    yield from http_sink()


def make(**props: Any) -> SlackIncomingWebhook:
    return SlackIncomingWebhook.model_validate({"id": "notify", "type": NAME, **props})


def deadline_loop(timeout: float = 5.0) -> Iterator[None]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        yield
        threading.Event().wait(0.01)
    raise AssertionError("condition not reached in time")


# --- names and properties ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        NAME,
        "io.kestra.plugin.slack.SlackIncomingWebhook",
        "io.kestra.plugin.notifications.slack.SlackIncomingWebhook",
    ],
)
def test_names(name: str) -> None:
    task_type = TaskRegistry(slack.TASK_TYPES).get(name)
    assert task_type is not None and task_type.name == NAME


@pytest.mark.parametrize(
    "props",
    [
        {"url": "https://hooks.slack.com/services/x", "messageText": "hi"},
        {"url": "{{ secret('SLACK_WEBHOOK') }}", "payload": '{"text": "hi"}'},
        {"url": "u"},  # the message may come from plugin defaults; checked at run time
        {
            "url": "u",
            "messageText": "hi",
            "options": {
                "connectTimeout": "PT5S",
                "readTimeout": "PT30S",
                "readIdleTimeout": "PT1M",
                "connectionPoolIdleTimeout": "PT0S",
                "maxContentLength": 1024,
                "defaultCharset": "UTF-8",
                "headers": {"X-Team": "data"},
                "proxy": {"address": "10.0.0.1", "port": 3128, "type": "HTTP"},
            },
        },
    ],
)
def test_valid_properties(props: dict[str, Any]) -> None:
    make(**props)


@pytest.mark.parametrize(
    ("props", "field"),
    [
        ({"messageText": "hi"}, "url"),
        ({"url": "", "messageText": "hi"}, "url"),
        ({"url": "u", "text": "hi"}, "text"),
        ({"url": "u", "options": {"timeout": "PT1S"}}, "timeout"),
        ({"url": "u", "options": {"readTimeout": "10s"}}, "readTimeout"),
        ({"url": "u", "options": {"headers": ["X-A: b"]}}, "headers"),
    ],
)
def test_invalid_properties(props: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make(**props)
    assert field in str(info.value)


# --- the message -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**bold**", "*bold*"),
        ("__it__", "_it_"),
        ("[Kestra](https://kestra.io)", "<https://kestra.io|Kestra>"),
        ("**a** and **b**, __c__", "*a* and *b*, _c_"),
        ("plain *already* mrkdwn", "plain *already* mrkdwn"),
        ("see [run](http://x/1) **now**", "see <http://x/1|run> *now*"),
    ],
)
def test_markdown_to_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_slack_mrkdwn(markdown) == mrkdwn


@pytest.mark.parametrize(
    ("payload", "text", "sent"),
    [
        ('{"text": "from payload"}', "ignored", {"text": "from payload"}),
        (None, '{"blocks": [{"type": "divider"}]}', {"blocks": [{"type": "divider"}]}),
        (None, "**done**", {"text": "*done*"}),
        (None, "42", {"text": "42"}),  # a JSON scalar is no Slack message: sent as text
        (None, "{not json", {"text": "{not json"}),
        (None, "héllo ✓", {"text": "héllo ✓"}),
    ],
)
def test_message_body(payload: str | None, text: str | None, sent: Any) -> None:
    assert json.loads(message_body(payload, text)) == sent


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/services/***"),
        ("https://hooks.slack.com/XYZ", "https://hooks.slack.com/***"),
        ("http://127.0.0.1:8080/hook?token=abc", "http://127.0.0.1:8080/***"),
        ("https://user:pw@example.com/a/b", "https://example.com/a/***"),
        ("https://example.com", "https://example.com"),
        ("not a url", "***"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


# --- sending -----------------------------------------------------------------------------------


def test_payload_wins_over_message_text(sink: HttpSink) -> None:
    ctx = LocalTaskContext()
    task = make(url=sink.url + SECRET_PATH, payload='{"text": "P"}', messageText="M")
    assert run_slack_incoming_webhook(task, ctx) == Outcome()
    [request] = sink.wait_for(1)
    assert request.method == "POST"
    assert request.path == SECRET_PATH
    assert request.json == {"text": "P"}
    assert ("INFO", "Request succeeded") in ctx.logs


def test_message_text_json_sent_as_is(sink: HttpSink) -> None:
    blocks = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "**x**"}}]}
    task = make(url=sink.url + SECRET_PATH, messageText=json.dumps(blocks, indent=2))
    assert run_slack_incoming_webhook(task, LocalTaskContext()).state is State.SUCCESS
    assert sink.wait_for(1)[0].json == blocks


def test_message_text_markdown_converted(sink: HttpSink) -> None:
    task = make(url=sink.url + SECRET_PATH, messageText="**Done**: see [run](http://x/1)")
    assert run_slack_incoming_webhook(task, LocalTaskContext()).state is State.SUCCESS
    assert sink.wait_for(1)[0].json == {"text": "*Done*: see <http://x/1|run>"}


def test_headers_sent(sink: HttpSink) -> None:
    ctx = LocalTaskContext(task_run_id="tr-42", attempt=3)
    task = make(url=sink.url, messageText="hi", options={"headers": {"X-Team": "data"}})
    assert run_slack_incoming_webhook(task, ctx).state is State.SUCCESS
    [request] = sink.wait_for(1)
    assert request.header("Idempotency-Key") == "tr-42:3"
    assert request.header("Content-Type") == "application/json"
    assert request.header("X-Team") == "data"


def test_http_proxy_used(sink: HttpSink) -> None:
    proxy = {"address": "127.0.0.1", "port": sink.port, "username": "u", "password": "p w"}
    task = make(
        url="http://hooks.example.invalid/services/x", messageText="hi", options={"proxy": proxy}
    )
    assert run_slack_incoming_webhook(task, LocalTaskContext()).state is State.SUCCESS
    [request] = sink.wait_for(1)
    assert request.path == "http://hooks.example.invalid/services/x"  # absolute form: a proxy
    assert (request.header("Proxy-Authorization") or "").startswith("Basic ")


def test_neither_message_nor_payload_fails(sink: HttpSink) -> None:
    outcome = run_slack_incoming_webhook(make(url=sink.url), LocalTaskContext())
    assert outcome == Outcome(State.FAILED, error=NO_MESSAGE)
    assert sink.requests == []


def test_invalid_payload_fails(sink: HttpSink) -> None:
    outcome = run_slack_incoming_webhook(make(url=sink.url, payload="{oops"), LocalTaskContext())
    assert outcome.state is State.FAILED
    assert outcome.error is not None and "'payload' is not valid JSON" in outcome.error
    assert sink.requests == []


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (500, "Internal Server Error")])
def test_non_2xx_fails_with_reason(sink: HttpSink, status: int, reason: str) -> None:
    sink.status = status
    sink.response_body = b"no_service " + b"x" * 500
    outcome = run_slack_incoming_webhook(
        make(url=sink.url + SECRET_PATH, messageText="hi"), LocalTaskContext()
    )
    assert outcome.state is State.FAILED
    error = outcome.error or ""
    assert f"status {status} {reason}: no_service x" in error
    assert error.endswith("…") and len(error) < 400  # a short excerpt of the body
    assert "SECRETTOKEN" not in error
    assert f"{sink.url}/services/***" in error


def test_connection_refused_fails() -> None:
    with socket.socket() as s:  # a port that was free a moment ago and has no listener now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}{SECRET_PATH}"
    outcome = run_slack_incoming_webhook(make(url=url, messageText="hi"), LocalTaskContext())
    assert outcome.state is State.FAILED
    assert outcome.error is not None and "cannot connect" in outcome.error
    assert "SECRETTOKEN" not in outcome.error


def test_invalid_url_fails() -> None:
    outcome = run_slack_incoming_webhook(make(url="nope", messageText="hi"), LocalTaskContext())
    assert outcome.state is State.FAILED
    assert outcome.error is not None and "not a valid http(s) URL" in outcome.error


def test_read_timeout_fails(sink: HttpSink) -> None:
    sink.delay = 60
    task = make(url=sink.url + SECRET_PATH, messageText="hi", options={"readTimeout": "PT0.2S"})
    started = time.monotonic()
    outcome = run_slack_incoming_webhook(task, LocalTaskContext())
    assert time.monotonic() - started < 30  # long before the 60 s answer
    assert outcome.state is State.FAILED
    assert outcome.error is not None and "timed out" in outcome.error
    assert "SECRETTOKEN" not in outcome.error


def test_cancelled_before_sending_sends_nothing(sink: HttpSink) -> None:
    ctx = LocalTaskContext()
    ctx.cancel()
    outcome = run_slack_incoming_webhook(make(url=sink.url, messageText="hi"), ctx)
    assert outcome == Outcome(State.KILLED)
    assert sink.requests == []


def test_cancel_while_in_flight_returns_killed_promptly(sink: HttpSink) -> None:
    sink.delay = 60
    ctx = LocalTaskContext()
    task = make(url=sink.url, messageText="hi", options={"readTimeout": "PT120S"})
    result: list[Outcome] = []
    worker = threading.Thread(target=lambda: result.append(run_slack_incoming_webhook(task, ctx)))
    worker.start()
    sink.wait_for(1)
    cancelled_at = time.monotonic()
    ctx.cancel()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert time.monotonic() - cancelled_at < 30  # long before the 60 s answer
    assert result == [Outcome(State.KILLED)]


def test_properties_are_rendered(sink: HttpSink) -> None:
    ctx = LocalTaskContext({"flow": {"id": "hello"}, "hook": sink.url})
    task = make(url="{{ hook }}/services/x", messageText="Flow **{{ flow.id }}** done")
    assert run_slack_incoming_webhook(task, ctx).state is State.SUCCESS
    [request] = sink.wait_for(1)
    assert request.path == "/services/x"
    assert request.json == {"text": "Flow *hello* done"}


# --- the sink on its own -----------------------------------------------------------------------


def test_sink_runs_standalone(tmp_path: Path) -> None:
    record = tmp_path / "requests.jsonl"
    # The context closes its stdout pipe: no ResourceWarning for an unclosed file.
    with subprocess.Popen(
        [sys.executable, "-m", "tests.support.http_sink", "--port", "0", "--record", str(record)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            response = httpx.post(url + "/hook", json={"text": "hi"}, headers={"X-A": "b"})
            assert response.status_code == 200
            for _ in deadline_loop():
                if record.exists() and record.read_text().strip():
                    break
            [line] = record.read_text().splitlines()
            entry = json.loads(line)
            assert entry["method"] == "POST"
            assert entry["path"] == "/hook"
            assert entry["json"] == {"text": "hi"}
            assert entry["headers"]["x-a"] == "b"
        finally:
            process.terminate()
            assert process.wait(timeout=30) == 0


# --- HTTP client options (readIdleTimeout, connectionPoolIdleTimeout, defaultCharset) -----------


def test_read_idle_timeout_bounds_the_wait_for_the_response(sink: HttpSink) -> None:
    sink.delay = 60
    options = {"readTimeout": "PT120S", "readIdleTimeout": "PT0.2S"}
    task = make(url=sink.url + SECRET_PATH, messageText="hi", options=options)
    started = time.monotonic()
    outcome = run_slack_incoming_webhook(task, LocalTaskContext())
    assert time.monotonic() - started < 30  # long before the 60 s answer
    assert outcome.state is State.FAILED
    assert outcome.error is not None and "timed out waiting for the response" in outcome.error


def test_connection_pool_idle_timeout_is_the_keep_alive_expiry() -> None:
    task = make(url="http://127.0.0.1/x", messageText="hi")
    default = slack._build_request(task, LocalTaskContext(), task.url, b"{}")
    assert default.limits.keepalive_expiry == 0
    task = make(url="http://127.0.0.1/x", options={"connectionPoolIdleTimeout": "PT30S"})
    assert (
        slack._build_request(task, LocalTaskContext(), task.url, b"{}").limits.keepalive_expiry
        == 30
    )


def test_default_charset_encodes_the_body(sink: HttpSink) -> None:
    options = {"defaultCharset": "ISO-8859-1"}
    task = make(url=sink.url + SECRET_PATH, messageText="café", options=options)
    assert run_slack_incoming_webhook(task, LocalTaskContext()).state is State.SUCCESS
    [request] = sink.wait_for(1)
    assert request.body == '{"text":"café"}'.encode("latin-1")
    assert request.header("content-type") == "application/json; charset=iso8859-1"


def test_a_character_the_charset_lacks_is_sent_as_a_json_escape(sink: HttpSink) -> None:
    options = {"defaultCharset": "ISO-8859-1"}
    task = make(url=sink.url + SECRET_PATH, messageText="5 € café", options=options)
    assert run_slack_incoming_webhook(task, LocalTaskContext()).state is State.SUCCESS
    [request] = sink.wait_for(1)
    assert request.body == b'{"text":"5 \\u20ac caf\\u00e9"}'
    assert json.loads(request.body) == {"text": "5 € café"}


def test_utf8_is_the_default_charset(sink: HttpSink) -> None:
    task = make(url=sink.url + SECRET_PATH, messageText="5 € café")
    assert run_slack_incoming_webhook(task, LocalTaskContext()).state is State.SUCCESS
    [request] = sink.wait_for(1)
    assert request.body == '{"text":"5 € café"}'.encode()
    assert request.header("content-type") == "application/json"


def test_an_unknown_charset_fails_the_task(sink: HttpSink) -> None:
    options = {"defaultCharset": "NOPE-42"}
    outcome = run_slack_incoming_webhook(
        make(url=sink.url, messageText="hi", options=options), LocalTaskContext()
    )
    assert (
        outcome.state is State.FAILED
        and outcome.error == "defaultCharset: unknown charset 'NOPE-42'"
    )
    assert sink.requests == []
