"""The one invariant checker of the crash suite (DESIGN.md, "How it is proven").

After a crash and recovery, for every execution of the run:
- it reached a terminal state and is finalized (afterExecution done);
- no task run is duplicated (one per identity: parent, task, value, iteration, phase);
- each declared top-level afterExecution task has exactly one task run;
- nothing ran after the execution ended: no main/errors/finally task run
  changed state after the execution's terminal date, no job is left behind;
- no log line lost: every Log task run that ended SUCCESS has its log line;
- at the HTTP sink, the calls exceed the distinct Idempotency-Keys only by
  resubmissions (a worker that died mid-task): reported as counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lanner.engine.execution import Execution, Phase
from lanner.model.flow import Flow
from lanner.store.base import Store

if TYPE_CHECKING:
    from tests.support.cluster import Cluster

LOG_TYPES = ("io.kestra.plugin.core.log.Log", "io.kestra.core.tasks.log.Log")


@dataclass
class Report:
    executions: int = 0
    task_runs: int = 0
    resubmitted_attempts: int = 0
    http_calls: int = 0
    distinct_keys: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.executions} executions, {self.task_runs} task runs, "
            f"{self.resubmitted_attempts} resubmitted attempts, "
            f"{self.http_calls} HTTP calls for {self.distinct_keys} distinct Idempotency-Keys"
        )


def check(
    store: Store,
    executions: Iterable[Execution],
    flows: Mapping[tuple[str, str], Flow],
    http_keys: Iterable[str | None] = (),
) -> Report:
    report = Report()
    for execution in executions:
        report.executions += 1
        _check_execution(store, execution, flows[(execution.namespace, execution.flow_id)], report)
    keys = [k for k in http_keys]
    report.http_calls = len(keys)
    report.distinct_keys = len(set(keys))
    if None in keys:
        report.problems.append("an HTTP call came without an Idempotency-Key")
    duplicates = report.http_calls - report.distinct_keys
    if duplicates > report.resubmitted_attempts:
        report.problems.append(
            f"{duplicates} duplicate HTTP calls but only {report.resubmitted_attempts}"
            " resubmitted attempts (a call was repeated without its worker dying)"
        )
    jobs_left = store.counts().get("job", 0)
    if jobs_left:
        report.problems.append(f"{jobs_left} job(s) left in the store after every execution ended")
    return report


def hold(
    cluster: Cluster, executions: Sequence[Execution], http_keys: Iterable[str | None] = ()
) -> Report:
    """check() over the cluster's store and the flows it deployed; the test fails with
    every problem found."""
    flows = {key: flow for key, (flow, _) in cluster.flows.items()}
    report = check(cluster.store, executions, flows, http_keys)
    assert not report.problems, "\n".join(report.problems)
    return report


def _check_execution(store: Store, execution: Execution, flow: Flow, report: Report) -> None:
    where = f"execution {execution.id} ({execution.flow_id})"
    problems = report.problems
    if not execution.state.terminated or execution.terminal_at is None:
        problems.append(f"{where}: not terminal ({execution.state.value})")
    if execution.finalized_at is None:
        problems.append(f"{where}: not finalized")
    runs = list(execution.task_runs.values())
    report.task_runs += len(runs)
    identities = Counter((r.parent_id, r.task_id, r.value, r.iteration, r.phase) for r in runs)
    for identity, count in identities.items():
        if count > 1:
            problems.append(f"{where}: task run {identity} exists {count} times")
    declared = [t.id for t in flow.afterExecution or ()]
    after = Counter(r.task_id for r in runs if r.phase is Phase.AFTER and r.parent_id is None)
    for task_id in declared:
        if after[task_id] != 1:
            problems.append(f"{where}: afterExecution task {task_id} has {after[task_id]} runs")
    for run in runs:
        for attempt in run.attempts:
            report.resubmitted_attempts += sum(
                1 for h in attempt.histories if h.state.value == "RESUBMITTED"
            )
        if execution.terminal_at is not None and run.phase is not Phase.AFTER:
            late = [h for h in run.histories if h.date > execution.terminal_at]
            if late and not _inside_after(execution, run.parent_id):
                problems.append(f"{where}: task run {run.task_id} changed after the end: {late}")
    logged = {r.task_run_id for r in store.get_logs(execution.id)}
    types = {t.id: t.type for t in flow.all_tasks()}
    for run in runs:
        success = run.state.value == "SUCCESS"
        if types.get(run.task_id) in LOG_TYPES and success and run.id not in logged:
            problems.append(f"{where}: the log line of {run.task_id} is lost")


def _inside_after(execution: Execution, parent_id: str | None) -> bool:
    """Children of afterExecution flowables run after the end, by design."""
    while parent_id is not None:
        parent = execution.task_runs.get(parent_id)
        if parent is None:
            return False
        if parent.phase is Phase.AFTER and parent.parent_id is None:
            return True
        parent_id = parent.parent_id
    return False
