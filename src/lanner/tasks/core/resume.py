"""`io.kestra.plugin.core.execution.Resume` and `io.kestra.plugin.core.trigger.Toggle`:
act on another execution or on a trigger, from a task (run on a worker, through the
context's ``instance``, as `lanner executions resume` and `lanner triggers
enable|disable` do).

Resume resumes the execution `executionId` (checked to be of the flow `namespace` and
`flowId` name, this flow by default); without it, the latest PAUSED execution of the
flow `namespace` and `flowId` name when both are given, else this execution. The
execution must be PAUSED (the task fails otherwise, as Kestra's); `inputs` are its
Pause's onResume values, checked by the executor when it resumes (a refusal is logged on
the paused task run). Toggle enables or disables the trigger `trigger` of the flow
`namespace` / `flowId` (this flow by default); the trigger must have been seen by a
server (its context is stored).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lanner.errors import NotFoundError
from lanner.model.common import DynamicBool, Text
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.kv import flag
from lanner.tasks.core.logfetch import target_execution


class ResumeExecution(Task):
    """Resume a paused execution."""

    type: str
    executionId: Text | None = Field(None, description="The execution; by default this one.")
    namespace: Text | None = Field(None, description="The flow's namespace.")
    flowId: Text | None = Field(None, description="The flow's id.")
    inputs: dict[str, Any] | None = Field(None, description="The Pause's onResume values.")


def run_resume(task: ResumeExecution, ctx: TaskContext) -> Outcome:
    if task.executionId is None and task.namespace is not None and task.flowId is not None:
        found = ctx.instance.paused_execution(task.namespace, task.flowId)
        if found is None:
            raise NotFoundError(f"no PAUSED execution of {task.namespace}.{task.flowId}")
        execution_id = found
    else:
        execution_id = target_execution(ctx, task.executionId, task.namespace, task.flowId)
    ctx.instance.resume(execution_id, task.inputs or {})
    ctx.log("INFO", f"Asked for the resume of execution {execution_id}")
    return Outcome()


class Toggle(Task):
    """Enable or disable a trigger."""

    type: str
    namespace: Text | None = Field(None, description="The flow's namespace; by default this one.")
    flowId: Text | None = Field(None, description="The flow's id; by default this flow.")
    trigger: Text = Field(description="The trigger's id.")
    enabled: DynamicBool = Field(False, description="Enable (true) or disable (false) the trigger.")


def run_toggle(task: Toggle, ctx: TaskContext) -> Outcome:
    namespace = task.namespace or ctx.namespace
    flow_id = task.flowId or ctx.flow_id
    enabled = flag(task.enabled)
    ctx.instance.set_trigger_enabled(namespace, flow_id, task.trigger, enabled)
    state = "Enabled" if enabled else "Disabled"
    ctx.log("INFO", f"{state} the trigger {namespace}.{flow_id}.{task.trigger}")
    return Outcome()


TASK_TYPES: list[TaskType] = [
    TaskType("io.kestra.plugin.core.execution.Resume", ResumeExecution, run=run_resume),
    TaskType(
        "io.kestra.plugin.core.trigger.Toggle",
        Toggle,
        aliases=("io.kestra.core.tasks.trigger.Toggle",),  # its name before Kestra 0.17
        run=run_toggle,
    ),
]
