"""`io.kestra.plugin.core.execution.Fail`: fail the task run on purpose (SPEC §5.2).

Without a ``condition`` the task always fails. With one, the condition is
rendered and judged by Kestra's truthiness rule (§6.5): truthy fails the
task, falsy lets it succeed and the flow go on. A failing Fail logs its
rendered ``errorMessage`` at ERROR and reports it as the attempt's error.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lanner.expr import is_truthy
from lanner.model.common import Text
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.log import as_text


def condition_holds(value: Any) -> bool:
    """Kestra's truthiness (§6.5) of a rendered condition, rendered as text first.

    Falsy: None, False, and text that trims to "false", "0", "-0" or "".
    Case-sensitive: "False" is truthy.
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return is_truthy(as_text(value))


class Fail(Task):
    """Fail the task run, always or when a condition is true."""

    type: str
    condition: Text | None = Field(
        None,
        description="When set, the task fails only if this renders truthy "
        "(anything but false, 0, -0 or an empty string).",
    )
    errorMessage: Text = Field("Task failure", description="The error message of the failure.")


def run_fail(task: Fail, ctx: TaskContext) -> Outcome:
    if task.condition is not None and not condition_holds(ctx.render(task.condition)):
        return Outcome()
    message = as_text(ctx.render(task.errorMessage))
    ctx.log("ERROR", message)
    return Outcome(State.FAILED, error=message)


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.core.execution.Fail",
        model=Fail,
        aliases=("io.kestra.core.tasks.executions.Fail",),
        run=run_fail,
    ),
]
