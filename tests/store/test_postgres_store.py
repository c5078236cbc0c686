"""What is particular to PostgresStore: URLs, errors, migrations, row locks, the pool."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from lanner.errors import StoreError
from lanner.model.states import State
from lanner.store import migrations, open_store
from lanner.store.base import CycleWrite, NewJob, Renewal, Store

if TYPE_CHECKING:
    from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres


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
def test_open_store_url_forms(pg_url: str, scheme: str) -> None:
    from lanner.store.postgres import PostgresStore

    url = scheme + "://" + pg_url.split("://", 1)[1]
    store = open_store(url)
    try:
        assert isinstance(store, PostgresStore)
        assert store.url == "postgresql://" + pg_url.split("://", 1)[1]
        assert store.list_flows() == []
    finally:
        store.close()


def test_the_password_is_not_shown_in_the_url() -> None:
    from lanner.store.postgres import PostgresStore

    store = PostgresStore("postgresql://me:s3cret@db.example:6543/lanner?sslmode=require")
    assert store.url == "postgresql://me:***@db.example:6543/lanner?sslmode=require"
    assert store.where == "db.example:6543"
    assert "s3cret" not in repr(store)


def test_an_unreachable_server_is_a_clear_store_error() -> None:
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1: "):
        open_store("postgresql://postgres@127.0.0.1:1/lanner")


def test_an_unknown_database_is_a_clear_store_error(pg_url: str) -> None:
    url = pg_url.rsplit("/", 1)[0] + "/lanner_no_such_database"
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL at .*does not exist"):
        open_store(url)


def test_a_driver_error_leaves_as_a_store_error_saying_what_failed(pg: Store) -> None:
    with pytest.raises(StoreError, match=r"cannot deploy a flow: .*\(PostgreSQL at "):
        pg.deploy_flow("ns", "f", "id: f\x00")  # TEXT cannot hold NUL
    assert pg.deploy_flow("ns", "f", "id: f") == (1, True)  # the store is still usable


def test_log_messages_with_nul_are_kept(pg: Store, make: Any) -> None:
    pg.append_logs([make.log("binary \x00 output")])
    assert [log.message for log in pg.get_logs("exec1")] == ["binary \ufffd output"]


def test_a_closed_store_refuses_work(pg_url: str) -> None:
    store = open_store(pg_url)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_flows()


def test_a_lost_connection_is_a_store_error_and_the_next_call_reconnects(
    pg: Any, pg_url: str, make: Any
) -> None:
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


def test_migrations_are_idempotent(pg_url: str) -> None:
    first = open_store(pg_url)
    first.deploy_flow("ns", "f", "id: f")
    first.migrate()
    second = open_store(pg_url)
    second.migrate()
    assert second.get_flow("ns", "f") is not None
    assert _sql(pg_url, "SELECT version, name FROM schema_version ORDER BY version") == [
        (1, "initial"),
        (2, "runtime"),
        (3, "kv"),
        (4, "trigger_context"),
        (5, "execution_chain"),
        (6, "log_rowid"),
    ]
    first.close()
    second.close()


_MIGRATE = """
import sys
from lanner.store import open_store
open_store(sys.argv[1]).close()
"""


def test_several_processes_migrate_one_new_database_at_once(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.new_database()
    children = [subprocess.Popen([sys.executable, "-c", _MIGRATE, url]) for _ in range(5)]
    assert [c.wait(timeout=60) for c in children] == [0] * 5
    assert _sql(url, "SELECT version FROM schema_version ORDER BY version") == [
        (m.version,) for m in migrations.load("postgres")
    ]
    tables = {r[0] for r in _sql(url, "SELECT tablename FROM pg_tables")}
    assert {"flow", "execution", "task_run", "job", "execution_event", "log"} <= tables


# -- the executor's row lock ----------------------------------------------------------


def test_two_executor_cycles_never_get_the_same_execution(
    pg: Store, make: Any, now: dt.datetime
) -> None:
    """SKIP LOCKED: a second executor passes over the execution the first one holds."""
    pg.create_execution(make.execution("a"), [make.event("a", at=now - dt.timedelta(seconds=1))])
    pg.create_execution(make.execution("b"), [make.event("b")])
    picked: list[str | None] = []
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with pg.executor_tx() as tx:
            picked.append(tx.next_execution(now))
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert holding.wait(10)
        with pg.executor_tx() as tx:
            assert tx.next_execution(now) == "b"  # "a" is older, but held
        with pg.executor_tx() as tx:
            assert tx.next_execution(now) == "b"  # "b" was released by that commit
    finally:
        release.set()
        thread.join(10)
    assert picked == ["a"]
    with pg.executor_tx() as tx:
        assert tx.next_execution(now) == "a"


def test_concurrent_executors_process_each_execution_once(
    pg: Store, make: Any, now: dt.datetime
) -> None:
    names = [f"e{i:03d}" for i in range(60)]
    for name in names:
        pg.create_execution(make.execution(name), [make.event(name)])
    guard = threading.Lock()
    held: set[str] = set()
    processed: list[str] = []
    problems: list[str] = []
    start = threading.Barrier(4)

    def executor() -> None:
        start.wait()
        while True:
            with pg.executor_tx() as tx:
                execution_id = tx.next_execution(now)
                if execution_id is None:
                    return
                with guard:
                    if execution_id in held:
                        problems.append(f"{execution_id} held twice")
                    held.add(execution_id)
                events = tx.events(execution_id, now)
                execution = tx.load(execution_id)
                assert execution is not None and len(events) == 1
                new = replace(execution, version=execution.version + 1)
                tx.write(CycleWrite(new, execution.version, consumed_events=[events[0].id]))
                with guard:
                    processed.append(execution_id)
                    held.discard(execution_id)

    threads = [threading.Thread(target=executor) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert problems == []
    assert sorted(processed) == names  # each exactly once
    assert not pg.has_due_events(now)


def test_events_of_an_execution_that_is_not_stored_are_never_picked(
    pg: Store, make: Any, now: dt.datetime
) -> None:
    # The execution row is the lock: an event without one cannot be worked on.
    pg.add_event(make.event("ghost"))
    assert not pg.has_due_events(now)
    with pg.executor_tx() as tx:
        assert tx.next_execution(now) is None


def test_a_claim_during_an_open_cycle_neither_waits_nor_fails(
    pg: Store, make: Any, now: dt.datetime
) -> None:
    """The PostgreSQL side of test_a_claim_waits_for_the_writer_instead_of_failing."""
    pg.create_execution(make.execution(), [])
    got: list[list[str]] = []
    with pg.executor_tx() as tx:
        execution = tx.load("exec1")
        assert execution is not None
        tx.write(
            CycleWrite(
                replace(execution, version=execution.version + 1),
                execution.version,
                new_jobs=[make.job("t1")],
            )
        )

        def claim() -> None:
            got.append([j.task_run_id for j in pg.claim_jobs("w", 1, 30, now)])

        thread = threading.Thread(target=claim)
        thread.start()
        thread.join(10)
        assert got == [[]]  # answered at once: the job is not committed yet
    assert [j.task_run_id for j in pg.claim_jobs("w", 1, 30, now)] == ["t1"]


def test_store_calls_inside_a_cycle_run_in_its_transaction(
    pg_url: str, make: Any, now: dt.datetime
) -> None:
    """On the cycle's thread, the store uses the cycle's connection: with a pool of one
    connection, anything else would wait for a free connection forever."""
    from lanner.store.postgres import PostgresStore

    store = PostgresStore(pg_url, max_connections=1)
    try:
        store.create_execution(make.execution(), [])
        with store.executor_tx() as tx:
            execution = tx.load("exec1")
            assert execution is not None
            new = replace(execution, version=execution.version + 1)
            tx.write(CycleWrite(new, execution.version, new_jobs=[make.job("t1")]))
            seen = store.get_execution("exec1")
            assert seen is not None and seen.version == new.version  # the cycle's own write
            assert store.add_event(make.event(kind="Kill"))
            [job] = store.claim_jobs("w", 1, 30, now)
            assert store.complete_job(job, make.event(kind="TaskResult"))
        with store.executor_tx() as tx:
            assert [e.kind for e in tx.events("exec1", now)] == ["Kill", "TaskResult"]
    finally:
        store.close()


def test_a_failed_cycle_rolls_back_the_calls_made_inside_it(
    pg: Store, make: Any, now: dt.datetime
) -> None:
    pg.create_execution(make.execution(), [])
    with pytest.raises(RuntimeError), pg.executor_tx():
        pg.add_event(make.event(kind="Kill"))
        raise RuntimeError("boom")
    with pg.executor_tx() as tx:
        assert tx.events("exec1", now) == []


def test_an_executor_cycle_cannot_be_nested_on_one_thread(pg: Store) -> None:
    with pg.executor_tx(), pytest.raises(StoreError, match="already open"), pg.executor_tx():
        pass


def test_data_version_moves_only_when_something_was_written(
    pg: Store, make: Any, now: dt.datetime
) -> None:
    start = pg.data_version()
    pg.get_execution("exec1")
    assert pg.claim_jobs("w", 10, 30, now) == []
    assert not pg.delete_flow("ns", "nope")
    assert pg.data_version() == start
    pg.create_execution(make.execution(), [make.event(dedup_key="k")])
    after_create = pg.data_version()
    assert after_create > start
    assert not pg.add_event(make.event(dedup_key="k"))  # dropped: nothing written
    assert pg.data_version() == after_create


def _queue_one_job(store: Store, make: Any, now: dt.datetime) -> None:
    """Execution exec1 with one unclaimed job (task run t1), written as a cycle writes it."""
    store.create_execution(make.execution(), [])
    execution = store.get_execution("exec1")
    assert execution is not None
    job = NewJob("t1", "exec1", 1, {"taskId": "t1", "properties": {}}, now)
    with store.executor_tx() as tx:
        bumped = replace(execution, version=execution.version + 1)
        tx.write(CycleWrite(bumped, execution.version, new_jobs=[job]))


def test_claims_and_lease_renewals_wake_no_one(pg: Store, make: Any, now: dt.datetime) -> None:
    _queue_one_job(pg, make, now)
    written = pg.data_version()
    [claimed] = pg.claim_jobs("w", 1, 30, now)
    assert pg.renew_leases("w", [claimed.claim_token], 30, now).lost == frozenset()
    assert pg.data_version() == written
    assert pg.complete_job(claimed, make.event(kind="TaskResult"))
    assert pg.data_version() > written  # a result: the executor must look


def test_take_jobs_fences_each_claim(pg: Store, make: Any, now: dt.datetime) -> None:
    pg.create_execution(make.execution(), [])
    with pg.executor_tx() as tx:
        tx.write(CycleWrite(make.execution(version=1), 0, new_jobs=[make.job("a"), make.job("b")]))
    a, b = pg.claim_jobs("w", 2, 30, now)
    with pg.executor_tx() as tx:
        claims = [
            (a.task_run_id, a.attempt, a.claim_token),
            (b.task_run_id, b.attempt, "0" * 32),
            (a.task_run_id, a.attempt, a.claim_token),
            ("nope", 1, a.claim_token),
        ]
        assert tx.take_jobs(claims) == [True, False, False, False]
        assert tx.take_jobs([]) == []
    renewal = pg.renew_leases("w", [a.claim_token, b.claim_token], 30, now)
    assert renewal == Renewal(frozenset(), frozenset({a.claim_token}))
    assert not pg.complete_job(a, make.event(kind="TaskResult"))
    assert pg.complete_job(b, make.event(kind="TaskResult"))


# -- flow concurrency across executors ------------------------------------------------------------


def _waiting_for_an_advisory_lock(url: str) -> bool:
    found = _sql(url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    return bool(found[0][0])


def test_slots_taken_waits_for_the_executor_counting_the_same_flow(
    pg: Store, pg_url: str, make: Any
) -> None:
    """The second count waits for the first transaction and sees the slot it took."""
    pg.create_execution(make.execution("a", state=State.CREATED), [])
    pg.create_execution(make.execution("b", state=State.CREATED), [])
    counted: list[int] = []

    def second() -> None:
        with pg.executor_tx() as tx:
            counted.append(tx.slots_taken("company.team", "hello", "b"))

    thread = threading.Thread(target=second)
    with pg.executor_tx() as tx:
        assert tx.slots_taken("company.team", "hello", "a") == 0
        a = tx.load("a")
        assert a is not None
        tx.write(CycleWrite(replace(a, state=State.RUNNING, version=1), 0))
        thread.start()
        deadline = time.monotonic() + 30
        while not _waiting_for_an_advisory_lock(pg_url):
            assert time.monotonic() < deadline, "the second count never waited"
        assert counted == []
        # Another flow's count is not held up.
        other = threading.Thread(target=lambda: _count_other_flow(pg))
        other.start()
        other.join(30)
        assert not other.is_alive()
    thread.join(30)
    assert counted == [1]


def test_a_cycle_freeing_a_slot_and_one_queueing_never_miss_each_other(
    pg: Store, pg_url: str, make: Any, now: dt.datetime
) -> None:
    """Without the lock in oldest_queued, "b" could be queued for ever: the cycle that
    finalizes "a" would find nothing queued, the one starting "b" would count "a"."""
    pg.create_execution(make.execution("a", state=State.SUCCESS, terminal_at=now), [])
    pg.create_execution(make.execution("b", state=State.CREATED), [])
    counted: list[int] = []

    def start_b() -> None:
        with pg.executor_tx() as tx:
            counted.append(tx.slots_taken("company.team", "hello", "b"))

    thread = threading.Thread(target=start_b)
    with pg.executor_tx() as tx:
        a = tx.load("a")
        assert a is not None
        tx.write(CycleWrite(replace(a, finalized_at=now, version=1), 0))
        assert tx.oldest_queued("company.team", "hello") is None
        thread.start()
        deadline = time.monotonic() + 30
        while not _waiting_for_an_advisory_lock(pg_url):
            assert time.monotonic() < deadline, "the count never waited"
    thread.join(30)
    assert counted == [0]  # "b" starts: the slot "a" freed is seen


def _count_other_flow(store: Store) -> None:
    with store.executor_tx() as tx:
        assert tx.slots_taken("company.team", "other", "x") == 0


def test_concurrent_executors_never_take_more_slots_than_the_limit(pg: Store, make: Any) -> None:
    names = [f"q{i}" for i in range(6)]
    for name in names:
        pg.create_execution(make.execution(name, state=State.QUEUED), [])
    start = threading.Barrier(len(names))

    def executor(execution_id: str) -> None:
        start.wait()
        with pg.executor_tx() as tx:
            if tx.slots_taken("company.team", "hello", execution_id) < 1:
                execution = tx.load(execution_id)
                assert execution is not None
                tx.write(CycleWrite(replace(execution, state=State.RUNNING, version=1), 0))

    threads = [threading.Thread(target=executor, args=(name,)) for name in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(pg.list_executions(state="RUNNING")) == 1


# -- upgrading a database -------------------------------------------------------------------------


def test_a_database_of_schema_1_is_upgraded_in_place(postgres_server: PostgresServer) -> None:
    import psycopg

    from lanner.store import migrations

    url = postgres_server.new_database()
    first = migrations.load("postgres")[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(first.sql.encode())
        conn.execute(
            "CREATE TABLE schema_version"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        )
        conn.execute("INSERT INTO schema_version VALUES (1, 'initial', 0)")
        conn.execute(
            "INSERT INTO execution (id, namespace, flow_id, flow_revision, state, state_history,"
            " parent_execution_id, created_at, version) VALUES ('old', 'ns', 'f', 1, 'RUNNING',"
            ' \'{"v":1,"h":[["CREATED","2025-01-02T10:30:15.123456+00:00"]]}\', \'p\', 0, 3)'
        )
    store = open_store(url)
    try:
        old = store.get_execution("old")
        assert old is not None and old.parent_execution_id == "p" and old.version == 3
        assert (old.parent_task_run_id, old.parent_attempt) == (None, None)
        with store.executor_tx() as tx:
            assert tx.trigger_state("ns", "f", "t") is None
    finally:
        store.close()


# -- a process frozen inside a transaction ----------------------------------------------


def _idle_limit(store: Any) -> str:
    with store._db.session("read a setting") as s:
        return str(s.conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0])


def test_sessions_get_an_idle_in_transaction_limit_unless_the_url_sets_one(
    pg: Any, pg_url: str
) -> None:
    assert _idle_limit(pg) == "1min"
    own = open_store(pg_url + "?options=-c%20idle_in_transaction_session_timeout%3D7s")
    try:
        assert _idle_limit(own) == "7s"
    finally:
        own.close()


def test_a_job_held_by_a_frozen_transaction_is_skipped_then_reaped_when_the_server_ends_it(
    pg_url: str, make: Any, now: dt.datetime
) -> None:
    """A worker stopped (SIGSTOP) between its fenced check and its commit keeps
    the job's row lock: the reaper must neither wait for it nor lose the job."""

    # The server ends the frozen session after 10 s: a reaper that waited for
    # its lock would take that long, one that skips it returns at once.
    store: Any = open_store(pg_url + "?options=-c%20idle_in_transaction_session_timeout%3D10s")
    try:
        _queue_one_job(store, make, now)
        [job] = store.claim_jobs("w", 1, 10, now)
        pool = store._db._pool()
        frozen = pool.getconn()
        frozen.execute("BEGIN")
        frozen.execute(
            "SELECT 1 FROM job WHERE task_run_id = %s AND claim_token = %s FOR SHARE",
            (job.task_run_id, job.claim_token),
        )
        later = now + dt.timedelta(seconds=60)
        started = time.monotonic()
        assert store.expired_jobs(later, 10) == []  # skipped, not waited for
        assert time.monotonic() - started < 5
        deadline = time.monotonic() + 30
        while not (expired := store.expired_jobs(later, 10)):
            assert time.monotonic() < deadline, "the server never ended the frozen session"
            time.sleep(0.2)
        assert [j.claim_token for j in expired] == [job.claim_token]
        assert store.requeue_job(expired[0], make.event(kind="Resubmitted"), later)
        pool.putconn(frozen)  # broken by the server: the pool drops it
        [again] = store.claim_jobs("w2", 1, 10, later)
        assert again.claims == 2
    finally:
        store.close()
