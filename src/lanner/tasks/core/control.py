"""Execution-control task types (SPEC §5.10, §5.11): Pause and Subflow.

Neither runs on a worker. The planner pauses and resumes a Pause task run
itself (``lanner.engine.pause``); for a Subflow it asks the runtime to create
the child execution and waits for its end (``lanner.engine.subflow``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from lanner.model.behaviour import Action, Behaviour, TaskKind
from lanner.model.common import DurationLike, DynamicInt, Text
from lanner.model.inputs import Input
from lanner.model.task import Task, TaskList
from lanner.model.unsupported import unsupported
from lanner.plugin import TaskType


class Pause(Task):
    """Pause the execution until it is resumed, or for a duration."""

    # Paused by the executor; once resumed, its (deprecated) `tasks` run in order.
    behaviour: ClassVar[Behaviour] = Behaviour(
        TaskKind.FLOWABLE, ("tasks",), errors="errors", finally_="finally_", action=Action.PAUSE
    )

    pauseDuration: DurationLike | None = Field(
        None, description="Resume on its own after this duration (old name: `delay`)."
    )
    behavior: Literal["RESUME", "WARN", "FAIL", "CANCEL"] = Field(
        "RESUME", description="What happens when pauseDuration elapses."
    )
    onResume: tuple[Input, ...] | None = Field(
        None, description="Inputs asked for at resume; their values become outputs.onResume."
    )
    tasks: TaskList | None = Field(None, description="Deprecated: tasks run after the resume.")
    errors: TaskList | None = Field(None, description="Tasks run when a child task fails.")
    finally_: TaskList | None = Field(
        None, alias="finally", description="Tasks always run at the end of this task."
    )

    @model_validator(mode="before")
    @classmethod
    def _old_name(cls, data: Any) -> Any:
        # `delay` is the pre-0.19 name of `pauseDuration`; accept one of them.
        if isinstance(data, dict) and "delay" in data:
            if "pauseDuration" in data:
                raise ValueError("give pauseDuration or its old name delay, not both")
            data = {("pauseDuration" if k == "delay" else k): v for k, v in data.items()}
        return data


class Subflow(Task):
    """Start an execution of another flow, and by default wait for its end."""

    behaviour: ClassVar[Behaviour] = Behaviour(TaskKind.EXECUTION, action=Action.SUBFLOW)

    namespace: Text = Field(description="The namespace of the flow to start.")
    flowId: Text = Field(description="The id of the flow to start.")
    revision: DynamicInt | None = Field(None, description="A revision; the latest when absent.")
    inputs: dict[str, Any] | None = Field(None, description="Inputs of the child, rendered.")
    labels: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None, description="Labels of the child: a map or a list of {key, value}."
    )
    wait: bool = Field(True, description="Wait for the child to end (afterExecution included).")
    transmitFailed: bool = Field(
        True, description="A FAILED, KILLED or WARNING child gives this task its state."
    )
    inheritLabels: bool = Field(False, description="The child gets this execution's labels.")
    scheduleDate: Text | None = Field(
        None,
        description="When the child starts: an ISO-8601 date-time with a time zone"
        " (the child stays CREATED until then); at once when absent or past.",
    )
    restartBehavior: Literal["RETRY_FAILED", "NEW_EXECUTION"] = Field(
        "RETRY_FAILED",
        description="What a restart of this execution does with a failed Subflow:"
        " RETRY_FAILED restarts the child execution it started (when that child ended"
        " FAILED or KILLED), NEW_EXECUTION starts a new child.",
    )
    outputs: dict[str, Any] | None = Field(
        None, description="Deprecated; not supported: use the child flow's outputs."
    )

    _subflow_not_supported = unsupported("outputs")

    def problems_in_flow(self, namespace: str, flow_id: str) -> list[tuple[str, str]]:
        # Kestra's FlowValidator: a literal self-reference is an endless recursion. An
        # expression is not judged (it may name another flow once rendered).
        if self.namespace == namespace and self.flowId == flow_id:
            return [("flowId", f"Recursive call to flow [{namespace}.{flow_id}]")]
        return []


_PREFIX = "io.kestra.plugin.core.flow."
_LEGACY = "io.kestra.core.tasks.flows."

TASK_TYPES = [
    TaskType(_PREFIX + "Pause", Pause, (_LEGACY + "Pause",)),
    TaskType(_PREFIX + "Subflow", Subflow, (_LEGACY + "Subflow", _LEGACY + "Flow")),
]
