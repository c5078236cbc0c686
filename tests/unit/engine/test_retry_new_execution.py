"""SPEC §4.4: a retry with `behavior: CREATE_NEW_EXECUTION` hands the failure over to a
new execution of the chain (engine/newexecutionretry.py), on the virtual clock.

The four flows are Kestra's own test flows (core/src/test/resources/flows/valids/
retry-new-execution-*.yml); Kestra's RetryCaseTest asserts that each gives three
terminal executions: RETRIED, RETRIED, FAILED."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from itertools import pairwise

import pytest

from lanner.engine.events import Deliver, Kill, RetryExecution, Start
from lanner.engine.execution import Execution
from lanner.engine.newexecutionretry import next_id
from lanner.model.states import State
from tests.unit.engine.support import Driver, history, load

FLOW_ATTEMPTS = """
retry:
  behavior: CREATE_NEW_EXECUTION
  type: constant
  maxAttempt: 3
  interval: PT1S
tasks:
  - id: fail
    type: Fail
"""
FLOW_DURATION = """
retry:
  behavior: CREATE_NEW_EXECUTION
  type: constant
  interval: PT2S
  maxDuration: PT6S
tasks:
  - id: fail
    type: Fail
"""
TASK_ATTEMPTS = """
tasks:
  - id: fail
    type: Fail
    retry:
      behavior: CREATE_NEW_EXECUTION
      type: constant
      maxAttempt: 3
      interval: PT1S
"""
TASK_DURATION = """
tasks:
  - id: fail
    type: Fail
    retry:
      behavior: CREATE_NEW_EXECUTION
      type: constant
      maxDuration: PT6S
      interval: PT2S
"""


def _fail_once(d: Driver, task_id: str = "fail") -> None:
    d.plan(Start())
    d.plan(d.result(task_id, State.FAILED, error="boom"))


def _chain(body: str, limit: int = 10, task_id: str = "fail") -> list[Driver]:
    """Every execution of the chain, each failing 1 ms after it starts."""
    flow = load(body)
    drivers = [Driver(flow)]
    while True:
        d = drivers[-1]
        _fail_once(d, task_id)
        retries = d.of_type(RetryExecution)
        if not retries or len(drivers) >= limit:
            return drivers
        [cmd] = retries
        nxt = Driver(flow, now=cmd.start_date)
        nxt.execution = replace(
            nxt.execution,
            id=cmd.execution_id,
            histories=nxt.execution.histories,
            **d.execution.next_attempt(),
        )
        drivers.append(nxt)


@pytest.mark.parametrize(
    "body",
    [FLOW_ATTEMPTS, FLOW_DURATION, TASK_ATTEMPTS, TASK_DURATION],
    ids=["flow-attempts", "flow-duration", "task-attempts", "task-duration"],
)
def test_kestras_retry_new_execution_flows_give_retried_retried_failed(body: str) -> None:
    chain = _chain(body)
    assert [d.execution.state for d in chain] == [State.RETRIED, State.RETRIED, State.FAILED]
    first = chain[0].execution
    assert [d.execution.origin_id for d in chain] == [first.id] * 3
    assert [d.execution.attempt_number for d in chain] == [1, 2, 3]
    assert [d.execution.origin_date for d in chain] == [first.start_date] * 3


def test_the_retried_execution_ends_retried_with_its_failed_task_run() -> None:
    d = _chain(TASK_ATTEMPTS, limit=1)[0]
    ex = d.execution
    assert history(ex) == ["CREATED", "RUNNING", "RETRIED"]
    assert d.states() == [("fail", "RETRIED")]
    [attempt] = d.run("fail").attempts
    assert attempt.state is State.FAILED
    assert ex.terminal_at is not None and ex.finalized_at is not None
    [cmd] = d.of_type(RetryExecution)
    assert cmd.execution_id == next_id(ex.id, 1)
    assert cmd.start_date == ex.terminal_at + timedelta(seconds=1)


def test_the_interval_counts_from_the_failure_and_the_duration_from_the_first_creation() -> None:
    chain = _chain(TASK_DURATION)
    starts = [d.execution.start_date for d in chain]
    # Each execution fails 1 ms after its start (the Driver's step); the next starts 2 s on.
    gaps = [(b - a).total_seconds() for a, b in pairwise(starts)]
    assert gaps == [2.001, 2.001]


def test_a_parallel_sibling_still_running_is_killed_and_its_parent_retried() -> None:
    d = Driver.of(
        """
tasks:
  - id: both
    type: Parallel
    tasks:
      - id: fail
        type: Fail
        retry:
          behavior: CREATE_NEW_EXECUTION
          type: constant
          maxAttempts: 2
          interval: PT1M
      - id: slow
        type: Log
        message: slow
  - id: never
    type: Log
    message: never
"""
    )
    d.plan(Start())
    d.plan(d.result("fail", State.FAILED, error="boom"))
    assert d.execution.state is State.RETRIED
    assert dict(d.states()) == {"both": "RETRIED", "fail": "RETRIED", "slow": "KILLED"}
    assert d.cancelled() == ["slow"]
    assert len(d.of_type(RetryExecution)) == 1


def test_errors_and_finally_run_only_in_the_last_execution() -> None:
    body = """
tasks:
  - id: fail
    type: Fail
    retry:
      behavior: CREATE_NEW_EXECUTION
      type: constant
      maxAttempts: 2
      interval: PT1S
errors:
  - id: alert
    type: Log
    message: failed
"""
    first = Driver.of(body)
    _fail_once(first)
    assert first.execution.state is State.RETRIED
    assert "alert" not in first.dispatched()
    [cmd] = first.of_type(RetryExecution)
    last = Driver(first.flow, now=cmd.start_date)
    last.execution = replace(last.execution, id=cmd.execution_id, **first.execution.next_attempt())
    _fail_once(last)
    assert last.dispatched() == ["fail", "alert"]
    assert last.of_type(RetryExecution) == []


def test_a_replayed_cycle_names_the_same_next_execution() -> None:
    a, b = _chain(TASK_ATTEMPTS, limit=1)[0], _chain(TASK_ATTEMPTS, limit=1)[0]
    assert a.of_type(RetryExecution) == b.of_type(RetryExecution)


def test_retry_failed_task_is_unchanged_by_the_chain_fields() -> None:
    d = Driver.of(
        """
tasks:
  - id: fail
    type: Fail
    retry:
      type: constant
      maxAttempts: 2
      interval: PT1S
"""
    )
    _fail_once(d)
    assert d.run("fail").state is State.RETRYING
    assert d.of_type(RetryExecution) == []


def _fresh(ex: Execution) -> bool:
    return ex.origin_id == ex.id and ex.attempt_number == 1


def test_a_fresh_execution_is_its_own_original() -> None:
    assert _fresh(Driver.of(TASK_ATTEMPTS).execution)


def test_execution_original_id_renders_the_chains_first_execution() -> None:
    body = """
tasks:
  - id: say
    type: Log
    message: "{{ execution.originalId }}"
"""
    d = Driver.of(body)
    d.execution = replace(d.execution, id="second", original_id="first", attempt_number=2)
    d.plan(Start())
    assert d.dispatch_of("say").properties["message"] == "first"


def test_a_kill_of_a_retried_execution_goes_on_to_the_next_of_the_chain() -> None:
    d = _chain(TASK_ATTEMPTS, limit=1)[0]
    [cmd] = d.of_type(RetryExecution)
    d.plan(Kill())
    assert d.execution.state is State.RETRIED
    assert d.of_type(Deliver)[-1] == Deliver(cmd.execution_id, Kill(), f"kill:{cmd.execution_id}")
