"""Kestra's script tasks: `io.kestra.plugin.scripts.{python,shell,node}.{Script,Commands}`
(docs/tasks-scripts.md)."""

from __future__ import annotations

from lanner.plugin import TaskType
from lanner.tasks.scripts.model import (
    NodeCommands,
    NodeScript,
    PythonCommands,
    PythonScript,
    ShellCommands,
    ShellScript,
)
from lanner.tasks.scripts.run import run_script

_PREFIX = "io.kestra.plugin.scripts"


def task_types() -> list[TaskType]:
    return [
        TaskType(f"{_PREFIX}.python.Script", PythonScript, run=run_script),
        TaskType(f"{_PREFIX}.python.Commands", PythonCommands, run=run_script),
        TaskType(f"{_PREFIX}.shell.Script", ShellScript, run=run_script),
        TaskType(f"{_PREFIX}.shell.Commands", ShellCommands, run=run_script),
        TaskType(f"{_PREFIX}.node.Script", NodeScript, run=run_script),
        TaskType(f"{_PREFIX}.node.Commands", NodeCommands, run=run_script),
    ]
