"""Run a flow through the planner in memory, on a virtual clock.

For planner unit tests and for users testing their own flows: the real
planner and the real task types, without a store, threads or waiting —
timers (retries, timeouts) fire by advancing the virtual clock. Outcomes of
chosen tasks can be forced to exercise failure paths.
"""

from __future__ import annotations

import heapq
import itertools
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lanner.engine.events import Cancel, Dispatch, Event, Kill, LogLine, Start, TaskResult, Timer
from lanner.engine.execution import Execution, History, new_execution_id
from lanner.engine.flowindex import FlowIndex
from lanner.engine.inputrender import input_renderer
from lanner.engine.planner import PlanContext, Planner
from lanner.engine.variables import error_log
from lanner.errors import LannerError
from lanner.expr import ExpressionEngine
from lanner.model import loglevel
from lanner.model.flow import Flow
from lanner.model.inputs import parse_inputs, secret_input_ids
from lanner.model.states import State
from lanner.model.validate import load_flow
from lanner.plugin import ExecutionView, InstanceAccess, KVAccess, Outcome, TaskRegistry
from lanner.runtime.newexecution import CORRELATION_ID
from lanner.storage import LocalStorage, Storage
from lanner.storage.attempt import AttemptFiles
from lanner.storage.inputfiles import InputFiles
from lanner.storage.reader import ExecutionFiles
from lanner.storage.taskfiles import TaskFiles

Forced = Outcome | Callable[[Dispatch], Outcome]


@dataclass
class SimulatedRun:
    execution: Execution
    logs: list[LogLine] = field(default_factory=list)
    dispatched: list[Dispatch] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    def states(self) -> list[tuple[str, str]]:
        """(task id, state) of every task run, in creation order."""
        return [(r.task_id, r.state.value) for r in self.execution.ordered_task_runs()]

    def messages(self, task_id: str | None = None) -> list[str]:
        return [line.message for line in self.logs if task_id is None or line.task_id == task_id]


class _Context(AttemptFiles):
    """The TaskContext of a simulated attempt: properties arrive rendered."""

    def __init__(
        self,
        dispatch: Dispatch,
        execution: Execution,
        logs: list[LogLine],
        storage: Storage,
        registry: TaskRegistry | None = None,
    ) -> None:
        self.execution_id = execution.id
        self.task_run_id = dispatch.task_run_id
        self.attempt = dispatch.attempt
        self.idempotency_key = dispatch.idempotency_key
        self.namespace = execution.namespace
        self.flow_id = execution.flow_id
        self.task_id = dispatch.task_id
        self._dispatch = dispatch
        self._execution = execution
        self._logs = logs
        self._registry = registry
        self._working_dir: Path | None = None
        self._task_files = TaskFiles(
            storage,
            execution.namespace,
            execution.flow_id,
            execution.id,
            dispatch.task_id,
            dispatch.task_run_id,
            execution.original_id,
        )

    def _files(self) -> TaskFiles:
        return self._task_files

    def render(self, value: Any) -> Any:
        return value

    def log(self, level: str, message: str) -> None:
        d = self._dispatch
        if not loglevel.kept(level, d.log_level):
            return
        self._logs.append(LogLine(level, message, d.task_run_id, d.task_id, d.attempt))

    @property
    def cancelled(self) -> bool:
        return False

    def wait(self, seconds: float) -> bool:
        return True  # virtual time: sleeping costs nothing

    @property
    def server_url(self) -> str | None:
        return None

    def read_execution(self, execution_id: str) -> ExecutionView | None:
        # The simulator knows its own execution only (as it stood when the task started).
        if execution_id != self._execution.id:
            return None
        from lanner.runtime.executionview import view_of

        return view_of(self._execution)

    @property
    def kv(self) -> KVAccess:
        # The simulator has no store; kv() in an expression fails the same way.
        raise LannerError("the KV store is not available in the simulator (lanner.testing)")

    @property
    def instance(self) -> InstanceAccess:
        raise LannerError("the store is not available in the simulator (lanner.testing)")

    def run_task(self, definition: Mapping[str, Any]) -> Outcome:
        if self._registry is None:
            raise LannerError("no task registry is available to this task")
        task_type, task = self._registry.runnable({"id": self.task_id, **definition})
        assert task_type.run is not None  # runnable() checked it
        return task_type.run(task, self)

    def execution_context(self) -> Mapping[str, Any]:
        raise LannerError("executionContext is not available in the simulator (lanner.testing)")


