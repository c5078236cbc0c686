"""SPEC §4.1 (runIf) and §4.2 (allowFailure / allowWarning)."""

from __future__ import annotations

import textwrap

import pytest

from lanner.engine.events import Start, StartSubflow
from lanner.engine.execution import TaskRun
from lanner.model.states import State
from lanner.plugin import Outcome
from tests.unit.engine.support import (
    Driver,
    failed,
    order,
    run,
    run_of,
    sequence,
    state_of,
)

# -- runIf ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("'true'", "SUCCESS"),
        ("\"{{ outputs.first.value == 'go' }}\"", "SUCCESS"),
        ("\"{{ outputs.first.value == 'stop' }}\"", "SKIPPED"),
        ("'false'", "SKIPPED"),
        ("'0'", "SKIPPED"),
        ("' -0 '", "SKIPPED"),
        ("\"{{ '' }}\"", "SKIPPED"),
        ("'False'", "SUCCESS"),
    ],
)
def test_run_if_false_skips_the_task_C11_C12(condition: str, expected: str) -> None:
    """§4.1 [TEST C-11, C-12]: falsy runIf → SKIPPED, the body is not executed,
    the next task starts and the execution ends SUCCESS."""
    sim = run(
        f"""
tasks:
  - id: first
    type: Return
    format: go
  - id: guarded
    type: Log
    runIf: {condition}
    message: ran
  - id: last
    type: Log
    message: last
"""
    )
    assert sim.states() == [("first", "SUCCESS"), ("guarded", expected), ("last", "SUCCESS")]
    assert ("guarded" in [d.task_id for d in sim.dispatched]) is (expected == "SUCCESS")
    assert sim.execution.state is State.SUCCESS


def test_run_if_false_has_one_skipped_attempt() -> None:
    """§2.3: attempt list = [SKIPPED]."""
    sim = run(
        """
        tasks:
          - id: guarded
            type: Fail
            runIf: "false"
        """
    )
    attempts = run_of(sim.execution, "guarded").attempts
    assert [a.state for a in attempts] == [State.SKIPPED]
    assert [h.state for h in run_of(sim.execution, "guarded").histories] == [
        State.CREATED,
        State.SKIPPED,
    ]


@pytest.mark.parametrize("kind", ["Sequential", "Parallel", "AllowFailure"])
def test_skipped_flowable_creates_no_children(kind: str) -> None:
    sim = run(
        f"""
tasks:
  - id: box
    type: {kind}
    runIf: "{{{{ 1 > 2 }}}}"
    tasks:
      - id: inner
        type: Fail
    errors:
      - id: local
        type: Log
        message: never
"""
    )
    assert sim.states() == [("box", "SKIPPED")]
    assert sim.execution.state is State.SUCCESS


def test_run_if_render_error_fails_the_task_C10() -> None:
    """§4.1 [TEST C-10]: a runIf that cannot render → FAILED, normal failure handling."""
    sim = run(
        """
        tasks:
          - id: willfail
            type: Log
            runIf: "{{ nope.nothing }}"
            message: never
          - id: after
            type: Log
            message: never
        errors:
          - id: e
            type: Log
            message: "{{ error.type }}"
        """
    )
    assert sim.states() == [("willfail", "FAILED"), ("e", "SUCCESS")]
    assert sim.execution.state is State.FAILED
    assert sim.messages("willfail")[0].startswith(
        "Failed to evaluate the runIf condition for task willfail. Cause: "
    )
    assert sim.messages("e") == ["RunIfError"]
    assert not [d for d in sim.dispatched if d.task_id == "willfail"]


def test_run_if_sees_variables_set_by_earlier_tasks_C11() -> None:
    """[TEST C-11 shape]: runIf reads vars set by SetVariables and removed by UnsetVariables."""
    sim = run(
        """
        tasks:
          - id: set
            type: SetVariables
            variables:
              go: true
              stop: "yes"
          - id: unset
            type: UnsetVariables
            variables: [stop]
          - id: runs
            type: Log
            runIf: "{{ vars.go }}"
            message: runs
          - id: skipped
            type: Log
            runIf: "{{ vars.stop is defined }}"
            message: never
        """
    )
    assert sim.states() == [
        ("set", "SUCCESS"),
        ("unset", "SUCCESS"),
        ("runs", "SUCCESS"),
        ("skipped", "SKIPPED"),
    ]


_GUARDED = {
    "Log": "type: Log\nmessage: never",
    "Return": "type: Return\nformat: never",
    "Subflow": "type: Subflow\nnamespace: tests\nflowId: child\nwait: true\ntransmitFailed: true",
    "Sequential": "type: Sequential\ntasks:\n  - id: inner\n    type: Log\n    message: never",
    "SetVariables": "type: SetVariables\nvariables:\n  x: 1",
    "Pause": "type: Pause\nbehavior: FAIL",
}
_RETRY = "retry:\n  type: constant\n  interval: PT1S\n  maxAttempts: 3"


