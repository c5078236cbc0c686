"""Executions as a task reads them (ExecutionView), for the notification tasks that
report on the execution `executionId` names (Sentry, Zenduty)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lanner.model.states import State
from lanner.plugin import ExecutionView

START = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)

# prod.sales.orders revision 3, failed at its task `load` after five seconds.
FAILED = ExecutionView(
    id="6pHq0Y1upstream",
    namespace="prod.sales",
    flow_id="orders",
    flow_revision=3,
    state=State.FAILED,
    start_date=START,
    end_date=START + timedelta(seconds=5),
    labels={},
    inputs={},
    task_run_count=2,
    failed_task_id="load",
)
