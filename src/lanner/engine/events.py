"""What reaches the planner (events) and what it asks the runtime to do (commands)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lanner.engine.execution import Execution, fast_init
from lanner.model.states import State

# -- events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    """The execution was created: start it."""


@dataclass(frozen=True, slots=True)
class Kill:
    """A user (or Exit KILLED) asked to kill the execution."""


@fast_init
@dataclass(frozen=True, slots=True)
class TaskResult:
    """A worker finished one attempt of a task run."""

    task_run_id: str
    attempt: int  # 1-based attempt number
    state: State
    outputs: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class TaskStarted:
    """A worker began an attempt (SUBMITTED -> RUNNING)."""

    task_run_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class RetryDue:
    """The retry delay of a task run elapsed."""

    task_run_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class TimeoutDue:
    """A flowable task run's timeout elapsed."""

    task_run_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Resubmitted:
    """The lease reaper queued the job of this attempt again: its worker was lost."""

    task_run_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Resume:
    """A user resumed the paused execution (every paused task run, or only `task_run_id`)."""

    inputs: Mapping[str, Any]
    task_run_id: str | None = None


@dataclass(frozen=True, slots=True)
class UserPause:
    """A user paused the running execution: no task run starts until it is resumed;
    those already running go on and end."""


@dataclass(frozen=True, slots=True)
class SetLabels:
    """A user added or updated labels of a finished execution (Kestra's labels action)."""

    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class PauseElapsed:
    """The `pauseDuration` (or, without one, the `timeout`) of a paused Pause task run ended."""

    task_run_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class SubflowEnded:
    """The child execution started for a Subflow attempt is finalized (afterExecution done)."""

    task_run_id: str
    attempt: int
    execution_id: str  # the child's
    state: State
    outputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Restart:
    """A user restarted a FAILED or KILLED execution."""


@dataclass(frozen=True, slots=True)
class MarkTaskRun:
    """A user changed the state of an ended task run of a finished execution
    (Kestra's change of a task run's state): the execution goes on from it."""

    task_run_id: str
    state: State


@dataclass(frozen=True, slots=True)
class ForceRun:
    """A user starts a CREATED or QUEUED execution now (Kestra's force-run and unqueue),
    whatever the flow's concurrency; `state` other than RUNNING ends it in that state."""

    state: State = State.RUNNING


@dataclass(frozen=True, slots=True)
class SlaDue:
    """The deadline of a MAX_DURATION SLA (the `index`-th of the flow's `sla`) passed.

    `generation`: how many times the execution had been restarted when the timer was
    set; a timer of an earlier run of a restarted execution changes nothing."""

    index: int
    sla_id: str
    generation: int = 0


@dataclass(frozen=True, slots=True)
class ChildStarted:
    """The worker running the job of a one_job task run (WorkingDirectory) starts one of
    its children: the child's task run is created (or, when the job runs again after a
    lost worker, given a new attempt) and made RUNNING. `claims`: which claim of the
    job sent it, so that a later claim's run supersedes an earlier one's."""

    task_run_id: str  # the one_job task run's
    attempt: int  # the one_job task run's attempt
    claims: int
    task_id: str  # the child's


@dataclass(frozen=True, slots=True)
class ChildResult:
    """A child of a one_job task run's job ended (see ChildStarted)."""

    task_run_id: str  # the one_job task run's
    attempt: int
    claims: int
    task_id: str
    state: State
    outputs: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    # The attempt FAILED and the worker runs the child again in the job (its own
    # `retry`): the child is RETRYING until its next ChildStarted.
    retrying: bool = False


@dataclass(frozen=True, slots=True)
class LoopDue:
    """The `checkFrequency.interval` of a LoopUntil (WaitFor) task run elapsed: its
    iteration `iteration` (1-based) may start. A persisted timer, so that a restarted
    server goes on with the loop."""

    task_run_id: str
    attempt: int
    iteration: int


