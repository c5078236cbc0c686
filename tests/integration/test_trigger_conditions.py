"""`conditions` on polling and realtime triggers, through the trigger runtime on a real
SQLite store: the HTTP Trigger against a real HTTP server (nothing is requested while
they are false), the SQLite JDBC Trigger, the S3 Trigger with `action: MOVE` (nothing
is moved) and the Redis list RealtimeTrigger (it listens only while they hold; the
elements wait in the list)."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lanner.config import Config
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime
from lanner.storage import LocalStorage
from lanner.store.base import Store
from tests.support.http_sink import HttpSink
from tests.support.redis_server import RedisServer, redis_server_fixture  # noqa: F401 (fixture)
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.support.trigger_store import store_fixture, wait_until  # noqa: F401 (fixture)

T0 = datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC)  # a Monday
S = timedelta(seconds=1)
REGISTRY = TaskRegistry.from_entry_points()


def _runtime(store: Store, tmp_path: Path, **kwargs: Any) -> TriggerRuntime:
    storage = LocalStorage(tmp_path / "storage")
    return TriggerRuntime(store, REGISTRY, Config(), owner="me", storage=storage, **kwargs)


def _flow(trigger: str, flow_id: str = "watch") -> str:
    return f"""id: {flow_id}
namespace: company.team
variables:
  open: "yes"
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: hello
triggers:
{trigger}
"""


def _http(uri: str, conditions: str) -> str:
    return _flow(
        f"""  - id: http
    type: io.kestra.plugin.core.http.Trigger
    uri: {uri}
    interval: PT10S
    conditions:
{conditions}"""
    )


def test_http_trigger_sends_nothing_while_its_conditions_are_false(
    store: Store, tmp_path: Path, http_sink: HttpSink
) -> None:
    conditions = """      - type: io.kestra.plugin.core.condition.DateTimeBetween
        after: "2025-01-06T12:00:15Z"
      - type: io.kestra.plugin.core.condition.Expression
        expression: "{{ vars.open == 'yes' and trigger.date is defined }}"
      - type: io.kestra.plugin.core.condition.Not
        conditions:
          - type: io.kestra.plugin.core.condition.Weekend"""
    store.deploy_flow("company.team", "watch", _http(http_sink.url, conditions))
    rt = _runtime(store, tmp_path)
    assert rt.tick(T0) == 0
    assert rt.tick(T0 + 10 * S) == 0
    assert http_sink.requests == []  # as Kestra: the trigger is not evaluated at all
    context = store.get_trigger_context("company.team", "watch", "http")
    assert context is not None and context.next_date == T0 + 20 * S
    assert rt.tick(T0 + 20 * S) == 1
    assert len(http_sink.requests) == 1
    # Saturday: Not(Weekend) is false, nothing is requested.
    saturday = datetime(2025, 1, 11, 12, 0, 0, tzinfo=UTC)
    assert rt.tick(saturday) == 0
    assert len(http_sink.requests) == 1


def test_a_condition_that_fails_to_render_is_logged_and_tried_next_interval(
    store: Store, tmp_path: Path, http_sink: HttpSink, caplog: pytest.LogCaptureFixture
) -> None:
    conditions = """      - type: io.kestra.plugin.core.condition.DayWeek
        dayOfWeek: "{{ vars.open }}\""""
    store.deploy_flow("company.team", "watch", _http(http_sink.url, conditions))
    with caplog.at_level("WARNING", logger="lanner.runtime.triggers"):
        assert _runtime(store, tmp_path).tick(T0) == 0
    assert any(
        "conditions failed" in r.getMessage() and "dayOfWeek 'yes'" in r.getMessage()
        for r in caplog.records
    )
    assert http_sink.requests == []
    context = store.get_trigger_context("company.team", "watch", "http")
    assert context is not None and context.next_date == T0 + 10 * S


def test_jdbc_trigger_runs_no_query_on_the_days_its_conditions_exclude(
    store: Store, tmp_path: Path
) -> None:
    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table orders (id integer)")
        conn.execute("insert into orders values (1)")
    trigger = f"""  - id: orders
    type: io.kestra.plugin.jdbc.sqlite.Trigger
    url: "jdbc:sqlite:{db}"
    sql: select id from orders
    fetchType: FETCH
    interval: PT1H
    conditions:
      - type: io.kestra.plugin.core.condition.DayWeek
        dayOfWeek: TUESDAY"""
    store.deploy_flow("company.team", "watch", _flow(trigger))
    rt = _runtime(store, tmp_path)
    assert rt.tick(T0) == 0  # Monday
    assert rt.tick(T0 + timedelta(days=1)) == 1  # Tuesday
    (execution,) = store.list_executions(limit=10)
    assert (execution.trigger or {})["rows"] == [{"id": 1}]


def test_s3_trigger_moves_nothing_while_its_conditions_are_false(
    s3_server: S3Server, store: Store, tmp_path: Path
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="in/a.csv", Body=b"a")
    trigger = f"""  - id: files
    type: io.kestra.plugin.aws.s3.Trigger
    endpointOverride: {s3_server.endpoint}
    region: {REGION}
    accessKeyId: {ACCESS_KEY}
    secretKeyId: {SECRET_KEY}
    bucket: {bucket}
    prefix: in/
    action: MOVE
    moveTo:
      key: archive
    interval: PT10S
    conditions:
      - type: io.kestra.plugin.core.condition.TimeBetween
        after: "12:00:05Z\""""
    store.deploy_flow("company.team", "watch", _flow(trigger))
    rt = _runtime(store, tmp_path)

    def keys() -> list[str]:
        listed = client.list_objects(Bucket=bucket).get("Contents", [])
        return sorted(o["Key"] for o in listed)

    assert rt.tick(T0) == 0
    assert keys() == ["in/a.csv"]
    assert store.list_executions(limit=10) == []
    assert rt.tick(T0 + 10 * S) == 1
    assert keys() == ["archive/a.csv"]


def test_a_realtime_trigger_listens_only_while_its_conditions_hold(
    store: Store, tmp_path: Path, redis_server: RedisServer
) -> None:
    key = redis_server.key("jobs")
    trigger = f"""  - id: jobs
    type: io.kestra.plugin.redis.list.RealtimeTrigger
    url: {redis_server.url}
    key: {key}
    conditions:
      - type: io.kestra.plugin.core.condition.DateTimeBetween
        after: "2025-01-06T12:00:30Z"
        before: "2025-01-06T12:01:30Z\""""
    store.deploy_flow("company.team", "watch", _flow(trigger))
    clock = [T0]
    rt = _runtime(store, tmp_path, clock=lambda: clock[0])
    try:
        rt.tick()
        redis_server.client.rpush(key, "a", "b")
        time.sleep(2.5)  # two checks of the conditions at least: nothing may be taken
        assert redis_server.client.llen(key) == 2
        assert store.list_executions(limit=10) == []

        clock[0] = T0 + 60 * S
        wait_until(lambda: rt.fired == 2, "the two waiting elements")
        values = sorted((e.trigger or {})["value"] for e in store.list_executions(limit=10))
        assert values == ["a", "b"]

        clock[0] = T0 + 120 * S  # past `before`: the listener closes
        time.sleep(2.5)
        redis_server.client.rpush(key, "c")
        time.sleep(2.5)
        assert redis_server.client.llen(key) == 1
        assert rt.fired == 2
    finally:
        rt.close()
