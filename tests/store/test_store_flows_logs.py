"""Store contract: flow revisions and logs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lanner.store.base import LogRecord, Store

SOURCE = "id: hello\nnamespace: company.team\ntasks: []\n"


def test_deploy_creates_a_revision_only_when_the_source_changes(store: Store) -> None:
    assert store.deploy_flow("company.team", "hello", SOURCE) == (1, True)
    assert store.deploy_flow("company.team", "hello", SOURCE) == (1, False)
    assert store.deploy_flow("company.team", "hello", SOURCE + "# v2\n") == (2, True)
    assert store.deploy_flow("company.team", "hello", SOURCE) == (3, True)  # back to v1's text
    assert store.deploy_flow("company.team", "other", SOURCE) == (1, True)

    latest = store.get_flow("company.team", "hello")
    assert latest is not None and latest.revision == 3 and latest.source == SOURCE
    assert latest.updated_at.tzinfo is not None
    second = store.get_flow("company.team", "hello", revision=2)
    assert second is not None and second.source == SOURCE + "# v2\n"
    assert store.get_flow("company.team", "hello", revision=9) is None
    assert store.get_flow("company.team", "nope") is None


def test_list_flows_gives_the_latest_revision_of_each_live_flow(store: Store) -> None:
    store.deploy_flow("b.ns", "f", SOURCE)
    store.deploy_flow("a.ns", "f", SOURCE)
    store.deploy_flow("a.ns", "f", SOURCE + "#2")
    store.deploy_flow("a.ns", "gone", SOURCE)
    assert store.delete_flow("a.ns", "gone")
    listed = [(f.namespace, f.id, f.revision) for f in store.list_flows()]
    assert listed == [("a.ns", "f", 2), ("b.ns", "f", 1)]


def test_delete_flow_hides_it_but_keeps_its_revisions(store: Store) -> None:
    store.deploy_flow("ns", "f", SOURCE)
    assert store.delete_flow("ns", "f")
    assert not store.delete_flow("ns", "f")
    assert not store.delete_flow("ns", "never")
    assert store.get_flow("ns", "f") is None
    kept = store.get_flow("ns", "f", revision=1)  # executions pinned to it still run
    assert kept is not None and kept.source == SOURCE
    # Deploying again brings it back as a new revision, even with the same source.
    assert store.deploy_flow("ns", "f", SOURCE) == (2, True)
    assert [f.revision for f in store.list_flows()] == [2]


def test_logs_keep_their_order_and_fields(store: Store, make: Any, now: dt.datetime) -> None:
    store.append_logs(
        [make.log(f"line {i}", level="ERROR" if i % 3 == 0 else "INFO") for i in range(10)]
    )
    store.append_logs([])
    store.append_logs([LogRecord("exec1", None, None, None, now, "WARN", "execution-level")])
    store.append_logs([make.log("elsewhere", execution_id="exec2")])
    logs = store.get_logs("exec1")
    assert [log.message for log in logs] == [*(f"line {i}" for i in range(10)), "execution-level"]
    assert logs[0] == make.log("line 0", level="ERROR")
    assert logs[-1].task_id is None and logs[-1].timestamp == now
    errors = list(store.iter_error_logs("exec1"))
    assert [log.message for log in errors] == ["line 0", "line 3", "line 6", "line 9"]
    assert store.get_logs("nope") == [] and list(store.iter_error_logs("nope")) == []


def test_error_logs_are_read_in_pages_without_losing_any(store: Store, make: Any) -> None:
    store.append_logs([make.log(f"e{i}", level="ERROR") for i in range(1234)])
    assert [log.message for log in store.iter_error_logs("exec1")] == [f"e{i}" for i in range(1234)]
