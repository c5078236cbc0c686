"""A retry with `behavior: CREATE_NEW_EXECUTION` (SPEC §4.4, Kestra's AbstractRetry).

Kestra's other behaviour, RETRY_FAILED_TASK, runs a failed task run again in its
execution. This one hands the failure over to a new execution instead: the
failed task run, its ancestors and the execution end RETRIED (a terminal state),
what else still runs is KILLED, and a `RetryExecution` command asks the runtime
for the next execution of the chain -- a replay of the whole flow with the same
inputs, labels and trigger, `originalId` kept and `metadata.attemptNumber` + 1 --
starting when the retry's interval has elapsed.

The limits count executions, not attempts: `maxAttempts` is compared with the
execution's `attemptNumber` (3 gives 3 executions: RETRIED, RETRIED, FAILED),
and `maxDuration` runs from the chain's first creation date
(`metadata.originalCreatedDate`). The last execution fails as usual: its
`errors` and `finally` run then, not in the RETRIED ones, whose failure was
handed over. `afterExecution` runs after every execution of the chain, as it
runs after any terminal state. A Kill that reaches a RETRIED execution (a
Subflow parent kills the child it started) is forwarded to the next one.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lanner.engine.cycle import Cycle
from lanner.engine.events import Deliver, Kill, RetryExecution
from lanner.engine.execution import TaskRun, new_execution_id
from lanner.model.common import parse_duration
from lanner.model.states import State


def next_id(execution_id: str, attempt_number: int) -> str:
    """The next execution of the chain: a replayed cycle names the same one."""
    return new_execution_id(f"retry-execution:{execution_id}:{attempt_number + 1}")


def start_date(cycle: Cycle, policy: Any, max_attempts: int | None) -> datetime | None:
    """When the next execution starts, or None when the policy's limits are reached."""
    ex = cycle.ex
    number = ex.attempt_number
    if max_attempts is not None and number >= max_attempts:
        return None
    draw = random.Random(f"{cycle.ctx.seed}:{ex.id}:new-execution").random()
    at: datetime = cycle.now + policy.delay(number, draw)
    if policy.maxDuration is not None and at > ex.origin_date + parse_duration(policy.maxDuration):
        return None
    return at


def hand_over(cycle: Cycle, run: TaskRun, at: datetime, kill_all: Callable[[], None]) -> None:
    """`run` failed (its last attempt is closed FAILED): end the execution RETRIED and
    ask for the next one at `at`. `kill_all` stops the task runs still going."""
    now = cycle.now
    cycle.put(run.to(State.RETRIED, now))
    node = run
    while node.parent_id is not None:
        parent = cycle.runs[node.parent_id]
        if parent.state.terminated:
            break
        cycle.put(parent.to(State.RETRIED, now))
        cycle.stop_descendants(parent, State.KILLED)
        node = parent
    kill_all()
    ex = cycle.ex
    new_id = next_id(ex.id, ex.attempt_number)
    cycle.log(
        "INFO",
        f"Task '{run.task_id}' failed: retried in a new execution {new_id}"
        f" (attempt {ex.attempt_number + 1}) at {at.isoformat()}",
        run,
    )
    cycle.emit(RetryExecution(new_id, at))
    cycle.set_ex(State.RETRIED)
    cycle.update_execution(terminal_at=now)


def forward_kill(cycle: Cycle) -> None:
    """A Kill reached this RETRIED execution (a Subflow parent knows the chain by its
    first child): it goes on to the next execution of the chain, which runs now."""
    ex = cycle.ex
    following = next_id(ex.id, ex.attempt_number)
    cycle.emit(Deliver(following, Kill(), f"kill:{following}"))
