"""Crash tests with real processes (DESIGN.md, "How it is proven"), on SQLite
and PostgreSQL: a process is SIGKILLed at a crash point (``LANNER_CRASH_AT``)
or from outside, started again, and the invariant checker must find every
execution finished, nothing duplicated, every afterExecution task run
exactly once, nothing lost."""

from __future__ import annotations

import signal

import pytest

from tests.crash.conftest import FLOWS
from tests.support import invariants
from tests.support.cluster import Cluster, Proc
from tests.support.http_sink import HttpSink
from tests.support.seed import SEED_FLOWS

# A crash test starts, kills and restarts several processes and waits up to
# 90 s for the executions to finish: more than the default 300 s on a loaded
# machine is a hang.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

EXPECTED = {
    "chain": "SUCCESS",
    "parallel_retry": "SUCCESS",
    "alerts_demo": "FAILED",
    "after_execution_errors": "SUCCESS",
    "state_demo": "FAILED",
}


def deploy_all(cluster: Cluster) -> None:
    cluster.deploy(FLOWS / "chain.yml", FLOWS / "parallel_retry.yml", *SEED_FLOWS)


def start_mix(cluster: Cluster) -> list[str]:
    return [
        cluster.start("crash.test", "chain"),
        cluster.start("crash.test", "parallel_retry"),
        cluster.start("company.team", "alerts_demo"),
        cluster.start("company.team", "state_demo"),
        cluster.start("crash.test", "chain"),
    ]


def verify(cluster: Cluster, sink: HttpSink, ids: list[str]) -> invariants.Report:
    executions = cluster.wait_finalized(ids, timeout=90)
    for e in executions:
        assert e.state.value == EXPECTED[e.flow_id], (e.id, e.flow_id, e.state)
    keys = [r.header("Idempotency-Key") for r in sink.requests]
    report = invariants.hold(cluster, executions, keys)
    print(f"invariants hold: {report}")
    return report


def wait_dead(cluster: Cluster, proc: Proc, timeout: float = 45) -> None:
    cluster.wait_for(lambda: not proc.alive(), timeout, f"{proc.role} to hit {proc.crash_at}")
    assert proc.popen.returncode == -signal.SIGKILL, proc.output()


# (role that crashes, crash point with the hit that fires it)
CRASH_POINTS = [
    ("executor", "executor.before_commit:4"),
    ("executor", "executor.after_commit:4"),
    ("executor", "executor.before_commit:25"),
    ("executor", "executor.after_commit:25"),
    ("worker", "worker.mid_task:2"),
    ("worker", "worker.before_complete:3"),
    ("worker", "worker.after_complete:3"),
    ("worker", "heartbeat.before_commit:1"),
    ("worker", "heartbeat.after_commit:2"),
]


@pytest.mark.parametrize(("role", "crash_at"), CRASH_POINTS, ids=[c for _, c in CRASH_POINTS])
def test_a_process_killed_at_a_commit_loses_nothing(
    cluster: Cluster, sink: HttpSink, role: str, crash_at: str
) -> None:
    deploy_all(cluster)
    procs = {
        "executor": cluster.spawn("executor", crash_at=crash_at if role == "executor" else None),
        "worker": cluster.spawn("worker", crash_at=crash_at if role == "worker" else None),
    }
    ids = start_mix(cluster)
    wait_dead(cluster, procs[role])
    cluster.spawn(role)  # started again, without the crash point
    verify(cluster, sink, ids)


def test_the_reaper_killed_at_its_commits_loses_nothing(cluster: Cluster, sink: HttpSink) -> None:
    # A worker dies mid-task, so the reaper has a job to re-queue; the executor
    # (where the reaper runs) dies before that commit, the next one after it.
    deploy_all(cluster)
    worker = cluster.spawn("worker", crash_at="worker.mid_task:1")
    executor = cluster.spawn("executor", crash_at="reaper.before_commit:1")
    ids = start_mix(cluster)
    wait_dead(cluster, worker)
    wait_dead(cluster, executor)
    executor = cluster.spawn("executor", crash_at="reaper.after_commit:1")
    wait_dead(cluster, executor)
    cluster.spawn("executor")
    cluster.spawn("worker")
    report = verify(cluster, sink, ids)
    assert report.resubmitted_attempts >= 1


def test_a_worker_killed_mid_task_is_resubmitted_with_the_same_key(
    cluster: Cluster, sink: HttpSink
) -> None:
    cluster.deploy(FLOWS / "chain.yml")
    cluster.spawn("executor")
    worker = cluster.spawn("worker", crash_at="worker.mid_task:3")  # in `notify`, the HTTP call
    ids = [cluster.start("crash.test", "chain")]
    wait_dead(cluster, worker)
    cluster.spawn("worker")
    report = verify(cluster, sink, ids)
    [execution] = cluster.wait_finalized(ids)
    notify = next(r for r in execution.task_runs.values() if r.task_id == "notify")
    assert len(notify.attempts) == 1  # a resubmission is not a new attempt
    states = [h.state.value for h in notify.attempts[0].histories]
    assert "RESUBMITTED" in states, states
    assert report.resubmitted_attempts == 1
    assert report.http_calls - report.distinct_keys <= 1


def test_an_execution_left_by_a_killed_lanner_run_is_finished_by_a_server(
    cluster: Cluster, sink: HttpSink
) -> None:
    run = cluster.spawn("run", str(FLOWS / "chain.yml"), crash_at="worker.mid_task:2")
    wait_dead(cluster, run)
    cluster.deploy(FLOWS / "chain.yml")  # the same source: the revision `lanner run` deployed
    [left] = cluster.store.list_executions(namespace="crash.test", flow_id="chain")
    assert left.finalized_at is None
    cluster.spawn("server")
    verify(cluster, sink, [left.id])


def test_a_worker_stopped_past_its_lease_has_its_late_result_dropped(
    cluster: Cluster, sink: HttpSink
) -> None:
    cluster.deploy(FLOWS / "chain.yml")
    cluster.spawn("executor")
    frozen = cluster.spawn("worker")
    ids = [cluster.start("crash.test", "chain")]

    def nap_started() -> bool:
        # RUNNING: the worker's start is committed and the sleep is on, so the
        # process is frozen between two transactions (one frozen inside a
        # transaction is the store suite's case).
        claimed = any(j.task_id == "nap" for p in cluster.store.list_processes() for j in p.jobs)
        execution = cluster.store.get_execution(ids[0])
        return (
            claimed
            and execution is not None
            and any(
                r.task_id == "nap" and r.state.value == "RUNNING"
                for r in execution.task_runs.values()
            )
        )

    cluster.wait_for(nap_started, 30, "the frozen worker to start `nap`")
    frozen.signal(signal.SIGSTOP)
    cluster.spawn("worker")  # takes the job over once the lease expired
    try:
        report = verify(cluster, sink, ids)
    finally:
        frozen.signal(signal.SIGCONT)
    assert report.resubmitted_attempts == 1
    cluster.wait_for(
        lambda: "dropped" in frozen.output(), 30, "the frozen worker to drop its late result"
    )
    [execution] = cluster.wait_finalized(ids)
    nap = next(r for r in execution.task_runs.values() if r.task_id == "nap")
    assert len(nap.attempts) == 1 and nap.state.value == "SUCCESS"
