"""`io.kestra.plugin.core.execution.Assert`: check conditions on the execution's data.

Each condition arrives rendered; it holds by Kestra's truthiness (``fail.condition_holds``:
false, 0, -0 and an empty text are false, the rest true). Every false one is logged at
ERROR, by its position in the list (the worker sees rendered values, not the templates),
and the task fails with how many failed, followed by ``errorMessage`` when given. All
true: SUCCESS, no outputs.
"""

from __future__ import annotations

from pydantic import Field

from lanner.model.common import Text
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.fail import condition_holds
from lanner.tasks.core.log import as_text


class Assert(Task):
    """Fail the task run when one of the conditions is false."""

    type: str
    conditions: list[Text] = Field(
        min_length=1,
        description="Conditions, each rendered and coerced to a boolean"
        " (0, -0, false and an empty text are false).",
    )
    errorMessage: Text | None = Field(None, description="Added to the error when one fails.")


def run_assert(task: Assert, ctx: TaskContext) -> Outcome:
    failed = 0
    for number, condition in enumerate(task.conditions, start=1):
        value = ctx.render(condition)
        if not condition_holds(value):
            failed += 1
            ctx.log("ERROR", f"Assertion {number} failed: {as_text(value)!r} is false")
    if not failed:
        return Outcome()
    message = f"{failed} assertion{'s' if failed > 1 else ''} failed"
    if task.errorMessage:
        message += f": {as_text(ctx.render(task.errorMessage))}"
    return Outcome(State.FAILED, error=message)


TASK_TYPES: list[TaskType] = [
    TaskType(name="io.kestra.plugin.core.execution.Assert", model=Assert, run=run_assert),
]
