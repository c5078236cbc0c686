"""The pure planner: given a flow, an execution and events, what happens next.

`Planner.plan(execution, events, context)` applies the events, then runs
passes of SPEC §3.8's reference loop until nothing changes, and returns the
new execution with the commands to carry out. It does no I/O, reads no
clock (``context.now``) and draws no randomness but from ``context.seed``;
task-run ids are deterministic, so replaying a cycle computes the same rows.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from heapq import heapify, heappop
from typing import Any

from lanner.engine import (
    childfailure,
    control,
    dag,
    flowoutputs,
    foreachitem,
    inline,
    listeners,
    newexecutionretry,
    onejob,
    pause,
    restart,
    sla,
    subflow,
    until,
)
from lanner.engine.containers import (
    NewChild,
    Summary,
    all_terminated,
    loop_next,
    loop_parallel_next,
    parallel_next,
    select,
    sequential_next,
)
from lanner.engine.cycle import ROOT_ERRORS, ROOT_FINALLY, ROOT_MAIN, Cycle, PlanContext
from lanner.engine.events import (
    Cancel,
    ChildResult,
    ChildStarted,
    Decision,
    Dispatch,
    Event,
    ForceRun,
    Kill,
    LogLine,
    LoopDue,
    MarkTaskRun,
    Restart,
    RetryDue,
    SetLabels,
    SlaDue,
    Start,
    TaskResult,
    TaskStarted,
    TimeoutDue,
    Timer,
    UserPause,
)
from lanner.engine.execution import (
    Attempt,
    ErrorInfo,
    Execution,
    History,
    Phase,
    TaskRun,
    attempt_base,
    evolve,
    generation,
    task_run_id,
)
from lanner.engine.flowindex import FlowIndex
from lanner.engine.timefmt import hms
from lanner.engine.variables import error_log, execution_variables, task_variables
from lanner.errors import LannerError, RenderError
from lanner.expr import ExpressionEngine, Scope, is_truthy
from lanner.model import inputvalues as iv
from lanner.model.behaviour import Choice, Order, StateRule
from lanner.model.common import format_duration, parse_duration
from lanner.model.states import State, final_state
from lanner.model.task import RetryBehavior, Task, TaskKind

# Properties every task has; what is left are the task type's own, rendered at dispatch.
_COMMON = frozenset(
    {
        "id",
        "type",
        "description",
        "disabled",
        "runIf",
        "allowFailure",
        "allowWarning",
        "retry",
        "timeout",
        "logLevel",
        "logToFile",
        "workerGroup",
        "taskCache",
        "version",
        "pluginDefaultsRef",
        "assets",
    }
)


class LoopCursor:
    """Where the complete value groups of a ForEach end, so that a pass looks only
    at the groups still going. An acceleration only: groups never become
    incomplete again, so skipping them changes no decision."""

    __slots__ = ("first", "index", "pos", "runs")

    def __init__(self, values: list[str]) -> None:
        self.first = 0  # index of the first value whose group is not complete
        self.pos = 0  # position, among the loop's task runs, of that group's first run
        self.index = {v: i for i, v in enumerate(values)}
        # The task-run map it was last advanced over. A plan from any other map (a
        # stale or replayed execution) starts again from the first group.
        self.runs: Mapping[str, TaskRun] | None = None

    def valid_for(self, *maps: Mapping[str, TaskRun]) -> LoopCursor:
        if not any(self.runs is m for m in maps):
            self.first = self.pos = 0
        return self

    def advance(self, first: int, ids: Sequence[str], runs: Mapping[str, TaskRun]) -> None:
        self.runs = runs
        if first <= self.first:
            return
        self.first = first
        pos = self.pos
        while pos < len(ids) and self.index.get(runs[ids[pos]].value or "", first) < first:
            pos += 1
        self.pos = pos


class Planner:
    """One per flow revision; reusable by one executor thread at a time."""

    def __init__(self, flow_index: FlowIndex, engine: ExpressionEngine) -> None:
        self.index = flow_index
        self.engine = engine
        self._cursors: dict[str, LoopCursor] = {}
        self._properties: dict[str, dict[str, Any]] = {}
        self._templated: dict[str, bool] = {}
        # _Cycle.unstarted, by the Parallel's task run id: (its list, the list's length,
        # the tasks, those without a task run). The list is held, so its id is not reused.
        self._unstarted: dict[str, tuple[Sequence[str], int, tuple[Task, ...], list[Task]]] = {}

    def properties(self, task: Task) -> dict[str, Any]:
        """A task type's own properties, as the job carries them before rendering."""
        found = self._properties.get(task.id)
        if found is None:
            found = self._properties[task.id] = own_properties(task)
        return found

    def templated(self, task: Task) -> bool:
        """Whether `properties(task)` hold a template (`_has_template`, once per task)."""
        found = self._templated.get(task.id)
        if found is None:
            found = self._templated[task.id] = _has_template(self.properties(task))
        return found

    def cursor(self, task_run_id: str, values: list[str]) -> LoopCursor:
        found = self._cursors.get(task_run_id)
        if found is None:
            if len(self._cursors) > 10_000:  # loops of finished executions
                self._cursors.clear()
            found = self._cursors[task_run_id] = LoopCursor(values)
        return found

    def plan(
        self,
        execution: Execution,
        events: Iterable[Event],
        context: PlanContext,
        *,
        consume: bool = False,
    ) -> Decision:
        """`consume`: the caller gives `execution` up (the executor, whose cached copy
        it is): its task-run map is updated in place instead of copied, which keeps a
        cycle's cost independent of the execution's size."""
        cycle = _Cycle(self, execution, context, consume)
        for event in events:
            cycle.apply(event)
        if self.index.flow.sla:  # SLA hook: assertions of a running execution
            sla.check_running(cycle)
        cycle.settle()
        return cycle.decision()

    def start(
        self, execution: Execution, started: Iterable[TaskStarted], context: PlanContext
    ) -> Decision:
        """`plan` for the starts of task runs the same cycle dispatched (the executor hands
        them to threads that start them at once), without a cycle and its passes over the
        flow: no rule tells a submitted task run from a running one but the start itself
        (flowables, kills, restarts and SLAs treat SUBMITTED and RUNNING alike), and a
        start changes neither the execution's lists nor its counts. `execution` is
        consumed: its task-run map is updated in place when it is a dict."""
        runs = execution.task_runs
        if not isinstance(runs, dict):
            runs = dict(runs)
        changed: set[str] = set()
        for event in started:
            run = runs.get(event.task_run_id)
            if run is not None:
                running = started_run(run, event.attempt, context.now)
                if running is not None:
                    runs[run.id] = running
                    changed.add(run.id)
        if runs is not execution.task_runs:
            execution = evolve(execution, task_runs=runs)
        return Decision(execution, (), frozenset(changed))


