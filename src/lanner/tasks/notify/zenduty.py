"""Zenduty's Events API: `ZendutyAlert` posts its own `payload`, `ZendutyExecution`
posts an event summing up an execution (docs/tasks-notifications.md, "Zenduty").

Both post JSON to `url` (the Events API URL with its integration key) as the other
webhooks do (tasks/webhook.py: kill, masked URL, idempotency key, `options`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from lanner.model.common import Text
from lanner.model.states import State
from lanner.model.unsupported import unsupported
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.notify.chat import IncomingWebhook, run_incoming_webhook
from lanner.tasks.notify.summary import Summary, SummaryError, SummaryTask, read_summary
from lanner.tasks.webhook import RequestOptions, dump_json, post_webhook

_REASONS = {
    "payload": "ZendutyExecution sends the event it builds (Kestra replaces `payload` with"
    " its template too); send your own event with ZendutyAlert",
    "templateRenderMap": "ZendutyExecution fills its event from the execution itself;"
    " set message, summary, alertType, entityId or urls instead",
}


class ZendutyAlert(IncomingWebhook):
    """Send a Zenduty event: the rendered `payload` (Zenduty's Events API format)."""

    url: Text = Field(
        min_length=1, description="The Events API URL, with the integration key (a secret)."
    )


class AlertType(StrEnum):
    CRITICAL = "CRITICAL"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"
    ERROR = "ERROR"
    WARNING = "WARNING"
    INFO = "INFO"


class ZendutyExecution(SummaryTask):
    """Send a Zenduty event summing up an execution."""

    url: Text = Field(
        min_length=1, description="The Events API URL, with the integration key (a secret)."
    )
    options: RequestOptions | None = Field(None, description="HTTP client options.")
    message: Text | None = Field(None, description="The incident's title (default: the summary's).")
    summary: Text | None = Field(
        None, description="The incident's summary (default: the execution's facts, one a line)."
    )
    alertType: AlertType | None = Field(
        None, description="The event's alert_type (default: error), sent in lower case."
    )
    entityId: Text | None = Field(None, description="The alert's id (default: the execution's).")
    urls: list[Text] | None = Field(
        None, description="Links sent with the event (default: the execution's page)."
    )
    payload: Any = None
    templateRenderMap: Any = None

    _zenduty_not_supported = unsupported("payload", "templateRenderMap", reasons=_REASONS)


def _opt(ctx: TaskContext, value: str | None) -> str | None:
    if value is None:
        return None
    text = as_text(ctx.render(value)).strip()
    return text or None


def zenduty_event(task: ZendutyExecution, ctx: TaskContext, summary: Summary) -> dict[str, Any]:
    facts = [f"{name}: {value}" for name, value in summary.fields()]
    text = "\n".join([summary.custom_message, *facts] if summary.custom_message else facts)
    urls = (
        [as_text(ctx.render(u)) for u in task.urls]
        if task.urls is not None
        else ([summary.link] if summary.link else [])
    )
    event: dict[str, Any] = {
        "message": _opt(ctx, task.message) or summary.title,
        "summary": _opt(ctx, task.summary) or text,
        "alert_type": (task.alertType or AlertType.ERROR).value.lower(),
        "entity_id": _opt(ctx, task.entityId) or summary.execution.id,
        "payload": dict(summary.fields()),
    }
    if urls:
        event["urls"] = urls
    return event


def run_zenduty_execution(task: ZendutyExecution, ctx: TaskContext) -> Outcome:
    try:
        summary = read_summary(ctx, task.executionId, task.customMessage, task.customFields)
        event = zenduty_event(task, ctx, summary)
    except (SummaryError, ValueError) as exc:
        return Outcome(State.FAILED, error=str(exc))
    url = as_text(ctx.render(task.url)).strip()
    return post_webhook("Zenduty", ctx, url, dump_json(event), task.options)


def run_zenduty_alert(task: ZendutyAlert, ctx: TaskContext) -> Outcome:
    return run_incoming_webhook(task, ctx)
