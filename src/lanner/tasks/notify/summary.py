"""What an execution summary says (SlackExecution, DiscordExecution, TeamsExecution,
GoogleChatExecution, MailExecution): the facts of the execution `executionId` names,
read from the store, and the link to its page in Lanner's UI.

Each service lays these facts out in its own message format (executions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import Field

from lanner.engine.timefmt import hms
from lanner.model.common import Text
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import ExecutionView, TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.webhook import parse_json

_GOOD = (State.SUCCESS,)
_BAD = (State.FAILED, State.KILLED, State.CANCELLED)


class SummaryTask(Task):
    """The properties every execution summary has, as Kestra names them."""

    executionId: Text | None = Field(
        None,
        description="The execution to summarise: default the current one; in a flow started"
        " by a Flow trigger, use '{{ trigger.executionId }}'.",
    )
    customMessage: Text | None = Field(None, description="A message added to the summary.")
    customFields: dict[str, Any] | None = Field(
        None, description="Name/value pairs added to the summary's fields."
    )


@dataclass(frozen=True)
class Summary:
    execution: ExecutionView
    link: str | None
    custom_message: str | None
    custom_fields: dict[str, str]

    @property
    def title(self) -> str:
        ex = self.execution
        return f"[{ex.namespace}] {ex.flow_id} ➛ {ex.state.value}"

    @property
    def duration(self) -> str:
        ex = self.execution
        end = ex.end_date
        if end is None:
            return "running"
        return hms(end - ex.start_date)

    @property
    def color(self) -> tuple[int, int, int]:
        """Green for a success, red for a failure, amber for the rest (WARNING, running)."""
        state = self.execution.state
        if state in _GOOD:
            return (0x2E, 0xA0, 0x43)
        if state in _BAD:
            return (0xD3, 0x2F, 0x2F)
        return (0xF2, 0xA9, 0x00)

    @property
    def hex_color(self) -> str:
        return "{:02X}{:02X}{:02X}".format(*self.color)

    def fields(self) -> list[tuple[str, str]]:
        """(name, value) pairs in the order a summary shows them; custom fields last."""
        ex = self.execution
        pairs = [
            ("Namespace", ex.namespace),
            ("Flow", ex.flow_id),
            ("Execution ID", ex.id),
            ("Status", ex.state.value),
            ("Start date", _date(ex.start_date)),
            ("Duration", self.duration),
        ]
        if ex.failed_task_id is not None:
            pairs.append(("Failed task", ex.failed_task_id))
        if ex.failed_message:
            pairs.append(("Error", _short(ex.failed_message)))
        # The user's labels: system.* ones (system.correlationId, ...) are Lanner's.
        own = {k: v for k, v in ex.labels.items() if not k.startswith("system.")}
        if own:
            pairs.append(("Labels", ", ".join(f"{k}: {v}" for k, v in own.items())))
        pairs.extend(self.custom_fields.items())
        return pairs

    def plain_text(self) -> str:
        lines = [self.title]
        if self.custom_message:
            lines += ["", self.custom_message]
        lines.append("")
        lines += [f"{name}: {value}" for name, value in self.fields()]
        if self.link:
            lines += ["", self.link]
        return "\n".join(lines)


def _date(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _short(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def execution_link(server_url: str | None, execution: ExecutionView) -> str | None:
    """The execution's page in Lanner's UI, None without `server.url`."""
    if not server_url:
        return None
    return f"{server_url.rstrip('/')}/ui/executions/{quote(execution.id, safe='')}"


class SummaryError(Exception):
    """The summary cannot be made; the message says why."""


def read_summary(
    ctx: TaskContext,
    execution_id: str | None,
    custom_message: str | None,
    custom_fields: dict[str, Any] | None,
) -> Summary:
    """The summary of the execution `execution_id` names (default: the current one)."""
    wanted = ctx.execution_id if execution_id is None else as_text(ctx.render(execution_id))
    wanted = wanted.strip() or ctx.execution_id
    execution = ctx.read_execution(wanted)
    if execution is None:
        raise SummaryError(f"executionId: no execution '{wanted}' in the store")
    message = None if custom_message is None else as_text(ctx.render(custom_message))
    fields: dict[str, str] = {}
    if custom_fields:
        rendered = ctx.render(dict(custom_fields))
        fields = {str(k): as_text(v) for k, v in rendered.items()}
    link = execution_link(ctx.server_url, execution)
    if link is None:
        ctx.log("DEBUG", "No server.url configured: the summary has no link to the execution")
    return Summary(execution, link, message or None, fields)


def own_payload(ctx: TaskContext, payload: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """`payload` rendered: (a JSON object to send instead of the summary, None) or
    (None, the text to put first in the summary's message)."""
    if payload is None:
        return None, None
    text = as_text(ctx.render(payload)).strip()
    try:
        parsed = parse_json(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed, None
    return None, text or None
