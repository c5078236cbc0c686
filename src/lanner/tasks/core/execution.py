"""Execution-updating task types (SPEC §5.3, §5.15): run inline by the
executor, because what they change is the execution itself."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from lanner.model.task import Task, TaskKind
from lanner.plugin import TaskType


class _ExecutionTask(Task):
    kind: ClassVar[TaskKind] = TaskKind.EXECUTION


class Exit(_ExecutionTask):
    """End the execution at once with the given state."""

    state: Literal["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "CANCELED"] = Field(
        "SUCCESS", description="The state the execution ends with."
    )


class Labels(_ExecutionTask):
    """Add or replace labels of the execution."""

    labels: dict[str, Any] | list[dict[str, Any]] | str = Field(
        description="A map, a list of {key, value}, or a JSON object as a string."
    )


class SetVariables(_ExecutionTask):
    """Set execution variables (`vars.*`)."""

    variables: dict[str, Any] = Field(description="The variables to set.")
    overwrite: bool = Field(True, description="Replace variables that already exist.")


class UnsetVariables(_ExecutionTask):
    """Remove execution variables (`vars.*`)."""

    variables: list[str] = Field(description="Names of the variables to remove.")
    ignoreMissing: bool = Field(False, description="Do not fail when a variable is missing.")


_PREFIX = "io.kestra.plugin.core.execution."

TASK_TYPES = [
    TaskType(_PREFIX + "Exit", Exit),
    TaskType(_PREFIX + "Labels", Labels, ("io.kestra.core.tasks.executions.Labels",)),
    TaskType(_PREFIX + "SetVariables", SetVariables),
    TaskType(_PREFIX + "UnsetVariables", UnsetVariables),
]
