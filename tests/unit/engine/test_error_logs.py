"""errorLogs() (issue 7 §6): the first `errors` task already sees the ERROR lines of
the failure, even when the failure and that task are planned in the same cycle,
before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lanner.engine.events import Dispatch, Start
from lanner.engine.flowindex import FlowIndex
from lanner.engine.planner import PlanContext, Planner
from lanner.engine.variables import error_log
from lanner.expr import ExpressionEngine
from tests.unit.engine.support import T0, Driver, run

_ALERT = "{{ errorLogs() | length }}|{% for l in errorLogs() %}{{ l.taskId }};{% endfor %}"

_RENDER_ERROR_FLOW = f"""
tasks:
  - id: broken
    type: Return
    format: "{{{{ nope.nope }}}}"
errors:
  - id: alert
    type: Return
    format: "{_ALERT}"
"""


def _alert(decision_commands: Any) -> str:
    [dispatch] = [c for c in decision_commands if isinstance(c, Dispatch) and c.task_id == "alert"]
    return str(dispatch.properties["format"])


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        # Nothing stored yet: only the cycle's own ERROR line (the render error).
        ((), "1|broken;"),
        # Lines already stored come first, then the cycle's own.
        ((("earlier", "old failure"),), "2|earlier;broken;"),
    ],
)
def test_errors_task_sees_the_error_lines_of_its_own_cycle(
    stored: tuple[tuple[str, str], ...], expected: str
) -> None:
    driver = Driver.of(_RENDER_ERROR_FLOW)
    context_logs = [
        error_log(driver.execution, task_id, None, None, T0, message) for task_id, message in stored
    ]
    planner = Planner(FlowIndex(driver.flow), ExpressionEngine())
    decision = planner.plan(
        driver.execution, [Start()], PlanContext(now=T0, error_logs=context_logs)
    )
    # The failure and the first errors task were planned in this one cycle.
    assert _alert(decision.commands) == expected


def test_error_log_entries_have_kestra_log_entry_fields() -> None:
    driver = Driver.of("tasks:\n  - id: a\n    type: Log\n    message: hi\n")
    entry = error_log(driver.execution, "a", "run1", 2, datetime(2026, 1, 1, tzinfo=UTC), "boom")
    assert entry == {
        "namespace": "tests",
        "flowId": "t",
        "executionId": driver.execution.id,
        "taskId": "a",
        "taskRunId": "run1",
        "attemptNumber": 2,
        "timestamp": "2026-01-01T00:00:00.000000Z",
        "level": "ERROR",
        "message": "boom",
    }


def test_first_errors_task_sees_the_failed_worker_task_log() -> None:
    """The simulator feeds errorLogs() as the executor does: stored lines plus the
    results' own lines, so a Fail's message reaches the alert of the errors block."""
    sim = run(
        f"""
        tasks:
          - id: fails
            type: Fail
            errorMessage: disk is full
        errors:
          - id: alert
            type: Log
            message: "{_ALERT} {{{{ errorLogs()[0].message }}}}"
        """
    )
    assert sim.messages("alert") == ["1|fails; disk is full"]


def test_error_logs_are_empty_when_nothing_failed() -> None:
    sim = run(
        """
        tasks:
          - id: fine
            type: Log
            message: "{{ errorLogs() | length }}"
        """
    )
    assert sim.messages("fine") == ["0"]
