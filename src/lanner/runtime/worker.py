"""Workers: claim jobs under a lease, run the task outside any transaction,
complete with a fenced write (DESIGN.md).

A task receives a cancellation signal on timeout or kill and must stop
(SPEC §0 decision 4); whatever it returns after that is reported as the
timeout's FAILED or the kill's KILLED, never as a success.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from lanner.engine.events import TaskResult, TaskStarted
from lanner.engine.timefmt import hms
from lanner.engine.variables import context_data
from lanner.errors import LannerError
from lanner.expr import SecretMasker, taint
from lanner.model import loglevel
from lanner.model.flow import PluginDefault
from lanner.model.states import State
from lanner.plugin import ExecutionView, Outcome, TaskRegistry, TaskType
from lanner.runtime import eventcodec
from lanner.runtime.cancel import CancelEvent
from lanner.runtime.crashpoints import crash_point
from lanner.runtime.executionview import view_of
from lanner.runtime.instanceaccess import StoreInstance
from lanner.runtime.kvaccess import StoreKV
from lanner.runtime.scope import RunScope
from lanner.runtime.taskcache import ValidatedTasks
from lanner.storage import Storage
from lanner.storage.attempt import AttemptFiles
from lanner.storage.taskfiles import TaskFiles
from lanner.store.base import Job, LogRecord, Store

if TYPE_CHECKING:
    from lanner.runtime.childruntime import ChildRuntime

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0
_CLAIM = object()  # "go and claim a job from the store"
_BACKLOG = object()  # "take a job from the backlog"
HEARTBEAT_SECONDS = 2.0
# How often an idle thread looks in the store for jobs that no wake-up announced
# (written by other processes).
POLL_SECONDS = 0.2
WATCH_SECONDS = 0.005
# How often the logs of running tasks reach the store while they run, and how long a
# task runs before its logs are sent ahead of its result: a quick task's logs go with
# its result in one write, a long one's (a script's output) show as they come.
LIVE_LOG_SECONDS = 0.25


class _Context(AttemptFiles):
    """The TaskContext of one attempt. Properties arrive rendered by the executor."""

    # Defaults that most attempts never change, kept on the class: one is built per
    # task, on the path of every task of a chain.
    timed_out = False
    # logs[:flushed] are in the store already (sent while the task ran); once
    # `ended`, the rest goes with the result and the flusher leaves them alone.
    flushed = 0
    ended = False
    _kv: StoreKV | None = None
    # The variables the task's properties were rendered with (execution_context()).
    context_variables: Callable[[], Mapping[str, Any]] | None = None

    def __init__(
        self,
        job: Job,
        masker: SecretMasker,
        storage: Storage,
        store: Store | None = None,
        on_log: Callable[[LogRecord], None] | None = None,
        server_url: str | None = None,
        registry: TaskRegistry | None = None,
        plugin_defaults: tuple[PluginDefault, ...] = (),
    ) -> None:
        self.execution_id = job.execution_id
        self.task_run_id = job.task_run_id
        self.attempt = job.attempt
        self.idempotency_key = f"{job.task_run_id}:{job.attempt}"
        payload = job.payload
        self._task_id = self.task_id = str(payload.get("taskId"))
        self.namespace = str(payload.get("namespace", ""))
        self.flow_id = str(payload.get("flowId", ""))
        self._reader_id: str | None = payload.get("originalId")
        self._storage = storage
        self._masker = masker
        self.cancel_event = CancelEvent()
        self.logs: list[LogRecord] = []
        self._log_level: str | None = payload.get("logLevel")
        self._on_log = on_log
        self.started = time.monotonic()
        self.flush_lock = threading.Lock()
        self._store = store
        self._registry = registry
        self._plugin_defaults = plugin_defaults
        self._server_url = server_url

    @property
    def server_url(self) -> str | None:
        return self._server_url

    def read_execution(self, execution_id: str) -> ExecutionView | None:
        if self._store is None:
            raise LannerError("the store is not available to this task")
        execution = self._store.get_execution(execution_id)
        return None if execution is None else view_of(execution)

    @property
    def kv(self) -> StoreKV:
        if self._kv is None:
            if self._store is None:
                raise LannerError("the KV store is not available to this task")
            namespace = self._job_namespace()
            self._kv = StoreKV(self._store, namespace, writer=self.idempotency_key)
        return self._kv

    @property
    def instance(self) -> StoreInstance:
        if self._store is None:
            raise LannerError("the store is not available to this task")
        return StoreInstance(self._store, self._storage, self._registry, self._plugin_defaults)

    def run_task(self, definition: Mapping[str, Any]) -> Outcome:
        if self._registry is None:
            raise LannerError("no task registry is available to this task")
        task_type, task = self._registry.runnable({"id": self.task_id, **definition})
        assert task_type.run is not None  # runnable() checked it
        return task_type.run(task, self)

    def _job_namespace(self) -> str:
        namespace = self.namespace
        if not namespace:  # a job written before jobs carried it
            assert self._store is not None
            execution = self._store.get_execution(self.execution_id)
            if execution is None:
                raise LannerError(f"execution {self.execution_id} is not in the store")
            namespace = execution.namespace
        return namespace

    def render(self, value: Any) -> Any:
        return value

    def execution_context(self) -> Mapping[str, Any]:
        if self.context_variables is None:
            raise LannerError("the execution context is not available to this task here")
        data = context_data(self.context_variables())
        return taint.plain(data) if taint.is_active() else data

    def log(self, level: str, message: str) -> None:
        if not loglevel.kept(level, self._log_level):
            return
        record = LogRecord(
            self.execution_id,
            self._task_id,
            self.task_run_id,
            self.attempt,
            datetime.now(UTC),
            level,
            taint.mask(self._masker.mask(message)),
        )
        self.logs.append(record)
        if self._on_log is not None:
            self._on_log(record)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def wait(self, seconds: float) -> bool:
        return not self.cancel_event.wait(max(seconds, 0.0))

    def _files(self) -> TaskFiles:
        if not self.namespace or not self.flow_id:
            # A job written before jobs carried their flow (an older version's queue).
            raise LannerError("this task run's job does not name its flow: run it again")
        return TaskFiles(
            self._storage,
            self.namespace,
            self.flow_id,
            self.execution_id,
            self._task_id,
            self.task_run_id,
            self._reader_id,
        )

    def flush(self, store: Store) -> None:
        """Send the logs written since the last flush to the store (a running task's)."""
        with self.flush_lock:
            end = len(self.logs)
            if self.ended or end == self.flushed:
                return
            store.append_logs(self.logs[self.flushed : end])
            self.flushed = end

    def take_unsent(self) -> list[LogRecord]:
        """The attempt is over: the logs not sent yet, for its result to carry."""
        with self.flush_lock:
            self.ended = True
            return self.logs[self.flushed :]


class _WorkerLocal(threading.local):
    keeping: bool = False  # this thread is a worker finishing a handed-over job
    kept: Job | None = None  # the job it keeps to run next


@dataclass
class WorkerPool:
    """N worker threads plus one heartbeat thread, in this process."""

    store: Store
    registry: TaskRegistry
    masker: SecretMasker
    storage: Storage
    threads: int = 4
    on_complete: threading.Event = field(default_factory=threading.Event)
    process_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    )
    # Where results of jobs handed over by this process's executor go (they
    # are completed in the executor's next cycle, not by a transaction here).
    # (the last argument: whether its start went to the store as an event)
    on_local_result: Callable[[Job, TaskResult, list[LogRecord], bool], None] | None = None
    # How many handed-over jobs may wait for a thread; None: no bound (one
    # process alone on its store, as `lanner run`, has no one to leave work to).
    prefetch: int | None = 0
    lease_seconds: float = LEASE_SECONDS
    # Watch the store's change counter and wake idle threads when it moves: for
    # a process without an executor of its own, which would otherwise only see
    # new jobs when its threads poll.
    watch: bool = False
    # Claim only the jobs of these executions (a `lanner run`); None: any job.
    scope: RunScope | None = None
    # Called with every log line of a task as it is written (`lanner run`'s live output).
    on_log: Callable[[LogRecord], None] | None = None
    # The configuration's plugin defaults: a flow a task deploys (SyncFlows) is
    # validated with them, as `lanner flows deploy` does.
    plugin_defaults: tuple[PluginDefault, ...] = ()
    # What rendering the children of a one_job task (WorkingDirectory) needs; None: this
    # pool fails such a task.
    children: ChildRuntime | None = None
    # Configuration `server.url`, for the links that notifications send.
    server_url: str | None = None
    # The lock under which this process's executor counts the idle threads (idle())
    # and hands them the jobs it started for them (hand()): its cycle lock.
    hand_lock: threading.Lock | None = None

    def __post_init__(self) -> None:
        # Work for idle threads: a Job handed over already claimed, or _CLAIM
        # when the executor wrote an unclaimed job; a timeout polls the store
        # for jobs written by other processes.
        self._work: queue.SimpleQueue[Job | object] = queue.SimpleQueue()
        self._busy = 0
        self._queued: dict[str, Job] = {}  # handed over, not started: their leases are renewed too
        # Handed-over jobs whose RUNNING state the hand-off's cycle committed.
        self._started: set[str] = set()
        # Handed-over jobs not started yet (no thread was free): the cycle that frees
        # a thread starts one of its execution's (take_backlog), or an idle thread
        # takes one and commits its start event first, as a job claimed from the store.
        self._backlog: deque[Job] = deque()
        self._cancelled: set[str] = set()
        self._stop = threading.Event()
        self._running: dict[str, tuple[Job, _Context]] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._renewed = time.monotonic()  # the last successful lease renewal
        self._claiming = 0  # claims in flight, not yet registered in _running
        # Set by drain(): no new claims; results of tasks stopped by the drain
        # are not reported (their jobs are handed back instead).
        self._draining = threading.Event()
        self._abandoned = threading.Event()
        # A worker thread that drives the executor's cycle for its own result keeps
        # the next job that cycle hands over and runs it itself: a chain of tasks
        # then moves on one thread, without waking another at every step.
        self._local = _WorkerLocal()
        self._tasks = ValidatedTasks()

    def start(self) -> None:
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"lanner-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        hb = threading.Thread(target=self._heartbeat, name="lanner-heartbeat", daemon=True)
        hb.start()
        self._threads.append(hb)
        if self.watch and self.threads:
            w = threading.Thread(target=self._watch, name="lanner-worker-watch", daemon=True)
            w.start()
            self._threads.append(w)
        if self.threads:
            f = threading.Thread(target=self._flush_logs, name="lanner-worker-logs", daemon=True)
            f.start()
            self._threads.append(f)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for _ in range(self.threads):
            self._work.put(_CLAIM)
        with self._lock:
            for _, ctx in self._running.values():
                ctx.cancel_event.set()
        for t in self._threads:
            t.join(timeout)

    def drain(self, grace: float) -> int:
        """Shut down gently (SIGTERM): claim nothing more, give running tasks `grace`
        seconds to finish, then stop the rest and hand their jobs back to the store
        for another worker. Returns how many jobs were handed back."""
        self._draining.set()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            with self._lock:
                if not self._running and not self._queued and not self._claiming:
                    return 0
            self._stop.wait(0.05)
        with self._lock:
            self._abandoned.set()
            leftover = [job for job, _ in self._running.values()] + list(self._queued.values())
            for _, ctx in self._running.values():
                ctx.cancel_event.set()
            self._queued.clear()
            self._backlog.clear()
        if not leftover:
            return 0
        return self.store.release_jobs([job.claim_token for job in leftover])

    def held_executions(self) -> set[str]:
        """The executions whose jobs this pool runs or has queued."""
        with self._lock:
            jobs = [job for job, _ in self._running.values()] + list(self._queued.values())
        return {job.execution_id for job in jobs}

    def jobs_ready(self, count: int) -> None:
        """The executor wrote `count` unclaimed jobs: that many idle threads go claim."""
        for _ in range(count):
            self._work.put(_CLAIM)

    def capacity(self) -> int:
        """How many more jobs this pool takes over now."""
        if self._draining.is_set():
            return 0
        if self.prefetch is None:
            return 1 << 30
        kept = int(self._local.kept is not None)  # this thread's next job, already handed
        with self._lock:
            return max(self.threads + self.prefetch - self._busy - self._work.qsize() - kept, 0)

    def idle(self) -> int:
        """How many threads would start a job handed over now at once (the thread that
        drives the cycle keeps one for itself)."""
        if self._draining.is_set():
            return 0
        kept = int(self._local.kept is not None)
        with self._lock:
            return max(self.threads - self._busy - self._claiming - self._work.qsize() - kept, 0)

    def hand(self, jobs: list[Job], started: int = 0) -> None:
        """Jobs the executor wrote already claimed for this pool; the first `started`
        were made RUNNING by the cycle that handed them over, the others wait in the
        backlog for a thread."""
        local = self._local
        if started == 1 and len(jobs) == 1 and local.keeping and local.kept is None:
            # A chain's step: the one job the thread that drove the cycle runs next.
            job = local.kept = jobs[0]
            with self._lock:
                self._queued[job.task_run_id] = job
                self._started.add(job.task_run_id)
            return
        waiting = jobs[started:]
        jobs = jobs[:started]
        with self._lock:
            for job in (*jobs, *waiting):
                self._queued[job.task_run_id] = job
            self._started.update(job.task_run_id for job in jobs)
            self._backlog.extend(waiting)
            idle = self.threads - self._busy - self._claiming - self._work.qsize() - len(jobs)
        for _ in range(min(len(waiting), max(idle, 0))):
            self._work.put(_BACKLOG)
        if local.keeping and local.kept is None and jobs:
            local.kept = jobs[0]
            jobs = jobs[1:]
        for job in jobs:
            self._work.put(job)

    def take_backlog(self, execution_id: str, count: int) -> list[Job]:
        """Up to `count` waiting jobs of the execution, for its cycle to start."""
        taken: list[Job] = []
        with self._lock:
            for job in self._backlog:
                if len(taken) == count:
                    break
                if job.execution_id == execution_id:
                    taken.append(job)
            for job in taken:
                self._backlog.remove(job)
        return taken

    def return_backlog(self, jobs: list[Job]) -> None:
        """Jobs from take_backlog whose cycle failed: they wait again, first in line."""
        with self._lock:
            self._backlog.extendleft(reversed(jobs))
        for _ in jobs:
            self._work.put(_BACKLOG)

    def _next_backlog(self) -> Job | None:
        with self._lock:
            return self._backlog.popleft() if self._backlog else None

    def _loop(self) -> None:
        while not self._stop.is_set():
            item: Job | object | None
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                # A thread back from a job takes a waiting one before it sleeps.
                item = self._next_backlog()
            if item is None:
                try:
                    item = self._work.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    item = _CLAIM
            if self._stop.is_set():
                return
            try:
                if item is _BACKLOG:
                    item = self._next_backlog()
                    if item is None:
                        continue
                if isinstance(item, Job):
                    self._run_chain(item)
                    continue
                # A thread that found a job looks for the next one at once: the
                # queue may hold more than the wake-ups said.
                while not self._draining.is_set() and not self._stop.is_set():
                    if not self._claim_and_run():
                        break
            except LannerError as exc:
                # The store is unreachable or locked for now: the job's lease
                # lets another worker (or this one, later) take it over.
                log.warning("%s", exc.message)
                self._stop.wait(0.5)

    def _claim_and_run(self) -> bool:
        # Counted from before the claim until the job is registered as running,
        # so that drain() never takes a claim in flight for an idle pool.
        with self._lock:
            self._claiming += 1
        if self.hand_lock is not None:
            item = self._after_hand_off()
            if item is not _CLAIM:
                with self._lock:
                    self._claiming -= 1
                if isinstance(item, Job):
                    self._run_chain(item)
                return False
        jobs: list[Job] = []
        try:
            now = datetime.now(UTC)
            scope = None if self.scope is None else self.scope.ids
            jobs = self.store.claim_jobs(self.process_id, 1, self.lease_seconds, now, scope)
        finally:
            if not jobs:  # nothing claimed (or the claim failed): nothing in flight
                with self._lock:
                    self._claiming -= 1
        if jobs:
            self._wake_one()  # there may be more: the next idle thread looks
        for job in jobs:
            self.run_job(job, claimed=True)
        return bool(jobs)

    def _after_hand_off(self) -> Job | object:
        """What a thread about to claim from the store (counted as claiming already)
        takes instead: a job that a cycle handed over, or one waiting in the backlog;
        else _CLAIM.

        A cycle may have counted this thread idle, and made a job RUNNING for it, just
        before it went to claim for a reason the cycle did not count (its poll of the
        store ran out, another thread's claim or another executor woke it). Had it
        claimed at once, that job would wait in the queue, RUNNING, while this thread
        runs one from the store. A cycle counts the idle threads and hands them their
        jobs under the cycle lock: once no cycle holds it, what a cycle that counted
        this thread left for it is in the queue; later cycles count it as claiming."""
        assert self.hand_lock is not None
        if self.hand_lock.locked():
            with self.hand_lock:  # wait for the cycle's hand-off
                pass
        try:
            item = self._work.get_nowait()
        except queue.Empty:
            item = _BACKLOG
        if item is _BACKLOG:
            job = self._next_backlog()
            return _CLAIM if job is None else job
        return item

    def _wake_one(self) -> None:
        """Send one idle thread to claim, unless one is on its way already.

        One at a time: each thread that claims a job wakes the next, and one
        that finds none stops there. Waking every idle thread at each change
        of the store made a claim per thread per commit, nearly all of them
        empty, and on PostgreSQL those claims were most of the server's work.
        """
        with self._lock:
            idle = self.threads - self._busy - self._claiming
        if idle > 0 and self._work.qsize() == 0:
            self._work.put(_CLAIM)

    def _run_chain(self, job: Job) -> None:
        """Run a handed-over job, then each job kept from the cycles it drove."""
        local = self._local
        next_job: Job | None = job
        while next_job is not None:
            local.keeping = True
            try:
                self.run_job(next_job, local=True)
            except BaseException:
                if local.kept is not None:
                    self._work.put(local.kept)  # not lost: another thread (or this one) runs it
                raise
            finally:
                local.keeping = False
                next_job, local.kept = local.kept, None
            if self._stop.is_set() and next_job is not None:
                # Left to the lease reaper, like the jobs still in the queue.
                return

    def run_job(self, job: Job, *, local: bool = False, claimed: bool = False) -> None:
        ctx = _Context(
            job,
            self.masker,
            self.storage,
            self.store,
            self.on_log,
            self.server_url,
            self.registry,
            self.plugin_defaults,
        )
        ctx.context_variables = lambda: self._variables(job)
        with self._lock:
            self._claiming -= claimed
            abandoned = self._abandoned.is_set()
            if not abandoned:
                self._busy += 1
                self._queued.pop(job.task_run_id, None)
                self._running[job.task_run_id] = (job, ctx)
                if job.task_run_id in self._cancelled:
                    self._cancelled.discard(job.task_run_id)
                    ctx.cancel_event.set()  # killed while it waited in the queue
                prestarted = job.task_run_id in self._started
                if prestarted:
                    self._started.discard(job.task_run_id)
        if abandoned:
            # drain() handed back what it found; a claim that was in flight then
            # goes back here (a token already released matches nothing).
            self.store.release_jobs([job.claim_token])
            return
        # RUNNING is committed before the task's code runs: by the cycle that handed the
        # job over or found it a thread, or else (a job claimed from the store, or one
        # that waited in the backlog) as a fenced start event, which the next cycle of
        # the execution applies before the task's result.
        if not prestarted and not (local and ctx.cancelled):
            # Fenced: a claim lost before the task starts runs nothing.
            started = eventcodec.encode(
                job.execution_id,
                TaskStarted(job.task_run_id, job.attempt),
                datetime.now(UTC),
                f"started:{job.task_run_id}:{job.attempt}:{job.claims}",
            )
            ok = False
            try:
                ok = self.store.job_started(job, started)
            finally:
                if not ok:  # lost claim or store error: this attempt does not run here
                    with self._lock:
                        self._busy -= 1
                        self._running.pop(job.task_run_id, None)
            if not ok:
                return
            self.on_complete.set()
        timeout = job.payload.get("timeout")
        timer = None
        if timeout is not None:

            def expire() -> None:
                ctx.timed_out = True
                ctx.cancel_event.set()

            timer = threading.Timer(float(timeout), expire)
            timer.daemon = True
            timer.start()
        task_type: TaskType | None = None
        try:
            crash_point("worker.mid_task")
            task_type = self.registry.get(str(job.payload.get("type")))
            outcome = self._execute(job, ctx, task_type)
        finally:
            if timer is not None:
                timer.cancel()
            ctx.close()
            with self._lock:
                self._busy -= 1
                self._running.pop(job.task_run_id, None)
        if ctx.timed_out:
            message = f"Timeout after {hms(timedelta(seconds=float(timeout or 0)))}"
            ctx.log("ERROR", message)
            outcome = Outcome(State.FAILED, error=message, error_type="Timeout")
        elif ctx.cancelled and outcome.state is not State.FAILED:
            outcome = Outcome(State.KILLED)
        masked = taint.mask(self.masker.mask(outcome.error)) if outcome.error else None
        if (
            outcome.state is State.FAILED
            and masked
            and not any(r.level == "ERROR" and r.message == masked for r in ctx.logs)
        ):
            ctx.log("ERROR", masked)
        # Outputs keep secret values (downstream tasks need them), tainted when they
        # hold one this task was given: sealed in the store, masked in displays.
        result = TaskResult(
            job.task_run_id,
            job.attempt,
            outcome.state,
            taint.retaint(dict(outcome.outputs)),
            masked,
            outcome.error_type,
        )
        if self._abandoned.is_set() and ctx.cancelled:
            return  # stopped by the shutdown: drain() hands the job back
        logs = ctx.take_unsent()
        if local and self.on_local_result is not None:
            # A one_job task's children reported to the store as they ran: the cycle
            # of its result must apply those reports first.
            one_job = task_type is not None and task_type.model.behaviour.one_job
            self.on_local_result(job, result, logs, not prestarted or one_job)
        else:
            key = eventcodec.result_key(job.task_run_id, job.attempt)
            event = eventcodec.encode(job.execution_id, result, datetime.now(UTC), key)
            crash_point("worker.before_complete")
            if not self.store.complete_job(job, event, logs):
                # Its lease expired and the job went to another worker (or the
                # execution moved on): this late result must reach no one.
                log.warning(
                    "result of task run %s attempt %d dropped: its claim was lost",
                    job.task_run_id,
                    job.attempt,
                )
            crash_point("worker.after_complete")
            self.on_complete.set()

    def _execute(self, job: Job, ctx: _Context, task_type: TaskType | None) -> Outcome:
        """Run the task of `job`, whose type is `task_type` (None: not installed)."""
        type_name = str(job.payload.get("type"))
        if task_type is None or task_type.run is None:
            return Outcome(
                State.FAILED,
                error=f"task type {type_name} is not installed on this worker",
                error_type="UnknownTaskType",
            )
        if ctx.cancelled:
            return Outcome(State.KILLED)
        try:
            if task_type.model.behaviour.one_job:
                return self._run_children(job, ctx)
            properties: Mapping[str, Any] = job.payload.get("properties") or {}
            if taint.is_active():
                # The task gets plain text; a value this process cannot decrypt fails it.
                properties = taint.plain(properties)
            task = self._tasks.validate(
                task_type,
                type_name,
                job.payload.get("taskId"),
                properties,
                ctx.working_directory,
            )
            return task_type.run(task, ctx)
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
            )
            return Outcome(
                State.FAILED,
                error=f"invalid rendered properties: {details}",
                error_type="InvalidProperties",
            )
        except LannerError as exc:
            return Outcome(State.FAILED, error=exc.message, error_type=type(exc).__name__)
        except Exception as exc:  # a task's bug fails its attempt, never the worker
            return Outcome(
                State.FAILED, error=f"{type(exc).__name__}: {exc}", error_type=type(exc).__name__
            )

    def _variables(self, job: Job) -> Mapping[str, Any]:
        """The variables a job's properties were rendered with, read again from the store."""
        from lanner.runtime.jobchildren import job_variables

        if self.children is None:
            raise LannerError("the execution context is not available on this worker")
        return job_variables(self.store, self.children, job)

    def _run_children(self, job: Job, ctx: _Context) -> Outcome:
        """The job of a one_job task (WorkingDirectory): its children, in this thread."""
        from lanner.runtime.jobchildren import JobChildren  # loaded by such a job only

        if self.children is None:
            raise LannerError(f"this worker cannot run a {job.payload.get('type')} task")
        return JobChildren(
            job,
            ctx,
            self.children,
            self.store,
            self.registry,
            self.masker,
            lambda child: _Context(
                child, self.masker, self.storage, self.store, self.on_log, self.server_url
            ),
            on_started=self.on_complete.set,
            storage=self.storage,
        ).run()

    def cancel(self, task_run_ids: list[str]) -> None:
        """In-process shortcut for a kill decided by an executor in this process."""
        with self._lock:
            for task_run_id in task_run_ids:
                entry = self._running.get(task_run_id)
                if entry is not None:
                    entry[1].cancel_event.set()
                else:
                    self._cancelled.add(task_run_id)  # it may still wait in the queue

    def _flush_logs(self) -> None:
        """Send the logs of tasks running for a while to the store as they come."""
        while not self._stop.wait(LIVE_LOG_SECONDS):
            now = time.monotonic()
            with self._lock:
                running = [ctx for _, ctx in self._running.values()]
            for ctx in running:
                if now - ctx.started < LIVE_LOG_SECONDS or len(ctx.logs) == ctx.flushed:
                    continue
                try:
                    ctx.flush(self.store)
                except Exception as exc:  # never the thread's end: the result carries them
                    message = exc.message if isinstance(exc, LannerError) else repr(exc)
                    log.warning("cannot write the logs of a running task: %s", message)
                    break

    def _watch(self) -> None:
        seen = None
        while not self._stop.wait(WATCH_SECONDS):
            try:
                version = self.store.data_version()
            except LannerError:
                continue  # the claim loop reports the store's errors
            if version == seen:
                continue
            seen = version
            self._wake_one()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS / 4):
            try:
                self.check_cancellations()
            except LannerError as exc:
                log.warning("cannot renew leases: %s", exc.message)
                if time.monotonic() - self._renewed > self.lease_seconds:
                    # The leases ran out: the reaper may hand these jobs to another
                    # worker, so this one stops its tasks rather than run them twice.
                    with self._lock:
                        for _, ctx in self._running.values():
                            ctx.cancel_event.set()

    def check_cancellations(self) -> None:
        with self._lock:
            running = list(self._running.values())
            queued = list(self._queued.values())
        if not running and not queued:
            self._renewed = time.monotonic()  # nothing held: nothing can run out
            return
        tokens = [job.claim_token for job, _ in running] + [job.claim_token for job in queued]
        crash_point("heartbeat.before_commit")
        renewal = self.store.renew_leases(
            self.process_id, tokens, self.lease_seconds, datetime.now(UTC)
        )
        crash_point("heartbeat.after_commit")
        self._renewed = time.monotonic()
        for job, ctx in running:
            # A lost claim (re-queued by the reaper) is another worker's now: stop.
            if job.task_run_id in renewal.cancelled or job.claim_token in renewal.lost:
                ctx.cancel_event.set()
