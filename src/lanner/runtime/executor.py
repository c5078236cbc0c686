"""The executor: consume an execution's events through the planner and
commit everything the cycle decided in one transaction (DESIGN.md).

Executions stay in memory between cycles; the store hands the cached one
back when its version is still current, so a cycle costs what changed,
not the size of the execution.
"""

from __future__ import annotations

import heapq
import logging
import os
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from pydantic import BaseModel

from lanner.config import Config, env_variables
from lanner.engine import control
from lanner.engine.events import (
    Cancel,
    Decision,
    Deliver,
    Dispatch,
    Event,
    LogLine,
    RetryExecution,
    StartSubflow,
    TaskResult,
    TaskStarted,
    Timer,
)
from lanner.engine.execution import Execution, evolve, fast_init
from lanner.engine.flowindex import FlowIndex
from lanner.engine.planner import PlanContext, Planner
from lanner.engine.unplannable import fail_unplannable
from lanner.engine.variables import error_log
from lanner.errors import LannerError, StoreError
from lanner.expr import ExpressionEngine, SecretMasker, env_secrets, taint
from lanner.expr.scope import FileReader
from lanner.model.flow import Flow
from lanner.model.states import State
from lanner.plugin import TaskRegistry
from lanner.runtime import effects, eventcodec
from lanner.runtime.crashpoints import crash_point
from lanner.runtime.kvreader import CycleHistory, CycleKV
from lanner.runtime.scope import RunScope
from lanner.store.base import (
    CycleWrite,
    EventRow,
    ExecutorTx,
    Job,
    LogRecord,
    NewEvent,
    NewJob,
    Store,
)

log = logging.getLogger(__name__)

CommitListener = Callable[[Execution, Decision], None]


class PlanRecorder(Protocol):
    """Sees every call the executor makes to the planner, with all it passes
    (tests/golden records real executions this way and replays them through the
    planner alone). Off by default: then a cycle pays one attribute test."""

    def planning(
        self,
        execution: Execution,
        events: Sequence[Event],
        context: PlanContext,
        start: bool = False,
    ) -> None:
        """Before the call: the execution is given up to the planner right after.
        `start`: the call is `Planner.start` (the starts of the jobs the cycle just
        handed to threads), not `Planner.plan`."""

    def planned(self, decision: Decision) -> None:
        """After the call, on the same thread."""


@fast_init  # one per task run
@dataclass(frozen=True)
class LocalResult:
    job: Job
    result: TaskResult
    logs: list[LogRecord]
    # Events of its job were committed to the store before its result: its start (a
    # job that waited for a thread), the starts and results of a one_job task's
    # children. The cycle applies the execution's stored events too, so they come first.
    stored_events: bool = False


class _Tokens(random.Random):
    """Claim tokens of the jobs a cycle writes claimed: 128 random bits, as the store's
    own claims. Drawn from a generator seeded once from the system's randomness, not
    from os.urandom at each hand-off: that is a system call, which also lets go of
    the GIL in the middle of the cycle. Reseeded in a forked child, whose tokens must
    not repeat its parent's."""

    def __init__(self) -> None:
        super().__init__(os.urandom(32))
        os.register_at_fork(after_in_child=lambda: self.seed(os.urandom(32)))

    def token(self) -> str:
        return f"{self.getrandbits(128):032x}"


_claim_token = _Tokens().token


def _mentions(value: Any, word: str) -> bool:
    """Whether a text anywhere in `value` (a flow: models, mappings, lists) holds `word`.

    Walked by hand: serializing the flow would build the serializers of every model a
    Flow may hold (all input, trigger and condition types), the largest part of a
    one-task `lanner run`'s start-up, which only builds the validators its flow uses."""
    if isinstance(value, str):
        return word in value
    if isinstance(value, BaseModel):
        return any(_mentions(v, word) for v in value.__dict__.values())
    if isinstance(value, Mapping):
        return any(_mentions(k, word) or _mentions(v, word) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_mentions(v, word) for v in value)
    return False


class _Unplannable(Exception):
    def __init__(self, execution_id: str, reason: str) -> None:
        super().__init__(reason)
        self.execution_id = execution_id
        self.reason = reason


def _reason(exc: Exception) -> str:
    """What the execution's ERROR log says; a bug's traceback goes to the process log."""
    if isinstance(exc, LannerError):
        return exc.message
    log.error("internal error in a cycle", exc_info=exc)
    return f"internal error: {type(exc).__name__}: {exc}"


