"""SPEC §3.3 and §0 decisions 1–2: `errors` and `finally`, global and local,
and the error context of handlers (Lanner extension)."""

from __future__ import annotations

import itertools

import pytest

from lanner.model.states import State
from tests.unit.engine.support import failed, order, run, run_of, runs_of, state_of


def test_errors_run_then_finally() -> None:
    """§3.2.5: after a failure, errors run sequentially, then finally."""
    sim = run(
        """
        tasks:
          - id: bad
            type: Fail
        errors:
          - id: e1
            type: Log
            message: e1
          - id: e2
            type: Log
            message: e2
        finally:
          - id: f1
            type: Log
            message: f1
          - id: f2
            type: Log
            message: f2
        """
    )
    assert order(sim) == ["bad", "e1", "e2", "f1", "f2"]
    runs = sim.execution.ordered_task_runs()
    for before, after in itertools.pairwise(runs):
        assert after.start_date >= before.histories[-1].date  # one after the other
    assert sim.execution.state is State.FAILED


def test_finally_without_failure_and_errors_never_run() -> None:
    """§3.2.6: nothing failed → finally runs after the last task, errors never."""
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
        errors:
          - id: e
            type: Log
            message: e
        finally:
          - id: f
            type: Log
            message: f
        """
    )
    assert sim.states() == [("a", "SUCCESS"), ("f", "SUCCESS")]
    assert sim.execution.state is State.SUCCESS


def test_successful_errors_do_not_rescue_C3() -> None:
    """§3.3 [TEST C-3]: errors succeed, the execution is still FAILED."""
    sim = run(
        """
        tasks:
          - id: bad
            type: Fail
        errors:
          - id: handled
            type: Log
            message: handled
        """
    )
    assert sim.states() == [("bad", "FAILED"), ("handled", "SUCCESS")]
    assert sim.execution.state is State.FAILED


@pytest.mark.parametrize("block", ["errors", "finally"])
def test_failing_handler_does_not_change_the_state_decision_1(block: str) -> None:
    """§0 decision 1: a failing errors/finally task leaves the state computed from
    `tasks`, and a WARN line names the failed handler task."""
    first = "Fail" if block == "errors" else "Log\n    message: fine"
    sim = run(
        f"""
tasks:
  - id: main
    type: {first}
{block}:
  - id: handler
    type: Fail
"""
    )
    expected = State.FAILED if block == "errors" else State.SUCCESS
    assert sim.execution.state is expected
    assert state_of(sim, "handler") == "FAILED"
    warns = [line for line in sim.logs if line.level == "WARN"]
    assert len(warns) == 1
    assert "handler" in warns[0].message
    assert warns[0].task_run_id is None  # a line on the execution


@pytest.mark.parametrize("block", ["errors", "finally", "afterExecution"])
def test_later_handler_tasks_run_after_one_fails_decision_2(block: str) -> None:
    """§0 decision 2 / §3.1: inside errors, finally and afterExecution every task runs in order."""
    sim = run(
        f"""
tasks:
  - id: main
    type: Fail
{block}:
  - id: h1
    type: Fail
  - id: h2
    type: Log
    message: still runs
  - id: h3
    type: Log
    message: still runs
"""
    )
    assert sim.states()[1:] == [("h1", "FAILED"), ("h2", "SUCCESS"), ("h3", "SUCCESS")]
    assert sim.execution.state is State.FAILED


# -- local errors / finally ----------------------------------------------------------------

LOCAL = {
    "Sequential": """
type: Sequential
tasks:
  - id: x
    type: Fail
  - id: y
    type: Log
    message: never
""",
    "Parallel": """
type: Parallel
tasks:
  - id: x
    type: Fail
  - id: y
    type: Log
    message: sibling
""",
    "ForEach": """
type: ForEach
values: ["v"]
tasks:
  - id: x
    type: Fail
  - id: y
    type: Log
    message: never
""",
    "If": """
type: If
condition: "{{ 1 == 1 }}"
then:
  - id: x
    type: Fail
  - id: y
    type: Log
    message: never
""",
    "Switch": """
type: Switch
value: "{{ 'k' }}"
cases:
  k:
    - id: x
      type: Fail
    - id: y
      type: Log
      message: never
""",
    "AllowFailure": """
type: AllowFailure
tasks:
  - id: x
    type: Fail
  - id: y
    type: Log
    message: never
""",
}


def _flow_with(container: str) -> str:
    # `- id: c` then the container's own lines at the same indentation as `id`
    lines = container.strip("\n").splitlines()
    body = "\n".join("    " + line for line in lines)
    return _with_local_handlers_raw(body)


def _with_local_handlers_raw(body: str) -> str:
    return (
        "tasks:\n  - id: c\n"
        + body
        + """
    errors:
      - id: le
        type: Log
        message: local error
    finally:
      - id: lf
        type: Log
        message: local finally
  - id: after
    type: Log
    message: after
