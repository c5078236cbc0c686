"""An execution the executor cannot plan any more ends FAILED with the reason
in its logs, and the executor goes on with every other execution: a flow
revision that no longer loads (real `lanner server`, each backend), and a
fault inside the planner (in-process runtime)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from lanner.config import Config
from lanner.engine.execution import Execution
from lanner.engine.planner import Planner
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.runtime.process import Process
from lanner.store import open_store
from tests.support.cluster import Cluster

FRAGILE = """\
id: fragile
namespace: unplannable.test
description: {description}
concurrency:
  limit: 1
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT0.2S
"""

# What revision 1 reads as once a plugin it used is gone.
GONE = """\
id: fragile
namespace: unplannable.test
tasks:
  - id: nap
    type: io.acme.plugin.Uninstalled
"""


def _set_source(db_url: str, revision: int, source: str) -> None:
    query = "UPDATE flow SET source = {p} WHERE namespace = {p} AND id = {p} AND revision = {p}"
    params = (source, "unplannable.test", "fragile", revision)
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite://")) as db:
            assert db.execute(query.format(p="?"), params).rowcount == 1
    else:
        import psycopg

        with psycopg.connect(db_url, autocommit=True) as conn:
            assert conn.execute(query.format(p="%s").encode(), params).rowcount == 1


def test_an_execution_whose_flow_no_longer_loads_ends_failed_and_the_server_goes_on(
    cluster: Cluster, tmp_path: Path
) -> None:
    flow_file = tmp_path / "fragile.yml"
    flow_file.write_text(FRAGILE.format(description="first"))
    cluster.deploy(flow_file)
    broken = cluster.start("unplannable.test", "fragile")  # revision 1
    flow_file.write_text(FRAGILE.format(description="second"))
    cluster.deploy(flow_file)
    fine = cluster.start("unplannable.test", "fragile")  # revision 2, same concurrency slot
    _set_source(cluster.db_url, 1, GONE)

    server = cluster.spawn("server")
    failed, succeeded = cluster.wait_finalized([broken, fine], timeout=60)
    assert failed.state.value == "FAILED" and failed.error is not None
    assert failed.error.type == "ExecutorError"
    errors = [r.message for r in cluster.store.get_logs(broken) if r.level == "ERROR"]
    assert any(
        m.startswith("The executor cannot go on with this execution") and "io.acme" in m
        for m in errors
    ), errors
    assert succeeded.state.value == "SUCCESS"
    assert server.alive()
    # And it keeps serving: a new execution of the valid revision runs.
    [again] = cluster.wait_finalized([cluster.start("unplannable.test", "fragile")], timeout=60)
    assert again.state.value == "SUCCESS"


# -- a fault inside the planner -------------------------------------------------------

SLEEPY = """\
id: sleepy
namespace: unplannable.test
concurrency:
  limit: 1
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1S
  - id: next
    type: io.kestra.plugin.core.log.Log
    message: next
"""


def _has_run(execution: Execution | None, task_id: str) -> bool:
    return execution is not None and any(r.task_id == task_id for r in execution.task_runs.values())


@pytest.fixture
def poisoned(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Execution ids whose next planning raises, as a planner bug would."""
    ids: set[str] = set()
    real = Planner.plan

    def plan(self: Planner, execution: Any, *args: Any, **kwargs: Any) -> Any:
        if execution.id in ids:
            raise KeyError("a planner bug")
        return real(self, execution, *args, **kwargs)

    monkeypatch.setattr(Planner, "plan", plan)
    return ids


@pytest.mark.parametrize("alone", [False, True], ids=["server", "lanner-run"])
def test_a_planner_fault_fails_its_execution_and_frees_its_slot(
    tmp_path: Path, poisoned: set[str], alone: bool, caplog: pytest.LogCaptureFixture
) -> None:
    registry = TaskRegistry.from_entry_points()
    store = open_store(f"sqlite:///{tmp_path}/lanner.db")
    runtime = Process(store, registry, Config(), alone=alone)
    runtime.start()
    try:
        flow = load_flow(SLEEPY, registry)
        revision, _ = store.deploy_flow(flow.namespace, flow.id, SLEEPY)
        first = runtime.create_execution(flow, revision, {})
        second = runtime.create_execution(flow, revision, {})
        # Once `first` holds the slot and sleeps, its next cycle hits the fault.
        deadline = time.monotonic() + 30
        while not _has_run(store.get_execution(first.id), "nap"):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        poisoned.add(first.id)
        ended = runtime.wait_finalized(first.id, timeout=60)
        assert ended.state.value == "FAILED"
        assert ended.error is not None and ended.error.type == "ExecutorError"
        assert "internal error: KeyError" in ended.error.message
        assert {r.task_id: r.state.value for r in ended.task_runs.values()} == {"nap": "FAILED"}
        # The slot is free: the queued execution runs, on the same executor.
        assert runtime.wait_finalized(second.id, timeout=60).state.value == "SUCCESS"
        # A bug's traceback, for its report, in the process log.
        assert any(r.exc_info and r.levelname == "ERROR" for r in caplog.records)
        assert store.counts()["job"] == 0
    finally:
        runtime.stop()
        store.close()
