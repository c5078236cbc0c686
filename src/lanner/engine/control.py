"""Execution control in the planner: flow concurrency (SPEC §2.4), lost workers,
and the dispatch of the events of pause, subflow and restart to their modules."""

from __future__ import annotations

from collections.abc import Iterable

from lanner.engine import foreachitem, pause, restart, subflow
from lanner.engine.cycle import Cycle
from lanner.engine.events import (
    Dequeue,
    Event,
    ForceRun,
    MarkTaskRun,
    PauseElapsed,
    Restart,
    Resubmitted,
    Resume,
    Start,
    SubflowEnded,
)
from lanner.engine.execution import ErrorInfo, Execution, TaskRun, evolve
from lanner.model.behaviour import Action
from lanner.model.flow import Flow
from lanner.model.states import State
from lanner.model.task import Task, TaskKind

CONTROL_EVENTS = (
    Resubmitted,
    Resume,
    PauseElapsed,
    SubflowEnded,
    Restart,
    Dequeue,
    MarkTaskRun,
    ForceRun,
)
CONCURRENCY_FAILED = "Execution is FAILED due to concurrency limit exceeded"


def apply(cycle: Cycle, event: Event) -> None:
    if isinstance(event, Resubmitted):
        resubmitted(cycle, event)
    elif isinstance(event, Resume):
        pause.resume(cycle, event)
    elif isinstance(event, PauseElapsed):
        pause.elapsed(cycle, event)
    elif isinstance(event, SubflowEnded):
        subflow.ended(cycle, event)  # each ignores the other's task runs (memo)
        foreachitem.ended(cycle, event)
    elif isinstance(event, Restart):
        restart.restart(cycle)
    elif isinstance(event, Dequeue) and cycle.ex.state is State.QUEUED and slot_free(cycle):
        cycle.set_ex(State.RUNNING)
    elif isinstance(event, MarkTaskRun):
        restart.mark(cycle, event)
    elif isinstance(event, ForceRun):
        force_run(cycle, event.state)


def start_task(cycle: Cycle, run: TaskRun, task: Task) -> bool:
    """Start a task run whose declared action is handled here; False for the others."""
    action = task.behaviour.action
    if action is Action.PAUSE:
        pause.start(cycle, run, task)
    elif action is Action.SUBFLOW and task.behaviour.batches is not None:
        foreachitem.start(cycle, run, task)
    elif action is Action.SUBFLOW:
        subflow.start(cycle, run, task)
    else:
        return False
    return True


# -- concurrency -----------------------------------------------------------------------------
def counts_slots(flow: Flow, execution: Execution, events: Iterable[Event]) -> bool:
    """Whether a cycle applying `events` to `execution` may ask how many slots are taken
    (PlanContext.slots_taken): only a limited flow's execution that is CREATED and gets
    its Start, or QUEUED and gets a Dequeue. The runtime counts only then: the count
    takes the flow's lock, which no other cycle needs."""
    if flow.concurrency is None:
        return False
    state = execution.state
    if state is State.CREATED:
        return any(isinstance(e, Start) for e in events)
    if state is State.QUEUED:
        return any(isinstance(e, Dequeue) for e in events)
    return False


def slot_free(cycle: Cycle) -> bool:
    limit = cycle.index.flow.concurrency
    taken = cycle.ctx.slots_taken
    if limit is None or taken is None:
        return True
    return taken < limit.limit


def start(cycle: Cycle) -> None:
    """`Start`: RUNNING, unless the flow's concurrency limit is reached."""
    if cycle.ex.state is not State.CREATED:
        return
    concurrency = cycle.index.flow.concurrency
    if concurrency is None or slot_free(cycle):
        cycle.set_ex(State.RUNNING)
    elif concurrency.behavior == "QUEUE":
        cycle.set_ex(State.QUEUED)
        cycle.log("INFO", f"Execution queued: concurrency limit {concurrency.limit} reached")
    elif concurrency.behavior == "CANCEL":
        cycle.log("INFO", f"Execution cancelled: concurrency limit {concurrency.limit} reached")
        _end(cycle, State.CANCELLED)
    else:
        cycle.log("ERROR", CONCURRENCY_FAILED)
        cycle.update_execution(error=ErrorInfo(CONCURRENCY_FAILED, "ConcurrencyLimit"))
        _end(cycle, State.FAILED)


def force_run(cycle: Cycle, state: State) -> None:
    """A CREATED or QUEUED execution starts now, past the concurrency limit (Kestra's
    force-run), or leaves the queue in `state` (Kestra's unqueue)."""
    if cycle.ex.state not in (State.CREATED, State.QUEUED):
        return  # started or ended meanwhile: a late request changes nothing
    if state is State.RUNNING:
        cycle.set_ex(State.RUNNING)
        cycle.log("INFO", "Execution started by a user, whatever the concurrency limit")
    else:
        cycle.log("INFO", f"Execution taken out of the queue by a user: {state.value}")
        _end(cycle, state)


UNQUEUE_STATES = frozenset({State.RUNNING, State.CANCELLED, State.FAILED, State.KILLED})


def _end(cycle: Cycle, state: State) -> None:
    # Nothing ran: no flow outputs to render; afterExecution still runs.
    cycle.set_ex(state)
    cycle.update_execution(terminal_at=cycle.now)


# -- lost workers ----------------------------------------------------------------------------
def resubmitted(cycle: Cycle, event: Resubmitted) -> None:
    """The attempt's history notes RESUBMITTED; its next TaskStarted makes it RUNNING
    again. The attempt count does not change: a lost worker is no failed attempt."""
    run = cycle.runs.get(event.task_run_id)
    if run is None or run.state not in (State.SUBMITTED, State.RUNNING):
        return
    if len(run.attempts) != event.attempt:
        return
    if cycle.index.task(run.task_id).kind is not TaskKind.RUNNABLE:
        return  # only worker jobs are resubmitted
    last = run.attempts[-1]
    if last.state is State.RESUBMITTED:
        return  # the same resubmission told twice
    attempts = (*run.attempts[:-1], last.to(State.RESUBMITTED, cycle.now))
    cycle.put(evolve(run, attempts=attempts))
    cycle.log("WARN", "Worker lost: the attempt was queued again", run)


def started_again(cycle: Cycle, run: TaskRun, attempt: int) -> None:
    """TaskStarted of a resubmitted attempt whose task run was already RUNNING."""
    if len(run.attempts) != attempt or run.attempts[-1].state is not State.RESUBMITTED:
        return
    attempts = (*run.attempts[:-1], run.attempts[-1].to(State.RUNNING, cycle.now))
    cycle.put(evolve(run, attempts=attempts))
