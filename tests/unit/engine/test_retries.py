"""SPEC §4.3, §4.4: retries of runnable tasks, on the virtual clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lanner.engine.events import RetryDue, Start, Timer
from lanner.engine.execution import TaskRun
from lanner.model.states import State
from lanner.plugin import Outcome
from tests.unit.engine.support import Driver, failed, history, order, run, run_of, sequence


def _delays(run_: TaskRun) -> list[float]:
    """Seconds between the end of each attempt and the creation of the next one."""
    out = []
    for before, after in zip(run_.attempts, run_.attempts[1:], strict=False):
        out.append((after.histories[0].date - before.histories[-1].date).total_seconds())
    return out


def _retried(retry: str) -> TaskRun:
    sim = run(
        f"""
tasks:
  - id: t
    type: Log
    message: x
    retry:
{retry}
""",
        forced={"t": failed()},
    )
    assert sim.execution.state is State.FAILED
    return run_of(sim.execution, "t")


@pytest.mark.parametrize(
    ("retry", "delays"),
    [
        pytest.param(
            "      type: constant\n      interval: PT5S\n      maxAttempts: 4",
            [5.0, 5.0, 5.0],
            id="constant",
        ),
        pytest.param(
            "      type: exponential\n      interval: PT1S\n      maxInterval: PT5S\n      maxAttempts: 6",
            [1.0, 2.0, 4.0, 5.0, 5.0],
            id="exponential-factor-2-capped",
        ),
        pytest.param(
            "      type: exponential\n      interval: PT1S\n      maxInterval: PT1M\n"
            "      delayFactor: 3\n      maxAttempts: 4",
            [1.0, 3.0, 9.0],
            id="exponential-factor-3",
        ),
        pytest.param(
            "      type: constant\n      interval: PT1S\n      maxAttempts: 1",
            [],
            id="maxAttempts-1-no-retry",
        ),
    ],
)
def test_retry_delays_on_the_virtual_clock(retry: str, delays: list[float]) -> None:
    """§4.4: delay before attempt n+1; maxAttempts counts the first attempt."""
    t = _retried(retry)
    assert len(t.attempts) == len(delays) + 1
    assert _delays(t) == delays
    assert all(a.state is State.FAILED for a in t.attempts)


def test_random_retry_delays_are_in_range_and_deterministic() -> None:
    retry = (
        "      type: random\n      minInterval: PT1S\n      maxInterval: PT3S\n      maxAttempts: 5"
    )
    first, second = _retried(retry), _retried(retry)
    delays = _delays(first)
    assert len(delays) == 4
    assert all(1.0 <= d < 3.0 for d in delays)
    assert delays == _delays(second)


def test_max_duration_limits_retries() -> None:
    """§4.4.2: no retry when next > first attempt start + maxDuration."""
    t = _retried("      type: constant\n      interval: PT10S\n      maxDuration: PT25S")
    assert _delays(t) == [10.0, 10.0]


def test_without_limits_retries_until_success() -> None:
    """§4.4.2: neither maxAttempts nor maxDuration → retries forever (here: until it succeeds)."""
    sim = run(
        """
        tasks:
          - id: t
            type: Log
            message: x
            retry:
              type: constant
              interval: PT1M
        """,
        forced={"t": sequence(*[failed()] * 7, Outcome())},
    )
    assert len(run_of(sim.execution, "t").attempts) == 8
    assert sim.execution.state is State.SUCCESS


WARNING_ON_RETRY = """
tasks:
  - id: flaky
    type: Fail
    condition: "{{ taskrun.attemptsCount < 3 }}"
    retry:
      type: constant
      interval: PT1S
      maxAttempts: 5
      warningOnRetry: WOR
