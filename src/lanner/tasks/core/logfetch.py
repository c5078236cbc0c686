"""`io.kestra.plugin.core.log.Fetch`: an execution's logs into an Ion file.

The execution is this one unless `executionId` names another; that one must be of the
flow given by `namespace` and `flowId`, each defaulting to this flow's (Kestra looks for
the execution "on the current flow" unless they are set). The lines at `level` or above
(INFO by default), of the tasks in `tasksId` when given, are written one per line as
Kestra's LogEntry (namespace, flowId, taskId, executionId, taskRunId, attemptNumber,
timestamp, level, message) to an Ion file of this task run: outputs `uri` and `size`
(the number of lines). This task's own lines are not in it (they are written with its
result).
"""

from __future__ import annotations

from pydantic import Field

from lanner.errors import NotFoundError
from lanner.ion.writer import write_values
from lanner.model import loglevel
from lanner.model.common import Text
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.log import LogLevel, render_level


def target_execution(
    ctx: TaskContext, execution_id: str | None, namespace: str | None, flow_id: str | None
) -> str:
    """The execution a task names by id, checked to be of the flow it names (by default
    this flow): Kestra's rule for Fetch and Resume."""
    if execution_id is None or execution_id == ctx.execution_id:
        return ctx.execution_id
    want = (namespace or ctx.namespace, flow_id or ctx.flow_id)
    if ctx.instance.execution_flow(execution_id) != want:
        raise NotFoundError(f"execution {execution_id} not found in the flow {'.'.join(want)}")
    return execution_id


class Fetch(Task):
    """Store an execution's logs in an Ion file."""

    type: str
    executionId: Text | None = Field(None, description="The execution; by default this one.")
    namespace: Text | None = Field(
        None, description="The execution's namespace (with executionId)."
    )
    flowId: Text | None = Field(None, description="The execution's flow (with executionId).")
    level: LogLevel = Field("INFO", description="The lowest level fetched.")
    tasksId: list[Text] | None = Field(None, description="Only the lines of these tasks.")


def run_fetch(task: Fetch, ctx: TaskContext) -> Outcome:
    execution_id = target_execution(ctx, task.executionId, task.namespace, task.flowId)
    minimum = render_level(ctx, task.level)
    wanted = None if task.tasksId is None else set(task.tasksId)
    lines = [
        line
        for line in ctx.instance.logs(execution_id)
        if loglevel.kept(str(line["level"]), minimum)
        and (wanted is None or line["taskId"] in wanted)
    ]
    path = ctx.working_directory() / "logs.ion"
    with path.open("wb") as out:
        size = write_values(out, lines)
    return Outcome(outputs={"uri": ctx.put_file(path), "size": size})


TASK_TYPES: list[TaskType] = [
    TaskType(
        "io.kestra.plugin.core.log.Fetch",
        Fetch,
        aliases=("io.kestra.core.tasks.log.Fetch",),
        run=run_fetch,
    ),
]