def _loop_with_guarded(guarded: str) -> str:
    """A ForEach whose value groups run a Sequential of `work` then `guarded` (the
    shape Hypothesis found: a direct child of the loop is never created after a
    failure, SPEC §3.3, but the next task of a group's Sequential is)."""
    steps = (
        f"- id: work\n  type: Log\n  message: w\n- id: guarded\n{textwrap.indent(guarded, '  ')}"
    )
    group = f"- id: group\n  type: Sequential\n  tasks:\n{textwrap.indent(steps, '    ')}"
    return f"""
tasks:
  - id: loop
    type: ForEach
    values: [a, b]
    concurrencyLimit: 0
    tasks:
{textwrap.indent(group, "      ")}
"""


def _work_run(d: Driver, value: str) -> TaskRun:
    """The `work` task run of the value group `value`, at whatever depth it sits."""
    runs = d.execution.task_runs
    for r in d.execution.ordered_task_runs():
        if r.task_id != "work":
            continue
        owner = r
        while owner.value is None and owner.parent_id:
            owner = runs[owner.parent_id]
        if owner.value == value:
            return r
    raise AssertionError(f"no work task run for {value}")


@pytest.mark.parametrize("retry", [True, False])
@pytest.mark.parametrize("kind", list(_GUARDED))
def test_run_if_false_skips_a_task_created_as_its_loop_fails(kind: str, retry: bool) -> None:
    """§4.1 and §3.8 (step 8, runIf, before step 9, the loop's state): group `a`
    creates `guarded` in the same cycle as group `b` fails. The loop then resolves
    FAILED and stops what still runs, but `guarded`, whose runIf is false, was
    SKIPPED first: one SKIPPED attempt, never dispatched nor started, and its retry
    does not apply (Hypothesis seed 864 found it ending FAILED with no attempt)."""
    guarded = f'runIf: "{{{{ 1 == 2 }}}}"\n{_GUARDED[kind]}'
    if retry:
        guarded += "\n" + _RETRY
    d = Driver.of(_loop_with_guarded(guarded))
    d.plan(Start())
    d.plan(
        d.result_of(_work_run(d, "a")),
        d.result_of(_work_run(d, "b"), State.FAILED),
    )
    skipped = [r for r in d.execution.ordered_task_runs() if r.task_id == "guarded"]
    assert [(r.state, [a.state for a in r.attempts]) for r in skipped] == [
        (State.SKIPPED, [State.SKIPPED])
    ]
    assert not d.execution.children.get((skipped[0].id, skipped[0].phase))
    assert "guarded" not in d.dispatched()
    assert not d.of_type(StartSubflow)
    assert run_of(d.execution, "loop").state is State.FAILED
    assert d.execution.state is State.FAILED


def test_run_if_true_task_created_as_its_loop_fails_takes_the_loop_state() -> None:
    """The contrast (docs/semantics.md, "Stopping siblings still running"): with a
    true runIf the same task is dispatched, then stopped in the loop's state."""
    d = Driver.of(_loop_with_guarded("type: Log\nmessage: runs"))
    d.plan(Start())
    d.plan(
        d.result_of(_work_run(d, "a")),
        d.result_of(_work_run(d, "b"), State.FAILED),
    )
    assert d.run("guarded").state is State.FAILED
    assert "guarded" in d.dispatched()
    assert "guarded" in d.cancelled()


# -- allowFailure / allowWarning (§4.2) ------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "outcome", "task_state", "execution_state"),
    [
        pytest.param("allowFailure: true", failed(), "WARNING", "WARNING", id="allowFailure-C39"),
        pytest.param(
            "allowFailure: true\n    allowWarning: true",
            failed(),
            "SUCCESS",
            "SUCCESS",
            id="both-C43",
        ),
        pytest.param(
            "allowWarning: true",
            Outcome(State.WARNING),
            "SUCCESS",
            "SUCCESS",
            id="allowWarning-warning",
        ),
        pytest.param("allowWarning: true", failed(), "FAILED", "FAILED", id="allowWarning-failed"),
        pytest.param(
            "allowFailure: true",
            Outcome(State.WARNING),
            "WARNING",
            "WARNING",
            id="allowFailure-warning",
        ),
        pytest.param(
            "allowFailure: true", Outcome(), "SUCCESS", "SUCCESS", id="allowFailure-success"
        ),
    ],
)
def test_allow_failure_table_runnable(
    flags: str, outcome: Outcome, task_state: str, execution_state: str
) -> None:
    """§4.2, runnable row: the task run itself takes the tolerated state; no errors run."""
    sim = run(
        f"""
tasks:
  - id: t
    type: Log
    message: x
    {flags}
  - id: next
    type: Log
    message: next
errors:
  - id: e
    type: Log
    message: e
""",
        forced={"t": outcome},
    )
    if task_state == "FAILED":
        assert sim.states() == [("t", "FAILED"), ("e", "SUCCESS")]
    else:
        assert sim.states() == [("t", task_state), ("next", "SUCCESS")]
    assert sim.execution.state.value == execution_state
    # the attempt keeps what the worker reported
    assert run_of(sim.execution, "t").attempts[-1].state is outcome.state


