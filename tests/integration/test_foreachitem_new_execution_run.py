"""ForEachItem `restartBehavior: NEW_EXECUTION` on a real `lanner server`: restarting
the failed parent starts a new child for the failed batch (of the child flow's latest
revision), which reads the batch file made for the batch's first child."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanner.engine.execution import Execution
from tests.support.cluster import Cluster

FLOWS = Path(__file__).parent / "flows"


@pytest.fixture
def server(cluster: Cluster) -> Cluster:
    cluster.deploy(FLOWS / "foreachitem_again.yml", FLOWS / "foreachitem_picky_child.yml")
    cluster.spawn("server")
    return cluster


def test_a_restart_gives_the_failed_batch_a_new_child(server: Cluster, tmp_path: Path) -> None:
    orders = tmp_path / "orders.txt"
    orders.write_text("o1\nbad\n")
    started = server.cli(
        "executions", "start", "lanner.batches", "orders_again", "-i", f"file={orders}"
    )
    assert started.returncode == 0, started.stderr
    parent_id = started.stdout.strip()
    [failed] = server.wait_finalized([parent_id], timeout=90)
    assert failed.state.value == "FAILED"
    [items] = [r for r in failed.task_runs.values() if r.task_id == "each_items"]
    assert items.outputs is not None
    first_children = [b["executionId"] for b in items.outputs["batches"]]
    # The batch's data is fine after all: the child flow's next revision takes it.
    server.deploy(FLOWS / "foreachitem_lenient_child.yml")
    restarted = server.cli("executions", "restart", parent_id)
    assert restarted.returncode == 0, restarted.stderr

    def ended_again() -> Execution | None:
        e = server.store.get_execution(parent_id)
        return e if e is not None and e.finalized_at and e.state.value != "FAILED" else None

    final = server.wait_for(ended_again, 90, "the restarted parent to end")
    assert final.state.value == "SUCCESS"
    [items] = [r for r in final.task_runs.values() if r.task_id == "each_items"]
    assert items.outputs is not None
    batches = items.outputs["batches"]
    assert [b["state"] for b in batches] == ["SUCCESS", "SUCCESS"]
    assert [b["outputs"] for b in batches] == [{"order": "o1"}, {"order": "bad"}]
    assert batches[0]["executionId"] == first_children[0]
    new_child = batches[1]["executionId"]
    assert new_child != first_children[1]
    child = server.store.get_execution(new_child)
    assert child is not None and child.state.value == "SUCCESS"
    assert child.origin_id == first_children[1] and child.attempt_number == 2
    old = server.store.get_execution(first_children[1])
    assert old is not None and old.state.value == "FAILED"  # not restarted