errors:
  - id: ge
    type: Log
    message: global error
"""
    )


@pytest.mark.parametrize(
    ("kind", "expected_order", "container_state", "execution_state"),
    [
        ("Sequential", ["c", "x", "le", "lf", "ge"], "FAILED", "FAILED"),
        ("Parallel", ["c", "x", "y", "le", "lf", "ge"], "FAILED", "FAILED"),
        ("ForEach", ["c", "x", "le", "lf", "ge"], "FAILED", "FAILED"),
        ("If", ["c", "x", "le", "lf", "ge"], "FAILED", "FAILED"),
        ("Switch", ["c", "x", "le", "lf", "ge"], "FAILED", "FAILED"),
        ("AllowFailure", ["c", "x", "le", "lf", "after"], "WARNING", "WARNING"),
    ],
)
def test_local_errors_then_finally_then_propagation(
    kind: str, expected_order: list[str], container_state: str, execution_state: str
) -> None:
    """§3.3: a local errors block runs first, then the local finally; the container
    ends FAILED, which starts the flow's errors (AllowFailure: WARNING, flow goes on)."""
    sim = run(_flow_with(LOCAL[kind]))
    assert order(sim) == expected_order
    assert state_of(sim, "x") == "FAILED"
    assert state_of(sim, "c") == container_state
    assert sim.execution.state.value == execution_state
    for handler in ("le", "lf"):
        assert run_of(sim.execution, handler).parent_id == run_of(sim.execution, "c").id


def test_failure_propagates_through_nested_containers() -> None:
    """§3.3: inner errors, then outer errors, then the flow's errors."""
    sim = run(
        """
        tasks:
          - id: outer
            type: Sequential
            tasks:
              - id: inner
                type: Sequential
                tasks:
                  - id: boom
                    type: Fail
                errors:
                  - id: inner_err
                    type: Log
                    message: inner
            errors:
              - id: outer_err
                type: Log
                message: outer
        errors:
          - id: flow_err
            type: Log
            message: flow
        """
    )
    assert sim.states() == [
        ("outer", "FAILED"),
        ("inner", "FAILED"),
        ("boom", "FAILED"),
        ("inner_err", "SUCCESS"),
        ("outer_err", "SUCCESS"),
        ("flow_err", "SUCCESS"),
    ]


def test_local_and_global_errors_for_two_failures_C47() -> None:
    """[TEST C-47 shape]: a local errors block for one failure (tolerated by AllowFailure),
    the global one for a later failure."""
    sim = run(
        """
        tasks:
          - id: tolerant
            type: AllowFailure
            tasks:
              - id: first
                type: Fail
            errors:
              - id: local-error
                type: Log
                message: local
          - id: second
            type: Fail
        errors:
          - id: global-error
            type: Log
            message: global
        """
    )
    assert order(sim) == ["tolerant", "first", "local-error", "second", "global-error"]
    assert sim.execution.state is State.FAILED


def test_foreach_errors_run_once_per_container_C24b_C72() -> None:
    """[TEST C-24b, C-72]: three failing iterations, each handler runs once."""
    sim = run(
        """
        tasks:
          - id: loop
            type: ForEach
            values: [1, 2, 3]
            concurrencyLimit: 0
            tasks:
              - id: boom
                type: Fail
            errors:
              - id: e1
                type: Log
                message: e1
              - id: e2
                type: Log
                message: e2
        """
    )
    assert len(runs_of(sim.execution, "boom")) == 3
    assert len(runs_of(sim.execution, "e1")) == 1
    assert len(runs_of(sim.execution, "e2")) == 1
    assert state_of(sim, "loop") == "FAILED"


def test_parallel_errors_and_finally_run_sequentially_C23b() -> None:
    """[TEST C-23b]: in a Parallel, handlers still run one after the other."""
    sim = run(
        """
        tasks:
          - id: par
            type: Parallel
            tasks:
              - id: p1
                type: Fail
              - id: p2
                type: Log
                message: p2
            errors:
              - id: a1
                type: Log
                message: a1
              - id: a2
                type: Log
                message: a2
            finally:
              - id: e1
                type: Log
                message: e1
              - id: e2
                type: Log
                message: e2
        """
    )
    ex = sim.execution
    chain = [run_of(ex, t) for t in ("a1", "a2", "e1", "e2")]
    for before, after in itertools.pairwise(chain):
        assert after.start_date >= before.histories[-1].date
    assert state_of(sim, "par") == "FAILED"


# -- error context (Lanner extension) -----------------------------------------------------


