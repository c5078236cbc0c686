"""A third-party flowable task type, as a separate distribution would ship it:
`com.example.Fanout` runs its `branches` at once, at most `width` of them,
and ends WARNING rather than FAILED; its own handler list is `onError`. The
engine knows nothing of it but its declared behaviour."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from lanner.model.behaviour import Behaviour, Order, StateRule, TaskKind
from lanner.model.common import DynamicInt
from lanner.model.task import Task, TaskList
from lanner.plugin import TaskType


class Fanout(Task):
    """Run branches at the same time; a failure ends this task in WARNING."""

    behaviour: ClassVar[Behaviour] = Behaviour(
        TaskKind.FLOWABLE,
        ("branches",),
        errors="onError",
        order=Order.PARALLEL,
        limit_property="width",
        state_rule=StateRule.FAILED_IS_WARNING,
    )

    branches: TaskList = Field(min_length=1, description="The tasks to run.")
    width: DynamicInt = Field(0, description="How many branches run at once; 0 means all.")
    onError: TaskList | None = Field(None, description="Tasks run when a branch fails.")


def task_types() -> list[TaskType]:
    return [TaskType("com.example.Fanout", Fanout)]