def test_allow_failure_with_own_retry_reports_warning_after_all_attempts_C39() -> None:
    """[TEST C-39]: 3 attempts, then WARNING."""
    sim = run(
        """
        tasks:
          - id: t
            type: Fail
            allowFailure: true
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 3
        """
    )
    t = run_of(sim.execution, "t")
    assert len(t.attempts) == 3
    assert t.state is State.WARNING
    assert sim.execution.state is State.WARNING


@pytest.mark.parametrize(
    ("kind", "flags", "child", "container_state", "execution_state"),
    [
        pytest.param(
            "Sequential", "allowFailure: true", "Fail", "WARNING", "WARNING", id="allowFailure-C40"
        ),
        pytest.param(
            "Sequential",
            "allowFailure: true\n    allowWarning: true",
            "Fail",
            "SUCCESS",
            "SUCCESS",
            id="both-C44",
        ),
        pytest.param(
            "Sequential", "allowWarning: true", "Fail", "FAILED", "FAILED", id="allowWarning-failed"
        ),
        pytest.param("AllowFailure", "", "Fail", "WARNING", "WARNING", id="AllowFailure-C46"),
        pytest.param(
            "AllowFailure",
            "allowWarning: true",
            "Fail",
            "SUCCESS",
            "SUCCESS",
            id="AllowFailure-allowWarning",
        ),
        pytest.param(
            "Parallel",
            "allowFailure: true",
            "Fail",
            "WARNING",
            "WARNING",
            id="parallel-allowFailure",
        ),
    ],
)
def test_allow_failure_table_flowable(
    kind: str, flags: str, child: str, container_state: str, execution_state: str
) -> None:
    """§4.2, flowable row: the child stays FAILED, later children are never created,
    local errors/finally run, the flowable takes the tolerated state."""
    sim = run(
        f"""
tasks:
  - id: box
    type: {kind}
    {flags}
    tasks:
      - id: child
        type: {child}
    errors:
      - id: local_e
        type: Log
        message: e
    finally:
      - id: local_f
        type: Log
        message: f
  - id: next
    type: Log
    message: next
"""
    )
    assert state_of(sim, "child") == "FAILED"
    assert state_of(sim, "box") == container_state
    assert order(sim)[:4] == ["box", "child", "local_e", "local_f"]
    assert ("next" in order(sim)) is (container_state != "FAILED")
    assert sim.execution.state.value == execution_state


def test_allow_failure_flowable_skips_remaining_children_C40() -> None:
    sim = run(
        """
        tasks:
          - id: box
            type: Sequential
            allowFailure: true
            tasks:
              - id: bad
                type: Fail
              - id: skipped
                type: Log
                message: never
        """
    )
    assert sim.states() == [("box", "WARNING"), ("bad", "FAILED")]


def test_allow_warning_flowable_turns_warning_children_into_success() -> None:
    sim = run(
        """
        tasks:
          - id: box
            type: Sequential
            allowWarning: true
            tasks:
              - id: w
                type: Log
                message: w
        """,
        forced={"w": Outcome(State.WARNING)},
    )
    assert sim.states() == [("box", "SUCCESS"), ("w", "WARNING")]
    assert sim.execution.state is State.SUCCESS


def test_allow_failure_with_inherited_retry_warns_after_first_attempt() -> None:
    """§4.3: allowFailure with a retry inherited from the flow/flowable → WARNING after
    the first attempt, no retry."""
    sim = run(
        """
        tasks:
          - id: box
            type: Sequential
            retry:
              type: constant
              interval: PT1S
              maxAttempts: 5
            tasks:
              - id: t
                type: Fail
                allowFailure: true
        """,
        forced={"t": sequence(failed(), Outcome())},
    )
    t = run_of(sim.execution, "t")
    assert len(t.attempts) == 1
    assert t.state is State.WARNING
    assert state_of(sim, "box") == "WARNING"
