"""The Pause task (SPEC §5.11, §4.5): paused by the planner itself, no worker job.

A Pause task run goes CREATED -> RUNNING -> PAUSED and takes the execution to
PAUSED; a `Resume` event or the `PauseElapsed` timer ends the pause. After a
resume, a Pause with (deprecated) `tasks` runs them like a Sequential, with its
own `errors` and `finally`; without `tasks` it ends SUCCESS at once.

A user may also pause a RUNNING execution (`UserPause`, Kestra's pause action):
it becomes PAUSED with no PAUSED task run, which is how a later cycle knows it is
held (`held`): no task run starts, those already running end, and a `Resume`
carries on where it stopped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from lanner.engine.cycle import Cycle
from lanner.engine.events import PauseElapsed, Resume, Timer
from lanner.engine.execution import Attempt, ErrorInfo, History, TaskRun, evolve
from lanner.engine.inputrender import input_renderer
from lanner.engine.timefmt import hms
from lanner.engine.variables import iso
from lanner.errors import LannerError
from lanner.model.common import format_duration, parse_duration
from lanner.model.inputvalues import parse_inputs
from lanner.model.states import State
from lanner.model.task import Task, TaskKind

# What the end of `pauseDuration` does (`behavior`); RESUME resumes like a user.
_BEHAVIOR_STATE = {"WARN": State.WARNING, "FAIL": State.FAILED, "CANCEL": State.CANCELLED}


def start(cycle: Cycle, run: TaskRun, task: Task) -> None:
    props: Any = task
    try:
        duration = _duration(cycle, props.pauseDuration, run)
        # `timeout` only counts when no pauseDuration is given (SPEC §4.5).
        timeout = _duration(cycle, task.timeout, run) if duration is None else None
    except (LannerError, ValueError) as exc:
        message = exc.message if isinstance(exc, LannerError) else str(exc)
        cycle.log("ERROR", message, run)
        cycle.finish(
            cycle.with_closed_attempt(run, State.FAILED),
            State.FAILED,
            error=ErrorInfo(message, "RenderError", task.id, run.id),
        )
        return
    now = cycle.now
    if cycle.ex.state.terminated and duration is None:
        # In afterExecution the execution cannot be PAUSED, so nobody could resume it:
        # it goes on at once, as resumed with the onResume defaults.
        cycle.log("WARN", "Pause without pauseDuration in afterExecution: not paused", run)
        running = Attempt(State.RUNNING, (History(State.RUNNING, now),))
        outputs = _outputs(cycle, _defaults(cycle, run, props))
        cycle.put(
            evolve(run.to(State.RUNNING, now), attempts=(*run.attempts, running), outputs=outputs)
        )
        return
    attempt = Attempt(State.RUNNING, (History(State.RUNNING, now),)).to(State.PAUSED, now)
    mode = "duration" if duration is not None else "timeout" if timeout is not None else None
    run = evolve(
        run.to(State.RUNNING, now).to(State.PAUSED, now),
        attempts=(*run.attempts, attempt),
        memo={"pause": mode},
    )
    cycle.put(run)
    wait = duration if duration is not None else timeout
    if wait is not None:
        cycle.emit(Timer(now + wait, PauseElapsed(run.id, len(run.attempts))))
    if cycle.ex.state in (State.RUNNING, State.RETRYING):
        cycle.set_ex(State.PAUSED)
    until = f" for {format_duration(wait)}" if wait is not None else " until resumed"
    cycle.log("INFO", "Execution paused" + until, run)


def _duration(cycle: Cycle, value: str | None, run: TaskRun) -> timedelta | None:
    if value is None:
        return None
    return parse_duration(str(cycle.render(value, run)))


def hold(cycle: Cycle) -> bool:
    """A user's pause of a running execution; False when it is no longer running."""
    if cycle.ex.state not in (State.RUNNING, State.RETRYING):
        return False  # ended, killed or paused by a Pause task since the user asked
    cycle.set_ex(State.PAUSED)
    cycle.log("INFO", "Execution paused by a user: no task run starts until it is resumed")
    return True


def held(cycle: Cycle) -> bool:
    """Whether the execution is PAUSED by a user: PAUSED with no PAUSED task run. (A
    Pause task run stopped by its parent leaves it so only within the cycle that stops
    it, whose step makes it RUNNING again.)"""
    if cycle.ex.state is not State.PAUSED:
        return False
    return not any(cycle.runs[i].state is State.PAUSED for i in cycle.active)


def _release(cycle: Cycle) -> None:
    """The end of a user's pause: every running flowable is looked at again, since
    its task runs may have ended while nothing was planned."""
    for run_id in sorted(cycle.active, key=lambda i: cycle.runs[i].seq):
        run = cycle.runs[run_id]
        if run.state is State.RUNNING and cycle.index.task(run.task_id).kind is TaskKind.FLOWABLE:
            cycle.put(run)
    cycle.log("INFO", "Execution resumed")


