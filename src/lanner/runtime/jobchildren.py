"""The job of a one_job task (WorkingDirectory) on a worker: its children run one
after the other, in one working directory, in this job (docs/tasks-workdir.md).

The worker renders each child's properties itself, as the executor renders a
task's at dispatch (the same variables, built from the execution as the store
holds it when the job starts), plus the outputs of the children this job ran
before it, so that a child reads `outputs.previous.*`. Each child's start and
end go to the store as `ChildStarted` / `ChildResult` events, fenced by the
job's claim exactly as a job's own start is (`Store.job_started`): a worker
that lost its claim writes nothing, and stops. Its logs go with the job's.

A child that fails (and does not allow failure) ends the `tasks`: the children
after it do not run, the task's own `errors` run, then its `finally` (always,
but after a kill or a timeout), each in the same directory; the one_job task
FAILS with the child's error, whatever its handlers do. Its `cache` is put back
in the directory first and written once everything succeeded. When the job
runs again (a lost worker, a retry), it starts over in a new directory.
"""

from __future__ import annotations

import random
import secrets as random_bits
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from lanner.engine.events import ChildResult, ChildStarted, Event
from lanner.engine.execution import (
    Attempt,
    ErrorInfo,
    Execution,
    History,
    Phase,
    TaskRun,
    evolve,
    task_run_id,
)
from lanner.engine.flowindex import FlowIndex
from lanner.engine.planner import own_properties
from lanner.engine.timefmt import hms
from lanner.engine.variables import (
    error_log,
    execution_variables,
    task_variables,
    with_working_dir,
)
from lanner.errors import LannerError
from lanner.expr import Scope, SecretMasker, is_truthy, taint
from lanner.model.common import parse_duration
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskRegistry
from lanner.runtime import eventcodec
from lanner.runtime.cancel import CancelEvent
from lanner.runtime.childruntime import ChildRuntime
from lanner.runtime.crashpoints import crash_point
from lanner.runtime.kvreader import CycleKV
from lanner.runtime.workdircache import DirectoryCache
from lanner.storage import Storage
from lanner.store.base import Job, LogRecord, Store
from lanner.tasks.core.workdir import Cache
from lanner.tasks.scripts.files import (
    input_files_map,
    store_output_files,
    write_input_files,
    write_namespace_files,
)
from lanner.tasks.scripts.model import NamespaceFiles

WORKING_DIR = "workingDir"  # Kestra's variable: the task's working directory
WORKER_TASKRUN = "workerTaskrun"  # Kestra's variable: the WorkingDirectory's `taskrun`


class AttemptContext(TaskContext, Protocol):
    """The worker's context of one attempt, as this module uses it."""

    cancel_event: CancelEvent
    timed_out: bool
    logs: list[LogRecord]
    context_variables: Callable[[], Mapping[str, Any]] | None

    def use_directory(self, path: Path) -> None: ...


def parent_tasks(parent: Task) -> list[Task]:
    """The tasks a one_job task's job runs first: its main lists, in order."""
    return [t for name in parent.behaviour.children for t in getattr(parent, name) or ()]


def handler_tasks(parent: Task, name: str | None) -> list[Task]:
    """A one_job task's own `errors` or `finally` list (`name`: its property)."""
    return list(getattr(parent, name) or ()) if name is not None else []


@dataclass
class _ListRun:
    """How one list of the job went."""

    worst: State = State.SUCCESS  # SUCCESS or WARNING, once allowFailure is applied
    failure: tuple[Outcome, ErrorInfo] | None = None  # the first task that FAILED
    stopped: bool = False  # killed, timed out, or the claim is lost


