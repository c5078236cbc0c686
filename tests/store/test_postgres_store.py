"""What is particular to PostgresStore: URLs, errors, migrations, row locks, the pool."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from dataclasses import replace
from typing import Any

import pytest

from lanner.errors import StoreError
from lanner.store import open_store
from lanner.store.base import CycleWrite, Store
from tests.store.conftest import PostgresServer

pytestmark = pytest.mark.postgres

psycopg = pytest.importorskip("psycopg") if False else None  # imported lazily below


@pytest.fixture
def pg_url(postgres_db: str, postgres_server: PostgresServer) -> str:
    postgres_server.empty(postgres_db)
    return postgres_db


@pytest.fixture
def pg(pg_url: str) -> Any:
    from lanner.store.postgres import PostgresStore

    s = open_store(pg_url)
    assert isinstance(s, PostgresStore)
    try:
        yield s
    finally:
        s.close()


def _sql(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query.encode(), params or None).fetchall()


# -- URLs and errors -------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_open_store_url_forms(pg_url: str, scheme: str):
    from lanner.store.postgres import PostgresStore

    url = scheme + "://" + pg_url.split("://", 1)[1]
    store = open_store(url)
    try:
        assert isinstance(store, PostgresStore)
        assert store.url == "postgresql://" + pg_url.split("://", 1)[1]
        assert store.list_flows() == []
    finally:
        store.close()


def test_the_password_is_not_shown_in_the_url():
    from lanner.store.postgres import PostgresStore

    store = PostgresStore("postgresql://me:s3cret@db.example:6543/lanner?sslmode=require")
    assert store.url == "postgresql://me:***@db.example:6543/lanner?sslmode=require"
    assert store.where == "db.example:6543"
    assert "s3cret" not in repr(store)


def test_an_unreachable_server_is_a_clear_store_error():
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1: "):
        open_store("postgresql://postgres@127.0.0.1:1/lanner")


def test_an_unknown_database_is_a_clear_store_error(pg_url: str):
    url = pg_url.rsplit("/", 1)[0] + "/lanner_no_such_database"
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL at .*does not exist"):
        open_store(url)


def test_a_driver_error_leaves_as_a_store_error_saying_what_failed(pg: Store):
    with pytest.raises(StoreError, match=r"cannot deploy a flow: .*\(PostgreSQL at "):
        pg.deploy_flow("ns", "f", "id: f\x00")  # TEXT cannot hold NUL
    assert pg.deploy_flow("ns", "f", "id: f") == (1, True)  # the store is still usable


def test_log_messages_with_nul_are_kept(pg: Store, make: Any):
    pg.append_logs([make.log("binary \x00 output")])
    assert [log.message for log in pg.get_logs("exec1")] == ["binary \ufffd output"]


def test_a_closed_store_refuses_work(pg_url: str):
    store = open_store(pg_url)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_flows()


def test_a_lost_connection_is_a_store_error_and_the_next_call_reconnects(
    pg: Any, pg_url: str, make: Any
):
    pg.create_execution(make.execution(), [])
    dbname = pg_url.rsplit("/", 1)[1]
    _sql(
        pg_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND application_name = 'lanner'",
        dbname,
    )
    with pytest.raises(StoreError, match=r"cannot read an execution: lost the connection"):
        pg.get_execution("exec1")
    assert pg.get_execution("exec1") is not None


# -- migrations -----------------------------------------------------------------------


def test_migrations_are_idempotent(pg_url: str):
    first = open_store(pg_url)
    first.deploy_flow("ns", "f", "id: f")
    first.migrate()
    second = open_store(pg_url)
    second.migrate()
    assert second.get_flow("ns", "f") is not None
    assert _sql(pg_url, "SELECT version, name FROM schema_version") == [(1, "initial")]
    first.close()
    second.close()


_MIGRATE = """
import sys
from lanner.store import open_store
open_store(sys.argv[1]).close()
"""


def test_several_processes_migrate_one_new_database_at_once(postgres_server: PostgresServer):
    url = postgres_server.new_database()
    children = [subprocess.Popen([sys.executable, "-c", _MIGRATE, url]) for _ in range(5)]
    assert [c.wait(timeout=60) for c in children] == [0] * 5
    assert _sql(url, "SELECT version FROM schema_version") == [(1,)]
    tables = {r[0] for r in _sql(url, "SELECT tablename FROM pg_tables")}
    assert {"flow", "execution", "task_run", "job", "execution_event", "log"} <= tables


# -- the executor's row lock ----------------------------------------------------------


def test_two_executor_cycles_never_get_the_same_execution(pg: Store, make: Any, now: dt.datetime):
    for name in ("a", "b"):
        pg.create_execution(make.execution(name), [make.event(name)])
    picked: list[str | None] = []
    first_holds = threading.Event()
    second_done = threading.Event()

    def cycle() -> None:
        with pg.executor_tx() as tx:
            picked.append(tx.next_execution(now))
            first_holds.set()
            assert second_done.wait(10)  # hold the row lock until the other has picked

    thread = threading.Thread(target=cycle)
    thread.start()
    assert first_holds.wait(10)
    with pg.executor_tx() as tx:
        picked.append(tx.next_execution(now))
        with pg.executor_tx() if False else _nothing():
            pass
    with pg.executor_tx() as tx:
        third = tx.next_execution(now)  # both are taken: the first is still held
    second_done.set()
    thread.join(10)
    assert sorted(p or "" for p in picked) == ["a", "b"]
    assert third == picked[0]  # not held any more once its holder's cycle... is still open?


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None
