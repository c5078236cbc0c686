"""`io.kestra.plugin.core.flow.Sleep`: wait for a duration (SPEC §5.4).

The wait honours cancellation (§0 decision 4): a killed or timed-out
attempt wakes at once and ends KILLED instead of sleeping on.
"""

from __future__ import annotations

from pydantic import Field

from lanner.model.common import DurationLike, format_duration, parse_duration
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.log import as_text


class Sleep(Task):
    """Wait for a duration before the flow goes on."""

    type: str
    duration: DurationLike = Field(
        description="How long to wait, as an ISO-8601 duration (PT5S, PT0.25S, PT1M)."
    )


def run_sleep(task: Sleep, ctx: TaskContext) -> Outcome:
    duration = parse_duration(as_text(ctx.render(task.duration)))
    # Kestra logs Java's Duration.toString() form, e.g. "Waiting for PT5S".
    ctx.log("INFO", f"Waiting for {format_duration(duration)}")
    if not ctx.wait(max(duration.total_seconds(), 0.0)):
        return Outcome(State.KILLED)
    return Outcome()


TASK_TYPES: list[TaskType] = [
    TaskType(name="io.kestra.plugin.core.flow.Sleep", model=Sleep, run=run_sleep),
]