"""


@pytest.mark.parametrize(("flag", "expected"), [("true", "WARNING"), ("false", "SUCCESS")])
def test_warning_on_retry_C49(flag: str, expected: str) -> None:
    """§4.4.4–5 [TEST C-49]: attemptsCount is k-1 in attempt k; success on the 4th
    attempt with warningOnRetry → WARNING."""
    sim = run(WARNING_ON_RETRY.replace("WOR", flag))
    flaky = run_of(sim.execution, "flaky")
    assert [a.state for a in flaky.attempts] == [State.FAILED] * 3 + [State.SUCCESS]
    assert flaky.state.value == expected
    assert sim.execution.state.value == expected


def test_attempts_count_is_rendered_per_attempt() -> None:
    sim = run(
        """
        tasks:
          - id: t
            type: Log
            message: "attempt {{ taskrun.attemptsCount }}"
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 3
        """,
        forced={"t": failed()},
    )
    assert [d.properties["message"] for d in sim.dispatched] == [
        "attempt 0",
        "attempt 1",
        "attempt 2",
    ]
    assert [d.attempt for d in sim.dispatched] == [1, 2, 3]


@pytest.mark.parametrize("max_attempts", ["\"{{ 'many' }}\"", "'{{ nope() }}'"])
def test_a_max_attempts_that_renders_to_no_integer_fails_the_run_unretried(
    max_attempts: str,
) -> None:
    sim = run(
        f"""
        tasks:
          - id: t
            type: Log
            message: x
            retry:
              type: constant
              interval: PT1S
              maxAttempts: {max_attempts}
        """,
        forced={"t": failed()},
    )
    assert sim.execution.state is State.FAILED
    assert len(run_of(sim.execution, "t").attempts) == 1
    assert any("maxAttempts is not an integer" in m for m in sim.messages("t"))


def test_retry_inherited_from_a_flowable_C57() -> None:
    """§4.4.7 [TEST C-57]: the flowable is not retried itself; its failing child gets
    the flowable's policy."""
    sim = run(
        """
        tasks:
          - id: box
            type: Sequential
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 3
            tasks:
              - id: child
                type: Fail
        """
    )
    assert len(run_of(sim.execution, "child").attempts) == 3
    assert len(run_of(sim.execution, "box").attempts) == 1
    assert sim.execution.state is State.FAILED


def test_nearest_ancestor_retry_wins_over_the_flow() -> None:
    sim = run(
        """
        retry:
          type: constant
          interval: PT1S
          maxAttempts: 4
        tasks:
          - id: outer
            type: Sequential
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 2
            tasks:
              - id: inner
                type: Sequential
                tasks:
                  - id: child
                    type: Fail
          - id: never
            type: Log
            message: never
        """
    )
    assert len(run_of(sim.execution, "child").attempts) == 2


def test_retry_inherited_from_the_flow() -> None:
    sim = run(
        """
        retry:
          type: constant
          interval: PT2S
          maxAttempts: 3
        tasks:
          - id: t
            type: Fail
        """
    )
    t = run_of(sim.execution, "t")
    assert len(t.attempts) == 3
    assert _delays(t) == [2.0, 2.0]


def test_warning_on_retry_only_for_the_task_own_retry() -> None:
    """§3.5, §4.3: warningOnRetry of an inherited policy is not applied."""
    sim = run(
        """
        tasks:
          - id: box
            type: Sequential
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 3
              warningOnRetry: true
            tasks:
              - id: t
                type: Log
                message: x
        """,
        forced={"t": sequence(failed(), Outcome())},
    )
    assert run_of(sim.execution, "t").state is State.SUCCESS
    assert sim.execution.state is State.SUCCESS


def test_execution_is_retrying_while_waiting() -> None:
    """§4.4.3: task run and execution RETRYING; nothing else starts; at the due time the
    same task run goes back to CREATED and is dispatched again, execution RUNNING."""
    d = Driver.of(
        """
        tasks:
          - id: t
            type: Log
            message: x
            retry:
              type: constant
              interval: PT30S
              maxAttempts: 2
          - id: next
            type: Log
            message: next
        """
    )
    d.plan(Start())
    failed_at = d.now
    decision = d.plan(d.result("t", State.FAILED, error="e"))
    assert d.execution.state is State.RETRYING
    assert d.run("t").state is State.RETRYING
    timers = [c for c in decision.commands if isinstance(c, Timer)]
    assert len(timers) == 1
    assert timers[0].at == failed_at + timedelta(seconds=30)
    assert timers[0].event == RetryDue(d.run("t").id, 1)
    d.plan()
    assert [r.task_id for r in d.execution.ordered_task_runs()] == ["t"]
    d.now = timers[0].at
    d.plan(timers[0].event)
    assert d.execution.state is State.RUNNING
    assert d.dispatched() == ["t", "t"]
    assert d.dispatch_of("t").attempt == 2
    d.plan(d.result("t"))
    d.plan(d.result("next"))
    assert d.execution.state is State.SUCCESS
    assert history(d.execution) == ["CREATED", "RUNNING", "RETRYING", "RUNNING", "SUCCESS"]
    states = [h.state.value for h in d.run("t").histories]
    assert states == [
        "CREATED",
        "SUBMITTED",
        "RUNNING",
        "RETRYING",
        "CREATED",
        "SUBMITTED",
        "RUNNING",
        "SUCCESS",
    ]


