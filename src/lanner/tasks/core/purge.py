"""`io.kestra.plugin.core.execution.PurgeExecutions` and `io.kestra.plugin.core.log.PurgeLogs`:
delete old executions and logs (docs/tasks-core.md).

Both run on a worker and act through the context's ``instance``
(runtime/instanceaccess.py). `namespace` is a prefix (the namespace and those below it)
unless `flowId` is given, which needs `namespace`. Dates are ISO-8601 date-times with a
zone (what ``now() | dateAdd(-1, 'MONTHS')`` renders); PurgeExecutions compares them with
an execution's start, PurgeLogs with a log line's timestamp.

PurgeExecutions deletes finalized executions only (one still running or paused belongs
to an executor; ``states`` narrows further), in batches of `batchSize`, each batch one
transaction: with `purgeExecution` their rows (task runs, jobs, events), with
`purgeLog` their logs, with `purgeStorage` their files in internal storage. Lanner keeps
no metrics: `purgeMetric` is accepted and `metricsCount` is always 0.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, ValidationInfo, field_validator

from lanner.errors import InputError
from lanner.model.common import DynamicBool, DynamicInt, Text
from lanner.model.inputvalues import parse_datetime
from lanner.model.loglevel import LEVELS
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import ExecutionFilter, Outcome, TaskContext, TaskType
from lanner.tasks.core.kv import flag
from lanner.tasks.core.log import LogLevel

_STATES = tuple(s.value for s in State)


def _date(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except InputError as exc:
        raise InputError(f"{name}: {exc.message}") from None


def _end(value: str) -> datetime:
    end = _date(value, "endDate")
    assert end is not None
    return end


class _Purge(Task):
    type: str
    namespace: Text | None = Field(
        None, description="The namespace (and those below it), or the flow's with flowId."
    )
    flowId: Text | None = Field(None, description="Only this flow (needs namespace).")
    startDate: Text | None = Field(None, description="Only what started at or after this date.")
    endDate: Text = Field(description="Only what started before this date.")

    @field_validator("flowId")
    @classmethod
    def _flow_needs_namespace(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Located at flowId: `namespace` is declared (so validated) first.
        if value is not None and info.data.get("namespace") is None:
            raise ValueError("flowId needs namespace (the flow's namespace)")
        return value


class PurgeExecutions(_Purge):
    """Delete finalized executions with their logs and files."""

    states: list[State] | None = Field(
        None, description="Only executions ending in these states; by default any."
    )
    purgeExecution: DynamicBool = Field(True, description="Delete the executions' rows.")
    purgeLog: DynamicBool = Field(True, description="Delete the executions' logs.")
    purgeMetric: DynamicBool = Field(True, description="Lanner keeps no metrics: nothing to do.")
    purgeStorage: DynamicBool = Field(True, description="Delete the executions' stored files.")
    batchSize: DynamicInt = Field(100, description="Executions deleted per transaction.")


def run_purge_executions(task: PurgeExecutions, ctx: TaskContext) -> Outcome:
    batch = int(task.batchSize)
    if batch < 1:
        raise InputError(f"batchSize must be at least 1 (got {batch})")
    which = ExecutionFilter(
        end=_end(task.endDate),
        start=_date(task.startDate, "startDate"),
        namespace=task.namespace,
        flow_id=task.flowId,
        states=None if task.states is None else tuple(s.value for s in task.states),
    )
    counts = ctx.instance.purge_executions(
        which,
        executions=flag(task.purgeExecution),
        logs=flag(task.purgeLog),
        storage=flag(task.purgeStorage),
        batch_size=batch,
    )
    ctx.log(
        "INFO",
        f"Purged {counts.executions} execution(s), {counts.logs} log line(s),"
        f" {counts.storage} file(s)",
    )
    return Outcome(
        outputs={
            "executionsCount": counts.executions,
            "logsCount": counts.logs,
            "storagesCount": counts.storage,
            "metricsCount": 0,
        }
    )


class PurgeLogs(_Purge):
    """Delete log lines."""

    executionId: Text | None = Field(None, description="Only the logs of this execution.")
    logLevels: list[LogLevel] | None = Field(
        None, description="Only the lines at these levels; by default every level."
    )


def run_purge_logs(task: PurgeLogs, ctx: TaskContext) -> Outcome:
    levels = None
    if task.logLevels is not None:
        bad = [level for level in task.logLevels if level not in LEVELS]
        if bad:
            raise InputError(f"logLevels: not log levels: {', '.join(bad)}")
        levels = tuple(task.logLevels)
    which = ExecutionFilter(
        end=_end(task.endDate),
        start=_date(task.startDate, "startDate"),
        namespace=task.namespace,
        flow_id=task.flowId,
        execution_id=task.executionId,
        levels=levels,
    )
    count = ctx.instance.purge_logs(which)
    ctx.log("INFO", f"Purged {count} log line(s)")
    return Outcome(outputs={"count": count})


TASK_TYPES: list[TaskType] = [
    TaskType(
        "io.kestra.plugin.core.execution.PurgeExecutions",
        PurgeExecutions,
        run=run_purge_executions,
    ),
    TaskType("io.kestra.plugin.core.log.PurgeLogs", PurgeLogs, run=run_purge_logs),
]
