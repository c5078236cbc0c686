"""A real, simple TaskContext for running one task type directly in a unit test.

It renders properties with Lanner's expression engine over the variables it
was given, keeps every log line in ``logs``, and can be cancelled from any
thread with ``cancel()`` (which wakes ``wait`` at once)::

    ctx = LocalTaskContext({"inputs": {"name": "Ada"}})
    outcome = run_log(Log(id="hello", type="...", message="Hi {{ inputs.name }}"), ctx)
    assert ctx.logs == [("INFO", "Hi Ada")]

The KV tasks need a store: give one with ``kv=StoreKV(store, "company.team")``
(a real store, as the worker's context has); without it ``ctx.kv`` fails. The
administration tasks need ``instance=StoreInstance(store, storage)``, and
``run_task`` (TemplatedTask) a ``registry=``.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lanner.engine.variables import context_data
from lanner.expr import ExpressionEngine, Scope
from lanner.plugin import ExecutionView, InstanceAccess, KVAccess, Outcome, TaskRegistry
from lanner.storage import LocalStorage, Storage
from lanner.storage.attempt import AttemptFiles
from lanner.storage.taskfiles import TaskFiles


class LocalTaskContext(AttemptFiles):
    """A TaskContext for one attempt, in memory."""

    def __init__(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        execution_id: str = "exec-1",
        task_run_id: str = "taskrun-1",
        attempt: int = 1,
        now: datetime | None = None,
        namespace: str = "company.team",
        flow_id: str = "flow",
        task_id: str = "task",
        storage: Storage | None = None,
        kv: KVAccess | None = None,
        server_url: str | None = None,
        executions: Mapping[str, ExecutionView] | None = None,
        instance: InstanceAccess | None = None,
        registry: TaskRegistry | None = None,
    ) -> None:
        self.execution_id = execution_id
        self.task_run_id = task_run_id
        self.attempt = attempt
        self.idempotency_key = f"{task_run_id}:{attempt}"
        self.namespace = namespace
        self.flow_id = flow_id
        self.task_id = task_id
        self._storage = storage
        self.variables: dict[str, Any] = dict(variables or {})
        self.now = now or datetime.now(UTC)
        self.logs: list[tuple[str, str]] = []
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._engine = ExpressionEngine()
        self._kv = kv
        self._server_url = server_url
        self.executions: dict[str, ExecutionView] = dict(executions or {})
        self._instance = instance
        self._registry = registry
        self._working_dir: Path | None = None

    @property
    def kv(self) -> KVAccess:
        if self._kv is None:
            raise AssertionError("this LocalTaskContext was given no kv= (a StoreKV over a store)")
        return self._kv

    @property
    def instance(self) -> InstanceAccess:
        if self._instance is None:
            raise AssertionError("this LocalTaskContext was given no instance= (a StoreInstance)")
        return self._instance

    def run_task(self, definition: Mapping[str, Any]) -> Outcome:
        if self._registry is None:
            raise AssertionError("this LocalTaskContext was given no registry=")
        task_type, task = self._registry.runnable({"id": self.task_id, **definition})
        assert task_type.run is not None
        return task_type.run(task, self)

    def execution_context(self) -> Mapping[str, Any]:
        return context_data(self.variables)

    @property
    def server_url(self) -> str | None:
        return self._server_url

    def read_execution(self, execution_id: str) -> ExecutionView | None:
        return self.executions.get(execution_id)

    def render(self, value: Any) -> Any:
        return self._engine.render_value(value, Scope(variables=self.variables, now=self.now))

    def log(self, level: str, message: str) -> None:
        with self._lock:
            self.logs.append((level, message))

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, seconds: float) -> bool:
        return not self._cancel.wait(seconds)

    @property
    def storage(self) -> Storage:
        """The internal storage: the one given, else a temporary folder made on first use."""
        if self._storage is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="lanner-task-")
            self._storage = LocalStorage(self._tmp.name)
        return self._storage

    def _files(self) -> TaskFiles:
        return TaskFiles(
            self.storage,
            self.namespace,
            self.flow_id,
            self.execution_id,
            self.task_id,
            self.task_run_id,
        )

    def cancel(self) -> None:
        """Kill the attempt: `cancelled` turns True and a pending `wait` returns False."""
        self._cancel.set()

    def messages(self, level: str | None = None) -> list[str]:
        """The logged messages, optionally only those at one level."""
        with self._lock:
            return [m for lv, m in self.logs if level is None or lv == level]
