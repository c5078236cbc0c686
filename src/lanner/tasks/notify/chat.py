"""The chat incoming webhooks: Discord, Microsoft Teams, Google Chat and Zulip.

Each posts its rendered `payload` (a JSON document, in the chat's own
format) to its `url`; the sending is the one Slack's task uses
(tasks/webhook.py): kill, masked URL, idempotency key and `options`.
"""

from __future__ import annotations

from pydantic import Field

from lanner.model.common import Text
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.webhook import RequestOptions, dump_json, parse_json, post_webhook

NO_PAYLOAD = "'payload' must be provided"


class IncomingWebhook(Task):
    """Post a JSON message to a chat's incoming webhook."""

    type: str
    url: Text = Field(
        min_length=1, description="The incoming webhook URL (a secret: keep it in secret())."
    )
    payload: Text | None = Field(
        None, description="The JSON message to post, in the chat's own format."
    )
    options: RequestOptions | None = Field(None, description="HTTP client options.")


class DiscordIncomingWebhook(IncomingWebhook):
    """Send a Discord message through an incoming webhook."""


class TeamsIncomingWebhook(IncomingWebhook):
    """Send a Microsoft Teams message through an incoming webhook."""


class GoogleChatIncomingWebhook(IncomingWebhook):
    """Send a Google Chat message through an incoming webhook."""


class ZulipIncomingWebhook(IncomingWebhook):
    """Send a Zulip message through an incoming webhook."""


SERVICES: dict[type[IncomingWebhook], str] = {
    DiscordIncomingWebhook: "Discord",
    TeamsIncomingWebhook: "Teams",
    GoogleChatIncomingWebhook: "Google Chat",
    ZulipIncomingWebhook: "Zulip",
}


def run_incoming_webhook(task: IncomingWebhook, ctx: TaskContext) -> Outcome:
    service = SERVICES.get(type(task), type(task).__name__.removesuffix("Alert"))
    if task.payload is None:
        return Outcome(State.FAILED, error=NO_PAYLOAD)
    try:
        body = dump_json(parse_json(as_text(ctx.render(task.payload))))
    except ValueError as exc:
        return Outcome(State.FAILED, error=f"'payload' is not valid JSON: {exc}")
    url = as_text(ctx.render(task.url)).strip()
    return post_webhook(service, ctx, url, body, task.options)