def job_variables(store: Store, runtime: ChildRuntime, job: Job) -> dict[str, Any]:
    """The variables of a job's task run, as the executor rendered its properties with
    them (the execution as the store holds it now)."""
    execution = store.get_execution(job.execution_id)
    if execution is None:
        raise LannerError(f"execution {job.execution_id} is not in the store")
    flow, _ = runtime.flows.flow(execution.namespace, execution.flow_id, execution.flow_revision)
    variables = execution_variables(flow, execution, runtime.envs)
    run = execution.task_runs.get(job.task_run_id)
    if run is not None:
        task = FlowIndex(flow).task(run.task_id)
        variables = task_variables(variables, execution, run, task)
    return variables


@dataclass
class JobChildren:
    """One run of a one_job task's job."""

    job: Job
    ctx: AttemptContext
    runtime: ChildRuntime
    store: Store
    registry: TaskRegistry
    masker: SecretMasker
    new_context: Callable[[Job], AttemptContext]
    on_started: Callable[[], None] = lambda: None  # an event went to the store
    storage: Storage | None = None  # the internal storage, for the `cache`

    def run(self) -> Outcome:
        job = self.job
        execution = self.store.get_execution(job.execution_id)
        if execution is None:
            raise LannerError(f"execution {job.execution_id} is not in the store")
        flow, _ = self.runtime.flows.flow(
            execution.namespace, execution.flow_id, execution.flow_revision
        )
        parent = FlowIndex(flow).task(str(job.payload.get("taskId")))
        properties = dict(job.payload.get("properties") or {})
        if taint.is_active():
            properties = taint.plain(properties)
        directory = self.ctx.working_directory()
        properties = with_working_dir(properties, lambda: directory)
        cache = self._cache(execution, parent.id, properties.get("cache"))
        if cache is not None:
            self._cache_step(cache.restore, directory, "restored")
        if properties.get("namespaceFiles") is not None:
            spec = NamespaceFiles.model_validate(properties["namespaceFiles"])
            write_namespace_files(spec, directory, self.ctx)
        write_input_files(input_files_map(properties.get("inputFiles")), directory, self.ctx)
        runs = dict(execution.task_runs)
        main = self._run_list(
            execution, runs, parent_tasks(parent), directory, Phase.MAIN, stop_on_failure=True
        )
        if main.stopped:
            return Outcome(State.KILLED)
        failure = main.failure
        if failure is not None:
            if execution.error is None:  # `{{ error.* }}` in the handlers: this failure
                execution = evolve(execution, error=failure[1])
            errors = self._run_list(
                execution,
                runs,
                handler_tasks(parent, parent.behaviour.errors),
                directory,
                Phase.ERRORS,
                stop_on_failure=False,
            )
            if errors.stopped:
                return Outcome(State.KILLED)
        finally_ = self._run_list(
            execution,
            runs,
            handler_tasks(parent, parent.behaviour.finally_),
            directory,
            Phase.FINALLY,
            stop_on_failure=False,
        )
        if finally_.stopped:
            return Outcome(State.KILLED)
        if failure is not None:
            # The handlers change nothing to the state: it comes from the `tasks` only.
            outcome = failure[0]
            return Outcome(
                State.FAILED,
                error=outcome.error or "Task failed",
                error_type=outcome.error_type or "TaskFailure",
            )
        outputs: dict[str, Any] = {}
        globs = properties.get("outputFiles")
        if globs:
            outputs["outputFiles"] = store_output_files(list(globs), directory, self.ctx)
        if cache is not None:
            self._cache_step(cache.save, directory, "written")
        return Outcome(main.worst, outputs)

    def _cache(
        self, execution: Execution, task_id: str, spec: Mapping[str, Any] | None
    ) -> DirectoryCache | None:
        if spec is None:
            return None
        if self.storage is None:
            raise LannerError("this worker has no internal storage for the WorkingDirectory cache")
        cache = Cache.model_validate(spec)
        run = execution.task_runs.get(self.job.task_run_id)
        return DirectoryCache.of(
            self.storage,
            execution.namespace,
            execution.flow_id,
            task_id,
            run.value if run is not None else None,
            cache.patterns,
            parse_duration(cache.ttl) if cache.ttl is not None else None,
            self.ctx.log,
        )

    def _cache_step(self, step: Callable[[Path], object], directory: Path, what: str) -> None:
        # The cache only saves time: a storage that fails it (S3 unreachable, a full
        # disk) leaves the run going, as Kestra's post-execution step does.
        try:
            step(directory)
        except Exception as exc:
            message = taint.mask(self.masker.mask(f"{type(exc).__name__}: {exc}"))
            self.ctx.log("WARN", f"The cache could not be {what}: {message}")

    def _run_list(
        self,
        execution: Execution,
        runs: dict[str, TaskRun],
        tasks: list[Task],
        directory: Path,
        phase: Phase,
        *,
        stop_on_failure: bool,
    ) -> _ListRun:
        """Run `tasks` in order; the `tasks` list stops at its first failure, a handler
        list goes on (§0 decision 2). A kill or a lost claim stops either."""
        done = _ListRun()
        for child in tasks:
            if child.disabled:
                continue
            if self.ctx.cancelled:
                done.stopped = True
                return done
            outcome, state, run = self._child(execution, runs, child, directory, phase)
            if run is None:  # the claim is lost: this job's run is over
                done.stopped = True
                return done
            runs[run.id] = run
            if state is State.KILLED:
                done.stopped = True
                return done
            if state is State.FAILED:
                if done.failure is None:
                    # As the store's error context holds it (engine/onejob.py): masked.
                    message = taint.mask(self.masker.mask(outcome.error or "Task failed"))
                    info = ErrorInfo(message, outcome.error_type or "TaskFailure", child.id, run.id)
                    done.failure = (outcome, info)
                if stop_on_failure:
                    return done
            if state is State.WARNING:
                done.worst = State.WARNING
        return done

    # -- one child ---------------------------------------------------------------------
    def _child(
        self,
        execution: Execution,
        runs: dict[str, TaskRun],
        child: Task,
        directory: Path,
        phase: Phase,
    ) -> tuple[Outcome, State, TaskRun | None]:
        """Run one child, again while its own `retry` says so; its outcome, its state
        as the flow sees it (allowFailure applied), and its task run as later children
        see it (None: claim lost, or stopped while waiting for a retry)."""
        tries = 0
        first_start: datetime | None = None
        while True:
            tries += 1
            outcome, run, retry_in = self._attempt(
                execution, runs, child, directory, phase, tries, first_start
            )
            if run is None:
                return outcome, State.KILLED, None
            if retry_in is None:
                break
            first_start = first_start or run.attempts[-1].histories[0].date
            runs[run.id] = run
            if self.ctx.cancel_event.wait(retry_in.total_seconds()):
                return Outcome(State.KILLED), State.KILLED, None
        state = outcome.state
        if state is State.FAILED and child.allowFailure:
            state = State.WARNING
        if state is State.SUCCESS and tries > 1 and child.retry and child.retry.warningOnRetry:
            state = State.WARNING
        if state is State.WARNING and child.allowWarning:
            state = State.SUCCESS
        return outcome, state, evolve(run, state=state, outputs=run.outputs)

    def _attempt(
        self,
        execution: Execution,
        runs: dict[str, TaskRun],
        child: Task,
        directory: Path,
        phase: Phase,
        tries: int,
        first_start: datetime | None,
    ) -> tuple[Outcome, TaskRun | None, timedelta | None]:
        """One attempt of a child; its outcome, its task run (None: the claim is lost),
        and how long to wait before the next attempt (None: no retry)."""
        job = self.job
        if not self._send(ChildStarted(job.task_run_id, job.attempt, job.claims, child.id), tries):
            return Outcome(State.KILLED), None, None
        crash_point("worker.mid_child")
        run_id = task_run_id(execution.id, job.task_run_id, child.id, None, None, 0)
        before = runs.get(run_id)
        now = datetime.now(UTC)
        attempt = len(before.attempts) + 1 if before else 1
        run = TaskRun(
            id=run_id,
            execution_id=execution.id,
            task_id=child.id,
            parent_id=job.task_run_id,
            value=None,
            iteration=None,
            phase=phase,
            seq=before.seq if before else len(runs),
            state=State.RUNNING,
            histories=(History(State.RUNNING, now),),
            attempts=(
                *(before.attempts if before else ()),
                Attempt(State.RUNNING, (History(State.RUNNING, now),)),
            ),
        )
        child_job = replace(
            job,
            task_run_id=run_id,
            attempt=attempt,
            payload={
                "taskId": child.id,
                "type": child.type,
                "namespace": execution.namespace,
                "flowId": execution.flow_id,
                "logLevel": child.logLevel,
            },
        )
        ctx = self.new_context(child_job)
        ctx.logs = self.ctx.logs  # the job's logs: sent while it runs, and with its result
        ctx.use_directory(directory)
        self.ctx.cancel_event.link(ctx.cancel_event)
        try:
            outcome = self._execute(child, ctx, evolve(execution, task_runs=runs), run, directory)
        finally:
            self.ctx.cancel_event.unlink(ctx.cancel_event)
        masked = taint.mask(self.masker.mask(outcome.error)) if outcome.error else None
        if outcome.state is State.FAILED and masked:
            ctx.log("ERROR", masked)
        outputs = taint.retaint(dict(outcome.outputs))
        retry_in = None
        if outcome.state is State.FAILED and child.retry is not None and not self.ctx.cancelled:
            start = first_start or now
            retry_in = self._retry_delay(child, ctx, execution, runs, run, tries, start)
        result = ChildResult(
            job.task_run_id,
            job.attempt,
            job.claims,
            child.id,
            outcome.state,
            outputs,
            masked,
            outcome.error_type,
            retrying=retry_in is not None,
        )
        if not self._send(result, tries):
            return outcome, None, None
        if retry_in is not None:
            ctx.log("INFO", f"Retrying in {hms(retry_in)} (attempt {tries + 1})")
        ended = Attempt(outcome.state, (*run.attempts[-1].histories, History(outcome.state, now)))
        run = evolve(run, attempts=(*run.attempts[:-1], ended), outputs=outputs or None)
        return outcome, run, retry_in

    def _retry_delay(
        self,
        child: Task,
        ctx: AttemptContext,
        execution: Execution,
        runs: dict[str, TaskRun],
        run: TaskRun,
        tries: int,
        first_start: datetime,
    ) -> timedelta | None:
        """The wait before the next attempt of a child whose attempt `tries` (of this job
        run) failed, as the planner decides it for a task of its own: None once
        `maxAttempts` attempts were made or `maxDuration` would be passed."""
        policy = child.retry
        if policy is None:
            return None
        max_attempts = policy.maxAttempts
        if isinstance(max_attempts, str):
            try:
                scope = self._scope(evolve(execution, task_runs=runs), run, child, Path("."))
                max_attempts = int(str(self.runtime.engine().render(max_attempts, scope)))
            except (LannerError, ValueError) as exc:
                why = exc.message if isinstance(exc, LannerError) else str(exc)
                ctx.log("ERROR", f"retry maxAttempts is not an integer ({why}); not retried")
                return None
        if max_attempts is not None and tries >= max_attempts:
            return None
        draw = random.Random(f"{self.job.task_run_id}:{child.id}:{tries}").random()
        delay: timedelta = policy.delay(tries, draw)
        limit = parse_duration(policy.maxDuration) if policy.maxDuration is not None else None
        if limit is not None and datetime.now(UTC) + delay > first_start + limit:
            return None
        return delay

    def _execute(
        self, child: Task, ctx: AttemptContext, execution: Execution, run: TaskRun, directory: Path
    ) -> Outcome:
        task_type = self.registry.get(child.type)
        if task_type is None or task_type.run is None:
            return Outcome(
                State.FAILED,
                error=f"task type {child.type} is not installed on this worker",
                error_type="UnknownTaskType",
            )
        timer: threading.Timer | None = None
        try:
            scope = self._scope(execution, run, child, directory)
            ctx.context_variables = lambda: scope.variables
            engine = self.runtime.engine()
            if child.runIf.strip() != "true" and not is_truthy(engine.render(child.runIf, scope)):
                return Outcome(State.SKIPPED)
            properties = engine.render_value(own_properties(child), scope)
            if taint.is_active():
                properties = taint.plain(properties)
            timeout = None
            if child.timeout is not None:
                text = str(engine.render_value(child.timeout, scope))
                timeout = parse_duration(text).total_seconds()
            task = task_type.model.model_validate(
                {"id": child.id, "type": child.type, **properties}
            )
            if timeout is not None:

                def expire() -> None:
                    ctx.timed_out = True
                    ctx.cancel_event.set()

                timer = threading.Timer(timeout, expire)
                timer.daemon = True
                timer.start()
            # A timer that fired before the task began (a loaded machine) is a timeout too.
            outcome = Outcome(State.KILLED) if ctx.cancelled else task_type.run(task, ctx)
            if ctx.timed_out:
                message = f"Timeout after {hms(timedelta(seconds=timeout or 0))}"
                return Outcome(State.FAILED, error=message, error_type="Timeout")
            if ctx.cancelled and outcome.state is not State.FAILED:
                return Outcome(State.KILLED)
            return outcome
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
        except ValueError as exc:  # a rendered timeout that is no duration
            return Outcome(State.FAILED, error=str(exc), error_type="RenderError")
        except Exception as exc:  # a task's bug fails its attempt, never the worker
            return Outcome(
                State.FAILED, error=f"{type(exc).__name__}: {exc}", error_type=type(exc).__name__
            )
        finally:
            if timer is not None:
                timer.cancel()

    def _scope(self, execution: Execution, run: TaskRun, child: Task, directory: Path) -> Scope:
        flow, _ = self.runtime.flows.flow(
            execution.namespace, execution.flow_id, execution.flow_revision
        )
        variables = execution_variables(flow, execution, self.runtime.envs)
        variables = task_variables(variables, execution, run, child)
        job_run = execution.task_runs.get(self.job.task_run_id)
        if job_run is not None:
            # As Kestra: `workerTaskrun` is the WorkingDirectory's own `taskrun`, and a
            # child in a loop reads the loop's value as its `taskrun.value`.
            worker = task_variables({}, execution, job_run, child)["taskrun"]
            variables[WORKER_TASKRUN] = worker
            if "value" in worker:
                variables["taskrun"] = {**variables["taskrun"], "value": worker["value"]}
        variables[WORKING_DIR] = str(directory)
        now = datetime.now(UTC)
        store = self.store

        def error_logs() -> list[Mapping[str, Any]]:
            return [
                error_log(execution, r.task_id, r.task_run_id, r.attempt, r.timestamp, r.message)
                for r in store.iter_error_logs(execution.id)
            ]

        files = self.runtime.files
        return Scope(
            variables=variables,
            now=now,
            seed=random_bits.randbits(32),
            secrets=self.runtime.secrets,
            on_secret=self.masker.add,
            error_logs=error_logs,
            task_id=child.id,
            kv=CycleKV(store, now),
            files=files(execution.namespace, execution.flow_id, execution.id) if files else None,
        )

    def _send(self, event: Event, tries: int = 1) -> bool:
        """Write a child's event if this worker still holds the job's claim; `tries`:
        which attempt of the child in this run of the job (its retries)."""
        job = self.job
        key = f"child:{job.task_run_id}:{job.attempt}:{job.claims}:{type(event).__name__}"
        task_id = getattr(event, "task_id", "")
        if tries > 1:
            task_id = f"{task_id}:{tries}"
        encoded = eventcodec.encode(job.execution_id, event, datetime.now(UTC), f"{key}:{task_id}")
        sent = self.store.job_started(job, encoded)
        if sent:
            self.on_started()
        return sent
