"""One lanner process's roles, wired together (`Process`): an executor thread
and a pool of worker threads over one store. `lanner run` and the long-running
roles (`lanner.runtime.serve`) use this same class; every state change is
committed when it happens."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lanner.config import Config, open_storage
from lanner.engine.events import Cancel, Decision, Dispatch, Kill, LogLine, TaskResult, Timer
from lanner.engine.execution import Execution, new_execution_id
from lanner.errors import InputValueError, LannerError
from lanner.expr import SecretMasker
from lanner.model.flow import Flow
from lanner.model.states import State
from lanner.plugin import TaskRegistry
from lanner.runtime import eventcodec
from lanner.runtime.childruntime import ChildRuntime
from lanner.runtime.executor import Executor
from lanner.runtime.kvreader import CycleKV
from lanner.runtime.newexecution import new_execution, start_event
from lanner.runtime.scope import RunScope
from lanner.runtime.worker import WorkerPool
from lanner.storage import Storage
from lanner.storage.inputfiles import InputFiles
from lanner.storage.reader import ExecutionFiles
from lanner.store.base import Job, LogRecord, Store

log = logging.getLogger(__name__)
_frozen = False  # whether this process moved its start-up objects out of the collector's way


def _freeze_start_up() -> None:
    """Move what the process allocated until now (modules, classes, validators: most of
    its objects) to the collector's permanent generation, once per process. A full
    collection then scans only what the runtime allocates, ~1 ms instead of ~15 ms,
    and hits short executions less (docs/performance.md)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


# How long a stopping runtime waits for the cancelled tasks of executions that
# are over: a task must stop when cancelled (SPEC §0), so this is a backstop.
STOP_SECONDS = 10.0
# How often the executor thread of `lanner run` looks at the store when nothing woke
# it: only another process (a kill from the command line) or a task acting on an
# execution through the store writes its executions' events without waking it. A
# long-running executor looks at every wake-up (0.01 s).
ALONE_LOOK_SECONDS = 0.05
# Commands whose cycle leaves nothing in the store for the executor thread: their
# jobs go to the workers, a timer is known to the executor (Executor._timers).
_QUIET_COMMANDS = (Dispatch, LogLine, Cancel, Timer)


