"""Subflow `restartBehavior` end to end on a real `lanner server`: RETRY_FAILED
(Kestra's default) restarts the failed child execution instead of starting a new one."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.engine.execution import Execution
from tests.support.cluster import Cluster

FLOWS = Path(__file__).parent / "flows"


@pytest.fixture
def server(cluster: Cluster) -> Cluster:
    cluster.deploy(FLOWS / "flaky.yml", FLOWS / "flaky_parent.yml")
    cluster.spawn("server")
    return cluster


def test_a_restarted_parent_restarts_its_failed_child(server: Cluster) -> None:
    parent_id = server.start("control.test", "flaky_parent")
    [failed] = server.wait_finalized([parent_id])
    assert failed.state.value == "FAILED"
    [call] = [r for r in failed.task_runs.values() if r.task_id == "call"]
    assert call.outputs is not None
    child_id = call.outputs["executionId"]
    assert server.cli("executions", "restart", parent_id).returncode == 0

    def restarted() -> Execution | None:
        e = server.store.get_execution(parent_id)
        return e if e is not None and e.finalized_at and e.state.value != "FAILED" else None

    final = server.wait_for(restarted, 60, "the restarted parent to end")
    assert final.state.value == "SUCCESS"
    [call] = [r for r in final.task_runs.values() if r.task_id == "call"]
    assert [a.state.value for a in call.attempts] == ["FAILED", "SUCCESS"]
    assert call.outputs is not None and call.outputs["executionId"] == child_id
    child = server.store.get_execution(child_id)
    assert child is not None and child.state.value == "SUCCESS"
    assert [h.state.value for h in child.histories].count("RESTARTED") == 1
