"""The polling triggers through the trigger runtime, ticked with given `now`s, on a real
store, a real local internal storage, moto's S3 server and real databases: the S3
Trigger (one execution per batch of new objects, then MOVE/DELETE, state kept in the
context) and the JDBC Trigger (rows start one execution per interval); exactly once
with two runtimes on one PostgreSQL database."""

from __future__ import annotations

import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lanner.config import Config
from lanner.ion.reader import read_values
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime
from lanner.storage import LocalStorage, Storage, storage_path
from lanner.store import open_store
from lanner.store.base import Store
from tests.support.cluster import Cluster
from tests.support.mariadb import MariaDb, mariadb  # noqa: F401 (fixture)
from tests.support.postgres import PostgresServer
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.support.trigger_store import store_fixture, tick_together  # noqa: F401 (fixture)

T0 = datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC)
S = timedelta(seconds=1)
REGISTRY = TaskRegistry.from_entry_points()


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return LocalStorage(tmp_path / "storage")


def _runtime(store: Store, storage: Storage, owner: str = "me") -> TriggerRuntime:
    return TriggerRuntime(store, REGISTRY, Config(), owner=owner, storage=storage)


def _s3_flow(server: S3Server, bucket: str, extra: str) -> str:
    # The endpoint and credentials come from the flow's plugin defaults.
    return f"""id: watch
namespace: company.team
tasks:
  - id: each
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.objects | length }}}}"
pluginDefaults:
  - type: io.kestra.plugin.aws.s3
    values:
      endpointOverride: {server.endpoint}
      region: {REGION}
      accessKeyId: {ACCESS_KEY}
      secretKeyId: {SECRET_KEY}
triggers:
  - id: watch
    type: io.kestra.plugin.aws.s3.Trigger
    interval: PT10S
    bucket: {bucket}
    prefix: in/
{extra}
"""


def _triggers(store: Store) -> list[dict[str, Any]]:
    found = [dict(e.trigger or {}) for e in store.list_executions(limit=100)]
    return sorted(found, key=lambda t: [o["key"] for o in t.get("objects", [])])


def _keys(server: S3Server, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in server.client().list_objects(Bucket=bucket).get("Contents", []))


def _read(storage: Storage, uri: str) -> bytes:
    with storage.open(storage_path(uri)) as f:
        return f.read()


