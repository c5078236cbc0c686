"""A worker SIGKILLed in the middle of a WorkingDirectory's job: the lease expires,
the job runs again from its start in a new directory on another worker, and each
of its tasks keeps one task run (a new attempt for the run again), on SQLite and
PostgreSQL."""

from __future__ import annotations

import signal

import pytest

from tests.crash.conftest import FLOWS
from tests.crash.test_crash import wait_dead
from tests.support import invariants
from tests.support.cluster import Cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_a_worker_killed_mid_job_has_the_job_run_again_without_duplicates(
    cluster: Cluster,
) -> None:
    cluster.deploy(FLOWS / "workdir.yml")
    cluster.spawn("executor")
    # The second task of the job has started: the first ran in the lost directory.
    worker = cluster.spawn("worker", crash_at="worker.mid_child:2")
    ids = [cluster.start("crash.test", "workdir"), cluster.start("crash.test", "workdir")]
    wait_dead(cluster, worker)
    cluster.spawn("worker")
    executions = cluster.wait_finalized(ids, timeout=90)
    report = invariants.hold(cluster, executions)
    assert report.resubmitted_attempts >= 1
    rerun = 0
    for execution in executions:
        runs = {r.task_id: r for r in execution.task_runs.values()}
        assert execution.state.value == "SUCCESS", {t: r.state.value for t, r in runs.items()}
        assert set(runs) == {"wdir", "write", "nap", "read", "last"}
        wdir = runs["wdir"]
        assert all(runs[t].parent_id == wdir.id for t in ("write", "nap", "read"))
        assert runs["read"].outputs == {"exitCode": 0, "vars": {"read": True}}
        assert len(wdir.attempts) == 1  # a lost worker is no failed attempt
        if len(runs["write"].attempts) > 1:  # the job that was lost ran again from its start
            rerun += 1
            first, again = [a.state.value for a in runs["write"].attempts]
            # Ended in the lost run, or left open by it (the worker died in it).
            assert first in ("SUCCESS", "RESUBMITTED") and again == "SUCCESS"
            assert [a.state.value for a in runs["nap"].attempts][-1] == "SUCCESS"
            assert "RESUBMITTED" in [h.state.value for h in wdir.attempts[0].histories]
    assert rerun >= 1


def test_a_frozen_worker_past_its_lease_writes_nothing_for_the_job(cluster: Cluster) -> None:
    cluster.deploy(FLOWS / "workdir.yml")
    cluster.spawn("executor")
    frozen = cluster.spawn("worker")
    [execution_id] = ids = [cluster.start("crash.test", "workdir")]

    def nap_running() -> bool:
        execution = cluster.store.get_execution(execution_id)
        return execution is not None and any(
            r.task_id == "nap" and r.state.value == "RUNNING" for r in execution.task_runs.values()
        )

    cluster.wait_for(nap_running, 30, "the frozen worker to start `nap`")
    frozen.signal(signal.SIGSTOP)
    cluster.spawn("worker")  # takes the job over once the lease expired
    try:
        [execution] = cluster.wait_finalized(ids, timeout=90)
    finally:
        frozen.signal(signal.SIGCONT)
    cluster.wait_for(
        lambda: "dropped" in frozen.output(), 30, "the frozen worker to drop its late result"
    )
    [execution] = cluster.wait_finalized(ids)  # read again: nothing changed since
    runs = {r.task_id: r for r in execution.task_runs.values()}
    assert execution.state.value == "SUCCESS"
    nap = [a.state.value for a in runs["nap"].attempts]
    assert nap == ["RESUBMITTED", "SUCCESS"], nap  # the late end of the first is not there
    assert [a.state.value for a in runs["write"].attempts] == ["SUCCESS", "SUCCESS"]
    invariants.hold(cluster, [execution])


def test_a_worker_killed_in_the_errors_of_a_job_has_it_all_run_again(cluster: Cluster) -> None:
    cluster.deploy(FLOWS / "workdir_handlers.yml")
    cluster.spawn("executor")
    # The third task of the job (`nap`, the first of its errors) has started.
    worker = cluster.spawn("worker", crash_at="worker.mid_child:3")
    ids = [cluster.start("crash.test", "workdir_handlers")]
    wait_dead(cluster, worker)
    cluster.spawn("worker")
    executions = cluster.wait_finalized(ids, timeout=90)
    invariants.hold(cluster, executions)
    [execution] = executions
    runs = {r.task_id: r for r in execution.task_runs.values()}
    states = {t: r.state.value for t, r in runs.items()}
    assert execution.state.value == "FAILED", states
    assert states == {
        "wdir": "FAILED",
        "write": "SUCCESS",
        "fail": "FAILED",
        "nap": "SUCCESS",
        "check": "SUCCESS",
        "always": "SUCCESS",
    }, states
    wdir = runs["wdir"]
    assert all(r.parent_id == wdir.id for t, r in runs.items() if t != "wdir")
    assert [r.phase.value for r in (runs["nap"], runs["always"])] == ["errors", "finally"]
    # The lost run left `nap` open; the new run, in a new directory, ran everything again.
    assert [a.state.value for a in runs["nap"].attempts] == ["RESUBMITTED", "SUCCESS"]
    assert [a.state.value for a in runs["write"].attempts] == ["SUCCESS", "SUCCESS"]
    assert [a.state.value for a in runs["fail"].attempts] == ["FAILED", "FAILED"]
    assert runs["check"].outputs == {"exitCode": 0, "vars": {"read": True}}
    assert runs["always"].outputs == {"exitCode": 0, "vars": {"seen": True}}
    assert len(runs["always"].attempts) == 1


def test_a_worker_killed_as_a_child_retry_starts(cluster: Cluster) -> None:
    cluster.deploy(FLOWS / "workdir_retry.yml")
    cluster.spawn("executor")
    worker = cluster.spawn("worker", crash_at="worker.mid_child:2")  # the second attempt
    ids = [cluster.start("crash.test", "workdir_retry")]
    wait_dead(cluster, worker)
    cluster.spawn("worker")
    executions = cluster.wait_finalized(ids, timeout=90)
    invariants.hold(cluster, executions)
    [execution] = executions
    runs = {r.task_id: r for r in execution.task_runs.values()}
    assert execution.state.value == "SUCCESS", {t: r.state.value for t, r in runs.items()}
    attempts = [a.state.value for a in runs["flaky"].attempts]
    # The lost run: a failed attempt, then one left open; the new run, in a new
    # directory: a failed attempt again, retried, then the success.
    assert attempts == ["FAILED", "RESUBMITTED", "FAILED", "SUCCESS"], attempts
    assert runs["flaky"].state.value == "SUCCESS"