def resume(cycle: Cycle, event: Resume) -> None:
    """A manual resume: every paused task run (or the one named) goes on, whatever its
    behavior; the values given for `onResume` are validated like flow inputs. An
    execution a user paused goes on where it stopped."""
    if cycle.ex.state is not State.PAUSED:
        return  # the CLI refuses first; a late or repeated Resume changes nothing
    if held(cycle):
        _release(cycle)
        sync_state(cycle)
        return
    paused = [
        cycle.runs[i]
        for i in sorted(cycle.active, key=lambda i: cycle.runs[i].seq)
        if cycle.runs[i].state is State.PAUSED
    ]
    if event.task_run_id is not None:
        paused = [r for r in paused if r.id == event.task_run_id]
    for run in paused:
        task = cycle.index.task(run.task_id)
        declared = getattr(task, "onResume", None) or ()
        given: Mapping[str, Any] = event.inputs
        if len(paused) > 1:  # each Pause takes the values it declares
            ids = {d.id for d in declared}
            given = {k: v for k, v in given.items() if k in ids}
        try:
            values = _values(cycle, run, declared, given)
        except (LannerError, ValueError) as exc:
            message = exc.message if isinstance(exc, LannerError) else str(exc)
            cycle.log("ERROR", f"Resume refused: {message}", run)
            continue
        _go_on(cycle, run, values)
    sync_state(cycle)


def _values(
    cycle: Cycle, run: TaskRun, declared: Sequence[Any], given: Mapping[str, Any]
) -> dict[str, Any]:
    flow = cycle.index.flow
    # Expression defaults render in the paused task's scope, with `inputs` holding the
    # onResume values they depend on (as Kestra); the values a user gave are never rendered.
    render = input_renderer(
        flow.namespace,
        flow.id,
        flow.revision,
        cycle.now,
        engine=cycle.engine,
        scope=cycle.scope(run),
    )
    return parse_inputs(declared, given, from_strings=False, render=render)


def _defaults(cycle: Cycle, run: TaskRun, props: Any) -> dict[str, Any]:
    """The onResume values when nobody answers: the declared defaults."""
    with_defaults = [i for i in props.onResume or () if i.defaults is not None]
    try:
        return _values(cycle, run, with_defaults, {})
    except (LannerError, ValueError):
        return {}


def _outputs(cycle: Cycle, values: Mapping[str, Any]) -> dict[str, Any]:
    return {"onResume": dict(values), "resumed": {"on": iso(cycle.now), "to": "RUNNING"}}


def _go_on(cycle: Cycle, run: TaskRun, values: Mapping[str, Any]) -> None:
    now = cycle.now
    attempts = (*run.attempts[:-1], run.attempts[-1].to(State.RUNNING, now))
    outputs = _outputs(cycle, values)
    # RUNNING again: the planner's flowable step runs `tasks` or ends the run SUCCESS.
    cycle.put(evolve(run.to(State.RUNNING, now), attempts=attempts, outputs=outputs))
    cycle.log("INFO", "Execution resumed", run)


def elapsed(cycle: Cycle, event: PauseElapsed) -> None:
    run = cycle.runs.get(event.task_run_id)
    if run is None or run.state is not State.PAUSED or len(run.attempts) != event.attempt:
        return  # resumed, killed or restarted meanwhile
    task = cycle.index.task(run.task_id)
    props: Any = task
    mode = (run.memo or {}).get("pause")
    if mode == "timeout":
        wait = _duration(cycle, task.timeout, run) or timedelta()
        message = f"Timeout after {hms(wait)}: the execution was not resumed in time"
        cycle.log("ERROR", message, run)
        cycle.resolve(run, task, State.FAILED, ErrorInfo(message, "Timeout", task.id, run.id))
    elif props.behavior == "RESUME":
        _go_on(cycle, run, _defaults(cycle, run, props))
    else:
        state = _BEHAVIOR_STATE[props.behavior]
        message = f"Pause duration elapsed, behavior {props.behavior}"
        cycle.log("WARN" if state is not State.FAILED else "ERROR", message, run)
        cause = ErrorInfo(message, "PauseBehavior", task.id, run.id)
        cycle.resolve(run, task, state, cause if state is State.FAILED else None)
    sync_state(cycle)


def sync_state(cycle: Cycle) -> None:
    """The execution is PAUSED while one of its task runs is; then it goes on."""
    if cycle.ex.state is not State.PAUSED:
        return
    if any(cycle.runs[i].state is State.PAUSED for i in cycle.active):
        return
    cycle.set_ex(State.RETRYING if cycle.any_retrying() else State.RUNNING)
