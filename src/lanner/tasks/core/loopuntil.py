"""`io.kestra.plugin.core.flow.LoopUntil` and its alias `WaitFor` (docs/flowables.md).

A flowable: the executor runs `tasks` in order, renders `condition`, and while
it is false runs them again after `checkFrequency.interval` (a persisted timer),
bounded by `checkFrequency.maxIterations` and `checkFrequency.maxDuration`.
The engine reads these properties through the `Until` declaration.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from pydantic import Field

from lanner.model.behaviour import Behaviour, Order, Until
from lanner.model.common import DurationLike, DynamicBool, DynamicInt, Model, Text
from lanner.model.task import TaskList
from lanner.plugin import TaskType
from lanner.tasks.core.flow import _SEQUENCE, _Flowable


class CheckFrequency(Model):
    """How often the condition is checked, and for how long."""

    interval: DurationLike = Field(
        "PT1M", description="The wait between the end of an iteration and the next one."
    )
    maxIterations: DynamicInt | None = Field(
        None, description="At most this many iterations; none means no bound."
    )
    maxDuration: DurationLike | None = Field(
        None, description="No new iteration after this long since the task started."
    )


class LoopUntil(_Flowable):
    """Run tasks again and again until a condition is true."""

    behaviour: ClassVar[Behaviour] = replace(_SEQUENCE, order=Order.UNTIL, until=Until())

    tasks: TaskList = Field(min_length=1, description="The tasks of one iteration.")
    condition: Text = Field(description="Rendered after each iteration; truthy ends the loop.")
    checkFrequency: CheckFrequency = Field(
        default_factory=CheckFrequency, description="The interval and the bounds of the loop."
    )
    failOnMaxReached: DynamicBool = Field(
        False, description="Whether reaching maxIterations or maxDuration fails the task."
    )


_PREFIX = "io.kestra.plugin.core.flow."

TASK_TYPES = [
    TaskType(_PREFIX + "LoopUntil", LoopUntil, (_PREFIX + "WaitFor",)),
]
