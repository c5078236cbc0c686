"""The instance as the administration tasks reach it (``lanner.plugin.InstanceAccess``):
the ``instance`` member of a worker's TaskContext, over the worker's store and internal
storage, as ``kv`` is over the KV store (runtime/kvaccess.py).

PurgeExecutions, PurgeLogs, log.Fetch, Resume and trigger.Toggle run on a worker, as
Kestra's do, and act through this object only: the same store methods and actions the
CLI and the API use (a resume is the event `lanner executions resume` writes, a toggle
is `lanner triggers enable|disable`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lanner.errors import NotFoundError
from lanner.model.states import State
from lanner.plugin import ExecutionFilter, PurgeCounts
from lanner.storage import Storage
from lanner.storage.uris import execution_prefix
from lanner.store.base import Store


class StoreInstance:
    """An `InstanceAccess` over a store and the internal storage beside it."""

    def __init__(self, store: Store, storage: Storage) -> None:
        self._store = store
        self._storage = storage

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
