"""`io.kestra.plugin.core.storage.LocalFiles` (deprecated in Kestra, still in published
flows): write `inputs` into the task's working directory and store the files that
match `outputs` (docs/tasks-workdir.md).

Inside a WorkingDirectory the directory is the one its tasks share, which is what
the task is for; alone, it is the task's own directory, removed when it ends.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lanner.model.common import Text
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.scripts.files import input_files_map, store_output_files, write_input_files


class LocalFiles(Task):
    """Deprecated: create files in the working directory, or store files from it."""

    inputs: dict[str, Text] | Text | None = Field(
        None,
        description="Files to write: a map of file name to content (inline text or a"
        " kestra:// URI), or a JSON string of one.",
    )
    outputs: list[Text] | None = Field(
        None, description="Globs of working-directory files to store (output `uris`)."
    )


def run_local_files(task: LocalFiles, ctx: TaskContext) -> Outcome:
    working_dir = ctx.working_directory()
    write_input_files(input_files_map(task.inputs), working_dir, ctx)
    outputs: dict[str, Any] = {}
    if task.outputs:
        stored = store_output_files(list(task.outputs), working_dir, ctx)
        # `uris` is Kestra's output; its documentation's examples read `outputFiles`.
        outputs = {"uris": stored, "outputFiles": stored}
    return Outcome(State.SUCCESS, outputs)


TASK_TYPE = TaskType(
    "io.kestra.plugin.core.storage.LocalFiles",
    LocalFiles,
    ("io.kestra.core.tasks.storages.LocalFiles",),
    run=lambda task, ctx: run_local_files(task, ctx),
)