def test_s3_trigger_starts_one_execution_per_batch_then_moves(
    s3_server: S3Server, store: Store, storage: Storage
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    for key in ("in/a.csv", "in/b.csv"):
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    extra = "    action: MOVE\n    moveTo:\n      key: archive"
    store.deploy_flow("company.team", "watch", _s3_flow(s3_server, bucket, extra))
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    (trigger,) = _triggers(store)
    assert trigger["id"] == "watch" and trigger["type"] == "io.kestra.plugin.aws.s3.Trigger"
    objects = trigger["objects"]
    assert [o["key"] for o in objects] == ["in/a.csv", "in/b.csv"]
    assert {"etag", "size", "lastModified", "uri"} <= set(objects[0])
    assert objects[0]["uri"].startswith("kestra:///company/team/watch/executions/")
    assert "/trigger/watch/in/a.csv" in objects[0]["uri"]
    assert _read(storage, objects[1]["uri"]) == b"in/b.csv"
    assert _keys(s3_server, bucket) == ["archive/a.csv", "archive/b.csv"]

    assert rt.tick(T0 + 5 * S) == 0  # not due
    assert rt.tick(T0 + 10 * S) == 0  # due, nothing new
    client.put_object(Bucket=bucket, Key="in/c.csv", Body=b"c")
    assert rt.tick(T0 + 20 * S) == 1
    assert [[o["key"] for o in t["objects"]] for t in _triggers(store)] == [
        ["in/a.csv", "in/b.csv"],
        ["in/c.csv"],
    ]


def test_s3_trigger_with_action_none_fires_for_new_and_changed_objects(
    s3_server: S3Server, store: Store, storage: Storage
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="in/a.csv", Body=b"1")
    store.deploy_flow("company.team", "watch", _s3_flow(s3_server, bucket, "    action: NONE"))
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    assert rt.tick(T0 + 10 * S) == 0  # the object stays and is not seen again
    client.put_object(Bucket=bucket, Key="in/a.csv", Body=b"2")  # a new ETag
    client.put_object(Bucket=bucket, Key="in/b.csv", Body=b"b")
    assert rt.tick(T0 + 20 * S) == 1
    last = max(store.list_executions(limit=10), key=lambda e: e.histories[0].date)
    assert [o["key"] for o in (last.trigger or {})["objects"]] == ["in/a.csv", "in/b.csv"]
    assert _keys(s3_server, bucket) == ["in/a.csv", "in/b.csv"]
    context = store.get_trigger_context("company.team", "watch", "watch")
    assert context is not None and sorted(context.data["seen"]) == ["in/a.csv", "in/b.csv"]


def test_an_action_that_failed_is_done_later_and_never_fires_twice(
    s3_server: S3Server, store: Store, storage: Storage
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="in/a.csv", Body=b"a")
    target = f"{bucket}-later"
    extra = f"    action: MOVE\n    moveTo:\n      bucket: {target}\n      key: done"
    store.deploy_flow("company.team", "watch", _s3_flow(s3_server, bucket, extra))
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1  # committed; the move fails (no target bucket yet)
    assert _keys(s3_server, bucket) == ["in/a.csv"]
    assert rt.tick(T0 + 10 * S) == 0  # not fired again; the move fails again
    client.create_bucket(Bucket=target)
    assert rt.tick(T0 + 20 * S) == 0  # moved now, still one execution
    assert _keys(s3_server, bucket) == [] and _keys(s3_server, target) == ["done/a.csv"]
    assert len(store.list_executions(limit=10)) == 1


def _sqlite_flow(db: Path, fetch: str, interval: str = "PT10S") -> str:
    return f"""id: rows
namespace: company.team
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.size }}}}"
triggers:
  - id: new_orders
    type: io.kestra.plugin.jdbc.sqlite.Trigger
    url: "jdbc:sqlite:{db}"
    sql: select id, total from orders where done = 0 order by id
    fetchType: {fetch}
    interval: {interval}
"""


def _orders(path: Path, rows: list[tuple[int, float, int]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("create table if not exists orders (id integer, total real, done integer)")
        conn.executemany("insert into orders values (?, ?, ?)", rows)


def test_jdbc_trigger_fires_each_interval_its_query_returns_rows(
    tmp_path: Path, store: Store, storage: Storage
) -> None:
    db = tmp_path / "shop.sqlite"
    _orders(db, [(1, 9.5, 0), (2, 20.0, 0), (3, 1.0, 1)])
    store.deploy_flow("company.team", "rows", _sqlite_flow(db, "FETCH"))
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    (first,) = store.list_executions(limit=10)
    trigger = first.trigger or {}
    assert trigger["size"] == 2
    assert trigger["rows"] == [{"id": 1, "total": 9.5}, {"id": 2, "total": 20.0}]
    assert trigger["type"] == "io.kestra.plugin.jdbc.sqlite.Trigger"
    assert rt.tick(T0 + 5 * S) == 0
    assert rt.tick(T0 + 10 * S) == 1  # the rows are still there: Kestra fires again
    with sqlite3.connect(db) as conn:
        conn.execute("update orders set done = 1")
    assert rt.tick(T0 + 20 * S) == 0


def test_jdbc_trigger_store_and_fetch_one(tmp_path: Path, store: Store, storage: Storage) -> None:
    db = tmp_path / "shop.sqlite"
    _orders(db, [(1, 9.5, 0), (2, 20.0, 0)])
    store.deploy_flow("company.team", "rows", _sqlite_flow(db, "STORE"))
    assert _runtime(store, storage).tick(T0) == 1
    (stored,) = store.list_executions(limit=10)
    trigger = stored.trigger or {}
    assert trigger["size"] == 2 and "/trigger/new_orders/" in trigger["uri"]
    with storage.open(storage_path(trigger["uri"])) as f:
        rows = list(read_values(f))
    assert [r["id"] for r in rows] == [1, 2]
    with sqlite3.connect(db) as conn:
        conn.execute("update orders set done = 1")
    assert _runtime(store, storage).tick(T0 + 10 * S) == 0  # no rows: no file left behind
    assert len(list(storage.list(""))) == 1
    with sqlite3.connect(db) as conn:
        conn.execute("update orders set done = 0")
    store.deploy_flow("company.team", "rows", _sqlite_flow(db, "FETCH_ONE"))
    assert _runtime(store, storage).tick(T0 + 20 * S) == 1
    newest = max(store.list_executions(limit=10), key=lambda e: e.histories[0].date)
    assert (newest.trigger or {})["row"] == {"id": 1, "total": 9.5}


def test_a_failing_evaluation_is_logged_and_tried_next_interval(
    tmp_path: Path, store: Store, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "missing" / "shop.sqlite"
    store.deploy_flow("company.team", "rows", _sqlite_flow(db, "FETCH"))
    with caplog.at_level("WARNING", logger="lanner.runtime.triggers"):
        assert _runtime(store, storage).tick(T0) == 0
    assert any("evaluation failed" in r.getMessage() for r in caplog.records)
    context = store.get_trigger_context("company.team", "rows", "new_orders")
    assert context is not None and context.next_date == T0 + 10 * S


@pytest.mark.postgres
def test_two_runtimes_on_one_postgres_fire_each_interval_once(
    postgres_server: PostgresServer, tmp_path: Path, s3_server: S3Server
) -> None:
    postgres_db = postgres_server.new_database()
    open_store(postgres_db).close()  # migrated
    storage = LocalStorage(tmp_path / "storage")
    stores = [open_store(postgres_db) for _ in range(2)]
    try:
        bucket = s3_server.new_bucket()
        for n in range(5):
            s3_server.client().put_object(Bucket=bucket, Key=f"in/{n}.csv", Body=b"x")
        extra = "    action: DELETE"
        stores[0].deploy_flow("company.team", "watch", _s3_flow(s3_server, bucket, extra))
        pg = f"""id: pg
namespace: company.team
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.row.one }}}}"
triggers:
  - id: q
    type: io.kestra.plugin.jdbc.postgresql.Trigger
    url: "jdbc:{postgres_db.replace("postgresql://postgres@", "postgresql://")}"
    username: postgres
    sql: select 1 as one
    fetchType: FETCH_ONE
    interval: PT10S
"""
        stores[0].deploy_flow("company.team", "pg", pg)
        runtimes = [_runtime(s, storage, owner=f"server-{i}") for i, s in enumerate(stores)]
        for step in range(3):
            tick_together(runtimes, T0 + step * 10 * S)
        executions = stores[0].list_executions(limit=100)
        by_flow = sorted(e.flow_id for e in executions)
        assert by_flow == ["pg", "pg", "pg", "watch"]
        (watch,) = [e for e in executions if e.flow_id == "watch"]
        assert len((watch.trigger or {})["objects"]) == 5
        assert _keys(s3_server, bucket) == []
    finally:
        for s in stores:
            s.close()


def test_a_server_fires_the_s3_trigger_and_the_execution_reads_the_objects(
    tmp_path: Path, s3_server: S3Server
) -> None:
    bucket = s3_server.new_bucket()
    s3_server.client().put_object(Bucket=bucket, Key="in/hello.txt", Body=b"hello from s3")
    flow = _s3_flow(s3_server, bucket, "    action: DELETE").replace(
        "{{ trigger.objects | length }}", "{{ read(trigger.objects[0].uri) }}"
    )
    cluster = Cluster(f"sqlite://{tmp_path / 'lanner.db'}", tmp_path / "home")
    try:
        path = tmp_path / "watch.yml"
        path.write_text(flow)
        cluster.deploy(path)
        server = cluster.spawn("server", "--threads", "1")

        def done() -> bool:
            found = cluster.store.list_executions(flow_id="watch", limit=10)
            return bool(found) and found[0].state.value == "SUCCESS"

        cluster.wait_for(done, 60, "the S3 trigger's execution to succeed")
        server.signal(signal.SIGTERM)
        assert server.popen.wait(60) == 0, server.output()
        (execution,) = cluster.store.list_executions(flow_id="watch", limit=10)
        logs = cluster.store.get_logs(execution.id)
        assert any(r.message == "hello from s3" for r in logs)
        assert _keys(s3_server, bucket) == []
    finally:
        cluster.close()


def _family_flow(family: str, url: str, sql: str, extra: str = "") -> str:
    return f"""id: rows
namespace: company.team
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ trigger.size }}}}"
triggers:
  - id: q
    type: io.kestra.plugin.jdbc.{family}.Trigger
    url: "{url}"
    sql: "{sql}"
    fetchType: FETCH
    interval: PT10S
{extra}
"""


@pytest.mark.parametrize("family", ["mariadb", "mysql"])
def test_jdbc_trigger_on_mariadb(
    family: str,
    mariadb: MariaDb,  # noqa: F811 (the fixture)
    store: Store,
    storage: Storage,
) -> None:
    url = mariadb.jdbc_url.replace("jdbc:mariadb:", f"jdbc:{family}:")
    extra = f"    username: {mariadb.user}\n    password: '{mariadb.password}'"
    flow = _family_flow(family, url, "select 7 as n union all select 8", extra)
    store.deploy_flow("company.team", "rows", flow)
    assert _runtime(store, storage).tick(T0) == 1
    (execution,) = store.list_executions(limit=10)
    assert (execution.trigger or {})["rows"] == [{"n": 7}, {"n": 8}]
    assert (execution.trigger or {})["type"] == f"io.kestra.plugin.jdbc.{family}.Trigger"


def test_jdbc_trigger_on_duckdb_fires_nothing_without_rows(store: Store, storage: Storage) -> None:
    flow = _family_flow("duckdb", "jdbc:duckdb:", "select 1 as n where 1 = 0")
    store.deploy_flow("company.team", "rows", flow)
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 0
    store.deploy_flow("company.team", "rows", flow.replace("where 1 = 0", "where 1 = 1"))
    assert rt.tick(T0 + 1 * S) == 0  # a changed query restarts the context...
    assert rt.tick(T0 + 2 * S) == 1  # ...which is due at once
    (execution,) = store.list_executions(limit=10)
    assert (execution.trigger or {})["rows"] == [{"n": 1}]


@pytest.mark.postgres
def test_two_servers_on_one_postgres_fire_each_object_once(
    postgres_server: PostgresServer, tmp_path: Path, s3_server: S3Server
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    flow = _s3_flow(s3_server, bucket, "    action: DELETE").replace("PT10S", "PT1S")
    cluster = Cluster(postgres_server.new_database(), tmp_path / "home")
    try:
        path = tmp_path / "watch.yml"
        path.write_text(flow)
        cluster.deploy(path)
        servers = [cluster.spawn("server", "--threads", "1") for _ in range(2)]
        for n in range(30):
            client.put_object(Bucket=bucket, Key=f"in/{n:02d}.csv", Body=b"x")
            time.sleep(0.1)

        def fired() -> list[str]:
            found = cluster.store.list_executions(flow_id="watch", limit=1000)
            return [o["key"] for e in found for o in (e.trigger or {}).get("objects", [])]

        cluster.wait_for(lambda: len(fired()) >= 30, 90, "every object fired")
        for server in servers:
            server.signal(signal.SIGTERM)
        for server in servers:
            assert server.popen.wait(60) == 0, server.output()
        keys = fired()
        assert sorted(keys) == [f"in/{n:02d}.csv" for n in range(30)]  # each exactly once
        assert _keys(s3_server, bucket) == []
    finally:
        cluster.close()


def test_s3_trigger_fetches_at_most_max_files_per_evaluation(
    s3_server: S3Server, store: Store, storage: Storage
) -> None:
    bucket = s3_server.new_bucket()
    for n in range(3):
        s3_server.client().put_object(Bucket=bucket, Key=f"in/{n}.csv", Body=b"x")
    extra = "    action: DELETE\n    maxFiles: 2"
    store.deploy_flow("company.team", "watch", _s3_flow(s3_server, bucket, extra))
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 1
    assert _keys(s3_server, bucket) == ["in/2.csv"]
    assert rt.tick(T0 + 10 * S) == 1
    assert [[o["key"] for o in t["objects"]] for t in _triggers(store)] == [
        ["in/0.csv", "in/1.csv"],
        ["in/2.csv"],
    ]


def test_s3_trigger_on_update_fires_only_for_changed_objects(
    s3_server: S3Server, store: Store, storage: Storage
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="in/a.csv", Body=b"1")
    extra = "    action: NONE\n    on: UPDATE"
    store.deploy_flow("company.team", "watch", _s3_flow(s3_server, bucket, extra))
    rt = _runtime(store, storage)
    assert rt.tick(T0) == 0  # there already: not an update
    client.put_object(Bucket=bucket, Key="in/b.csv", Body=b"b")
    assert rt.tick(T0 + 10 * S) == 0  # a new key: not an update either
    client.put_object(Bucket=bucket, Key="in/a.csv", Body=b"2")
    assert rt.tick(T0 + 20 * S) == 1
    assert [[o["key"] for o in t["objects"]] for t in _triggers(store)] == [["in/a.csv"]]
