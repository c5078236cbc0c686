"""The executor: consume an execution's events through the planner and
commit everything the cycle decided in one transaction (DESIGN.md).

Executions stay in memory between cycles; the store hands the cached one
back when its version is still current, so a cycle costs what changed,
not the size of the execution.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from lanner.config import Config, env_variables
from lanner.engine.events import Cancel, Decision, Dispatch, LogLine, Timer
from lanner.engine.flowindex import FlowIndex
from lanner.engine.model import Execution
from lanner.engine.planner import PlanContext, Planner
from lanner.errors import NotFoundError, StoreError
from lanner.expr import ExpressionEngine, SecretMasker, env_secrets
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime import eventcodec
from lanner.store.base import CycleWrite, LogRecord, NewEvent, NewJob, Store

CommitListener = Callable[[Execution, Decision], None]


@dataclass
class _FlowEntry:
    planner: Planner


class Executor:
    def __init__(
        self,
        store: Store,
        registry: TaskRegistry,
        config: Config,
        masker: SecretMasker,
        *,
        engine: ExpressionEngine | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.config = config
        self.masker = masker
        self.engine = engine or ExpressionEngine()
        self.secrets = env_secrets(dict(os.environ))
        self.envs = env_variables(config.envPrefix)
        self._flows: dict[tuple[str, str, int], _FlowEntry] = {}
        self._executions: dict[str, Execution] = {}
        self.listeners: list[CommitListener] = []
        self.on_dispatch: Callable[[int], None] = lambda count: None  # wakes local workers

    def planner_for(self, namespace: str, flow_id: str, revision: int) -> Planner:
        key = (namespace, flow_id, revision)
        entry = self._flows.get(key)
        if entry is None:
            record = self.store.get_flow(namespace, flow_id, revision)
            if record is None:
                raise NotFoundError(f"flow {namespace}.{flow_id} revision {revision} not found")
            flow = load_flow(record.source, self.registry, defaults=self.config.pluginDefaults)
            entry = _FlowEntry(Planner(FlowIndex(flow), self.engine))
            self._flows[key] = entry
        return entry.planner

    def run_once(self) -> bool:
        """One cycle for one execution with due events; False when there was nothing to do."""
        now = datetime.now(UTC)
        if not self.store.has_due_events(now):
            return False  # checked without taking the write lock
        with self.store.executor_tx() as tx:
            execution_id = tx.next_execution(now)
            if execution_id is None:
                return False
            rows = tx.events(execution_id, now)
            execution = tx.load(execution_id, self._executions.get(execution_id))
            if execution is None:
                raise StoreError(
                    f"events are pending for execution {execution_id}, which is not stored"
                )
            for key in execution.secret_inputs:
                value = execution.inputs.get(key)
                if isinstance(value, str):
                    self.masker.add(value)
            planner = self.planner_for(
                execution.namespace, execution.flow_id, execution.flow_revision
            )
            context = PlanContext(
                now=now,
                seed=rows[0].id if rows else 0,
                secrets=self.secrets,
                on_secret=self.masker.add,
                error_logs=lambda: self._error_logs(execution_id),
                envs=self.envs,
            )
            decision = planner.plan(execution, [eventcodec.decode(r) for r in rows], context)
            new = replace(decision.execution, version=execution.version + 1)
            tx.write(self._cycle(new, execution.version, decision, [r.id for r in rows], now))
        if new.finalized_at is not None:
            self._executions.pop(execution_id, None)
        else:
            self._executions[execution_id] = new
        dispatched = sum(1 for c in decision.commands if isinstance(c, Dispatch))
        if dispatched:
            self.on_dispatch(dispatched)
        for listener in self.listeners:
            listener(new, decision)
        return True

    def _error_logs(self, execution_id: str) -> list[Mapping[str, Any]]:
        return [
            {"taskId": r.task_id, "message": r.message, "timestamp": r.timestamp.isoformat()}
            for r in self.store.iter_error_logs(execution_id)
        ]

    def _cycle(
        self, new: Execution, expected: int, decision: Decision, consumed: list[int], now: datetime
    ) -> CycleWrite:
        jobs: list[NewJob] = []
        cancels: list[str] = []
        events: list[NewEvent] = []
        logs: list[LogRecord] = []
        for command in decision.commands:
            if isinstance(command, Dispatch):
                payload = {
                    "taskId": command.task_id,
                    "type": command.type,
                    "properties": dict(command.properties),
                    "timeout": command.timeout,
                }
                jobs.append(NewJob(command.task_run_id, new.id, command.attempt, payload, now))
            elif isinstance(command, Cancel):
                cancels.append(command.task_run_id)
            elif isinstance(command, Timer):
                key = eventcodec.timer_key(new.id, command.event)
                events.append(eventcodec.encode(new.id, command.event, command.at, key))
            elif isinstance(command, LogLine):
                logs.append(
                    LogRecord(
                        new.id,
                        command.task_id,
                        command.task_run_id,
                        command.attempt,
                        now,
                        command.level,
                        self.masker.mask(command.message),
                    )
                )
        runs = [new.task_runs[i] for i in sorted(decision.changed) if i in new.task_runs]
        return CycleWrite(
            execution=new,
            expected_version=expected,
            upsert_task_runs=runs,
            new_jobs=jobs,
            cancel_jobs=cancels,
            new_events=events,
            consumed_events=consumed,
            logs=logs,
        )
