"""Kestra's script tasks: `io.kestra.plugin.scripts.{python,shell,node}.{Script,Commands}`
(docs/tasks-scripts.md)."""

from __future__ import annotations

from typing import Any

from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.scripts.model import (
    NodeCommands,
    NodeScript,
    PythonCommands,
    PythonScript,
    ShellCommands,
    ShellScript,
)

_PREFIX = "io.kestra.plugin.scripts"


def run_script(task: Any, ctx: TaskContext) -> Outcome:
    # Imported on first use, on a worker thread: the process, venv and file modules
    # stay off the start-up of every `lanner run` (flows without scripts never load them).
    from lanner.tasks.scripts.run import run_script as run

    return run(task, ctx)


def task_types() -> list[TaskType]:
    return [
        TaskType(f"{_PREFIX}.python.Script", PythonScript, run=run_script),
        TaskType(f"{_PREFIX}.python.Commands", PythonCommands, run=run_script),
        TaskType(f"{_PREFIX}.shell.Script", ShellScript, run=run_script),
        TaskType(f"{_PREFIX}.shell.Commands", ShellCommands, run=run_script),
        TaskType(f"{_PREFIX}.node.Script", NodeScript, run=run_script),
        TaskType(f"{_PREFIX}.node.Commands", NodeCommands, run=run_script),
    ]