@dataclass
class _FlowEntry:
    flow: Flow
    planner: Planner
    # Whether the flow names errorLogs(): only then does a cycle read the ERROR logs.
    reads_error_logs: bool


class Executor:
    def __init__(
        self,
        store: Store,
        registry: TaskRegistry,
        config: Config,
        masker: SecretMasker,
        *,
        engine: ExpressionEngine | None = None,
        flows: effects.FlowCache | None = None,
        executions: dict[str, Execution] | None = None,
    ) -> None:
        """`flows`, `executions`: the flow cache and the execution cache to share with
        the other executors of the process.

        Sharing executions is safe: a cycle holds its execution (row lock) while it
        uses the cached copy, and a copy is used only when its version is the
        stored one, so a late or stale entry only costs a read."""
        self.store = store
        self.registry = registry
        self.config = config
        self.masker = masker
        self.engine = engine or ExpressionEngine()
        self.secrets = env_secrets(dict(os.environ))
        self.envs = env_variables(config.envPrefix)
        self._flows: dict[tuple[str, str, int], _FlowEntry] = {}
        self.flows = flows or effects.FlowCache(store, registry, config)
        # Without it, a cycle thread would read in full every execution whose
        # previous cycle ran on another thread.
        self._executions: dict[str, Execution] = {} if executions is None else executions
        self.listeners: list[CommitListener] = []
        self.recorder: PlanRecorder | None = None
        self.trigger_recorder: effects.TriggerRecorder | None = None
        # What read(), fileSize()... of an execution of (namespace, flow) read (runtime.py).
        # (namespace, flow id, execution id): what that execution may read.
        self.file_reader: Callable[[str, str, str], FileReader] | None = None
        # Wiring to the workers of this process (none by default):
        self.on_dispatch: Callable[[int], None] = lambda count: None  # unclaimed jobs written
        self.local_capacity: Callable[[], int] = lambda: 0  # idle local workers
        # Jobs handed over claimed; the first `started` of them start at once (an idle
        # thread waits for each), so their RUNNING is committed with the hand-off.
        self.on_handoff: Callable[[list[Job], int], None] = lambda jobs, started: None
        self.local_idle: Callable[[], int] = lambda: 0  # local threads free to start now
        # Handed-over jobs of an execution still waiting for a thread (taken, to be
        # started by its cycle), and the way back for those of a cycle that failed.
        self.take_backlog: Callable[[str, int], list[Job]] = lambda execution_id, count: []
        self.return_backlog: Callable[[list[Job]], None] = lambda jobs: None
        self.process_id = "executor"
        # The executions whose cycles this executor runs; None: every one (runtime.scope).
        self.scope: RunScope | None = None
        self._inbox: list[LocalResult] = []
        self._timers: list[datetime] = []  # due times of the timers this executor wrote
        self._seen_version = -1
        self._next_poll = datetime.min.replace(tzinfo=UTC)
        self._inbox_lock = threading.Lock()
        self._starting = 0  # how many of the cycle's hand-offs were started with it
        self._backlog_started: list[Job] = []  # waiting jobs this cycle starts
        self._last_files: tuple[tuple[str, str, str], FileReader] | None = None
        self.cycle_lock = threading.Lock()  # one thread runs cycles at a time

    def planner_for(self, namespace: str, flow_id: str, revision: int) -> Planner:
        return self._entry(namespace, flow_id, revision).planner

    def _entry(self, namespace: str, flow_id: str, revision: int) -> _FlowEntry:
        key = (namespace, flow_id, revision)
        entry = self._flows.get(key)
        if entry is None:
            flow, _ = self.flows.flow(namespace, flow_id, revision)
            entry = _FlowEntry(
                flow,
                Planner(FlowIndex(flow), self.engine),
                _mentions(flow, "errorLogs"),
            )
            self._flows[key] = entry
        return entry

    @property
    def shared_executions(self) -> dict[str, Execution]:
        return self._executions

    def forget(self) -> None:
        """Drop the cached executions (after a failed cycle: the store is the truth)."""
        self._executions.clear()

    def drive(self) -> bool:
        """Run cycles on the calling thread until there is nothing to do, unless another
        thread is running them (then False: wake that one). A worker that just finished a job calls it, so that a
        chain of tasks moves on without waking another thread at every step."""
        if not self.cycle_lock.acquire(blocking=False):
            return False
        try:
            # Only local results here: the executor thread's own loop looks at the
            # store for everything else, so a worker never pays for that look.
            while self.run_once(local_only=True):
                pass
        finally:
            self.cycle_lock.release()
        return True

    def submit_local(
        self, job: Job, result: TaskResult, logs: list[LogRecord], stored_events: bool = False
    ) -> None:
        """A worker of this process finished a job the executor handed it."""
        with self._inbox_lock:
            self._inbox.append(LocalResult(job, result, logs, stored_events))

    def _take_local(self) -> list[LocalResult]:
        """The local results of the execution whose result came first."""
        with self._inbox_lock:
            inbox = self._inbox
            if len(inbox) < 2:  # a chain: its one result (or nothing)
                self._inbox = []
                return inbox
            wanted = inbox[0].job.execution_id
            mine = [r for r in self._inbox if r.job.execution_id == wanted]
            self._inbox = [r for r in self._inbox if r.job.execution_id != wanted]
            return mine

    def has_work(self, *, look: bool = True) -> bool:
        """Whether run_once may find something to do: local results wait, or events
        may be due. Needs no cycle lock, so that a thread looking for work does not
        keep a worker from driving the cycle of its own result meanwhile.
        `look`: False when nothing but a timer of this executor can be due (the store
        is not asked then)."""
        with self._inbox_lock:
            if self._inbox:
                return True
        return self._maybe_due(look)

    def run_once(self, *, local_only: bool = False, checked: bool = False) -> bool:
        """One cycle for one execution with due events or local results;
        False when there was nothing to do. `checked`: has_work() just said yes."""
        local = self._take_local()
        if not local and (local_only or not (checked or self._maybe_due())):
            return False
        try:
            return self._run_cycle(local, local_only)
        except _Unplannable as exc:
            self._give_up(exc.execution_id, exc.reason, local)
            return True
        finally:
            if self._backlog_started:  # the cycle failed: they wait again
                self.return_backlog(self._backlog_started)
                self._backlog_started = []

    def _run_cycle(self, local: list[LocalResult], local_only: bool) -> bool:
        with self.store.executor_tx() as tx:
            execution_id = (
                local[0].job.execution_id
                if local
                else tx.next_execution(datetime.now(UTC), self._scope())
            )
            if execution_id is None:
                return False
            execution: Execution | None = None
            held = bool(local)
            if held:
                # Local results name their execution: hold it before anything else
                # (on PostgreSQL, `load` locks its row, as next_execution does), so
                # that no other executor of the process runs a cycle of it meanwhile
                # on the same cached copy.
                execution = tx.load(execution_id, self._executions.get(execution_id))
            # The clock of the cycle is read once this executor holds the execution
            # (it may have waited for another executor's commit): dates written by
            # successive cycles never go backwards.
            now = datetime.now(UTC)
            # A worker driving its own results leaves stored events (a kill, a
            # timer) to the executor thread, which is woken for them; unless some
            # are its job's own: applied after its result, a start would find the
            # task run over (no RUNNING in its history), a one_job child's result
            # would find it KILLED by the end of its parent.
            stored = not local_only or any(r.stored_events for r in local)
            rows = tx.events(execution_id, now) if stored else []
            taken = tx.take_jobs(
                [(r.job.task_run_id, r.job.attempt, r.job.claim_token) for r in local]
            )
            # A claim that is no longer ours (reaped, handed to another worker) is dropped.
            local = [r for r, ok in zip(local, taken, strict=True) if ok]
            if not rows and not local:
                return True
            if not held:
                execution = tx.load(execution_id, self._executions.get(execution_id))
            if execution is None:
                # Its execution was purged (a Subflow child ending after its
                # parent, say): nothing can consume these events any more.
                tx.drop_events([r.id for r in rows])
                log.warning(
                    "dropped %d event(s) of execution %s, which is not stored",
                    len(rows),
                    execution_id,
                )
                return True
            for key in execution.secret_inputs:
                value = execution.inputs.get(key)
                if isinstance(value, str):
                    self.masker.add(value)
            try:
                decision, new, cycle, handed = self._plan(tx, execution, rows, local, now)
            except StoreError:
                raise  # the store is down or a race was lost: the cycle is tried again
            except Exception as exc:
                # Rolled back with the cycle; the execution then ends FAILED in a
                # transaction of its own.
                raise _Unplannable(execution_id, _reason(exc)) from exc
            tx.write(cycle)
            if self.scope is not None and cycle.new_executions:
                # The Subflow children this cycle starts are this run's to finish, and so
                # is the next execution of a chain (a CREATE_NEW_EXECUTION retry).
                planned = cycle.execution
                chain = planned.origin_id if planned.id in self.scope else None
                self.scope.add(
                    e.id
                    for e in cycle.new_executions
                    if e.parent_execution_id in self.scope
                    or (chain is not None and e.original_id == chain)
                )
            crash_point("executor.before_commit")
        crash_point("executor.after_commit")
        self._committed(new, decision, handed, len(cycle.new_jobs))
        return True

    def _plan(
        self,
        tx: ExecutorTx,
        execution: Execution,
        rows: list[EventRow],
        local: list[LocalResult],
        now: datetime,
    ) -> tuple[Decision, Execution, CycleWrite, list[Job]]:
        """The planner's decision on the events and local results, and its write."""
        execution_id = execution.id
        entry = self._entry(execution.namespace, execution.flow_id, execution.flow_revision)
        before_state, was_finalized = execution.state, execution.finalized_at is not None
        # Threads free now first start the jobs of this execution handed over earlier
        # that wait for a thread: their start is one more event of this cycle.
        idle = self.local_idle()
        waiting = self.take_backlog(execution_id, idle) if idle else []
        self._backlog_started = waiting
        events: list[Event] = [r.result for r in local]
        if rows:  # stored events first: the cycle applies them before the results
            events[:0] = [eventcodec.decode(r) for r in rows]
        if waiting:
            events += [TaskStarted(j.task_run_id, j.attempt) for j in waiting]
        # Everything the planner reads is read here, before it runs: the count of
        # taken slots only in the rare cycle that may ask for it (it takes the
        # flow's lock), the ERROR logs only for a flow that names errorLogs().
        slots = (
            tx.slots_taken(execution.namespace, execution.flow_id, execution_id)
            if control.counts_slots(entry.flow, execution, events)
            else None
        )
        context = PlanContext(
            now=now,
            seed=rows[0].id if rows else 0,
            secrets=self.secrets,
            on_secret=self.masker.add,
            error_logs=self._error_logs(execution, local) if entry.reads_error_logs else (),
            envs=self.envs,
            slots_taken=slots,
            kv=CycleKV(self.store, now),
            flow_history=CycleHistory(self.store),
            files=self._files(entry, execution),
        )
        # The cached execution is given up to the planner; if this cycle fails
        # before its commit, the cache is dropped and the store reloaded.
        self._executions.pop(execution_id, None)
        decision = self._call_planner(entry.planner, execution, events, context)
        capacity = self.local_capacity()
        idle = min(idle - len(waiting), capacity)
        decision = self._start_handed(entry.planner, decision, context, idle)
        # evolve, not dataclasses.replace: no __init__ over every field at each cycle.
        new = evolve(decision.execution, version=execution.version + 1)
        logs = [log for r in local for log in r.logs]
        extra = self._after_cycle(tx, before_state, was_finalized, new, entry.flow, now)
        cycle, handed = self._cycle(
            new, execution.version, decision, [r.id for r in rows], now, logs, extra, capacity
        )
        return decision, new, cycle, handed

    def _files(self, entry: _FlowEntry, execution: Execution) -> FileReader | None:
        # Per execution: a ForEachItem child may read its batch file (storage/uris.py).
        if self.file_reader is None:
            return None
        key = (execution.namespace, execution.flow_id, execution.origin_id)
        last = self._last_files
        if last is not None and last[0] == key:  # a chain's cycles: the same execution
            return last[1]
        reader = self.file_reader(*key)
        self._last_files = (key, reader)
        return reader

    def _call_planner(
        self,
        planner: Planner,
        execution: Execution,
        events: Sequence[Event],
        context: PlanContext,
        *,
        start: bool = False,
    ) -> Decision:
        recorder = self.recorder
        if recorder is not None:
            recorder.planning(execution, events, context, start)
        if start:  # only _start_handed asks, with TaskStarted events alone
            decision = planner.start(execution, cast("Sequence[TaskStarted]", events), context)
        else:
            decision = planner.plan(execution, events, context, consume=True)
        if recorder is not None:
            recorder.planned(decision)
        return decision

    def _start_handed(
        self, planner: Planner, decision: Decision, context: PlanContext, idle: int
    ) -> Decision:
        """The decision with the dispatches that `idle` local threads start at once
        made RUNNING, so that the hand-off's commit records the start before the
        task's code runs (docs/runtime.md, durability). They are the first
        dispatches: _cycle hands those over first."""
        self._starting = 0
        if not idle:
            return decision
        dispatches = [c for c in decision.commands if isinstance(c, Dispatch)][:idle]
        if not dispatches:
            return decision
        self._starting = len(dispatches)
        started = [TaskStarted(c.task_run_id, c.attempt) for c in dispatches]
        more = self._call_planner(planner, decision.execution, started, context, start=True)
        # A start emits no command and deletes nothing (Planner.start).
        return Decision(
            more.execution, decision.commands, decision.changed | more.changed, decision.deleted
        )

    def _after_cycle(
        self,
        tx: ExecutorTx,
        before_state: State,
        was_finalized: bool,
        new: Execution,
        flow: Flow | None,
        now: datetime,
    ) -> effects.Effects:
        """What the cycle does beyond the planner's decision (effects.after_cycle)."""
        extra = effects.Effects()
        if new.state is before_state and (was_finalized or new.finalized_at is None):
            # Most cycles: no state change (no Flow trigger fires) and not the end of
            # the execution (no queued one to dequeue), so after_cycle would do nothing.
            return extra
        effects.after_cycle(
            tx,
            before_state,
            was_finalized,
            new,
            flow,
            self.flows,
            self.engine,
            self.secrets,
            now,
            extra,
            self.trigger_recorder,
        )
        return extra

    def _committed(self, new: Execution, decision: Decision, handed: list[Job], jobs: int) -> None:
        """After a cycle's commit: the cache, hand-offs to this process's workers, listeners.
        `jobs`: how many jobs the cycle wrote, `handed` among them."""
        execution_id = new.id
        if new.finalized_at is not None:
            self._executions.pop(execution_id, None)
            if self.scope is not None:
                self.scope.discard(execution_id)
        else:
            self._executions[execution_id] = new
        starting, more = min(self._starting, len(handed)), self._backlog_started
        self._starting = 0
        if more:
            self._backlog_started = []
            self.on_handoff([*handed[:starting], *more, *handed[starting:]], starting + len(more))
        elif handed:
            self.on_handoff(handed, starting)  # the list is the cycle's own, not kept
        unclaimed = jobs - len(handed)
        if unclaimed:
            self.on_dispatch(unclaimed)
        for listener in self.listeners:
            listener(new, decision)

    def _give_up(self, execution_id: str, reason: str, local: list[LocalResult]) -> None:
        """End an execution the planner cannot take further (engine.unplannable)."""
        self._starting = 0  # the failed cycle's hand-offs were not written
        if self._backlog_started:  # nor its starts
            self.return_backlog(self._backlog_started)
            self._backlog_started = []
        shown = taint.mask(reason, self.masker)
        log.error("execution %s: %s", execution_id, shown)
        self._executions.pop(execution_id, None)
        with self.store.executor_tx() as tx:
            now = datetime.now(UTC)
            rows = tx.events(execution_id, now)
            # The local results end with the execution; their logs are kept.
            tx.take_jobs([(r.job.task_run_id, r.job.attempt, r.job.claim_token) for r in local])
            logs = [log for r in local for log in r.logs]
            execution = tx.load(execution_id, None)
            if execution is None or execution.finalized_at is not None:
                # Late events (a stopped task's result, a child's end): nothing
                # is left to end; they must not be offered to the planner again.
                tx.drop_events([r.id for r in rows])
                if execution is not None and logs:
                    tx.write(
                        CycleWrite(
                            evolve(execution, version=execution.version + 1),
                            execution.version,
                            logs=logs,
                        )
                    )
                return
            decision = fail_unplannable(execution, reason, now)
            new = evolve(decision.execution, version=execution.version + 1)
            flow: Flow | None = None
            try:
                entry = self._entry(execution.namespace, execution.flow_id, execution.flow_revision)
                flow = entry.flow
            except StoreError:
                raise
            except Exception:  # the flow no longer loads: look for a queued execution anyway
                pass
            try:
                extra = self._after_cycle(tx, execution.state, False, new, flow, now)
            except StoreError:
                raise
            except Exception:  # the same fault again: the execution still ends
                log.exception("internal error after a failed cycle")
                extra = effects.Effects()
            cycle, handed = self._cycle(
                new, execution.version, decision, [r.id for r in rows], now, logs, extra
            )
            tx.write(cycle)
        self._committed(new, decision, handed, len(cycle.new_jobs))

    def _maybe_due(self, look: bool = True) -> bool:
        """Whether an event may be due, asking the store only when something may have
        changed: another connection committed, a timer we wrote fell due, or a
        quarter second passed (timers written by other processes). Without `look`,
        only a timer we wrote that fell due sends it to the store."""
        if not look and not (self._timers and self._timers[0] <= datetime.now(UTC)):
            return False
        version = self.store.data_version()
        # The clock is read after the version: an event committed before that read
        # has a visible_at before this `now`. Read first, a commit landing in between
        # would be judged not due yet and then hidden until the next quarter second.
        now = datetime.now(UTC)
        timer_due = bool(self._timers) and self._timers[0] <= now
        if version == self._seen_version and not timer_due and now < self._next_poll:
            return False
        self._seen_version = version
        while self._timers and self._timers[0] <= now:
            heapq.heappop(self._timers)
        self._next_poll = now + timedelta(seconds=0.25)
        if self.store.has_due_events(now, self._scope()):  # read-only: no write lock taken
            self._next_poll = now  # more may be due: look again at once
            return True
        return False

    def _scope(self) -> tuple[str, ...] | None:
        return None if self.scope is None else self.scope.ids

    def _error_logs(
        self, execution: Execution, local: list[LocalResult]
    ) -> list[Mapping[str, Any]]:
        """The ERROR logs `errorLogs()` sees in a cycle: the stored ones, then those of the
        local results the cycle applies (written only with the cycle)."""
        records = [
            *self.store.iter_error_logs(execution.id),
            *(log for r in local for log in r.logs if log.level == "ERROR"),
        ]
        return [
            error_log(execution, r.task_id, r.task_run_id, r.attempt, r.timestamp, r.message)
            for r in records
        ]

    def _cycle(
        self,
        new: Execution,
        expected: int,
        decision: Decision,
        consumed: list[int],
        now: datetime,
        logs: list[LogRecord],
        extra: effects.Effects,
        capacity: int | None = None,
    ) -> tuple[CycleWrite, list[Job]]:
        """The cycle's write; `logs`: the local results' logs, which come first;
        `extra`: what the cycle does beyond the planner's execution (effects);
        `capacity`: how many jobs local threads take over (asked when None)."""
        if capacity is None:
            capacity = self.local_capacity()
        handed: list[Job] = []
        jobs: list[NewJob] = []
        cancels: list[str] = []
        events: list[NewEvent] = []
        lease: datetime | None = None
        original = new.original_id if new.original_id != new.id else None
        for command in decision.commands:
            if isinstance(command, Dispatch):
                payload = {
                    "namespace": new.namespace,
                    "flowId": new.flow_id,
                    "taskId": command.task_id,
                    "type": command.type,
                    "properties": dict(command.properties),
                    "timeout": command.timeout,
                    "logLevel": command.log_level,
                }
                if original is not None:
                    payload["originalId"] = original  # its batch file's reader
                if capacity > len(handed):
                    if lease is None:
                        lease = now + timedelta(seconds=self.config.worker.leaseSeconds)
                    token = _claim_token()
                    jobs.append(
                        NewJob(
                            command.task_run_id,
                            new.id,
                            command.attempt,
                            payload,
                            now,
                            token,
                            self.process_id,
                            lease,
                        )
                    )
                    handed.append(
                        Job(command.task_run_id, new.id, command.attempt, payload, token, 1, lease)
                    )
                else:
                    jobs.append(NewJob(command.task_run_id, new.id, command.attempt, payload, now))
            elif isinstance(command, Cancel):
                cancels.append(command.task_run_id)
            elif isinstance(command, StartSubflow):
                effects.start_subflow(command, self.flows, now, extra)
            elif isinstance(command, Deliver):
                effects.deliver(command, now, extra)
            elif isinstance(command, RetryExecution):
                effects.retry_execution(command, new, self.flows, now, extra)
            elif isinstance(command, Timer):
                heapq.heappush(self._timers, command.at)
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
        for event in extra.events:
            if event.visible_at > now:  # a scheduled Subflow child: wake up for it
                heapq.heappush(self._timers, event.visible_at)
        runs = [new.task_runs[i] for i in sorted(decision.changed) if i in new.task_runs]
        cycle = CycleWrite(
            execution=new,
            expected_version=expected,
            upsert_task_runs=runs,
            delete_task_runs=sorted(decision.deleted),
            new_jobs=jobs,
            cancel_jobs=cancels,
            new_events=[*events, *extra.events],
            consumed_events=consumed,
            logs=[*logs, *extra.logs],
            new_executions=extra.executions,
        )
        return cycle, handed
