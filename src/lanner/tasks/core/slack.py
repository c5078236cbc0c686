"""`io.kestra.plugin.slack.notifications.SlackIncomingWebhook`: post to a Slack webhook (SPEC §5.17).

The body is ``payload`` (a JSON string) when given, else ``messageText``:
sent as it is when it is a JSON object, otherwise wrapped as
``{"text": ...}`` after turning Markdown's ``**bold**``, ``__italic__`` and
``[text](url)`` into Slack's mrkdwn. Any answer but 2xx, a connection
error or a timeout fails the task.

The sending (kill, masked URL, idempotency key, options) is shared with the
other chat webhooks: tasks/webhook.py.
"""

from __future__ import annotations

import re

from pydantic import Field

from lanner.model.common import Text
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.log import as_text
from lanner.tasks.webhook import (
    ProxyOptions,
    Request,
    RequestOptions,
    build_request,
    dump_json,
    mask_url,
    parse_json,
    post_webhook,
)

NO_MESSAGE = "Either 'messageText' or 'payload' must be provided"

# The names of the first version of this module, kept for the code that imports them.
SlackProxyOptions = ProxyOptions
SlackRequestOptions = RequestOptions
__all__ = ["SlackProxyOptions", "SlackRequestOptions", "mask_url"]


class SlackIncomingWebhook(Task):
    """Send a Slack message through an incoming webhook."""

    type: str
    url: Text = Field(
        min_length=1, description="The Slack incoming webhook URL (a secret: keep it in secret())."
    )
    payload: Text | None = Field(
        None, description="The JSON body to send; takes precedence over messageText."
    )
    messageText: Text | None = Field(
        None,
        description="The message: sent as it is when it is a JSON object, else as "
        '{"text": ...} with Markdown bold, italics and links turned into Slack mrkdwn.',
    )
    options: RequestOptions | None = Field(None, description="HTTP client options.")


# --- the message -------------------------------------------------------------------------------

_BOLD = re.compile(r"\*\*(.*?)\*\*")
_ITALIC = re.compile(r"__(.*?)__")
_LINK = re.compile(r"\[(.*?)\]\((.*?)\)")


def to_slack_mrkdwn(text: str) -> str:
    """Markdown's **bold**, __italic__ and [text](url) in Slack's mrkdwn."""
    text = _BOLD.sub(r"*\1*", text)
    text = _ITALIC.sub(r"_\1_", text)
    return _LINK.sub(r"<\2|\1>", text)


class _BadMessage(Exception):
    """The task's properties give no message that can be sent."""


def message_body(payload: str | None, message_text: str | None) -> bytes:
    """The JSON body to post, from the rendered `payload` and `messageText`."""
    if payload is not None:
        try:
            return dump_json(parse_json(payload))
        except ValueError as exc:
            raise _BadMessage(f"'payload' is not valid JSON: {exc}") from exc
    if message_text is not None:
        try:
            parsed = parse_json(message_text)
        except ValueError:
            parsed = None
        # Only a JSON object is a Slack message; "42" or "true" are meant as text.
        if isinstance(parsed, dict):
            return dump_json(parsed)
        return dump_json({"text": to_slack_mrkdwn(message_text)})
    raise _BadMessage(NO_MESSAGE)


def _build_request(task: SlackIncomingWebhook, ctx: TaskContext, url: str, body: bytes) -> Request:
    return build_request(task.options, ctx, url, body)


def run_slack_incoming_webhook(task: SlackIncomingWebhook, ctx: TaskContext) -> Outcome:
    payload = None if task.payload is None else as_text(ctx.render(task.payload))
    text = None if task.messageText is None else as_text(ctx.render(task.messageText))
    try:
        body = message_body(payload, text)
    except _BadMessage as exc:
        return Outcome(State.FAILED, error=str(exc))
    url = as_text(ctx.render(task.url)).strip()
    return post_webhook("Slack", ctx, url, body, task.options)


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.slack.notifications.SlackIncomingWebhook",
        model=SlackIncomingWebhook,
        aliases=(
            "io.kestra.plugin.slack.SlackIncomingWebhook",
            "io.kestra.plugin.notifications.slack.SlackIncomingWebhook",
        ),
        run=run_slack_incoming_webhook,
    ),
]