def test_error_context_in_handlers() -> None:
    """`error.taskId/message/type` describe the first failure; Fail's errorMessage verbatim."""
    sim = run(
        """
        tasks:
          - id: broken
            type: Fail
            errorMessage: "disk {{ 'full' }} on node-1"
        errors:
          - id: e
            type: Log
            message: "{{ error.taskId }}|{{ error.message }}|{{ error.type }}"
        finally:
          - id: f
            type: Log
            message: "{{ error.taskId }}"
        afterExecution:
          - id: x
            type: Log
            message: "{{ error.message }}"
        """
    )
    assert sim.messages("e") == ["broken|disk full on node-1|TaskFailure"]
    assert sim.messages("f") == ["broken"]
    assert sim.messages("x") == ["disk full on node-1"]


def test_error_context_is_the_first_failure() -> None:
    sim = run(
        """
        tasks:
          - id: first
            type: Fail
            errorMessage: one
        errors:
          - id: e_fail
            type: Fail
            errorMessage: two
          - id: e
            type: Log
            message: "{{ error.taskId }}:{{ error.message }}"
        """
    )
    assert sim.messages("e") == ["first:one"]


def test_error_context_undefined_when_nothing_failed() -> None:
    sim = run(
        """
        tasks:
          - id: a
            type: Log
            message: a
        finally:
          - id: f
            type: Log
            message: "{{ error is defined }}|{{ error.taskId ?? 'none' }}"
        afterExecution:
          - id: x
            type: Log
            message: "{{ error is defined }}"
        """
    )
    assert sim.messages("f") == ["false|none"]
    assert sim.messages("x") == ["false"]


def test_error_context_from_forced_worker_error() -> None:
    sim = run(
        """
        tasks:
          - id: call
            type: Log
            message: x
        errors:
          - id: e
            type: Log
            message: "{{ error.taskId }}:{{ error.message }}"
        """,
        forced={"call": failed("HTTP 503")},
    )
    assert sim.messages("e") == ["call:HTTP 503"]


def test_tasks_with_state_in_handlers_and_run_if() -> None:
    """`tasksWithState(state)` works in handlers, runIf included (Lanner extension)."""
    sim = run(
        """
        tasks:
          - id: good
            type: Log
            message: good
          - id: bad
            type: Fail
        errors:
          - id: report
            type: Log
            runIf: "{{ tasksWithState('failed') | length > 0 }}"
            message: "{{ tasksWithState('FAILED')[0].taskId }}/{{ tasksWithState('SUCCESS') | length }}"
        afterExecution:
          - id: x
            type: Log
            message: "{{ tasksWithState('SUCCESS') | length }}"
        """
    )
    assert sim.messages("report") == ["bad/1"]
    # good and report are SUCCESS when the afterExecution task renders
    assert sim.messages("x") == ["2"]


@pytest.mark.parametrize("block", ["tasks", "errors", "finally"])
def test_execution_state_is_running_in_tasks_errors_and_finally(block: str) -> None:
    """§3.3: `{{ execution.state }}` renders RUNNING until the execution is terminal."""
    first = "Log\n    message: x" if block != "errors" else "Fail"
    sim = run(
        f"""
tasks:
  - id: first
    type: {first}
{"" if block == "tasks" else block + ":"}
  - id: probe
    type: Log
    message: "{{{{ execution.state }}}}"
"""
    )
    assert sim.messages("probe") == ["RUNNING"]


def test_warning_child_does_not_start_errors() -> None:
    """§4.2: a tolerated failure (WARNING) is not a failure for the selector."""
    sim = run(
        """
        tasks:
          - id: seq
            type: Sequential
            tasks:
              - id: w
                type: Fail
                allowFailure: true
              - id: next
                type: Log
                message: next
            errors:
              - id: e
                type: Log
                message: never
        """
    )
    assert order(sim) == ["seq", "w", "next"]
    assert state_of(sim, "seq") == "WARNING"


def test_error_context_counts_a_failure_tolerated_by_a_container() -> None:
    """`error` is the first FAILED task run: a child that failed inside AllowFailure counts
    (its container ended WARNING), a runnable with allowFailure (WARNING) does not."""
    sim = run(
        """
        tasks:
          - id: tolerant_task
            type: Fail
            allowFailure: true
            errorMessage: ignored
          - id: tolerant
            type: AllowFailure
            tasks:
              - id: first
                type: Fail
                errorMessage: one
          - id: second
            type: Fail
            errorMessage: two
        errors:
          - id: e
            type: Log
            message: "{{ error.taskId }}:{{ error.message }}"
        """
    )
    assert sim.messages("e") == ["first:one"]


def test_failing_local_handler_writes_no_warn_line() -> None:
    """The §0 decision 1 WARN line names flow-level handlers only; a local finally task
    that fails leaves its container's state as computed from its tasks."""
    sim = run(
        """
        tasks:
          - id: box
            type: Sequential
            tasks:
              - id: a
                type: Log
                message: a
            finally:
              - id: local_f
                type: Fail
        """
    )
    assert state_of(sim, "box") == "SUCCESS"
    assert state_of(sim, "local_f") == "FAILED"
    assert sim.execution.state is State.SUCCESS
    assert [line for line in sim.logs if line.level == "WARN"] == []