class Process:
    def __init__(
        self,
        store: Store,
        registry: TaskRegistry,
        config: Config,
        *,
        alone: bool = False,
        executor: bool = True,
        threads: int | None = None,
        storage: Storage | None = None,
    ) -> None:
        """`alone`: no other process works on this store's jobs (`lanner run`), so
        every job this process's executor writes goes straight to its workers.
        `executor`: run the executor thread (off for `lanner worker`); `threads`:
        worker threads (default from the configuration; 0 for `lanner executor`);
        `storage`: internal storage (default: the one the configuration names)."""
        self.store = store
        self.alone = alone
        self.run_executor = executor
        self.masker = SecretMasker()
        # `lanner run` works on its own executions only (runtime.scope): other
        # processes may run other executions on the same store meanwhile.
        self.scope = RunScope() if alone else None
        self.executor = Executor(store, registry, config, self.masker)
        self.executor.scope = self.scope
        self.storage = storage if storage is not None else open_storage(config)
        self.executor.file_reader = self._file_reader
        self.workers = WorkerPool(
            store,
            registry,
            self.masker,
            self.storage,
            threads=config.worker.threads if threads is None else threads,
            prefetch=None if alone else 0,
            lease_seconds=config.worker.leaseSeconds,
            watch=not executor,
            scope=self.scope,
            server_url=config.server.url,
            plugin_defaults=tuple(config.pluginDefaults),
        )
        self.workers.children = ChildRuntime(
            self.executor.flows, self.executor.secrets, self.executor.envs, self._file_reader
        )
        self.executor.on_dispatch = self.workers.jobs_ready
        self.executor.local_capacity = self.workers.capacity
        self.executor.on_handoff = self.workers.hand
        self.executor.local_idle = self.workers.idle
        self.workers.hand_lock = self.executor.cycle_lock
        self.executor.take_backlog = self.workers.take_backlog
        self.executor.return_backlog = self.workers.return_backlog
        self.executor.process_id = self.workers.process_id
        self.workers.on_local_result = self._local_result
        self.executor.listeners.append(self._on_commit)
        # More cycle threads, each an executor of its own, where the store lets
        # cycles of different executions commit side by side (PostgreSQL's row
        # locks); on SQLite's single writer they would only queue.
        # `lanner run` keeps one: its jobs all go straight to its own workers.
        extra = config.executor.threads - 1 if executor and not alone else 0
        self.more_executors = [
            Executor(
                store,
                registry,
                config,
                self.masker,
                flows=self.executor.flows,
                executions=self.executor.shared_executions,
            )
            for _ in range(extra if store.concurrent_writers else 0)
        ]
        for more in self.more_executors:
            more.file_reader = self._file_reader
            more.on_dispatch = self.workers.jobs_ready
            more.listeners.append(self._on_commit)
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._more_threads: list[threading.Thread] = []
        self.error: BaseException | None = None
        self._latest: dict[str, Execution] = {}

    def _file_reader(self, namespace: str, flow_id: str, execution_id: str) -> ExecutionFiles:
        return ExecutionFiles(self.storage, namespace, flow_id, execution_id)

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        _freeze_start_up()
        self.workers.start()
        if not self.run_executor:
            return
        self._thread = threading.Thread(
            target=self._executor_loop, args=(self.executor,), name="lanner-executor", daemon=True
        )
        self._thread.start()
        for i, more in enumerate(self.more_executors, 1):
            thread = threading.Thread(
                target=self._executor_loop, args=(more,), name=f"lanner-executor-{i}", daemon=True
            )
            thread.start()
            self._more_threads.append(thread)

    def stop(self) -> None:
        """Stop the threads. A task still running for an execution that is over (a
        killed one's, its cancel on its way) ends first and its result is committed;
        what runs for an execution still going (a Subflow child `lanner run` did not
        wait for) is handed back to the store, unfinished, for any executor or
        worker later started on it."""
        self._stop.set()
        self.workers.on_complete.set()
        for thread in [self._thread, *self._more_threads]:
            if thread is not None:
                thread.join(5)
        if self.scope is not None:
            scope = self.scope
            deadline = time.monotonic() + STOP_SECONDS
            while any(e not in scope for e in self.workers.held_executions()):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
        try:
            self.workers.drain(0)
        except LannerError as exc:  # their leases run out: a reaper takes them
            log.warning("cannot hand jobs back: %s", exc.message)
        self.workers.stop()
        # Results that came in after the last cycle are committed as any other.
        try:
            with self.executor.cycle_lock:
                while self.executor.run_once(local_only=True):
                    pass
        except LannerError as exc:
            log.warning("cannot record the last results: %s", exc.message)

    def _executor_loop(self, executor: Executor) -> None:
        wake = self.workers.on_complete
        # `lanner run`: everything of its own that may leave due events in the store
        # wakes this thread (new executions, kills, workers' starts and results, the
        # cycles of workers that wrote events: _on_commit), so that at a mere timeout
        # it asks the store only now and then. A chain, whose cycles its workers
        # drive, then costs it a wake-up per 0.01 s without a query.
        woken, next_look = True, 0.0
        try:
            while not self._stop.is_set():
                try:
                    look = woken or not self.alone or time.monotonic() >= next_look
                    if look and self.alone:
                        next_look = time.monotonic() + ALONE_LOOK_SECONDS
                    if executor.has_work(look=look):
                        with executor.cycle_lock:
                            progressed = executor.run_once(checked=True)
                        if progressed:
                            woken = True
                            continue
                except LannerError as exc:
                    if self.alone:
                        raise
                    # A long-running executor outlives a store that is down or a
                    # cycle that lost a race: the cycle was rolled back, try again.
                    logging.getLogger("lanner.runtime.executor").warning("%s", exc.message)
                    executor.forget()
                    self._stop.wait(0.5)
                    continue
                # Cleared only when set: a wake-up that comes after the timeout
                # is seen at the next turn, not lost.
                woken = wake.wait(0.01)
                if woken:
                    wake.clear()
        except BaseException as exc:  # surfaced to whoever waits on an execution
            self.error = exc
            with self._changed:
                self._changed.notify_all()

    def _local_result(
        self, job: Job, result: TaskResult, logs: list[LogRecord], stored_events: bool
    ) -> None:
        self.executor.submit_local(job, result, logs, stored_events)
        if not self.executor.drive():
            self.workers.on_complete.set()  # the executor thread is busy: it takes it next

    def _on_commit(self, execution: Execution, decision: Decision) -> None:
        # One pass over the commands (a cycle's dispatch, mostly): the kills, and
        # whether any command may have left work in the store.
        cancels: list[str] = []
        quiet = True
        for command in decision.commands:
            if type(command) is Dispatch:
                continue
            if isinstance(command, Cancel):
                cancels.append(command.task_run_id)
            elif not isinstance(command, _QUIET_COMMANDS):
                quiet = False
        if cancels:
            self.workers.cancel(cancels)
        if (
            self.alone
            and not (quiet and execution.state is State.RUNNING and execution.finalized_at is None)
            and threading.current_thread() is not self._thread  # that one looks anyway
        ):
            # A cycle that may have written events or executions (a Subflow's child, a
            # delivery to a parent, a Flow trigger's execution): the executor thread
            # looks at the store at once (see _executor_loop).
            self.workers.on_complete.set()
        if execution.finalized_at is None:
            return  # waiters only care about the end: no wake-up at every cycle
        with self._changed:
            self._latest[execution.id] = execution
            self._changed.notify_all()

    # -- executions -------------------------------------------------------------------
    def create_execution(
        self,
        flow: Flow,
        revision: int,
        inputs: Mapping[str, Any],
        *,
        from_strings: bool = True,
        trigger: Mapping[str, Any] | None = None,
    ) -> Execution:
        now = datetime.now(UTC)
        execution_id = new_execution_id()
        execution = new_execution(
            flow,
            revision,
            inputs,
            now,
            from_strings=from_strings,
            trigger=trigger,
            execution_id=execution_id,
            files=InputFiles(self.storage, flow.namespace, flow.id, execution_id),
            kv=CycleKV(self.store, now),
        )
        for key in execution.secret_inputs:
            value = execution.inputs.get(key)
            if isinstance(value, str):
                self.masker.add(value)
        if self.scope is not None:
            self.scope.add([execution.id])  # before its Start event can be seen
        self.store.create_execution(execution, [start_event(execution, now)])
        self.workers.on_complete.set()
        return execution

    def kill(self, execution_id: str) -> None:
        event = eventcodec.encode(execution_id, Kill(), datetime.now(UTC), f"kill:{execution_id}")
        self.store.add_event(event)
        self.workers.on_complete.set()

    def wait_finalized(self, execution_id: str, timeout: float | None = None) -> Execution:
        """Block until the execution is finalized (afterExecution done), by this
        process's executor or, every half second, as the store says: a server on the
        same store may run a cycle of it too."""
        deadline = None if timeout is None else datetime.now(UTC).timestamp() + timeout
        while True:
            with self._changed:
                if self.error is not None:
                    raise self.error
                latest = self._latest.pop(execution_id, None)
                if latest is not None:
                    return latest
                remaining = None if deadline is None else deadline - datetime.now(UTC).timestamp()
                if remaining is not None and remaining <= 0:
                    raise LannerError(f"execution {execution_id} did not finish in time")
                if self._changed.wait(0.5 if remaining is None else min(0.5, remaining)):
                    continue
            # Its head tells whether it is over; its task runs are read once, at the
            # end. Read whole every half second, a ForEach over 1000 values cost a
            # read of 1000 task runs per half second it ran: a cost per task run
            # that grew with the task runs done.
            head = self.store.get_execution_head(execution_id)
            if head is None or head.finalized_at is None:
                continue
            stored = self.store.get_execution(execution_id)
            if stored is not None and stored.finalized_at is not None:
                with self._changed:
                    self._latest.pop(execution_id, None)
                return stored


__all__ = ["InputValueError", "Process"]
