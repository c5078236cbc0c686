"""Helpers for the planner tests: short task type names, a registry that can
never reach the network, `run()` over `lanner.testing.simulate`, and a
`Driver` that steps the real planner by hand (for kill, timeouts and
duplicated events, where the test decides when results arrive)."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from lanner.engine.events import (
    Cancel,
    Command,
    Decision,
    Dispatch,
    Event,
    LogLine,
    TaskResult,
    Timer,
)
from lanner.engine.execution import Execution, History, TaskRun, new_execution_id
from lanner.engine.flowindex import FlowIndex
from lanner.engine.planner import PlanContext, Planner
from lanner.expr import ExpressionEngine
from lanner.model.flow import Flow
from lanner.model.states import State
from lanner.model.validate import load_flow
from lanner.plugin import Outcome, TaskContext, TaskRegistry, TaskType
from lanner.tasks.core import task_types
from lanner.testing import Forced, SimulatedRun, simulate

T0 = datetime(2026, 1, 1, tzinfo=UTC)
C = TypeVar("C")

SLACK = "io.kestra.plugin.slack.notifications.SlackIncomingWebhook"

SHORT = {
    "Log": "io.kestra.plugin.core.log.Log",
    "Fail": "io.kestra.plugin.core.execution.Fail",
    "Exit": "io.kestra.plugin.core.execution.Exit",
    "Labels": "io.kestra.plugin.core.execution.Labels",
    "SetVariables": "io.kestra.plugin.core.execution.SetVariables",
    "UnsetVariables": "io.kestra.plugin.core.execution.UnsetVariables",
    "Return": "io.kestra.plugin.core.debug.Return",
    "Sleep": "io.kestra.plugin.core.flow.Sleep",
    "Sequential": "io.kestra.plugin.core.flow.Sequential",
    "Parallel": "io.kestra.plugin.core.flow.Parallel",
    "AllowFailure": "io.kestra.plugin.core.flow.AllowFailure",
    "If": "io.kestra.plugin.core.flow.If",
    "Switch": "io.kestra.plugin.core.flow.Switch",
    "ForEach": "io.kestra.plugin.core.flow.ForEach",
    "EachSequential": "io.kestra.plugin.core.flow.EachSequential",
    "EachParallel": "io.kestra.plugin.core.flow.EachParallel",
    "Pause": "io.kestra.plugin.core.flow.Pause",
    "Subflow": "io.kestra.plugin.core.flow.Subflow",
    "Slack": SLACK,
}

_TYPE_LINE = re.compile(r"^(\s*(?:-\s+)?type:\s*)(\w+)\s*$", re.MULTILINE)


def flow_yaml(body: str, flow_id: str = "t") -> str:
    """Dedent `body`, expand short type names and add an id and namespace if missing."""
    text = textwrap.dedent(body).strip("\n") + "\n"
    text = _TYPE_LINE.sub(lambda m: m.group(1) + SHORT.get(m.group(2), m.group(2)), text)
    if not re.search(r"^id:", text, re.MULTILINE):
        text = f"id: {flow_id}\nnamespace: tests\n" + text
    return text


def _no_network(task: Any, ctx: TaskContext) -> Outcome:
    raise AssertionError(f"Slack task {task.id} reached the network: force its outcome")


@cache
def registry() -> TaskRegistry:
    """The built-in task types, with Slack replaced by a stub that refuses to run."""
    types: list[TaskType] = []
    for t in task_types():
        if t.name == SLACK:
            t = TaskType(t.name, t.model, t.aliases, _no_network)
        types.append(t)
    return TaskRegistry(types)


def load(body: str) -> Flow:
    return load_flow(flow_yaml(body), registry())


def run(
    body: str | Flow,
    *,
    forced: dict[str, Forced] | None = None,
    **kwargs: Any,
) -> SimulatedRun:
    """Simulate a flow written with short type names."""
    flow = body if isinstance(body, Flow) else load(body)
    return simulate(flow, registry(), forced=forced, **kwargs)


def ok(**outputs: Any) -> Outcome:
    return Outcome(State.SUCCESS, outputs=outputs)


def failed(message: str = "boom") -> Outcome:
    return Outcome(State.FAILED, error=message)


def sequence(*outcomes: Outcome) -> Forced:
    """A forced outcome per attempt: the n-th dispatch of the task gets the n-th outcome."""

    def pick(d: Dispatch) -> Outcome:
        return outcomes[min(d.attempt, len(outcomes)) - 1]

    return pick


def run_of(execution: Execution, task_id: str, value: str | None = None) -> TaskRun:
    found = [
        r
        for r in execution.ordered_task_runs()
        if r.task_id == task_id and (value is None or r.value == value)
    ]
    assert len(found) == 1, f"{len(found)} task runs for {task_id}"
    return found[0]


def runs_of(execution: Execution, task_id: str) -> list[TaskRun]:
    return [r for r in execution.ordered_task_runs() if r.task_id == task_id]


def order(sim: SimulatedRun) -> list[str]:
    return [task_id for task_id, _ in sim.states()]


def state_of(sim: SimulatedRun, task_id: str) -> str:
    return run_of(sim.execution, task_id).state.value


def history(execution: Execution) -> list[str]:
    return [h.state.value for h in execution.histories]


@dataclass
class Driver:
    """Steps the planner by hand: the test delivers every event itself."""

    flow: Flow
    now: datetime = T0
    execution: Execution = field(init=False)
    commands: list[Command] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    slots_taken: int | None = None  # PlanContext.slots_taken

    def __post_init__(self) -> None:
        self.planner = Planner(FlowIndex(self.flow), ExpressionEngine())
        self.execution = Execution(
            id=new_execution_id(f"{self.flow.namespace}.{self.flow.id}"),
            namespace=self.flow.namespace,
            flow_id=self.flow.id,
            flow_revision=1,
            state=State.CREATED,
            histories=(History(State.CREATED, self.now),),
            labels=dict(self.flow.labels or {}),
            variables=dict(self.flow.variables or {}),
        )

    @classmethod
    def of(cls, body: str) -> Driver:
        return cls(load(body))

    def plan(self, *events: Event, advance: timedelta = timedelta(milliseconds=1)) -> Decision:
        context = PlanContext(now=self.now, slots_taken=self.slots_taken)
        decision = self.planner.plan(self.execution, events, context)
        self.execution = decision.execution
        self.commands.extend(decision.commands)
        self.decisions.append(decision)
        self.now += advance
        return decision

    def run(self, task_id: str, value: str | None = None) -> TaskRun:
        return run_of(self.execution, task_id, value)

    def result(
        self,
        task_id: str,
        state: State = State.SUCCESS,
        *,
        error: str | None = None,
        **outputs: Any,
    ) -> TaskResult:
        """The result of the current attempt of `task_id`."""
        r = self.run(task_id)
        return TaskResult(r.id, len(r.attempts), state, outputs, error)

    def result_of(self, run: TaskRun, state: State = State.SUCCESS) -> TaskResult:
        return TaskResult(run.id, len(run.attempts), state)

    def dispatched(self) -> list[str]:
        return [c.task_id for c in self.commands if isinstance(c, Dispatch)]

    def dispatch_of(self, task_id: str) -> Dispatch:
        found = [c for c in self.commands if isinstance(c, Dispatch) and c.task_id == task_id]
        assert found, f"{task_id} was never dispatched"
        return found[-1]

    def cancelled(self) -> list[str]:
        ids = {c.task_run_id for c in self.commands if isinstance(c, Cancel)}
        return sorted(r.task_id for r in self.execution.task_runs.values() if r.id in ids)

    def timers(self) -> list[Timer]:
        return [c for c in self.commands if isinstance(c, Timer)]

    def logs(self) -> list[LogLine]:
        return [c for c in self.commands if isinstance(c, LogLine)]

    def of_type(self, kind: type[C]) -> list[C]:
        return [c for c in self.commands if isinstance(c, kind)]

    def states(self) -> list[tuple[str, str]]:
        return [(r.task_id, r.state.value) for r in self.execution.ordered_task_runs()]
