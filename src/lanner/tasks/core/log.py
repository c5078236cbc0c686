"""`io.kestra.plugin.core.log.Log`: write messages to the task run's logs (SPEC §5.1).

The message is a string or a list of strings; each one is rendered and
logged on its own, in order, at the chosen level. Logging at WARN or ERROR
leaves the task run SUCCESS. The level type here is shared with the
deprecated ``Echo`` task (``debug.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, WithJsonSchema

from lanner.model.common import Text, is_dynamic
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


def _check_level(value: str) -> str:
    if value in LOG_LEVELS or is_dynamic(value):
        return value
    raise ValueError(f"level must be one of {', '.join(LOG_LEVELS)} (got '{value}')")


LogLevel = Annotated[
    str,
    AfterValidator(_check_level),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": list(LOG_LEVELS)},
                {"type": "string", "pattern": r"\{\{|\{%"},
            ]
        }
    ),
]
"""A log level, or an expression that renders to one."""


def render_level(ctx: TaskContext, level: str) -> str:
    """Render a level property and check the result (an expression may render to anything)."""
    rendered = as_text(ctx.render(level)).strip()
    if rendered not in LOG_LEVELS:
        raise ValueError(f"level must be one of {', '.join(LOG_LEVELS)} (got '{rendered}')")
    return rendered


def as_text(value: Any) -> str:
    """A rendered value as the text to log; None renders to an empty string."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


class Log(Task):
    """Log one or more messages in the task run's logs."""

    type: str
    message: Text | list[Text] = Field(
        description="The message to log, or a list of messages logged one by one, in order."
    )
    level: LogLevel = Field("INFO", description="The log level: TRACE, DEBUG, INFO, WARN or ERROR.")


def run_log(task: Log, ctx: TaskContext) -> Outcome:
    level = render_level(ctx, task.level)
    messages = [task.message] if isinstance(task.message, str) else task.message
    for message in messages:
        ctx.log(level, as_text(ctx.render(message)))
    return Outcome()


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.core.log.Log",
        model=Log,
        aliases=("io.kestra.core.tasks.log.Log",),
        run=run_log,
    ),
]
