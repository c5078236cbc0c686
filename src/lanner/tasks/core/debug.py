"""`io.kestra.plugin.core.debug.Return` and the deprecated `Echo` (SPEC §5.13).

``Return`` renders ``format`` and hands it back as the output ``value``
(also logged at DEBUG), which makes it the usual way to compute a small
value in a flow. ``Echo`` only logs its rendered ``format``.
"""

from __future__ import annotations

from pydantic import Field

from lanner.model.common import Text
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.log import LogLevel, as_text, render_level


class Return(Task):
    """Render a string and return it as the output `value`."""

    type: str
    format: Text | None = Field(None, description="The templated string to render.")


def run_return(task: Return, ctx: TaskContext) -> Outcome:
    value = None if task.format is None else as_text(ctx.render(task.format))
    ctx.log("DEBUG", "" if value is None else value)
    return Outcome(outputs={"value": value})


class Echo(Task):
    """Log a rendered string (deprecated: use io.kestra.plugin.core.log.Log)."""

    type: str
    format: Text = Field(description="The templated string to log.")
    level: LogLevel = Field("INFO", description="The log level: TRACE, DEBUG, INFO, WARN or ERROR.")


def run_echo(task: Echo, ctx: TaskContext) -> Outcome:
    level = render_level(ctx, task.level)
    ctx.log(level, as_text(ctx.render(task.format)))
    return Outcome()


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.core.debug.Return",
        model=Return,
        aliases=("io.kestra.core.tasks.debugs.Return",),
        run=run_return,
    ),
    TaskType(
        name="io.kestra.plugin.core.debug.Echo",
        model=Echo,
        aliases=("io.kestra.core.tasks.debugs.Echo",),
        run=run_echo,
    ),
]
