"""Flow-level SLAs (Kestra's `sla`; docs/semantics.md "SLA"): when they are checked
and what a violation does to the execution.

MAX_DURATION is a timer: the cycle that starts (or restarts) the execution asks
for a `SlaDue` event at the deadline, in the same commit, so a crash cannot lose
it; the event changes nothing once the execution is terminal, or when it was set
for an earlier run of a restarted execution. EXECUTION_ASSERTION is rendered by
the planner: with FAIL or CANCEL after the events of every cycle of a running
execution, and every assertion once more as the execution reaches its terminal
state.

A FAIL or CANCEL violation ends the execution at once in that state, as Kestra
does: the last task run still going takes that state, the others are KILLED
(their jobs cancelled); `errors` and `finally` do not run, listeners and
`afterExecution` do. NONE only logs. Every violation adds the SLA's labels.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from lanner.engine.cycle import Cycle
from lanner.engine.events import Cancel, SlaDue, Timer
from lanner.engine.execution import ErrorInfo, Phase, TaskRun, evolve, generation
from lanner.errors import LannerError
from lanner.expr import is_truthy
from lanner.model.common import format_duration, parse_duration
from lanner.model.flow import Sla
from lanner.model.states import State
from lanner.model.task import TaskKind

# The states in which an execution runs: an SLA is checked only then.
_GOING = frozenset({State.RUNNING, State.PAUSED, State.RETRYING, State.QUEUED})
_ENDS = {"FAIL": State.FAILED, "CANCEL": State.CANCELLED}
_MS = timedelta(milliseconds=1)


def arm(cycle: Cycle) -> None:
    """The execution (re)started in this cycle: one timer per MAX_DURATION SLA."""
    if cycle.ex.state not in _GOING:
        return  # ended at once (concurrency limit): nothing to watch
    run = generation(cycle.ex)
    for index, sla in enumerate(cycle.index.flow.sla or ()):
        if sla.type != "MAX_DURATION" or sla.duration is None:
            continue
        try:
            duration = parse_duration(str(cycle.render(sla.duration, None)))
        except (LannerError, ValueError) as exc:
            message = exc.message if isinstance(exc, LannerError) else str(exc)
            cycle.log("ERROR", f"SLA '{sla.id}' ignored: invalid duration: {message}")
            continue
        cycle.emit(Timer(cycle.now + duration, SlaDue(index, sla.id, run)))


def due(cycle: Cycle, event: SlaDue) -> None:
    """A MAX_DURATION deadline passed: a violation unless the execution already ended."""
    if cycle.ex.state not in _GOING or event.generation != generation(cycle.ex):
        return  # terminal (or being killed), or a timer of a run before a restart
    slas = cycle.index.flow.sla or ()
    if event.index >= len(slas) or slas[event.index].id != event.sla_id:
        return  # cannot happen: an execution keeps its flow revision
    sla = slas[event.index]
    elapsed = format_duration((cycle.now - _run_start(cycle)) // _MS * _MS)
    violate(
        cycle,
        sla,
        f"execution duration of {elapsed} exceeds the maximum duration of {sla.duration}",
    )


def check_running(cycle: Cycle) -> None:
    """After a cycle's events: the FAIL and CANCEL assertions of a running execution.

    A render error counts as no violation here (what the assertion reads, such as
    a task's outputs, may not exist yet); the check at the end reports it."""
    if cycle.ex.state not in _GOING or cycle.ex.state is State.QUEUED:
        return
    for sla in cycle.index.flow.sla or ():
        if sla.type != "EXECUTION_ASSERTION" or sla.behavior == "NONE":
            continue
        try:
            holds = _holds(cycle, sla)
        except LannerError:
            continue
        if not holds:
            violate(cycle, sla, f"assertion is false: {sla.assert_}")
            return  # the execution ended


def at_end(cycle: Cycle, state: State) -> State:
    """The execution reaches `state`: every assertion is checked once more; the first
    FAIL or CANCEL violation decides the state. A kill is never overridden."""
    if state is State.KILLED:
        return state
    ended: State | None = None
    for sla in cycle.index.flow.sla or ():
        if sla.type != "EXECUTION_ASSERTION":
            continue
        try:
            holds = _holds(cycle, sla)
        except LannerError as exc:
            cycle.log("ERROR", f"SLA '{sla.id}' ignored: its assertion failed: {exc.message}")
            continue
        if holds:
            continue
        reason = f"assertion is false: {sla.assert_}"
        _record(cycle, sla, reason)
        target = _ENDS.get(sla.behavior)
        if target is not None and ended is None:
            ended = target
            _announce(cycle, sla, reason, target)
    return ended if ended is not None else state


def violate(cycle: Cycle, sla: Sla, reason: str) -> None:
    """Record a violation of a running execution and apply its behavior."""
    _record(cycle, sla, reason)
    target = _ENDS.get(sla.behavior)
    if target is None:
        return
    _announce(cycle, sla, reason, target)
    _stop_runs(cycle, target)
    cycle.set_ex(target)
    cycle.update_execution(terminal_at=cycle.now)


def _holds(cycle: Cycle, sla: Sla) -> bool:
    rendered = cycle.engine.render(sla.assert_ or "", cycle.scope(None, f"sla:{sla.id}"))
    return is_truthy(rendered)


def _record(cycle: Cycle, sla: Sla, reason: str) -> None:
    cycle.log("WARN", f"SLA '{sla.id}' violated: {reason}")
    if sla.labels and any(cycle.ex.labels.get(k) != v for k, v in sla.labels.items()):
        cycle.update_execution(labels={**cycle.ex.labels, **sla.labels})
        cycle.mark_dirty()


def _announce(cycle: Cycle, sla: Sla, reason: str, target: State) -> None:
    if target is State.FAILED:
        message = f"Execution failed due to SLA '{sla.id}' violated: {reason}"
        cycle.log("ERROR", message)
        if cycle.ex.error is None:
            cycle.update_execution(error=ErrorInfo(message, "SLAViolation"))
    else:
        cycle.log("WARN", f"Execution cancelled due to SLA '{sla.id}' violated: {reason}")


def _run_start(cycle: Cycle) -> datetime:
    """When the timer was set: the execution's start (a scheduled Subflow child starts
    after its creation), or its last restart."""
    restarts = [h.date for h in cycle.ex.histories if h.state is State.RESTARTED]
    if restarts:
        return restarts[-1]
    started = (h.date for h in cycle.ex.histories if h.state is not State.CREATED)
    return next(started, cycle.ex.start_date)


def _stop_runs(cycle: Cycle, target: State) -> None:
    """Kestra's violation: the last task run still going takes the execution's new
    state, every other one is KILLED; running jobs are cancelled."""
    going = [
        cycle.runs[i]
        for i in cycle.active
        if not cycle.runs[i].state.terminated and cycle.top_phase(cycle.runs[i]) is not Phase.AFTER
    ]
    if not going:
        return
    _stop(cycle, max(going, key=lambda r: r.seq), target)
    for run in sorted(going, key=lambda r: r.seq):
        if run.parent_id is None:
            cycle.stop_descendants(run, State.KILLED)
            _stop(cycle, cycle.runs[run.id], State.KILLED)


def _stop(cycle: Cycle, run: TaskRun, state: State) -> None:
    if run.state.terminated:
        return
    task = cycle.index.task(run.task_id)
    if task.kind is TaskKind.RUNNABLE and run.state in (State.SUBMITTED, State.RUNNING):
        cycle.emit(Cancel(run.id))
    attempts = run.attempts
    if attempts:
        attempts = (*attempts[:-1], attempts[-1].to(state, cycle.now))
    cycle.put(evolve(run.to(state, cycle.now), attempts=attempts))