@dataclass(frozen=True, slots=True)
class Dequeue:
    """A concurrency slot of the flow may be free: a QUEUED execution checks again."""


Event = (
    Start
    | Kill
    | TaskResult
    | TaskStarted
    | RetryDue
    | TimeoutDue
    | Resubmitted
    | Resume
    | UserPause
    | SetLabels
    | PauseElapsed
    | SubflowEnded
    | Restart
    | MarkTaskRun
    | ForceRun
    | Dequeue
    | SlaDue
    | ChildStarted
    | ChildResult
    | LoopDue
)

# -- commands -----------------------------------------------------------------


@fast_init
@dataclass(frozen=True, slots=True)
class Dispatch:
    """Run one attempt of a runnable task on a worker."""

    task_run_id: str
    attempt: int
    task_id: str
    type: str
    properties: Mapping[str, Any]  # rendered by the executor
    timeout: float | None  # seconds, per attempt
    log_level: str | None = None  # the task's `logLevel`: its lines below it are dropped

    @property
    def idempotency_key(self) -> str:
        return f"{self.task_run_id}:{self.attempt}"


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the running attempt of a task run (kill, timeout of a parent)."""

    task_run_id: str


@dataclass(frozen=True, slots=True)
class Timer:
    """Deliver `event` to this execution at `at`."""

    at: datetime
    event: Event


@fast_init
@dataclass(frozen=True, slots=True)
class LogLine:
    level: str
    message: str
    task_run_id: str | None = None
    task_id: str | None = None
    attempt: int | None = None


@dataclass(frozen=True, slots=True)
class StartSubflow:
    """Create the child execution of a Subflow attempt (the runtime loads the flow).

    The runtime sets the child's parent_execution_id, parent_task_run_id and
    parent_attempt; when the flow is missing or the inputs are invalid it answers
    with a FAILED TaskResult for (task_run_id, attempt) instead."""

    task_run_id: str
    attempt: int
    execution_id: str  # the child's id, derived from the task run id and the attempt
    namespace: str
    flow_id: str
    revision: int | None
    inputs: Mapping[str, Any]
    labels: Mapping[str, str]
    parent_execution_id: str
    schedule_date: datetime | None = None  # the child starts then (Subflow's scheduleDate)
    # ForEachItem: the batch's number (one attempt starts a child per batch). Such a child
    # may take its batch file's URI as a FILE input (storage/uris.py batch_reader_id).
    batch: int | None = None
    # ForEachItem's restartBehavior NEW_EXECUTION: the batch's first child, whose chain
    # (`originalId`, `metadata.attemptNumber`) the new child continues.
    original_id: str | None = None
    attempt_number: int = 1

    @property
    def idempotency_key(self) -> str:
        if self.batch is not None:
            return f"subflow:{self.task_run_id}:{self.attempt}:{self.batch}"
        return f"subflow:{self.task_run_id}:{self.attempt}"


@dataclass(frozen=True, slots=True)
class Deliver:
    """Send `event` to another execution (a child's kill, a parent's SubflowEnded)."""

    execution_id: str
    event: Event
    dedup_key: str


@dataclass(frozen=True, slots=True)
class RetryExecution:
    """Create the next execution of this one's chain: a retry with behavior
    CREATE_NEW_EXECUTION (engine/newexecutionretry.py). The runtime builds it from the
    decision's execution (its flow revision, inputs, labels, trigger and parent links,
    `Execution.next_attempt()`) and starts it at `start_date`, the retry's interval on."""

    execution_id: str
    start_date: datetime


Command = Dispatch | Cancel | Timer | LogLine | StartSubflow | Deliver | RetryExecution


@fast_init
@dataclass(frozen=True)
class Decision:
    """The planner's answer: the new execution and what to carry out."""

    execution: Execution
    commands: tuple[Command, ...] = ()
    changed: frozenset[str] = frozenset()  # task run ids created or updated
    deleted: frozenset[str] = frozenset()  # task run ids removed (handlers run again)
