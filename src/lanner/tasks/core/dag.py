"""`io.kestra.plugin.core.flow.Dag` (docs/flowables.md): tasks ordered by `dependsOn`.

Each entry of `tasks` wraps a task (`task`) and names the entries it waits
for (`dependsOn`); the engine starts an entry once every entry it depends on
ended well, at most `concurrent` at once. Validation (model/validate.py,
through the `DagSpec` declaration) rejects an unknown id and a cycle, each at
its place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import ClassVar

from pydantic import Field

from lanner.model.behaviour import Behaviour, DagSpec, Order
from lanner.model.common import DynamicInt, Model
from lanner.model.task import Task
from lanner.plugin import TaskType
from lanner.tasks.core.flow import _SEQUENCE, _Flowable


class DagTask(Model):
    """One entry of a Dag: a task and the ids of the entries it waits for."""

    task: Task = Field(description="The task to run.")
    dependsOn: list[str] | None = Field(
        None, description="Ids of the tasks of this Dag that must end successfully first."
    )


class Dag(_Flowable):
    """Run tasks in the order their dependencies give, in parallel where they allow."""

    behaviour: ClassVar[Behaviour] = replace(
        _SEQUENCE, order=Order.DAG, dag=DagSpec(), limit_property="concurrent"
    )

    tasks: tuple[DagTask, ...] = Field(min_length=1, description="The tasks and their edges.")
    concurrent: DynamicInt = Field(0, description="How many tasks run at once; 0 means all.")

    def children(self) -> Iterator[tuple[str, Task]]:
        # The entries wrap the tasks: the flow's index and its walks see the tasks.
        for name, child in super().children():
            yield name, getattr(child, "task", child)


TASK_TYPES = [
    TaskType("io.kestra.plugin.core.flow.Dag", Dag, ("io.kestra.core.tasks.flows.Dag",)),
]