def test_stale_retry_due_is_ignored() -> None:
    d = Driver.of(
        """
        tasks:
          - id: t
            type: Log
            message: x
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 3
        """
    )
    d.plan(Start())
    d.plan(d.result("t", State.FAILED))
    due = RetryDue(d.run("t").id, 1)
    d.plan(due)
    before = d.execution
    d.plan(due)  # the same timer delivered twice
    assert d.execution.task_runs == before.task_runs
    assert d.dispatched() == ["t", "t"]


def test_inherited_retry_retries_before_local_errors() -> None:
    """Lanner decision (docs/semantics.md): with an inherited retry the failed child goes
    RETRYING directly; the container's errors start only once retries are exhausted
    (Kestra may start them and delete them on retry, §3.1)."""
    sim = run(
        """
        tasks:
          - id: box
            type: Sequential
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 3
            tasks:
              - id: child
                type: Log
                message: x
            errors:
              - id: local_e
                type: Log
                message: e
        """,
        forced={"child": failed()},
    )
    assert order(sim) == ["box", "child", "local_e"]
    child, local_e = run_of(sim.execution, "child"), run_of(sim.execution, "local_e")
    assert len(child.attempts) == 3
    assert local_e.start_date >= child.attempts[-1].histories[-1].date
    assert local_e.generation == 0


def test_retry_then_success_continues_the_main_list() -> None:
    sim = run(
        """
        tasks:
          - id: t
            type: Log
            message: x
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 3
          - id: next
            type: Log
            message: next
        errors:
          - id: e
            type: Log
            message: never
        """,
        forced={"t": sequence(failed(), failed(), Outcome())},
    )
    assert sim.states() == [("t", "SUCCESS"), ("next", "SUCCESS")]
    assert sim.execution.state is State.SUCCESS


def test_execution_leaves_retrying_when_the_retrying_run_is_stopped() -> None:
    """A Parallel (allowFailure) resolves while one child waits for a retry: the child is
    stopped, so the execution is no longer retrying and later tasks see RUNNING."""
    sim = run(
        """
        tasks:
          - id: par
            type: Parallel
            allowFailure: true
            tasks:
              - id: flaky
                type: Fail
                retry:
                  type: constant
                  interval: PT10S
                  maxAttempts: 3
              - id: broken
                type: Fail
          - id: probe
            type: Log
            message: "{{ execution.state }}"
        """
    )
    assert sim.messages("probe") == ["RUNNING"]
    assert "RETRYING" not in history(sim.execution)[-2:]


def test_dispatch_render_error_is_a_failed_attempt_and_is_retried() -> None:
    """Properties are rendered by the executor at dispatch: a render error is a FAILED
    attempt (never dispatched) and goes through retry like a worker failure."""
    sim = run(
        """
        tasks:
          - id: t
            type: Log
            message: "{{ nope }}"
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 2
        """
    )
    t = run_of(sim.execution, "t")
    assert [a.state for a in t.attempts] == [State.FAILED, State.FAILED]
    assert sim.dispatched == []
    assert t.error is not None and t.error.type == "RenderError"
    assert sim.messages("t")[0].startswith("Unable to find `nope`")


def test_flow_retry_applies_to_after_execution_tasks() -> None:
    sim = run(
        """
        retry:
          type: constant
          interval: PT1S
          maxAttempts: 2
        tasks:
          - id: t
            type: Log
            message: x
        afterExecution:
          - id: x
            type: Fail
        """
    )
    assert len(run_of(sim.execution, "x").attempts) == 2
    assert sim.execution.state is State.SUCCESS
    assert history(sim.execution) == ["CREATED", "RUNNING", "SUCCESS"]


def test_a_retried_then_successful_task_sets_no_error_context() -> None:
    sim = run(
        """
        tasks:
          - id: t
            type: Log
            message: x
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 2
        finally:
          - id: f
            type: Log
            message: "{{ error is defined }}"
        """,
        forced={"t": sequence(failed(), Outcome())},
    )
    assert sim.messages("f") == ["false"]
    assert sim.execution.error is None
