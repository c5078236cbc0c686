"""`io.kestra.plugin.core.templating.TemplatedTask`: a task whose definition is a template.

`spec` is rendered (by the executor, as every property) to the YAML of one runnable task
(its `type` and properties; `id` defaults to the TemplatedTask's), which is validated
against its task type and run in this attempt, as this task run: its outputs, logs and
files are this task run's. The rendered spec is not rendered a second time: an
expression that must reach the inner task as text is escaped in the template
(``{% raw %}``). A flowable type, or a TemplatedTask inside a TemplatedTask, fails the
task, as in Kestra.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import Field

from lanner.errors import InputError
from lanner.model.common import Text
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType

NAME = "io.kestra.plugin.core.templating.TemplatedTask"
ALIAS = "io.kestra.core.tasks.templating.TemplatedTask"


class TemplatedTask(Task):
    """Render `spec` to a task definition and run that task."""

    type: str
    spec: Text = Field(description="The YAML of a runnable task, with its `type`; rendered first.")


def run_templated(task: TemplatedTask, ctx: TaskContext) -> Outcome:
    text = ctx.render(task.spec)
    try:
        definition: Any = yaml.safe_load(str(text))
    except yaml.YAMLError as exc:
        raise InputError(f"the rendered spec is not YAML: {exc}") from None
    if not isinstance(definition, dict) or "type" not in definition:
        raise InputError("the rendered spec must be a mapping with the task's `type`")
    if definition["type"] in (NAME, ALIAS):
        raise InputError(f"the templated task cannot be of type '{NAME}'")
    return ctx.run_task(definition)


TASK_TYPES: list[TaskType] = [
    TaskType(name=NAME, model=TemplatedTask, aliases=(ALIAS,), run=run_templated),
]
