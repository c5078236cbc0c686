"""`io.kestra.plugin.core.flow.WorkingDirectory`: tasks run one after the other as
one job, on one worker, in one working directory (docs/tasks-workdir.md); its own
`errors` and `finally` run in that job too, in the same directory.

The class only declares the task (`Behaviour.one_job`) and checks its children
at load; the worker runs the job (runtime/jobchildren.py, its `cache` in
runtime/workdircache.py) and the planner records each child's task run
(engine/onejob.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from lanner.model.behaviour import Behaviour, TaskKind
from lanner.model.common import Model, StaticDuration, Text
from lanner.model.states import State
from lanner.model.task import Task, TaskList
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.scripts.model import NamespaceFiles


class Cache(Model):
    """`cache`: the files matching `patterns` are kept after a successful run and put
    back in the directory at the start of the next run, until `ttl` has passed."""

    patterns: list[Text] = Field(
        min_length=1,
        description="Globs of the files to keep, relative to the working directory"
        " (`**` crosses folders: `node_modules/**`).",
    )
    ttl: StaticDuration | None = Field(
        None, description="How long a cache is used after it was written; none: always."
    )

    @field_validator("patterns")
    @classmethod
    def _inside(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not pattern or pattern.startswith("/") or ".." in pattern.split("/"):
                raise ValueError(
                    f"'{pattern}' must be a glob inside the working directory (relative, no '..')"
                )
        return patterns


class WorkingDirectory(Task):
    """Run tasks one after the other in one shared working directory, as one job."""

    behaviour: ClassVar[Behaviour] = Behaviour(
        TaskKind.RUNNABLE, ("tasks",), errors="errors", finally_="finally_", one_job=True
    )

    tasks: TaskList = Field(
        min_length=1, description="The runnable tasks to run, in order, in the directory."
    )
    inputFiles: dict[str, Text] | Text | None = Field(
        None,
        description="Files written in the directory before the first task: a map of file"
        " name to content (inline text or a kestra:// URI), or a JSON string of one.",
    )
    outputFiles: list[Text] | None = Field(
        None, description="Globs of files stored once every task ran (output `outputFiles`)."
    )
    namespaceFiles: NamespaceFiles | None = None
    cache: Cache | None = None
    errors: TaskList | None = Field(
        None,
        description="Tasks run, in the directory, after a task failed; the state stays FAILED.",
    )
    finally_: TaskList | None = Field(
        None,
        alias="finally",
        description="Tasks always run, in the directory, after the tasks (and errors).",
    )

    @field_validator("tasks", "errors", "finally_")
    @classmethod
    def _children_run_in_the_job(cls, tasks: TaskList | None) -> TaskList | None:
        for child in tasks or ():
            if child.kind is not TaskKind.RUNNABLE or child.behaviour.one_job:
                raise ValueError(
                    f"task '{child.id}' ({child.type}) cannot run in a WorkingDirectory:"
                    " only runnable tasks run on the worker, in its directory"
                )
        return tasks


def _only_on_a_worker(task: Any, ctx: TaskContext) -> Outcome:
    # The worker runs a one_job task's children itself (runtime/jobchildren.py); a
    # runner that calls this (a simulator without workers) cannot.
    return Outcome(
        State.FAILED,
        error="a WorkingDirectory runs only on a Lanner worker, with its tasks",
        error_type="NotSupported",
    )


TASK_TYPES = [
    TaskType(
        "io.kestra.plugin.core.flow.WorkingDirectory",
        WorkingDirectory,
        ("io.kestra.core.tasks.flows.WorkingDirectory", "io.kestra.core.tasks.flows.Worker"),
        run=_only_on_a_worker,
    )
]