def started_run(run: TaskRun, attempt: int, now: datetime) -> TaskRun | None:
    """`run` made RUNNING by the start of `attempt`; None when the start is not its
    current one (stale, or already applied)."""
    if run.state is not State.SUBMITTED or len(run.attempts) != attempt:
        return None
    attempts = (*run.attempts[:-1], run.attempts[-1].to(State.RUNNING, now))
    # run.to(RUNNING) and the attempt in one copy: this runs for every task run.
    histories = (*run.histories, History(State.RUNNING, now))
    return evolve(run, state=State.RUNNING, histories=histories, attempts=attempts)


class _Cycle(Cycle):
    """The planner's cycle: the bookkeeping of `Cycle`, and the reference loop over it."""

    def __init__(
        self, planner: Planner, execution: Execution, ctx: PlanContext, consume: bool = False
    ) -> None:
        super().__init__(planner.index, execution, ctx, consume)
        self.p = planner
        self._new: list[str] = []  # task runs created in this pass, not started yet
        # Paused by a user (engine/pause.py): nothing is planned until a Resume.
        self._held = execution.state is State.PAUSED and pause.held(self)

    @property
    def engine(self) -> ExpressionEngine:
        return self.p.engine

    def forget_loop(self, run_id: str) -> None:
        self.p._cursors.pop(run_id, None)

    # -- rendering -------------------------------------------------------------------
    def scope(self, run: TaskRun | None, salt: str = "") -> Scope:
        ex = self.snapshot()
        variables = execution_variables(self.index.flow, ex, self.ctx.envs)
        task_id = None
        if run is not None:
            task = self.index.task(run.task_id)
            variables = task_variables(variables, ex, run, task)
            task_id = run.task_id
        return Scope(
            variables=variables,
            now=self.now,
            seed=render_seed(self.ctx.seed, run.id if run else "", salt),
            secrets=self.ctx.secrets,
            on_secret=self.ctx.on_secret,
            error_logs=self._error_logs,
            tasks_with_state=self._tasks_with_state,
            task_id=task_id,
            kv=self.ctx.kv,
            flow_history=self.ctx.flow_history,
            files=self.ctx.files,
        )

    def _error_logs(self) -> list[Mapping[str, Any]]:
        """The context's ERROR logs, then those written so far in this cycle: a failure
        and the first `errors` task are often planned in one cycle, before any write."""
        logs = list(self.ctx.error_logs)
        for c in self.commands:
            if isinstance(c, LogLine) and c.level == "ERROR":
                logs.append(
                    error_log(self.ex, c.task_id, c.task_run_id, c.attempt, self.now, c.message)
                )
        return logs

    def _tasks_with_state(self, state: str) -> list[Mapping[str, Any]]:
        wanted = state.upper()
        return [
            {"taskId": r.task_id, "taskRunId": r.id, "value": r.value, "state": r.state.value}
            for r in sorted(self.runs.values(), key=lambda r: r.seq)
            if r.state.value == wanted
        ]

    def render(self, value: Any, run: TaskRun | None) -> Any:
        if not _has_template(value):
            return value  # no `{` anywhere: nothing to render, no scope to build
        return self.p.engine.render_value(value, self.scope(run))

    # -- events ------------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        if isinstance(event, TaskResult):  # the most frequent event, looked at first
            run = self.runs.get(event.task_run_id)
            if run is not None and run.memo:  # both look only at a waiting child execution
                foreachitem.before_result(self, event)  # first: it kills the children
                subflow.before_result(self, event)
            self.on_result(event)
            onejob.after_result(self, event)
        elif isinstance(event, TaskStarted):  # a start not handed over in its cycle: next
            run = self.runs.get(event.task_run_id)
            running = None if run is None else started_run(run, event.attempt, self.now)
            if running is not None:
                self.put(running)
            elif run and run.state is State.RUNNING:
                control.started_again(self, run, event.attempt)
        elif isinstance(event, Start):
            starting = self.ex.state is State.CREATED
            control.start(self)
            if starting and self.index.flow.sla:  # SLA hook: MAX_DURATION timers
                sla.arm(self)
        elif isinstance(event, SlaDue):
            sla.due(self, event)
        elif isinstance(event, LoopDue):
            until.due(self, event)
        elif isinstance(event, control.CONTROL_EVENTS):
            restarting = isinstance(event, Restart) and self.ex.state in restart.RESTARTABLE
            restarting |= isinstance(event, ForceRun) and self.ex.state is State.CREATED
            ended = isinstance(event, MarkTaskRun) and self.ex.finalized_at is not None
            control.apply(self, event)
            restarting |= ended and self.ex.finalized_at is None  # a mark took effect
            if restarting and self.index.flow.sla:  # SLA hook: a restarted run is watched too
                sla.arm(self)
        elif isinstance(event, UserPause):
            self._held = pause.hold(self) or self._held
        elif isinstance(event, SetLabels):  # added or updated; the others are kept
            self.update_execution(labels={**self.ex.labels, **event.labels})
        elif isinstance(event, Kill):
            if not self.ex.state.terminated and self.ex.state is not State.KILLING:
                self.set_ex(State.KILLING)
            elif self.ex.state is State.RETRIED:
                newexecutionretry.forward_kill(self)
        elif isinstance(event, ChildStarted):
            onejob.started(self, event)
        elif isinstance(event, ChildResult):
            onejob.ended(self, event)
        elif isinstance(event, RetryDue):
            run = self.runs.get(event.task_run_id)
            if run and run.state is State.RETRYING and len(run.attempts) == event.attempt:
                self.put(run.to(State.CREATED, self.now))
                if self.ex.state is State.RETRYING and not self.any_retrying():
                    self.set_ex(State.RUNNING)
        elif isinstance(event, TimeoutDue) and subflow.timed_out(self, event):
            pass  # a waiting Subflow: a failed attempt, as a runnable's timeout
        elif isinstance(event, TimeoutDue):
            run = self.runs.get(event.task_run_id)
            if run and not run.state.terminated and len(run.attempts) == event.attempt:
                task = self.index.task(run.task_id)
                message = (
                    f"Timeout after {hms(parse_duration(str(self.render(task.timeout, run))))}"
                )
                self.log("ERROR", message, run)
                self.stop_descendants(run, State.KILLED)
                self.resolve(
                    run, task, State.FAILED, ErrorInfo(message, "Timeout", task.id, run.id)
                )

    def any_retrying(self) -> bool:
        return any(self.runs[i].state is State.RETRYING for i in self.active)

    def on_result(self, ev: TaskResult) -> None:
        run = self.runs.get(ev.task_run_id)
        if run is None or run.state.terminated or run.state is State.RETRYING:
            return  # stale or duplicated: applying an event twice equals once
        if len(run.attempts) != ev.attempt:
            return
        task = self.index.tasks[run.task_id].task
        if ev.state is State.RUNNING:
            return
        state = ev.state
        # Built for a failure only: most results are successes.
        error = (
            ErrorInfo(
                ev.error or "Task failed", ev.error_type or "TaskFailure", run.task_id, run.id
            )
            if state is State.FAILED
            else None
        )
        if state is State.FAILED:
            policy, own = self.index.retry_policy(run.task_id)
            if (
                policy is not None
                and self.ex.state is not State.KILLING
                and (own or not task.allowFailure)
            ):
                if policy.behavior is RetryBehavior.CREATE_NEW_EXECUTION:
                    if self.retry_in_new_execution(run, policy, ev.outputs, error):
                        return
                    delay = None
                else:
                    delay = self.retry_delay(policy, run)
                if delay is not None:
                    self.set_attempt(run, State.FAILED, ev.outputs, error)
                    run = self.runs[run.id]
                    self.put(evolve(run.to(State.RETRYING, self.now), error=error))
                    self.emit(Timer(self.now + delay, RetryDue(run.id, len(run.attempts))))
                    if self.ex.state is State.RUNNING:
                        self.set_ex(State.RETRYING)
                    return
            if task.allowFailure:
                state = State.WARNING
        elif state is State.SUCCESS and len(run.attempts) > 1:
            own_retry = task.retry
            if own_retry is not None and own_retry.warningOnRetry:
                state = State.WARNING
        if state is State.WARNING and task.allowWarning:
            state = State.SUCCESS
        # set_attempt, then finish, in one copy and one put: every result comes here.
        ended = self.attempt_ended(
            run, ev.state, ev.outputs, error if ev.state is State.FAILED else None
        )
        self.end_run(run, ended, state, None, error if state is State.FAILED else None)

    def set_attempt(
        self, run: TaskRun, state: State, outputs: Mapping[str, Any], error: ErrorInfo | None
    ) -> None:
        self.put(evolve(run, **self.attempt_ended(run, state, outputs, error)))

    def attempt_ended(
        self, run: TaskRun, state: State, outputs: Mapping[str, Any], error: ErrorInfo | None
    ) -> dict[str, Any]:
        """The changes that end `run`'s last attempt in `state` (the run RUNNING)."""
        attempts = run.attempts
        if attempts:
            attempts = (
                *attempts[:-1],
                attempts[-1].to(State.RUNNING, self.now).to(state, self.now),
            )
        changes: dict[str, Any] = {
            "attempts": attempts,
            "outputs": dict(outputs) or run.outputs,
            "error": error,
        }
        if run.state is not State.RUNNING:
            changes["state"] = State.RUNNING
            changes["histories"] = (*run.histories, History(State.RUNNING, self.now))
        return changes

    def max_attempts(self, policy: Any, run: TaskRun) -> int | bool | None:
        """The policy's maxAttempts (None: no limit), rendered; False when it does not
        render to an integer (then the run is not retried)."""
        max_attempts = policy.maxAttempts
        if not isinstance(max_attempts, str):
            return max_attempts  # type: ignore[no-any-return]
        rendered: Any = None
        try:
            rendered = self.render(max_attempts, run)
            return int(str(rendered))
        except (LannerError, ValueError) as exc:
            # A broken limit must not stop the executor: the run fails as it would
            # without a retry policy, and the log says why it was not retried.
            why = exc.message if isinstance(exc, LannerError) else f"got {rendered!r}"
            self.log("ERROR", f"retry maxAttempts is not an integer ({why}); not retried", run)
            return False

    def retry_in_new_execution(
        self, run: TaskRun, policy: Any, outputs: Mapping[str, Any], error: ErrorInfo | None
    ) -> bool:
        """CREATE_NEW_EXECUTION (engine/newexecutionretry.py): True when the failure is
        handed over to a new execution; False when the limits are reached."""
        if self.top_phase(run) is Phase.AFTER:
            return False  # the execution has ended already: nothing to hand over
        max_attempts = self.max_attempts(policy, run)
        if max_attempts is False:
            return False
        at = newexecutionretry.start_date(self, policy, max_attempts)
        if at is None:
            return False
        self.set_attempt(run, State.FAILED, outputs, error)
        newexecutionretry.hand_over(self, self.runs[run.id], at, self.kill_all)
        return True

    def retry_delay(self, policy: Any, run: TaskRun) -> timedelta | None:
        base = attempt_base(run)  # a restart gives the policy a fresh start
        attempts = len(run.attempts) - base
        max_attempts = self.max_attempts(policy, run)
        if max_attempts is False:
            return None
        if max_attempts is not None and attempts >= max_attempts:
            return None
        draw = random.Random(f"{self.ctx.seed}:{run.id}:{attempts + base}").random()
        delay: timedelta = policy.delay(attempts, draw)
        if policy.maxDuration is not None:
            first = run.attempts[base] if len(run.attempts) > base else None
            first_start = first.histories[0].date if first else run.start_date
            if self.now + delay > first_start + parse_duration(policy.maxDuration):
                return None
        if max_attempts is None and policy.maxDuration is None:
            return delay  # Kestra retries forever when neither limit is set
        return delay

    # -- finishing task runs ------------------------------------------------------------
    def finish(
        self,
        run: TaskRun,
        state: State,
        *,
        outputs: Mapping[str, Any] | None = None,
        error: ErrorInfo | None = None,
    ) -> None:
        self.end_run(run, {}, state, outputs, error)

    def end_run(
        self,
        run: TaskRun,
        changes: dict[str, Any],
        state: State,
        outputs: Mapping[str, Any] | None,
        error: ErrorInfo | None,
    ) -> None:
        """`finish` of `run` with `changes` made first, in one copy."""
        if state is not changes.get("state", run.state):
            histories = changes.get("histories", run.histories)
            changes["state"] = state
            changes["histories"] = (*histories, History(state, self.now))
        if outputs is not None:
            changes["outputs"] = dict(outputs)
        if error is not None:
            changes["error"] = error
        self.put(evolve(run, **changes) if changes else run)
        if state is State.FAILED and self.ex.error is None and error is not None:
            self.update_execution(error=error)

    def with_closed_attempt(self, run: TaskRun, state: State) -> TaskRun:
        """The run with its last attempt ended in `state` (one FAILED attempt if it had none)."""
        if not run.attempts:
            return evolve(run, attempts=(Attempt(state, (History(state, self.now),)),))
        return evolve(run, attempts=(*run.attempts[:-1], run.attempts[-1].to(state, self.now)))

    def stop_descendants(self, parent: TaskRun, state: State) -> None:
        for phase in Phase:
            for child in self.runs_of(parent.id, phase):
                if child.state.terminated:
                    continue
                self.stop_descendants(child, state)
                if self.index.task(child.task_id).kind is TaskKind.RUNNABLE and child.state in (
                    State.SUBMITTED,
                    State.RUNNING,
                ):
                    self.emit(Cancel(child.id))
                attempts = child.attempts
                if attempts:
                    attempts = (*attempts[:-1], attempts[-1].to(state, self.now))
                self.put(evolve(child.to(state, self.now), attempts=attempts))

    # -- the reference loop -------------------------------------------------------------
    def settle(self) -> None:
        for _ in range(10_000):
            self.begin_pass()
            self.step()
            if not self.dirty:
                return
        raise LannerError("the planner did not settle (a bug): too many passes")

    def step(self) -> None:
        # self._ex, not the `ex` property, in this method and a few others run for every
        # task run: a property is a call each time.
        ex_state = self._ex.state
        if ex_state is not State.RUNNING:  # RUNNING, the common state, needs none of these
            if ex_state is State.RETRYING and not self.any_retrying():
                self.set_ex(State.RUNNING)  # the retrying run was stopped by its parent
            if self._ex.state is State.PAUSED:
                if self._held:
                    return  # paused by a user: no task run starts; a Resume goes on
                pause.sync_state(self)  # the paused run was stopped by its parent
            ex_state = self._ex.state
            if ex_state is State.KILLING:
                self._held = False
                self.kill_all()
                self.end(State.KILLED)
                return
            if ex_state in (State.CREATED, State.QUEUED):
                self._held = False
                return
        self._held = False
        # The root list is looked at again only when one of its task runs or the
        # execution's state changed since the last look in this cycle.
        if not ex_state.terminated and self.take_root_dirty():
            self.root_step()
        active = self.active
        if len(active) > 1:
            self.wide_pass()
        else:  # a chain: one task run going, no order to find
            for run_id in list(active):
                self.look(self.runs[run_id])
        self.start_new()
        if self._ex.state.terminated and self._ex.finalized_at is None:
            self.after_step()

    def look(self, run: TaskRun) -> None:
        """A pass's look at one task run that was going when the pass began."""
        state = run.state
        if state.terminated:
            return
        if self._ex.state.terminated and self.top_phase(run) is not Phase.AFTER:
            return
        if state.created:
            self.start(run)
        elif (
            state is State.RUNNING
            and self.index.tasks[run.task_id].task.kind is TaskKind.FLOWABLE
            and self.take_touched(run.id)
        ):
            # A flowable is looked at again only when it or one of its task runs
            # changed: what it decides depends on nothing else.
            self.flowable_step(run)

    def wide_pass(self) -> None:
        """`look` at the going task runs in creation order, as a loop over all of them
        sorted by `seq` would, but only at those it can act on: the CREATED ones and
        the touched ones (a flowable's look). Any other is passed over by `look`
        unless `put` changes it or one of its task runs before its turn: `put` then
        adds it to the heap (Cycle.put), so it is looked at in its place. A wide
        Parallel has a hundred task runs going, one or two to act on per pass."""
        runs = self.runs
        touched = self._touched
        heap = [
            (run.seq, run_id)
            for run_id in self.active
            if (run := runs[run_id]).state.created or run_id in touched
        ]
        heapify(heap)
        self._visit_ids = set(self.active)
        self._visit = heap
        try:
            last = -1
            while heap:
                seq, run_id = heappop(heap)
                if seq == last:
                    continue  # pushed again before its turn
                last = self._visit_seq = seq
                self.look(runs[run_id])
        finally:
            self._visit = None
            self._visit_seq = -1

    def start_new(self) -> None:
        """Start the task runs this pass created, before the next pass computes any
        flowable's state (SPEC §3.8: step 8 before step 9). Otherwise a loop that
        resolves FAILED in the next pass, for a sibling group that failed in this
        one, would stop a task run whose `runIf` was never evaluated, in its own
        state, instead of leaving it SKIPPED."""
        new, self._new = self._new, []
        for run_id in new:
            run = self.runs.get(run_id)
            if run is None or not run.state.created:
                continue
            if self.ex.state.terminated and self.top_phase(run) is not Phase.AFTER:
                continue
            self.start(run)

    def kill_all(self) -> None:
        for run_id in sorted(self.active, key=lambda i: self.runs[i].seq):
            run = self.runs[run_id]
            if run.state.terminated or run.parent_id or run.phase is Phase.AFTER:
                continue
            self.stop_descendants(run, State.KILLED)
            if (
                run.state in (State.SUBMITTED, State.RUNNING)
                and self.index.task(run.task_id).kind is TaskKind.RUNNABLE
            ):
                self.emit(Cancel(run.id))
            attempts = run.attempts
            if attempts:
                attempts = (*attempts[:-1], attempts[-1].to(State.KILLED, self.now))
            self.put(evolve(run.to(State.KILLED, self.now), attempts=attempts))

    def create(self, child: NewChild, parent: TaskRun | None) -> TaskRun:
        parent_id = parent.id if parent else None
        ex = self._ex
        # Handler task runs created again after a restart get new ids (restart.py).
        gen = generation(ex) if child.phase is not Phase.MAIN else 0
        run_id = task_run_id(ex.id, parent_id, child.task.id, child.value, child.iteration, gen)
        existing = self.runs.get(run_id)
        if existing is not None:
            return existing
        run = TaskRun(
            id=run_id,
            execution_id=ex.id,
            task_id=child.task.id,
            parent_id=parent_id,
            value=child.value,
            iteration=child.iteration,
            phase=child.phase,
            seq=len(self.runs),
            state=State.CREATED,
            histories=(History(State.CREATED, self.now),),
            generation=gen,
        )
        self.add(run)
        self._new.append(run_id)
        return run

    # -- the root container ---------------------------------------------------------------
    def root_step(self) -> None:
        root = self.index.root
        children = self._children
        # Counts kept by put(): a long main list costs nothing to look at. The keys are
        # module constants: a tuple built and hashed per look cost more than the look.
        main_ids = children.get(ROOT_MAIN, ())
        going = self._root_going
        failed = ROOT_MAIN in self._failed_lists
        error_ids = children.get(ROOT_ERRORS)
        finally_ids = children.get(ROOT_FINALLY)
        if (
            going
            and len(main_ids) - going < len(root[Phase.MAIN])
            and not failed
            and not error_ids
            and not finally_ids
        ):
            # What `select` below decides then (the main list, not over, one of its
            # task runs going): nothing to do. The common look of a sequential flow.
            return
        terminated = len(main_ids) - going
        phase: Phase
        tasks: Sequence[Task]
        if not (failed or error_ids or finally_ids or root[Phase.FINALLY]):
            phase, tasks = Phase.MAIN, root[Phase.MAIN]  # what `select` returns then
        else:
            by_id = self.runs
            phase, tasks = select(
                root[Phase.MAIN],
                root[Phase.ERRORS],
                root[Phase.FINALLY],
                Summary(terminated, failed),
                [by_id[i] for i in error_ids or ()],  # runs_of(None, ERRORS)
                [by_id[i] for i in finally_ids or ()],
            )
        if phase is Phase.MAIN:
            if terminated >= len(tasks):
                self.end(final_state([self.runs[i].state for i in main_ids]))
                return
            if self.root_going:
                return
            last = self.runs[main_ids[-1]].task_id if main_ids else None
            nxt = self.index.root_next.get(last)  # next_after(tasks, last)
        else:
            runs = self.runs_of(None, phase)
            if all_terminated(len(tasks), runs):
                self.end(final_state([self.runs[i].state for i in main_ids]))
                return
            nxt = sequential_next(tasks, runs)
        if nxt is not None:
            self.create(NewChild(nxt, phase), None)
            # The next look would see the same list with this task run going, and decide
            # nothing (the main list: the early return above; a handler list: nothing
            # starts while one of its task runs goes): its own creation does not ask for one.
            self._root_dirty = False

    def end(self, state: State) -> None:
        """The execution reaches its terminal state (SPEC §3.5); afterExecution may start."""
        flow = self.index.flow
        if flow.outputs and state not in (State.KILLED, State.CANCELLED):
            try:
                outputs = flowoutputs.render_outputs(
                    flow.outputs,
                    lambda value: self.render(value, None),
                    typed_output,
                    lambda message: self.log("WARN", message),
                )
                self.update_execution(outputs=outputs)
            except (LannerError, ValueError) as exc:
                message = exc.message if isinstance(exc, LannerError) else str(exc)
                self.log("ERROR", f"Failed to render output values: {message}")
                state = State.FAILED
        for phase in (Phase.ERRORS, Phase.FINALLY):
            for run in self.runs_of(None, phase):
                if run.state is State.FAILED:
                    self.log(
                        "WARN",
                        f"{phase.value} task '{run.task_id}' failed; the execution state is not changed by it",
                    )
        if flow.sla:  # SLA hook: the assertions hold at the end, or decide the state
            state = sla.at_end(self, state)
        if self.root_going:
            restart.stop_root(self, state)  # possible only after a restart
        self.set_ex(state)
        self.update_execution(terminal_at=self.now)

    def after_step(self) -> None:
        tasks = self.index.root[Phase.AFTER]
        runs = self.runs_of(None, Phase.AFTER)
        if self.index.flow.listeners:  # listeners hook: their tasks first, one at a time
            if any(not r.state.terminated for r in runs):
                return
            nxt = listeners.next_task(self, runs)
            done = nxt is None
        else:
            done = all_terminated(len(tasks), runs)
            nxt = None if done else sequential_next(tasks, runs)
        if done:
            self.update_execution(finalized_at=self.now)
            self.mark_dirty()
            subflow.notify_parent(self)
            return
        if nxt is not None:
            self.create(NewChild(nxt, Phase.AFTER), None)

    # -- starting a task run ------------------------------------------------------------
    def start(self, run: TaskRun) -> None:
        if run.parent_id is not None and onejob.in_job(self, run):
            return  # its parent's worker starts it
        task = self.index.task(run.task_id)
        if task.runIf.strip() != "true":
            try:
                condition = self.p.engine.render(task.runIf, self.scope(run, "runIf"))
            except LannerError as exc:
                message = f"Failed to evaluate the runIf condition for task {task.id}. Cause: {exc.message}"
                self.log("ERROR", message, run)
                self.finish(
                    run, State.FAILED, error=ErrorInfo(message, "RunIfError", task.id, run.id)
                )
                return
            if not is_truthy(condition):
                skipped = evolve(
                    run, attempts=(Attempt(State.SKIPPED, (History(State.SKIPPED, self.now),)),)
                )
                self.finish(skipped, State.SKIPPED)
                return
        # What happens is the task type's declared behaviour (lanner.model.behaviour).
        behaviour = task.behaviour
        if behaviour.kind is TaskKind.RUNNABLE:
            self.dispatch(run, task)
        elif control.start_task(self, run, task):
            pass  # a pause or a subflow
        elif behaviour.kind is TaskKind.FLOWABLE:
            self.start_flowable(run, task)
        else:
            self.execute_inline(run, task)

    def timeout_seconds(self, run: TaskRun, task: Task) -> float | None:
        if task.timeout is None:
            return None
        try:
            return parse_duration(str(self.render(task.timeout, run))).total_seconds()
        except ValueError as exc:  # a rendered timeout out of range or not a duration
            raise RenderError(f"timeout: {exc}", task_id=task.id) from None

    def dispatch(self, run: TaskRun, task: Task) -> None:
        attempt = len(run.attempts) + 1
        try:
            properties = self.p.properties(task)
            if self.p.templated(task):  # what render() would find, known per task
                properties = self.p.engine.render_value(properties, self.scope(run))
            timeout = self.timeout_seconds(run, task)
        except LannerError as exc:
            self.log("ERROR", exc.message, run)
            failed = evolve(
                run,
                attempts=(*run.attempts, Attempt(State.FAILED, (History(State.FAILED, self.now),))),
            )
            self.put(failed)
            self.on_result(
                TaskResult(
                    run.id, attempt, State.FAILED, error=exc.message, error_type="RenderError"
                )
            )
            return
        attempt_obj = Attempt(State.CREATED, (History(State.CREATED, self.now),))
        # run.to(SUBMITTED) and the new attempt in one copy: this runs for every attempt.
        changes: dict[str, Any] = {"attempts": (*run.attempts, attempt_obj)}
        if run.state is not State.SUBMITTED:
            changes["state"] = State.SUBMITTED
            changes["histories"] = (*run.histories, History(State.SUBMITTED, self.now))
        self.put(evolve(run, **changes))
        self.emit(Dispatch(run.id, attempt, task.id, task.type, properties, timeout, task.logLevel))

    def start_flowable(self, run: TaskRun, task: Task) -> None:
        try:
            memo, outputs = self.resolve_flowable(run, task)
        except (LannerError, ValueError) as exc:
            message = exc.message if isinstance(exc, LannerError) else str(exc)
            self.log(
                "ERROR", f"Unable to resolve state from the Flowable task {task.id}: {message}", run
            )
            self.finish(
                self.with_closed_attempt(run, State.FAILED),
                State.FAILED,
                error=ErrorInfo(message, "FlowableError", task.id, run.id),
            )
            return
        attempt = Attempt(State.RUNNING, (History(State.RUNNING, self.now),))
        run = evolve(
            run.to(State.RUNNING, self.now),
            memo=memo,
            outputs=outputs,
            attempts=(*run.attempts, attempt),
        )
        self.put(run)
        timeout = self.timeout_seconds(run, task)
        if timeout is not None:
            self.emit(
                Timer(self.now + timedelta(seconds=timeout), TimeoutDue(run.id, len(run.attempts)))
            )

    def resolve_flowable(
        self, run: TaskRun, task: Task
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Decide once what a flowable will run: its branch or case (`behaviour.choose`),
        its loop values and its limit."""
        behaviour = task.behaviour
        if behaviour.order is Order.UNTIL:
            return until.resolve(self, run, task)
        if behaviour.choose is Choice.CONDITION:
            selector = getattr(task, behaviour.selector or "")
            result = is_truthy(self.p.engine.render(selector, self.scope(run)))
            return {"branch": "then" if result else "else"}, {"evaluationResult": result}
        if behaviour.choose is Choice.CASE:
            value = str(self.render(getattr(task, behaviour.selector or ""), run))
            cases = getattr(task, behaviour.children[0]) or {}
            case = value if value in cases else None
            return {"case": case}, {"value": value, "defaults": case is None}
        memo: dict[str, Any] = {}
        if behaviour.values is not None:
            memo["values"] = self.loop_values(getattr(task, behaviour.values), run)
        if behaviour.limit_property is not None:
            limit = getattr(task, behaviour.limit_property)
            memo["limit"] = int(str(self.render(limit, run)))
        return memo, None

    def loop_values(self, values: Any, run: TaskRun) -> list[str]:
        if isinstance(values, str):
            rendered = self.render(values, run)
            try:
                parsed = json.loads(rendered) if isinstance(rendered, str) else rendered
            except json.JSONDecodeError as exc:
                raise ValueError(f"values must be a JSON array, got {rendered!r}") from exc
        else:
            parsed = [self.render(v, run) for v in values]
        if not isinstance(parsed, list):
            raise ValueError(f"values must be a list, got {parsed!r}")
        out: list[str] = []
        seen: set[str] = set()  # a list lookup per value made long loops quadratic
        for v in parsed:
            if v is None:
                raise ValueError("values cannot contain null")
            text = v if isinstance(v, str) else _COMPACT_JSON.encode(v)
            if text not in seen:
                seen.add(text)
                out.append(text)
        return out

    def execute_inline(self, run: TaskRun, task: Task) -> None:
        attempt = Attempt(State.RUNNING, (History(State.RUNNING, self.now),))
        run = evolve(run, attempts=(attempt,))
        try:
            outcome = inline.execute(self, run, task)
        except (LannerError, ValueError) as exc:
            message = exc.message if isinstance(exc, LannerError) else str(exc)
            self.log("ERROR", message, run)
            run = evolve(run, attempts=(attempt.to(State.FAILED, self.now),))
            self.finish(run, State.FAILED, error=ErrorInfo(message, "TaskFailure", task.id, run.id))
            return
        if outcome is not None:
            run = evolve(run, attempts=(attempt.to(outcome, self.now),))
            self.finish(run, outcome)

    # -- flowables ---------------------------------------------------------------------
    def flowable_step(self, run: TaskRun) -> None:
        task = self.index.task(run.task_id)
        memo = run.memo or {}
        main = self.index.main_list(task, memo)
        errors, finally_ = self.index.handler_lists(task)
        if main is None:  # Switch without a matching case nor defaults
            self.resolve(run, task, State.FAILED)
            return
        if task.behaviour.order is Order.UNTIL:  # LoopUntil / WaitFor: engine/until.py
            for child in until.step(self, run, task, main):
                self.create(child, run)
            return
        values: list[str] | None = memo.get("values")
        expected = len(main) * len(values) if values is not None else len(main)
        if not main or expected == 0:
            self.resolve(run, task, State.SUCCESS)
            return
        behaviour = task.behaviour
        sequential_loop = values is not None and behaviour.order is Order.LOOP
        cursor = None
        if sequential_loop and values:
            cursor = self.p.cursor(run.id, values).valid_for(self.input_runs, self.runs)
        key = (run.id, Phase.MAIN)
        ids = self.children.get(key, ())
        skipped = cursor.pos if cursor else 0
        tail: list[TaskRun] | None = None
        if cursor is None:
            summary = self.summary(key, ids)
        else:
            tail = [self.runs[i] for i in ids[skipped:]]
            summary = Summary.of(tail, terminated=skipped)
        if summary.failed and childfailure.interrupt(
            self, task, tail if tail is not None else [self.runs[i] for i in ids]
        ):
            tail = [self.runs[i] for i in ids[skipped:]]
            summary = Summary.of(tail, terminated=skipped)
        phase, tasks = select(
            main,
            errors,
            finally_,
            summary,
            self.runs_of(run.id, Phase.ERRORS),
            self.runs_of(run.id, Phase.FINALLY),
            expected,
        )
        if phase is Phase.MAIN:
            if summary.terminated >= expected:
                self.resolve(run, task, final_state([self.runs[i].state for i in ids]))
                return
            if cursor is not None and values is not None and tail is not None:
                limit = int(memo.get("limit", behaviour.limit))
                children, frontier = loop_next(main, values, tail, limit, cursor.first)
                cursor.advance(frontier, ids, self.runs)
            elif (
                values is None
                and behaviour.order is Order.PARALLEL
                and not int(memo.get("limit", behaviour.limit))
            ):
                children = [NewChild(t, Phase.MAIN) for t in self.unstarted(run.id, ids, main)]
            else:
                if tail is None:
                    tail = [self.runs[i] for i in ids]
                children = self.next_children(task, memo, main, tail)
            for child in children:
                self.create(child, run)
            return
        runs = self.runs_of(run.id, phase)
        if all_terminated(len(tasks), runs):
            self.resolve(run, task, final_state([self.runs[i].state for i in ids]))
            return
        nxt = sequential_next(tasks, runs)
        if nxt is not None:
            self.create(NewChild(nxt, phase), run)

    def summary(self, key: tuple[str, Phase], ids: Sequence[str]) -> Summary:
        """`Summary.of` the task runs `ids` of the list `key`, from the cycle's counts: the
        going ones are those in `active` (invariant 1), and the list holds a FAILED one
        when it is in `failed_lists` (invariant 2). Set operations in C, where a wide
        Parallel's every look walked its hundred task runs."""
        return Summary(len(ids) - len(self._active.intersection(ids)), key in self._failed_lists)

    def unstarted(self, run_id: str, ids: Sequence[str], main: tuple[Task, ...]) -> list[Task]:
        """`parallel_next(main, runs of ids, 0)`: the tasks without a task run yet. It
        depends only on which tasks the list's task runs are of (fixed by their ids), so
        it is kept with the list it was computed for: a list only grows in place
        (`Cycle.add`) and a deletion replaces it, so the same list with the same length
        holds the same task runs. Once a Parallel has started all its tasks, its looks
        do not walk them again."""
        kept = self.p._unstarted.get(run_id)
        if kept is not None and kept[0] is ids and kept[1] == len(ids) and kept[2] is main:
            return kept[3]
        runs = self.runs
        pending = parallel_next(main, [runs[i] for i in ids], 0)
        unstarted = self.p._unstarted
        if len(unstarted) > 10_000:  # Parallels of finished executions
            unstarted.clear()
        unstarted[run_id] = (ids, len(ids), main, pending)
        return pending

    def next_children(
        self, task: Task, memo: Mapping[str, Any], main: tuple[Task, ...], runs: list[TaskRun]
    ) -> list[NewChild]:
        order = task.behaviour.order
        limit = int(memo.get("limit", task.behaviour.limit))
        values = memo.get("values")
        if values is not None:  # Order.LOOP_PARALLEL: every (value, task) pair at once
            return loop_parallel_next(main, values, runs, limit)
        if order is Order.PARALLEL:
            return [NewChild(t, Phase.MAIN) for t in parallel_next(main, runs, limit)]
        if order is Order.DAG:  # Dag: engine/dag.py
            return dag.next_children(task, main, runs, limit)
        nxt = sequential_next(main, runs)
        return [NewChild(nxt, Phase.MAIN)] if nxt is not None else []

    def resolve(
        self, run: TaskRun, task: Task, state: State, cause: ErrorInfo | None = None
    ) -> None:
        """A flowable's own end: allowFailure / allowWarning mapping, then stop what still runs."""
        failed_is_warning = task.behaviour.state_rule is StateRule.FAILED_IS_WARNING
        if state is State.FAILED and (task.allowFailure or failed_is_warning):
            state = State.WARNING
        if state is State.WARNING and task.allowWarning:
            state = State.SUCCESS
        self.stop_descendants(run, state if state.terminated else State.KILLED)
        attempts = run.attempts
        if attempts:
            attempts = (*attempts[:-1], attempts[-1].to(state, self.now))
        error = cause
        if state is State.FAILED and error is None:
            # The child that failed on its own, not one its failure interrupted.
            failed = min(
                (r for r in self.runs_of(run.id, Phase.MAIN) if r.state is State.FAILED),
                key=lambda r: r.error is not None and r.error.type == childfailure.INTERRUPTED,
                default=None,
            )
            error = (
                failed.error
                if failed and failed.error
                else ErrorInfo("Task failed", "TaskFailure", task.id, run.id)
            )
        self.finish(evolve(run, attempts=attempts), state, error=error)


_OUTPUT_TYPES: dict[str, Callable[[Any, bool], Any]] = {
    "STRING": iv.to_str, "SECRET": iv.to_str, "SELECT": iv.to_str, "ENUM": iv.to_str,
    "INT": iv.to_int, "FLOAT": iv.to_float, "BOOL": iv.to_bool, "BOOLEAN": iv.to_bool,
    "DATETIME": iv.to_datetime, "DATE": iv.to_date, "TIME": iv.to_time,
    "DURATION": iv.to_duration, "URI": iv.to_uri, "EMAIL": iv.to_email,
    "JSON": iv.to_json, "YAML": iv.to_yaml, "ARRAY": iv.to_list, "MULTISELECT": iv.to_list,
}  # fmt: skip


# json.dumps(v, separators=...) builds an encoder per call; ForEach values use this one.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


def own_properties(task: Task) -> dict[str, Any]:
    """A task type's own properties, unrendered (the common ones left out). The child
    lists of a one_job task stay out too: its worker renders each child in turn."""
    dumped = task.model_dump(by_alias=True, exclude_none=True)
    left_out = _COMMON
    if task.behaviour.one_job:
        fields = type(task).model_fields
        aliases = {name: fields[name].alias or name for name in task.child_fields}
        left_out = _COMMON | set(aliases.values())
    return {k: v for k, v in dumped.items() if k not in left_out}


def render_seed(seed: int, task_run_id: str, salt: str) -> int:
    """The seed of one render's `uuid()`/`randomInt()`: a digest of the cycle's seed, the
    task run and the purpose, not `hash()`, which Python salts per process, so that a
    cycle replayed by another process renders the same values."""
    text = f"{seed}\x00{task_run_id}\x00{salt}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(), "big")


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, dict):
        return any(_has_template(k) or _has_template(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_template(v) for v in value)
    return False


def typed_output(type_name: str, value: Any) -> Any:
    """A flow output converted to its declared type (SPEC §3.5); ValueError when it is not one."""
    convert = _OUTPUT_TYPES.get(type_name.upper())
    if convert is None or value is None:
        return value
    return convert(value, isinstance(value, str))


__all__ = ["PlanContext", "Planner", "format_duration", "own_properties"]
