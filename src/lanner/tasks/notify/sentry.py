"""Sentry: `SentryAlert` sends one event (its `payload`, or a short default one),
`SentryExecution` an event summing up an execution (docs/tasks-notifications.md,
"Sentry").

`dsn` is a Sentry DSN, `SCHEME://PUBLIC_KEY@HOST[:PORT][/PATH]/PROJECT_ID`, turned into
its ingest URL (`/api/PROJECT_ID/envelope/` or `/store/` with the key in the query),
as Sentry's SDKs do for sentry.io and self-hosted servers alike; a value that is not a
DSN (no key, no numeric project) is posted to as it is, as Kestra does. ENVELOPE sends
the event in Sentry's envelope format (a header line, an item header, the event),
STORE the event alone. The sending is the webhooks' (tasks/webhook.py).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import Field, field_validator

from lanner.model.common import Text, is_dynamic
from lanner.model.states import State
from lanner.model.task import Task
from lanner.model.unsupported import unsupported
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.notify.summary import Summary, SummaryError, SummaryTask, read_summary
from lanner.tasks.webhook import RequestOptions, mask_url, parse_json, post_webhook

EVENT_LIMIT = 1024 * 1024  # Sentry's limit for one event
ENVELOPE_LIMIT = 100 * 1024 * 1024  # and for an envelope, uncompressed
_SDK = {"name": "lanner", "version": "7"}  # protocol version 7, as Kestra sends
_EVENT_ID = re.compile(r"^[0-9a-f]{32}$")
_REASONS = {
    "payload": "SentryExecution sends the event it builds (Kestra replaces `payload` with"
    " its template too); send your own event with SentryAlert",
    "templateRenderMap": "SentryExecution fills its event from the execution itself;"
    " set level, transaction, serverName, extra or errors instead",
}


class EndpointType(StrEnum):
    ENVELOPE = "ENVELOPE"
    STORE = "STORE"


class ErrorLevel(StrEnum):
    FATAL = "FATAL"
    ERROR = "ERROR"
    WARNING = "WARNING"
    INFO = "INFO"
    DEBUG = "DEBUG"


class Platform(StrEnum):
    """What Sentry shows the event as coming from."""

    AS3 = "AS3"
    C = "C"
    CFML = "CFML"
    COCOA = "COCOA"
    CSHARP = "CSHARP"
    ELIXIR = "ELIXIR"
    HASKELL = "HASKELL"
    GO = "GO"
    GROOVY = "GROOVY"
    JAVA = "JAVA"
    JAVASCRIPT = "JAVASCRIPT"
    NATIVE = "NATIVE"
    NODE = "NODE"
    OBJC = "OBJC"
    OTHER = "OTHER"
    PERL = "PERL"
    PHP = "PHP"
    PYTHON = "PYTHON"
    RUBY = "RUBY"


class _Sentry(Task):
    type: str
    dsn: Text = Field(
        min_length=1, description="The project's DSN (a secret: keep it in secret())."
    )
    endpointType: EndpointType = Field(
        EndpointType.ENVELOPE, description="ENVELOPE (default) or STORE (older servers)."
    )
    options: RequestOptions | None = Field(None, description="HTTP client options.")


class SentryAlert(_Sentry):
    """Send a Sentry event: the rendered `payload`, or a short one about this execution."""

    payload: Text | None = Field(
        None, description="The event, a JSON object in Sentry's event format."
    )


class SentryExecution(_Sentry, SummaryTask):
    """Send a Sentry event summing up an execution."""

    eventId: Text | None = Field(
        None, description="The event's id: 32 lower-case hex digits (default: generated)."
    )
    platform: Platform = Field(Platform.JAVA, description="The platform the event is from (JAVA).")
    level: ErrorLevel = Field(ErrorLevel.ERROR, description="The event's severity (ERROR).")
    transaction: Text | None = Field(None, description="The transaction that caused it.")
    serverName: Text | None = Field(None, description="The host the event is recorded from.")
    extra: dict[str, Any] | None = Field(None, description="More data kept with the event.")
    errors: dict[str, Any] | None = Field(None, description="Errors kept with the event.")
    payload: Any = None
    templateRenderMap: Any = None

    _sentry_not_supported = unsupported("payload", "templateRenderMap", reasons=_REASONS)

    @field_validator("eventId")
    @classmethod
    def _event_id(cls, v: str | None) -> str | None:
        if v is not None and not is_dynamic(v) and not _EVENT_ID.match(v):
            raise ValueError("eventId must be 32 lower-case hexadecimal digits (a UUID, no dashes)")
        return v


# --- sending -----------------------------------------------------------------------------------


def ingest_url(dsn: str, endpoint: EndpointType) -> str:
    """The URL events of `dsn` are posted to; `dsn` itself when it is not a DSN."""
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError:
        return dsn
    path, _, project = parts.path.rstrip("/").rpartition("/")
    if not parts.username or not parts.hostname or not project.isdigit():
        return dsn
    host = parts.hostname + (f":{port}" if port else "")
    kind = "envelope" if endpoint is EndpointType.ENVELOPE else "store"
    query = f"sentry_version=7&sentry_client=lanner&sentry_key={quote(parts.username, safe='')}"
    return f"{parts.scheme}://{host}{path}/api/{project}/{kind}/?{query}"


def _event_id(ctx: TaskContext) -> str:
    # The same for each attempt of a task run: Sentry drops an event id it has, so a
    # retry after a lost answer does not make a second event.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"lanner:{ctx.execution_id}:{ctx.task_run_id}").hex


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(event: bytes, event_id: str, dsn: str) -> bytes:
    """Sentry's envelope of one event; ValueError over Sentry's size limits."""
    if len(event) > EVENT_LIMIT:
        raise ValueError(f"the event is {len(event)} bytes, over Sentry's limit of 1 MB")
    header = {"event_id": event_id, "dsn": dsn, "sdk": _SDK, "sent_at": _now()}
    item = {"type": "event", "length": len(event), "content_type": "application/json"}
    body = b"\n".join([_line(header), _line(item), event]) + b"\n"
    if len(body) > ENVELOPE_LIMIT:
        raise ValueError("the envelope is over Sentry's limit of 100 MB")
    return body


def _line(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def send_event(task: _Sentry, ctx: TaskContext, event: dict[str, Any]) -> Outcome:
    dsn = as_text(ctx.render(task.dsn)).strip()
    url = ingest_url(dsn, task.endpointType)
    event_id = str(event.setdefault("event_id", _event_id(ctx)))
    data = _line(event)
    try:
        body = envelope(data, event_id, dsn) if task.endpointType is EndpointType.ENVELOPE else data
    except ValueError as exc:
        return Outcome(State.FAILED, error=str(exc))
    return post_webhook("Sentry", ctx, url, body, task.options, shown_url=mask_url(dsn))


def run_sentry_alert(task: SentryAlert, ctx: TaskContext) -> Outcome:
    if task.payload is None:
        event: dict[str, Any] = {
            "timestamp": _now(),
            "platform": "java",
            "level": "error",
            "message": {"message": f"Execution {ctx.execution_id} failed"},
            "extra": {
                "Namespace": ctx.namespace,
                "Flow ID": ctx.flow_id,
                "Execution ID": ctx.execution_id,
            },
        }
    else:
        try:
            parsed = parse_json(as_text(ctx.render(task.payload)))
        except ValueError as exc:
            return Outcome(State.FAILED, error=f"'payload' is not valid JSON: {exc}")
        if not isinstance(parsed, dict):
            return Outcome(State.FAILED, error="'payload' must be a JSON object (a Sentry event)")
        event = parsed
    return send_event(task, ctx, event)


def _opt(ctx: TaskContext, value: str | None) -> str | None:
    if value is None:
        return None
    text = as_text(ctx.render(value)).strip()
    return text or None


def sentry_event(task: SentryExecution, ctx: TaskContext, summary: Summary) -> dict[str, Any]:
    text = summary.title + (f"\n{summary.custom_message}" if summary.custom_message else "")
    extra: dict[str, Any] = dict(summary.fields())
    if summary.link:
        extra["Link"] = summary.link
    if task.extra:
        extra.update(ctx.render(dict(task.extra)))
    event: dict[str, Any] = {
        "timestamp": _now(),
        "platform": task.platform.value.lower(),
        "level": task.level.value.lower(),
        "message": {"message": text},
        "extra": extra,
    }
    if (event_id := _opt(ctx, task.eventId)) is not None:
        if not _EVENT_ID.match(event_id):
            raise ValueError("eventId must be 32 lower-case hexadecimal digits")
        event["event_id"] = event_id
    if (transaction := _opt(ctx, task.transaction)) is not None:
        event["transaction"] = transaction
    if (server := _opt(ctx, task.serverName)) is not None:
        event["server_name"] = server
    if task.errors:
        event["errors"] = ctx.render(dict(task.errors))
    return event


def run_sentry_execution(task: SentryExecution, ctx: TaskContext) -> Outcome:
    try:
        summary = read_summary(ctx, task.executionId, task.customMessage, task.customFields)
        event = sentry_event(task, ctx, summary)
    except (SummaryError, ValueError) as exc:
        return Outcome(State.FAILED, error=str(exc))
    return send_event(task, ctx, event)
