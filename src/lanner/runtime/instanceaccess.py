"""The instance as the administration tasks reach it (``lanner.plugin.InstanceAccess``):
the ``instance`` member of a worker's TaskContext, over the worker's store and internal
storage, as ``kv`` is over the KV store (runtime/kvaccess.py).

PurgeExecutions, PurgeLogs, log.Fetch, Resume and trigger.Toggle run on a worker, as
Kestra's do, and act through this object only: the same store methods and actions the
CLI and the API use (a resume is the event `lanner executions resume` writes, a toggle
is `lanner triggers enable|disable`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lanner.errors import NotFoundError
from lanner.model.flow import PluginDefault
from lanner.model.states import State
from lanner.plugin import DeployedFlow, ExecutionFilter, PurgeCounts, TaskRegistry
from lanner.storage import Storage
from lanner.storage.uris import execution_prefix
from lanner.store.base import Store


class StoreInstance:
    """An `InstanceAccess` over a store and the internal storage beside it."""

    def __init__(
        self,
        store: Store,
        storage: Storage,
        registry: TaskRegistry | None = None,
        plugin_defaults: Sequence[PluginDefault] = (),
    ) -> None:
        """`registry` and `plugin_defaults`: what a flow a task deploys is validated with
        (SyncFlows), as `lanner flows deploy` validates."""
        self._store = store
        self._storage = storage
        self._registry = registry
        self._defaults = tuple(plugin_defaults)

    def execution_flow(self, execution_id: str) -> tuple[str, str]:
        execution = self._store.get_execution(execution_id)
        if execution is None:
            raise NotFoundError(f"execution {execution_id} not found")
        return execution.namespace, execution.flow_id

    def task_run_value(self, execution_id: str, task_run_id: str) -> str | None:
        execution = self._store.get_execution(execution_id)
        run = None if execution is None else execution.task_runs.get(task_run_id)
        if run is None:
            raise NotFoundError(f"task run {task_run_id} of execution {execution_id} not found")
        return run.value

    def logs(self, execution_id: str) -> list[dict[str, Any]]:
        namespace, flow_id = self.execution_flow(execution_id)
        return [
            {
                "namespace": namespace,
                "flowId": flow_id,
                "taskId": r.task_id,
                "executionId": r.execution_id,
                "taskRunId": r.task_run_id,
                "attemptNumber": r.attempt,
                "timestamp": r.timestamp,
                "level": r.level,
                "message": r.message,
            }
            for r in self._store.get_logs(execution_id)
        ]

    def purge_executions(
        self,
        which: ExecutionFilter,
        *,
        executions: bool,
        logs: bool,
        storage: bool,
        batch_size: int = 100,
    ) -> PurgeCounts:
        found = self._store.select_executions(
            before=which.end,
            after=which.start,
            namespace=which.namespace,
            flow_id=which.flow_id,
            states=which.states,
        )
        done = PurgeCounts()
        size = max(1, batch_size)
        for i in range(0, len(found), size):
            batch = found[i : i + size]
            files = 0
            if storage:
                # Files first: a purge stopped half-way leaves rows that a new run finds.
                for execution_id, namespace, flow_id in batch:
                    prefix = execution_prefix(namespace, flow_id, execution_id)
                    files += self._storage.delete_prefix(prefix)
            rows, lines = self._store.delete_executions(
                [e[0] for e in batch], rows=executions, logs=logs
            )
            done = PurgeCounts(done.executions + rows, done.logs + lines, done.storage + files)
        return done

    def purge_logs(self, which: ExecutionFilter) -> int:
        return self._store.delete_logs(
            before=which.end,
            after=which.start,
            namespace=which.namespace,
            flow_id=which.flow_id,
            execution_id=which.execution_id,
            levels=which.levels,
        )

    def paused_execution(self, namespace: str, flow_id: str) -> str | None:
        found = self._store.list_executions(
            namespace=namespace, flow_id=flow_id, state=State.PAUSED.value, limit=1
        )
        return found[0].id if found else None

    def resume(self, execution_id: str, inputs: Mapping[str, Any]) -> None:
        from lanner.runtime.actions import request_resume_with

        request_resume_with(self._store, execution_id, inputs)

    def set_trigger_enabled(
        self, namespace: str, flow_id: str, trigger_id: str, enabled: bool
    ) -> None:
        from lanner.runtime.triggers import set_trigger_disabled

        key = (namespace, flow_id, trigger_id)
        set_trigger_disabled(self._store, key, not enabled, datetime.now(UTC))

    def flows(self, namespace: str, children: bool) -> list[DeployedFlow]:
        return [
            DeployedFlow(f.namespace, f.id, f.source, f.revision)
            for f in self._store.list_flows()
            if f.namespace == namespace or (children and f.namespace.startswith(namespace + "."))
        ]

    def deploy_flow(self, source: str, *, dry_run: bool = False) -> DeployedFlow:
        from lanner.model.validate import load_flow

        registry = self._registry or TaskRegistry.from_entry_points()
        flow = load_flow(source, registry, defaults=self._defaults)
        current = self._store.get_flow(flow.namespace, flow.id)
        if dry_run:
            same = current is not None and current.source == source
            revision = current.revision if current is not None else 0
            return DeployedFlow(flow.namespace, flow.id, source, revision, not same)
        revision, created = self._store.deploy_flow(flow.namespace, flow.id, source)
        return DeployedFlow(flow.namespace, flow.id, source, revision, created)

    def delete_flow(self, namespace: str, flow_id: str) -> bool:
        return self._store.delete_flow(namespace, flow_id)
