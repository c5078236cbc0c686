"""Telegram's Bot API: `TelegramSend` (a message) and `TelegramExecution` (an execution
summary), posted to `{endpointOverride}/bot{token}/sendMessage`.

The token is part of the URL: errors show the endpoint with `/bot***/sendMessage`.
The sending is the incoming webhooks' (tasks/webhook.py): kill, idempotency key,
`options`; any answer but 2xx fails the task (the Bot API answers 4xx with
`{"ok": false, "description": ...}`, which the error shows).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from lanner.model.common import Text, is_dynamic
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.notify.summary import SummaryError, SummaryTask, own_payload, read_summary
from lanner.tasks.webhook import RequestOptions, dump_json, parse_json, post_webhook

API = "https://api.telegram.org"
# Kestra's names of the Bot API's parse modes, and the Bot API's own.
PARSE_MODES = {"HTML": "HTML", "MARKDOWNV2": "MarkdownV2", "MARKDOWN": "Markdown"}


class _TelegramFields(Task):
    type: str
    token: Text = Field(
        min_length=1, description="The bot's token (a secret: keep it in secret())."
    )
    channel: Text = Field(min_length=1, description="The chat or channel id (chat_id).")
    endpointOverride: Text | None = Field(
        None, description=f"The Bot API's base URL (default {API}); for a local server."
    )
    parseMode: Text | None = Field(
        None, description="HTML, MARKDOWNV2 (or MARKDOWN): how Telegram formats the text."
    )
    options: RequestOptions | None = Field(None, description="HTTP client options.")

    @field_validator("parseMode")
    @classmethod
    def _known_mode(cls, value: str | None) -> str | None:
        if value is None or is_dynamic(value) or value.upper() in PARSE_MODES:
            return value
        raise ValueError(f"parseMode must be one of {', '.join(PARSE_MODES)}")


class TelegramSend(_TelegramFields):
    """Send a Telegram message through the Bot API."""

    payload: Text | None = Field(
        None,
        description="The message: its text, or a JSON object of sendMessage's parameters"
        ' ({"text": ...}; chat_id and parse_mode come from channel and parseMode).',
    )


class TelegramExecution(_TelegramFields, SummaryTask):
    """Send a Telegram message summing up an execution."""

    payload: Text | None = Field(
        None,
        description="A JSON object: sendMessage's parameters sent instead of the summary."
        " Any other text: the message's first line, the summary after it.",
    )


def _send(task: _TelegramFields, ctx: TaskContext, message: dict[str, Any]) -> Outcome:
    token = as_text(ctx.render(task.token)).strip()
    base = as_text(ctx.render(task.endpointOverride or API)).strip().rstrip("/")
    message.setdefault("chat_id", as_text(ctx.render(task.channel)).strip())
    if task.parseMode is not None:
        mode = as_text(ctx.render(task.parseMode)).strip().upper()
        if mode not in PARSE_MODES:
            return Outcome(State.FAILED, error=f"parseMode must be one of {', '.join(PARSE_MODES)}")
        message.setdefault("parse_mode", PARSE_MODES[mode])
    url = f"{base}/bot{token}/sendMessage"
    shown = f"{base}/bot***/sendMessage"
    return post_webhook("Telegram", ctx, url, dump_json(message), task.options, shown_url=shown)


def run_telegram_send(task: TelegramSend, ctx: TaskContext) -> Outcome:
    if task.payload is None:
        return Outcome(State.FAILED, error="'payload' must be provided")
    text = as_text(ctx.render(task.payload))
    message: dict[str, Any]
    try:
        parsed = parse_json(text)
    except ValueError:
        parsed = None
    message = dict(parsed) if isinstance(parsed, dict) else {"text": text}
    if not message.get("text"):
        return Outcome(State.FAILED, error="'payload' has no text to send")
    return _send(task, ctx, message)


def run_telegram_execution(task: TelegramExecution, ctx: TaskContext) -> Outcome:
    try:
        summary = read_summary(ctx, task.executionId, task.customMessage, task.customFields)
    except SummaryError as exc:
        return Outcome(State.FAILED, error=str(exc))
    own, lead = own_payload(ctx, task.payload)
    if own is not None:
        return _send(task, ctx, own)
    text = summary.plain_text()
    return _send(task, ctx, {"text": f"{lead}\n\n{text}" if lead else text})
