"""Discord, Teams, Google Chat and Zulip incoming webhooks against a real HTTP sink."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from lanner.model.states import State
from lanner.plugin import Outcome, TaskRegistry
from lanner.tasks.notify import task_types
from lanner.tasks.notify.chat import NO_PAYLOAD, IncomingWebhook, run_incoming_webhook
from tests.support.http_sink import HttpSink, http_sink
from tests.support.task_context import LocalTaskContext

SECRET_PATH = "/api/webhooks/123/SECRETTOKEN"

TYPES = {
    "io.kestra.plugin.notifications.discord.DiscordIncomingWebhook": "Discord",
    "io.kestra.plugin.notifications.teams.TeamsIncomingWebhook": "Teams",
    "io.kestra.plugin.notifications.google.GoogleChatIncomingWebhook": "Google Chat",
    "io.kestra.plugin.notifications.zulip.ZulipIncomingWebhook": "Zulip",
}


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    yield from http_sink()


def make(name: str, **props: Any) -> IncomingWebhook:
    task_type = TaskRegistry(task_types()).get(name)
    assert task_type is not None
    task = task_type.model.model_validate({"id": "notify", "type": name, **props})
    assert isinstance(task, IncomingWebhook)
    return task


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        (
            "io.kestra.plugin.discord.DiscordIncomingWebhook",
            "io.kestra.plugin.notifications.discord.DiscordIncomingWebhook",
        ),
        (
            "io.kestra.plugin.microsoft365.teams.TeamsIncomingWebhook",
            "io.kestra.plugin.notifications.teams.TeamsIncomingWebhook",
        ),
        (
            "io.kestra.plugin.zulip.ZulipIncomingWebhook",
            "io.kestra.plugin.notifications.zulip.ZulipIncomingWebhook",
        ),
    ],
)
def test_aliases(alias: str, name: str) -> None:
    task_type = TaskRegistry(task_types()).get(alias)
    assert task_type is not None and task_type.name == name


@pytest.mark.parametrize("name", TYPES)
def test_posts_the_rendered_payload(sink: HttpSink, name: str) -> None:
    ctx = LocalTaskContext({"flow": {"id": "hello"}})
    task = make(name, url=sink.url + SECRET_PATH, payload='{"text": "Hi from {{ flow.id }}"}')
    assert run_incoming_webhook(task, ctx) == Outcome()
    [request] = sink.wait_for(1)
    assert request.method == "POST" and request.path == SECRET_PATH
    assert request.json == {"text": "Hi from hello"}
    assert request.header("Content-Type") == "application/json"
    assert request.header("Idempotency-Key") == "taskrun-1:1"
    assert ("INFO", "Request succeeded") in ctx.logs


@pytest.mark.parametrize("name", TYPES)
def test_failure_names_the_service_and_masks_the_url(sink: HttpSink, name: str) -> None:
    sink.status = 500
    task = make(name, url=sink.url + SECRET_PATH, payload="{}")
    outcome = run_incoming_webhook(task, LocalTaskContext())
    assert outcome.state == State.FAILED and outcome.error is not None
    assert outcome.error.startswith(f"{TYPES[name]} webhook request to ")
    assert "status 500" in outcome.error and "SECRETTOKEN" not in outcome.error


def test_payload_is_required_and_must_be_json(sink: HttpSink) -> None:
    name = next(iter(TYPES))
    assert run_incoming_webhook(make(name, url=sink.url), LocalTaskContext()) == Outcome(
        State.FAILED, error=NO_PAYLOAD
    )
    outcome = run_incoming_webhook(make(name, url=sink.url, payload="{oops"), LocalTaskContext())
    assert outcome.state == State.FAILED and "not valid JSON" in (outcome.error or "")
    assert sink.requests == []


@pytest.mark.parametrize(
    ("props", "field"),
    [({"payload": "{}"}, "url"), ({"url": "u", "messageText": "hi"}, "messageText")],
)
def test_invalid_properties(props: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        make("io.kestra.plugin.notifications.zulip.ZulipIncomingWebhook", **props)
    assert field in str(info.value)


def test_kill_while_in_flight(sink: HttpSink) -> None:
    sink.delay = 10.0
    ctx = LocalTaskContext()
    task = make(
        "io.kestra.plugin.notifications.teams.TeamsIncomingWebhook",
        url=sink.url + SECRET_PATH,
        payload='{"text": "slow"}',
    )
    result: list[Outcome] = []
    runner = threading.Thread(target=lambda: result.append(run_incoming_webhook(task, ctx)))
    runner.start()
    sink.wait_for(1)
    killed_at = time.monotonic()
    ctx.cancel()
    runner.join(5)
    assert result == [Outcome(State.KILLED)]
    assert time.monotonic() - killed_at < 2.0
