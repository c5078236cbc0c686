"""Order.UNTIL: LoopUntil and its alias WaitFor (docs/flowables.md).

A loop task run keeps in its memo the iteration going (`iteration`, 1-based),
the bounds rendered once when it started, and, between two iterations, the
iteration its timer will start (`next`). Iteration k's task runs carry
`iteration = k` (so each has its own id, and `taskrun.iteration` reads k); the
loop's output `iterationCount` is k while iteration k runs. When every task
run of an iteration succeeded, `condition` is rendered: true ends the loop;
false with a bound reached ends it too (FAILED with `failOnMaxReached`), else
a `LoopDue` timer starts the next iteration after `interval`. The timer is a
persisted event like a retry's, so a restarted server goes on with the loop.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lanner.engine.containers import NewChild, Summary, select, sequential_next
from lanner.engine.cycle import Cycle
from lanner.engine.events import LoopDue, Timer
from lanner.engine.execution import ErrorInfo, Phase, TaskRun, evolve
from lanner.engine.variables import iso
from lanner.errors import LannerError
from lanner.expr import is_truthy
from lanner.model.behaviour import Until
from lanner.model.common import format_duration, parse_duration
from lanner.model.states import State, final_state
from lanner.model.task import Task

# How a loop ended (memo `end`), once it did.
BY_CONDITION = "condition"
BY_BOUND = "bound"  # a bound was reached: SUCCESS
BY_BOUND_FAILED = "bound-failed"  # a bound was reached with failOnMaxReached: FAILED
BY_ERROR = "error"  # the condition could not be rendered: FAILED


def _read(task: Task, path: str) -> Any:
    """The property a declaration names; a dotted name reads into nested properties."""
    value: Any = task
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _spec(task: Task) -> Until:
    until = task.behaviour.until
    assert until is not None  # Order.UNTIL goes with `until` (Behaviour checks it)
    return until


def resolve(cycle: Cycle, run: TaskRun, task: Task) -> tuple[dict[str, Any], dict[str, Any]]:
    """The memo and outputs of a loop task run that starts (or starts again after a
    restart, in the iteration it failed in): the interval and bounds, rendered once."""
    until = _spec(task)
    memo: dict[str, Any] = {}
    iteration = 1
    if run.state is State.RESTARTED and run.memo:
        memo = {k: v for k, v in run.memo.items() if k not in ("next", "end")}
        iteration = int(memo.get("iteration", 1))
    interval = parse_duration(str(cycle.render(_read(task, until.interval) or "PT1M", run)))
    memo["iteration"] = iteration
    memo["interval"] = interval.total_seconds()
    max_iterations = _read(task, until.max_iterations)
    memo["maxIterations"] = (
        None if max_iterations is None else int(str(cycle.render(max_iterations, run)))
    )
    max_duration = _read(task, until.max_duration)
    if max_duration is not None and "deadline" not in memo:
        span = parse_duration(str(cycle.render(max_duration, run)))
        memo["deadline"] = iso(cycle.now + span)
        memo["maxDuration"] = format_duration(span)
    fail = _read(task, until.fail_on_max)
    memo["failOnMax"] = (
        is_truthy(str(cycle.render(fail, run))) if isinstance(fail, str) else bool(fail)
    )
    return memo, {"iterationCount": iteration}


def step(cycle: Cycle, run: TaskRun, task: Task, main: tuple[Task, ...]) -> list[NewChild]:
    """Look at a running loop again; returns the task runs to create."""
    memo = dict(run.memo or {})
    if "next" in memo:
        return []  # between two iterations: the LoopDue timer goes on
    iteration = int(memo["iteration"])
    ids = cycle.children.get((run.id, Phase.MAIN), ())
    current = [cycle.runs[i] for i in ids if cycle.runs[i].iteration == iteration]
    summary = Summary.of(current)
    end = memo.get("end")
    if not main:
        cycle.resolve(run, task, State.SUCCESS)
        return []
    if end is None and not summary.failed and summary.terminated >= len(main):
        end = _check(cycle, run, task, memo, iteration)
        if end is None:
            return []  # the next iteration is due later
        memo["end"] = end
        run = evolve(run, memo=memo)
        cycle.put(run)
    failed = summary.failed or end in (BY_BOUND_FAILED, BY_ERROR)
    errors, finally_ = cycle.index.handler_lists(task)
    phase, tasks = select(
        main,
        errors,
        finally_,
        Summary(summary.terminated, failed),
        cycle.runs_of(run.id, Phase.ERRORS),
        cycle.runs_of(run.id, Phase.FINALLY),
        len(main),
    )
    if phase is Phase.MAIN and end is None and not failed:
        nxt = sequential_next(main, current)
        return [NewChild(nxt, Phase.MAIN, None, iteration)] if nxt is not None else []
    if phase is not Phase.MAIN:
        runs = cycle.runs_of(run.id, phase)
        if sum(1 for r in runs if r.state.terminated) < len(tasks):
            nxt = sequential_next(tasks, runs)
            return [NewChild(nxt, phase)] if nxt is not None else []
    _end(cycle, run, task, end, [cycle.runs[i].state for i in ids])
    return []


def _end(cycle: Cycle, run: TaskRun, task: Task, end: str | None, states: list[State]) -> None:
    if end == BY_BOUND_FAILED:
        message = (run.memo or {}).get("reached", "Max iterations reached")
        cycle.resolve(run, task, State.FAILED, ErrorInfo(message, "MaxReached", task.id, run.id))
    elif end == BY_ERROR:
        message = (run.memo or {}).get("reached", "condition failed")
        cycle.resolve(run, task, State.FAILED, ErrorInfo(message, "RenderError", task.id, run.id))
    else:
        cycle.resolve(run, task, final_state(states))


def _check(
    cycle: Cycle, run: TaskRun, task: Task, memo: dict[str, Any], iteration: int
) -> str | None:
    """Iteration `iteration` succeeded: how the loop ends, or None when it goes on
    (the timer of the next iteration is then set)."""
    until = _spec(task)
    try:
        rendered = cycle.engine.render(
            str(_read(task, until.condition)), cycle.scope(run, "condition")
        )
    except LannerError as exc:
        message = f"Unable to evaluate the condition of {task.id}: {exc.message}"
        cycle.log("ERROR", message, run)
        memo["reached"] = message
        _set_error(cycle, run, task, message, "RenderError")
        return BY_ERROR
    if is_truthy(rendered):
        return BY_CONDITION
    reached = None
    limit = memo.get("maxIterations")
    deadline = memo.get("deadline")
    if limit is not None and iteration >= int(limit):
        reached = f"Max iterations reached ({limit})"
    elif deadline is not None and cycle.now >= datetime.fromisoformat(deadline):
        reached = f"Max duration reached ({memo.get('maxDuration')})"
    if reached is not None:
        failing = bool(memo.get("failOnMax"))
        cycle.log("ERROR" if failing else "WARN", reached, run)
        memo["reached"] = reached
        if not failing:
            return BY_BOUND
        _set_error(cycle, run, task, reached, "MaxReached")
        return BY_BOUND_FAILED
    nxt = iteration + 1
    cycle.put(evolve(run, memo={**memo, "next": nxt}))
    due = cycle.now + timedelta(seconds=float(memo.get("interval", 60.0)))
    cycle.emit(Timer(due, LoopDue(run.id, len(run.attempts), nxt)))
    return None


def _set_error(cycle: Cycle, run: TaskRun, task: Task, message: str, kind: str) -> None:
    """The loop fails: its `errors` tasks read why in `error` (as after a failed child)."""
    if cycle.ex.error is None:
        cycle.update_execution(error=ErrorInfo(message, kind, task.id, run.id))


def due(cycle: Cycle, event: LoopDue) -> None:
    """The interval elapsed: the loop's next iteration starts (a stale timer does nothing)."""
    run = cycle.runs.get(event.task_run_id)
    if run is None or run.state is not State.RUNNING or len(run.attempts) != event.attempt:
        return
    memo = dict(run.memo or {})
    if memo.get("next") != event.iteration:
        return
    del memo["next"]
    memo["iteration"] = event.iteration
    outputs = {**(run.outputs or {}), "iterationCount": event.iteration}
    cycle.put(evolve(run, memo=memo, outputs=outputs))


__all__ = ["due", "resolve", "step"]
