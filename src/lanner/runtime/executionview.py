"""The ExecutionView a task reads (lanner.plugin): an execution of the store, summed up
for the execution summaries (SlackExecution, MailExecution, ...)."""

from __future__ import annotations

from lanner.engine.execution import Execution, Phase
from lanner.model.states import State
from lanner.plugin import ExecutionView


def view_of(execution: Execution) -> ExecutionView:
    runs = [r for r in execution.ordered_task_runs() if r.phase is not Phase.AFTER]
    failed = [r for r in runs if r.state is State.FAILED]
    # A flowable fails because a child failed: the task that led to the failure is the
    # first failed task run none of whose children failed.
    parents = {r.parent_id for r in failed if r.parent_id}
    culprit = next((r for r in failed if r.id not in parents), None)
    message = None
    if culprit is not None and culprit.error is not None:
        message = culprit.error.message
    elif culprit is None and execution.error is not None:
        message = execution.error.message
    return ExecutionView(
        id=execution.id,
        namespace=execution.namespace,
        flow_id=execution.flow_id,
        flow_revision=execution.flow_revision,
        state=execution.state,
        start_date=execution.start_date,
        end_date=(execution.terminal_at or execution.histories[-1].date)
        if execution.state.terminated
        else None,
        labels=dict(execution.labels),
        inputs=dict(execution.inputs),
        failed_task_id=None if culprit is None else culprit.task_id,
        failed_message=message,
        task_run_count=len(runs),
        trigger=None if execution.trigger is None else dict(execution.trigger),
    )
