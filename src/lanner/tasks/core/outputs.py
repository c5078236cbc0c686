"""`io.kestra.plugin.core.output.OutputValues`: publish rendered values (SPEC §5.14).

Each value is rendered where it stands: strings render to strings, other
scalars keep their type (``1`` stays a number), lists and maps are rendered
item by item. Later tasks read them as ``outputs.<id>.values.<key>``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType


class OutputValues(Task):
    """Render a map of values and publish it as the output `values`."""

    type: str
    values: dict[str, Any] = Field(
        default_factory=dict,
        description="The values to publish; each one is rendered, scalars keep their type.",
    )


def run_output_values(task: OutputValues, ctx: TaskContext) -> Outcome:
    rendered = {key: ctx.render(value) for key, value in task.values.items()}
    return Outcome(outputs={"values": rendered})


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.core.output.OutputValues",
        model=OutputValues,
        run=run_output_values,
    ),
]
