"""Execution-updating task types (SPEC §5.3, §5.15): run inline by the
executor, because what they change is the execution itself."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from lanner.model.behaviour import Action, Behaviour, TaskKind
from lanner.model.task import Task
from lanner.plugin import TaskType


def _inline(action: Action) -> Behaviour:
    return Behaviour(TaskKind.EXECUTION, action=action)


class Exit(Task):
    """End the execution at once with the given state."""

    behaviour: ClassVar[Behaviour] = _inline(Action.EXIT)

    state: Literal["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "CANCELED"] = Field(
        "SUCCESS", description="The state the execution ends with."
    )


class Labels(Task):
    """Add or replace labels of the execution."""

    behaviour: ClassVar[Behaviour] = _inline(Action.SET_LABELS)

    labels: dict[str, Any] | list[dict[str, Any]] | str = Field(
        description="A map, a list of {key, value}, or a JSON object as a string."
    )


class SetVariables(Task):
    """Set execution variables (`vars.*`)."""

    behaviour: ClassVar[Behaviour] = _inline(Action.SET_VARIABLES)

    variables: dict[str, Any] = Field(description="The variables to set.")
    overwrite: bool = Field(True, description="Replace variables that already exist.")


class UnsetVariables(Task):
    """Remove execution variables (`vars.*`)."""

    behaviour: ClassVar[Behaviour] = _inline(Action.UNSET_VARIABLES)

    variables: list[str] = Field(description="Names of the variables to remove.")
    ignoreMissing: bool = Field(False, description="Do not fail when a variable is missing.")


_PREFIX = "io.kestra.plugin.core.execution."

TASK_TYPES = [
    TaskType(_PREFIX + "Exit", Exit),
    TaskType(_PREFIX + "Labels", Labels, ("io.kestra.core.tasks.executions.Labels",)),
    TaskType(_PREFIX + "SetVariables", SetVariables),
    TaskType(_PREFIX + "UnsetVariables", UnsetVariables),
]
