"""Crash safety of LoopUntil (docs/flowables.md): an executor SIGKILLed at a commit
between or inside iterations, started again, finishes the loop with every
iteration run exactly once (the next iteration is a stored LoopDue timer)."""

from __future__ import annotations

import pytest

from tests.crash.conftest import FLOWS
from tests.crash.test_crash import wait_dead
from tests.support import invariants
from tests.support.cluster import Cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.mark.parametrize(
    "crash_at",
    ["executor.before_commit:3", "executor.after_commit:3", "executor.after_commit:5"],
)
def test_an_executor_killed_mid_loop_runs_each_iteration_once(
    cluster: Cluster, crash_at: str
) -> None:
    cluster.deploy(FLOWS / "loop_until.yml")
    executor = cluster.spawn("executor", crash_at=crash_at)
    cluster.spawn("worker")
    ids = [cluster.start("crash.test", "loop_until") for _ in range(2)]
    wait_dead(cluster, executor)
    cluster.spawn("executor")
    executions = cluster.wait_finalized(ids, timeout=90)
    for execution in executions:
        assert execution.state.value == "SUCCESS", execution.state
        checks = [r for r in execution.ordered_task_runs() if r.task_id == "check"]
        assert [r.iteration for r in checks] == [1, 2, 3]
        assert all(len(r.attempts) == 1 for r in checks)
    invariants.hold(cluster, executions)