def simulate(
    flow: Flow | str,
    registry: TaskRegistry | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    forced: Mapping[str, Forced] | None = None,
    kill_when: Callable[[Execution], bool] | None = None,
    start: datetime | None = None,
    max_events: int = 100_000,
    storage: Storage | None = None,
) -> SimulatedRun:
    """Run `flow` to its end (afterExecution included) and return what happened.

    Files the tasks store go to `storage`, by default a folder under the system's
    temporary directory."""
    if storage is None:
        storage = LocalStorage(Path(tempfile.gettempdir()) / "lanner-simulate")
    registry = registry or TaskRegistry.from_entry_points()
    if isinstance(flow, str):
        flow = load_flow(flow, registry)
    planner = Planner(FlowIndex(flow), ExpressionEngine())
    now = start or datetime(2026, 1, 1, tzinfo=UTC)
    declared = flow.inputs or ()
    execution_id = new_execution_id(f"{flow.namespace}.{flow.id}")
    files = ExecutionFiles(storage, flow.namespace, flow.id)
    execution = Execution(
        id=execution_id,
        namespace=flow.namespace,
        flow_id=flow.id,
        flow_revision=flow.revision or 1,
        state=State.CREATED,
        histories=(History(State.CREATED, now),),
        inputs=parse_inputs(
            declared,
            inputs or {},
            from_strings=False,
            render=input_renderer(flow.namespace, flow.id, flow.revision, now),
            files=InputFiles(storage, flow.namespace, flow.id, execution_id),
        ),
        # As every real execution (runtime/newexecution.py): its own correlation.
        labels={**dict(flow.labels or {}), CORRELATION_ID: execution_id},
        variables=dict(flow.variables or {}),
        secret_inputs=frozenset(secret_input_ids(declared)),
    )
    result = SimulatedRun(execution)
    forced = forced or {}
    pending: list[Event] = [Start()]
    timers: list[tuple[datetime, int, Event]] = []
    counter = itertools.count()
    killed = False
    for _ in range(max_events):
        if not pending:
            if execution.finalized_at is not None or not timers:
                break
            at, _, event = heapq.heappop(timers)
            now = max(now, at)
            pending.append(event)
        events, pending = pending, []
        # errorLogs(): the ERROR lines written so far, as the executor reads them.
        errors = [
            error_log(execution, log.task_id, log.task_run_id, log.attempt, now, log.message)
            for log in result.logs
            if log.level == "ERROR"
        ]
        decision = planner.plan(
            execution, events, PlanContext(now=now, error_logs=errors, files=files)
        )
        execution = decision.execution
        for command in decision.commands:
            if isinstance(command, LogLine):
                result.logs.append(command)
            elif isinstance(command, Timer):
                heapq.heappush(timers, (command.at, next(counter), command.event))
            elif isinstance(command, Cancel):
                result.cancelled.append(command.task_run_id)
            elif isinstance(command, Dispatch):
                result.dispatched.append(command)
                pending.append(_run(command, registry, forced, execution, result.logs, storage))
        if kill_when is not None and not killed and kill_when(execution):
            killed = True
            pending.append(Kill())
        now += timedelta(milliseconds=1)
    result.execution = execution
    return result


def _run(
    dispatch: Dispatch,
    registry: TaskRegistry,
    forced: Mapping[str, Forced],
    execution: Execution,
    logs: list[LogLine],
    storage: Storage,
) -> TaskResult:
    override = forced.get(dispatch.task_id)
    if override is not None:
        outcome = override(dispatch) if callable(override) else override
    else:
        task_type = registry.get(dispatch.type)
        assert task_type is not None and task_type.run is not None
        task = task_type.model.model_validate(
            {"id": dispatch.task_id, "type": dispatch.type, **dispatch.properties}
        )
        ctx = _Context(dispatch, execution, logs, storage, registry)
        try:
            outcome = task_type.run(task, ctx)
        except Exception as exc:
            outcome = Outcome(State.FAILED, error=str(exc))
        finally:
            ctx.close()
    return TaskResult(
        dispatch.task_run_id,
        dispatch.attempt,
        outcome.state,
        dict(outcome.outputs),
        outcome.error,
        outcome.error_type,
    )
