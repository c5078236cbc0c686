"""ForEach `onChildFailure` / `childFailurePolicy` (issue 7 §6): once a child fails,
CANCEL or FAIL interrupts what still runs in the loop, at any depth; CONTINUE lets
it go on. Groups not started never start after a failure, whatever the policy."""

from __future__ import annotations

import pytest

from lanner.engine.events import Restart, Start
from lanner.engine.execution import TaskRun
from lanner.model.states import State
from tests.unit.engine.support import Driver

# Each value runs a Sequential whose first task is a runnable: `work` of a value is
# nested one level below the loop, so an interruption has to reach into the group.
LOOP = """
tasks:
  - id: each
    type: ForEach
    values: ["1", "2", "3"]
    concurrencyLimit: LIMIT
    POLICY
    tasks:
      - id: step
        type: Sequential
        tasks:
          - id: work
            type: Log
            message: "{{ parent.taskrun.value }}"
          - id: after
            type: Log
            message: after
    errors:
      - id: e1
        type: Log
        message: e1
    finally:
      - id: a1
        type: Log
        message: a1
"""


def loop(policy: str, limit: int = 0) -> Driver:
    body = LOOP.replace("LIMIT", str(limit)).replace("POLICY", policy or "")
    return Driver.of(body)


def child(d: Driver, value: str, task_id: str = "work") -> TaskRun:
    """The task run of `task_id` in the group of `value` (a grandchild of the loop)."""
    step = d.run("step", value)
    [run] = [
        r for r in d.execution.task_runs.values() if r.parent_id == step.id and r.task_id == task_id
    ]
    return run


def work(d: Driver, value: str) -> TaskRun:
    return child(d, value)


def warnings(d: Driver) -> list[str]:
    return [line.message for line in d.logs() if line.level == "WARN"]


@pytest.mark.parametrize(
    ("policy", "interrupted"),
    [
        ("", None),
        ("onChildFailure: CONTINUE", None),
        ("childFailurePolicy: CONTINUE", None),
        ("onChildFailure: CANCEL", State.CANCELLED),
        ("onChildFailure: cancel", State.CANCELLED),  # any case, as Kestra
        ("onChildFailure: FAIL", State.FAILED),
        ("childFailurePolicy: STOP", State.CANCELLED),
    ],
)
def test_on_child_failure_interrupts_running_groups_or_lets_them_run(
    policy: str, interrupted: State | None
) -> None:
    d = loop(policy)
    d.plan(Start())
    assert sorted(d.dispatched()) == ["work", "work", "work"]
    d.plan(d.result_of(work(d, "2"), State.FAILED))
    assert d.run("step", "2").state is State.FAILED
    others = [work(d, "1"), work(d, "3")]
    if interrupted is None:
        assert [r.state for r in others] == [State.SUBMITTED, State.SUBMITTED]
        assert d.cancelled() == [] and warnings(d) == []
    else:
        assert [r.state for r in others] == [interrupted, interrupted]
        assert [d.run("step", v).state for v in ("1", "3")] == [interrupted, interrupted]
        assert d.cancelled() == ["work", "work"]
        # One line per interrupted task run: the two groups and their running task.
        assert warnings(d) == ["Task terminated because sibling task 'work' failed."] * 4
    # The loop's errors, then finally, run in every case; the loop ends FAILED.
    assert "e1" in d.dispatched()
    d.plan(d.result("e1"))
    d.plan(d.result("a1"))
    if interrupted is None:
        for value in ("1", "3"):
            d.plan(d.result_of(work(d, value)))
    assert d.run("each").state is State.FAILED
    assert d.execution.state is State.FAILED


def test_a_late_result_of_an_interrupted_task_changes_nothing() -> None:
    d = loop("onChildFailure: CANCEL")
    d.plan(Start())
    d.plan(d.result_of(work(d, "2"), State.FAILED))
    before = d.execution.task_runs
    d.plan(d.result_of(work(d, "1")))
    assert d.execution.task_runs == before


@pytest.mark.parametrize(
    ("policy", "limit", "started", "cancelled"),
    [
        # One group at a time: nothing else runs, later groups never start.
        ("onChildFailure: CANCEL", 1, ["1"], []),
        ("", 1, ["1"], []),
        # Two at a time: the other group in progress is interrupted (or not), and the
        # third group never starts after the failure.
        ("onChildFailure: CANCEL", 2, ["1", "2"], ["work"]),
        ("", 2, ["1", "2"], []),
    ],
)
def test_groups_not_started_never_start_after_a_failure(
    policy: str, limit: int, started: list[str], cancelled: list[str]
) -> None:
    d = loop(policy, limit)
    d.plan(Start())
    first = started[-1]  # the group that fails
    d.plan(d.result_of(work(d, first), State.FAILED))
    values = sorted({r.value or "" for r in d.execution.task_runs.values() if r.task_id == "step"})
    assert values == started
    assert d.cancelled() == cancelled


@pytest.mark.parametrize("policy", ["onChildFailure: CANCEL", "onChildFailure: FAIL"])
def test_the_loop_error_names_the_task_that_failed_not_an_interrupted_one(policy: str) -> None:
    d = loop(policy)
    d.plan(Start())
    d.plan(d.result_of(work(d, "2"), State.FAILED))
    d.plan(d.result("e1"))
    d.plan(d.result("a1"))
    error = d.run("each").error
    assert error is not None and error.task_id == "work"
    assert error.task_run_id == work(d, "2").id


@pytest.mark.parametrize("policy", ["onChildFailure: CANCEL", "onChildFailure: FAIL"])
def test_a_restart_runs_the_interrupted_groups_again(policy: str) -> None:
    d = loop(policy)
    d.plan(Start())
    d.plan(d.result_of(work(d, "2"), State.FAILED))
    d.plan(d.result("e1"))
    d.plan(d.result("a1"))
    assert d.execution.state is State.FAILED
    d.plan(Restart())
    # Every group runs its `work` again: the failed one and the two interrupted ones.
    for value in ("1", "2", "3"):
        assert work(d, value).state is State.SUBMITTED
        d.plan(d.result_of(work(d, value)))
    for value in ("1", "2", "3"):
        d.plan(d.result_of(child(d, value, "after")))
    d.plan(d.result("a1"))
    assert d.run("each").state is State.SUCCESS
    assert d.execution.state.value == "SUCCESS"  # (mypy keeps the FAILED above)
