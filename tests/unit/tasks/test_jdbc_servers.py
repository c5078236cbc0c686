"""io.kestra.plugin.jdbc.postgresql.* (CopyIn/CopyOut too) and mysql/mariadb.*, against the machine's
PostgreSQL and MariaDB (a throw-away database each), and their cancellation."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lanner.ion import read_values
from lanner.model.states import State
from lanner.model.task import Task
from lanner.storage import LocalStorage, storage_path
from lanner.tasks.jdbc.copy import CopyIn, CopyOut, run_copy_in, run_copy_out
from lanner.tasks.jdbc.model import JdbcQuery, PostgresQueries, PostgresQuery, Queries
from lanner.tasks.jdbc.run import run_jdbc
from tests.support.mariadb import MariaDb, mariadb  # noqa: F401 (fixture)
from tests.support.postgres import PostgresServer
from tests.support.task_context import LocalTaskContext


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "q", "type": "any", **props})


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture
def ctx(storage: LocalStorage) -> LocalTaskContext:
    return LocalTaskContext(storage=storage, execution_id="E1", flow_id="etl")


def read(storage: LocalStorage, uri: str) -> str:
    with storage.open(storage_path(uri)) as f:
        return f.read().decode()


def ion_rows(storage: LocalStorage, uri: str) -> list[Any]:
    """The values of a STORE file, read back (lanner.ion's reader)."""
    with storage.open(storage_path(uri)) as f:
        return list(read_values(f))


@pytest.fixture(scope="module")
def pg(postgres_server: PostgresServer) -> dict[str, str]:
    """url/username of a throw-away PostgreSQL database."""
    name = postgres_server.new_database().rsplit("/", 1)[1]
    return {"url": f"jdbc:postgresql://127.0.0.1:5432/{name}", "username": "postgres"}


def test_postgres_types(pg: dict[str, str], ctx: LocalTaskContext) -> None:
    sql = """SELECT 1::int AS i, true AS b, 1.50::numeric(5,2) AS n, 2.5::float8 AS f,
        DATE '2024-01-02' AS d, TIME '10:30:00' AS t, TIMETZ '10:30:00+02' AS ttz,
        TIMESTAMP '2024-01-02 10:00:00.5' AS ts, TIMESTAMPTZ '2024-01-02 10:00:00+00' AS tz,
        INTERVAL '1 hour 30 minutes' AS iv, ARRAY[1, 2] AS arr, '{"a": [1]}'::jsonb AS j,
        '\\xaabb'::bytea AS by, '00000000-0000-0000-0000-000000000001'::uuid AS u, NULL AS nothing"""
    outcome = run_jdbc(
        make(PostgresQuery, **pg, sql=sql, fetchType="FETCH_ONE", timeZoneId="Europe/Paris"),
        ctx,
        "postgresql",
    )
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["row"] == {
        "i": 1,
        "b": True,
        "n": 1.5,
        "f": 2.5,
        "d": "2024-01-02",
        "t": "10:30:00",
        "ttz": "10:30:00+02:00",
        "ts": "2024-01-02T10:00:00.500000",
        "tz": "2024-01-02T11:00:00+01:00",
        "iv": "PT1H30M",
        "arr": [1, 2],
        "j": {"a": [1]},
        "by": "qrs=",
        "u": "00000000-0000-0000-0000-000000000001",
        "nothing": None,
    }


def test_postgres_queries_parameters_store_and_transaction(
    pg: dict[str, str], ctx: LocalTaskContext, storage: LocalStorage
) -> None:
    setup = """DROP TABLE IF EXISTS items;
        CREATE TABLE items(id int PRIMARY KEY, name text, price numeric(6,2));
        INSERT INTO items VALUES (1, 'a', 1.5), (2, '50%', 2), (3, 'c', 3.25)"""
    assert (
        run_jdbc(make(PostgresQueries, **pg, sql=setup), ctx, "postgresql").state is State.SUCCESS
    )
    outcome = run_jdbc(
        make(
            PostgresQueries,
            **pg,
            sql="SELECT id, name FROM items WHERE id >= :low AND name <> 'x%' ORDER BY id;"
            " SELECT count(*)::int AS n FROM items",
            parameters={"low": 2},
            fetchType="STORE",
            fetchSize=1,
        ),
        ctx,
        "postgresql",
    )
    assert outcome.state is State.SUCCESS, outcome.error
    first, second = outcome.outputs["outputs"]
    assert first["size"] == 2
    assert ion_rows(storage, first["uri"]) == [{"id": 2, "name": "50%"}, {"id": 3, "name": "c"}]
    assert ion_rows(storage, second["uri"]) == [{"n": 3}]
    failed = run_jdbc(
        make(PostgresQueries, **pg, sql="DELETE FROM items; SELECT * FROM missing"),
        ctx,
        "postgresql",
    )
    assert failed.state is State.FAILED and "missing" in (failed.error or "")
    count = run_jdbc(
        make(PostgresQuery, **pg, sql="SELECT count(*) AS n FROM items", fetchOne=True),
        ctx,
        "postgresql",
    )
    assert count.outputs == {"row": {"n": 3}, "size": 1}  # the DELETE was rolled back


def test_postgres_store_and_fetch_stream_through_a_server_side_cursor(
    pg: dict[str, str], ctx: LocalTaskContext, storage: LocalStorage
) -> None:
    """FETCH and STORE read SELECT/VALUES rows fetchSize at a time from a server-side
    cursor (in a transaction of their own, or the one afterSQL opens); statements a
    cursor cannot hold (a data-modifying WITH, INSERT ... RETURNING) are read whole."""
    setup = """DROP TABLE IF EXISTS many; CREATE TABLE many(id int PRIMARY KEY, seen bool);
        INSERT INTO many SELECT i, false FROM generate_series(1, 2500) AS i"""
    assert (
        run_jdbc(make(PostgresQueries, **pg, sql=setup), ctx, "postgresql").state is State.SUCCESS
    )

    def query(sql: str, fetch: str, **more: Any) -> Any:
        outcome = run_jdbc(
            make(PostgresQuery, **pg, sql=sql, fetchType=fetch, fetchSize=100, **more),
            ctx,
            "postgresql",
        )
        assert outcome.state is State.SUCCESS, outcome.error
        return outcome.outputs

    stored = query("-- all of them\nSELECT id FROM many ORDER BY id", "STORE")
    assert stored["size"] == 2500
    assert ion_rows(storage, stored["uri"]) == [{"id": i} for i in range(1, 2501)]
    empty = query("SELECT id FROM many WHERE false", "STORE")
    assert empty["size"] == 0 and ion_rows(storage, empty["uri"]) == []
    assert query("VALUES (1, 'a'), (2, 'b')", "FETCH")["rows"] == [
        {"column1": 1, "column2": "a"},
        {"column1": 2, "column2": "b"},
    ]
    # afterSQL runs in the transaction that holds the cursor, and commits with it.
    marked = query(
        "SELECT id FROM many WHERE id <= 300 ORDER BY id",
        "STORE",
        afterSQL="UPDATE many SET seen = true WHERE id <= 300",
    )
    assert marked["size"] == 300
    assert query("SELECT count(*)::int AS n FROM many WHERE seen", "FETCH")["rows"] == [{"n": 300}]
    moved = query(
        "WITH gone AS (DELETE FROM many WHERE id > 2400 RETURNING id) SELECT id FROM gone",
        "STORE",
    )
    assert moved["size"] == 100
    returned = query("INSERT INTO many VALUES (9001, true) RETURNING id", "FETCH")
    assert returned["rows"] == [{"id": 9001}]
    # A second statement runs after the first one's cursor is closed and committed.
    both = query("SELECT 1 AS a; SELECT count(*)::int AS n FROM many", "FETCH")
    assert both["rows"] == [{"n": 2401}]


def test_postgres_bad_password_and_url(pg: dict[str, str], ctx: LocalTaskContext) -> None:
    bad = run_jdbc(
        make(PostgresQuery, url="jdbc:postgresql://127.0.0.1:5432/x?bogus=1", sql="SELECT 1"),
        ctx,
        "postgresql",
    )
    assert bad.state is State.FAILED and "bogus are not supported here" in (bad.error or "")
    gone = run_jdbc(
        make(
            PostgresQuery,
            url="jdbc:postgresql://127.0.0.1:5432/no_such_db_here",
            sql="SELECT 1",
            username="postgres",
        ),
        ctx,
        "postgresql",
    )
    assert gone.state is State.FAILED and "cannot connect to postgresql" in (gone.error or "")


def test_postgres_query_is_cancelled_when_killed(pg: dict[str, str], ctx: LocalTaskContext) -> None:
    threading.Timer(0.5, ctx.cancel).start()
    started = time.monotonic()
    outcome = run_jdbc(make(PostgresQuery, **pg, sql="SELECT pg_sleep(30)"), ctx, "postgresql")
    assert outcome.state is State.KILLED
    assert time.monotonic() - started < 10


# -- MariaDB (also through the mysql task types: the same driver) -----------------------


@pytest.mark.parametrize("kind", ["mariadb", "mysql"])
def test_mariadb_types_and_parameters(mariadb: MariaDb, ctx: LocalTaskContext, kind: str) -> None:  # noqa: F811
    url = mariadb.jdbc_url.replace("jdbc:mariadb:", f"jdbc:{kind}:")
    props: dict[str, Any] = {"url": url, "username": mariadb.user, "password": mariadb.password}
    setup = f"""DROP TABLE IF EXISTS t_{kind};
        CREATE TABLE t_{kind}(id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(6,2),
          d DATE, t TIME, ts DATETIME(3), j JSON, b VARBINARY(4));
        INSERT INTO t_{kind} VALUES (1, 'it''s;', 1.50, '2024-01-02', '10:30:00',
          '2024-01-02 10:00:00.250', '{{"a": 1}}', X'AA'), (2, 'b', 2, NULL, NULL, NULL, NULL, NULL)"""
    made = run_jdbc(make(Queries, **props, sql=setup), ctx, kind)
    assert made.state is State.SUCCESS, made.error
    outcome = run_jdbc(
        make(
            JdbcQuery,
            **props,
            sql=f"SELECT * FROM t_{kind} WHERE id >= :low AND name LIKE '%' ORDER BY id",
            parameters={"low": 1},
            fetchType="FETCH",
        ),
        ctx,
        kind,
    )
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["rows"][0] == {
        "id": 1,
        "name": "it's;",
        "price": 1.5,
        "d": "2024-01-02",
        "t": "10:30:00",
        "ts": "2024-01-02T10:00:00.250000",
        "j": '{"a": 1}',  # MariaDB's JSON is LONGTEXT: text, as its JDBC driver gives it
        "b": "qg==",
    }
    assert outcome.outputs["size"] == 2


def test_mariadb_after_sql_and_store(
    mariadb: MariaDb,  # noqa: F811
    ctx: LocalTaskContext,
    storage: LocalStorage,
) -> None:
    props: dict[str, Any] = {"url": mariadb.jdbc_url, "username": mariadb.user}
    setup = """DROP TABLE IF EXISTS q; CREATE TABLE q(id INT, seen INT DEFAULT 0);
        INSERT INTO q(id) VALUES (1), (2)"""
    assert run_jdbc(make(Queries, **props, sql=setup), ctx, "mariadb").state is State.SUCCESS
    task = make(
        JdbcQuery,
        **props,
        sql="SELECT id FROM q WHERE seen = 0 ORDER BY id",
        afterSQL="UPDATE q SET seen = 1",
        store=True,
    )
    first = run_jdbc(task, ctx, "mariadb")
    assert first.state is State.SUCCESS, first.error
    assert first.outputs["size"] == 2
    assert ion_rows(storage, first.outputs["uri"]) == [{"id": 1}, {"id": 2}]
    assert run_jdbc(task, ctx, "mariadb").outputs["size"] == 0
    # STORE and FETCH stream through an unbuffered cursor, fetchSize rows at a time; the
    # next statement runs once it is closed.
    many = make(
        JdbcQuery,
        **props,
        sql="SELECT seq AS n FROM seq_1_to_2500; SELECT count(*) AS c FROM q",
        fetchType="STORE",
        fetchSize=100,
    )
    last = run_jdbc(many, ctx, "mariadb")
    assert last.state is State.SUCCESS, last.error
    assert ion_rows(storage, last.outputs["uri"]) == [{"c": 2}]
    streamed = run_jdbc(
        make(JdbcQuery, **props, sql="SELECT seq AS n FROM seq_1_to_2500", fetchType="STORE"),
        ctx,
        "mariadb",
    )
    assert streamed.outputs["size"] == 2500
    assert ion_rows(storage, streamed.outputs["uri"])[-1] == {"n": 2500}


def test_mariadb_query_is_killed(mariadb: MariaDb, ctx: LocalTaskContext) -> None:  # noqa: F811
    threading.Timer(0.5, ctx.cancel).start()
    started = time.monotonic()
    outcome = run_jdbc(
        make(JdbcQuery, url=mariadb.jdbc_url, username=mariadb.user, sql="SELECT SLEEP(30)"),
        ctx,
        "mariadb",
    )
    assert outcome.state is State.KILLED
    assert time.monotonic() - started < 10


def test_mysql_url_parameters(mariadb: MariaDb, ctx: LocalTaskContext) -> None:  # noqa: F811
    base = mariadb.jdbc_url.replace("jdbc:mariadb:", "jdbc:mysql:")
    url = f"{base}?user={mariadb.user}&useUnicode=true&connectTimeout=5000"
    ok = run_jdbc(make(JdbcQuery, url=url, sql="SELECT 1 AS one", fetchOne=True), ctx, "mysql")
    assert ok.state is State.SUCCESS, ok.error
    assert ok.outputs == {"row": {"one": 1}, "size": 1}
    bad = run_jdbc(make(JdbcQuery, url=url + "&sslMode=REQUIRED", sql="SELECT 1"), ctx, "mysql")
    assert bad.state is State.FAILED and "sslMode are not supported here" in (bad.error or "")


# -- CopyOut / CopyIn ---------------------------------------------------------------------


def test_postgres_copy_out_then_in(
    pg: dict[str, str], ctx: LocalTaskContext, storage: LocalStorage
) -> None:
    setup = """DROP TABLE IF EXISTS src, dst;
        CREATE TABLE src(id int, name text); CREATE TABLE dst(id int, name text);
        INSERT INTO src VALUES (1, 'a,b'), (2, NULL)"""
    assert (
        run_jdbc(make(PostgresQueries, **pg, sql=setup), ctx, "postgresql").state is State.SUCCESS
    )
    out = run_copy_out(
        make(CopyOut, **pg, sql="SELECT * FROM src ORDER BY id", format="CSV", header=True),
        ctx,
    )
    assert out.state is State.SUCCESS, out.error
    assert out.outputs["rowCount"] == 2 and out.outputs["uri"].endswith(".csv")
    assert read(storage, out.outputs["uri"]) == 'id,name\n1,"a,b"\n2,\n'
    back = run_copy_in(
        make(
            CopyIn,
            **pg,
            table="dst",
            columns=["id", "name"],
            format="CSV",
            header=True,
            **{"from": out.outputs["uri"]},
        ),
        ctx,
    )
    assert back.state is State.SUCCESS, back.error
    assert back.outputs == {"rowCount": 2}
    text = run_copy_out(make(CopyOut, **pg, table="dst", delimiter="|", nullString="-"), ctx)
    assert sorted(read(storage, text.outputs["uri"]).splitlines()) == ["1|a,b", "2|-"]


@pytest.mark.parametrize(
    ("model", "props", "message"),
    [
        (CopyOut, {}, "either `table` or `sql`"),
        (CopyOut, {"table": "t", "sql": "SELECT 1"}, "either `table` or `sql`"),
        (CopyOut, {"table": "t", "format": "XML"}, "format must be one of"),
        (CopyOut, {"table": "t", "oids": True}, "'oids' is not supported here"),
        (CopyOut, {"table": "t", "sslMode": "REQUIRE"}, "'sslMode' is not supported here"),
        (CopyIn, {"from": "kestra:///x.csv"}, "`table` is required"),
    ],
)
def test_copy_validation(model: type[Task], props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make(model, url="jdbc:postgresql://127.0.0.1/db", **props)


def test_copy_refuses_a_table_name_that_is_not_one(
    pg: dict[str, str], ctx: LocalTaskContext
) -> None:
    with pytest.raises(ValueError, match="is not a table or column name"):
        run_copy_out(make(CopyOut, **pg, table="t; DROP TABLE src"), ctx)
