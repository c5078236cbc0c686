"""io.kestra.plugin.jdbc.sqlite.* and duckdb.*: validation, fetch types, file
properties and cancellation, on real temp SQLite files and real DuckDB."""

from __future__ import annotations

import io
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lanner.errors import FlowValidationError
from lanner.ion import read_values
from lanner.model.states import State
from lanner.model.task import Task
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.storage import LocalStorage, storage_path, task_file_uri
from lanner.tasks import jdbc
from lanner.tasks.jdbc.model import DuckDbQueries, DuckDbQuery, SqliteQueries, SqliteQuery
from lanner.tasks.jdbc.run import run_jdbc
from tests.support.task_context import LocalTaskContext


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "q", "type": "any", **props})


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture
def ctx(storage: LocalStorage) -> LocalTaskContext:
    return LocalTaskContext(storage=storage, execution_id="E1", flow_id="etl")


def put(storage: LocalStorage, data: bytes, name: str) -> str:
    uri = task_file_uri("company.team", "etl", "E0", "src", "TR0", name)
    storage.put(storage_path(uri), io.BytesIO(data))
    return uri


def read(storage: LocalStorage, uri: str) -> bytes:
    with storage.open(storage_path(uri)) as f:
        return f.read()


def ion_rows(storage: LocalStorage, uri: str) -> list[Any]:
    """The values of a STORE file, read back (lanner.ion's reader)."""
    with storage.open(storage_path(uri)) as f:
        return list(read_values(f))


def test_registered_under_kestras_names() -> None:
    registry = TaskRegistry(jdbc.task_types())
    for db in ("postgresql", "mysql", "mariadb", "sqlite", "duckdb"):
        for kind in ("Query", "Queries"):
            assert registry.get(f"io.kestra.plugin.jdbc.{db}.{kind}") is not None


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"fetchType": "ALL"}, "fetchType must be one of"),
        ({"autoCommit": False}, "'autoCommit' is not supported here"),
        ({"databaseFile": "/x.db"}, "'databaseFile' is not supported here"),
        ({"nope": 1}, "Extra inputs are not permitted"),
    ],
)
def test_validation_at_load(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make(DuckDbQuery, sql="SELECT 1", **props)


def test_sqlite_fetch_types_on_a_temp_file(tmp_path: Path, ctx: LocalTaskContext) -> None:
    db = tmp_path / "a.db"
    url = f"jdbc:sqlite:{db}"
    create = "CREATE TABLE t(id INTEGER, name TEXT, price NUMERIC, b BLOB);"
    insert = "INSERT INTO t VALUES (1, 'a', 1.5, x'aa'), (2, 'b', 2, NULL)"
    none = run_jdbc(make(SqliteQueries, url=url, sql=create + insert), ctx, "sqlite")
    assert none.state is State.SUCCESS and none.outputs == {"outputs": []}

    fetch = run_jdbc(
        make(SqliteQuery, url=url, sql="SELECT * FROM t", fetchType="FETCH"), ctx, "sqlite"
    )
    assert fetch.outputs == {
        "rows": [
            {"id": 1, "name": "a", "price": 1.5, "b": "qg=="},
            {"id": 2, "name": "b", "price": 2, "b": None},
        ],
        "size": 2,
    }
    one = run_jdbc(
        make(SqliteQuery, url=url, sql="SELECT name FROM t ORDER BY id DESC", fetchOne=True),
        ctx,
        "sqlite",
    )
    assert one.outputs == {"row": {"name": "b"}, "size": 1}
    empty = run_jdbc(
        make(SqliteQuery, url=url, sql="SELECT name FROM t WHERE 0", fetchType="FETCH_ONE"),
        ctx,
        "sqlite",
    )
    assert empty.outputs == {"row": None, "size": 0}


def test_sqlite_store_writes_an_ion_file(
    tmp_path: Path, ctx: LocalTaskContext, storage: LocalStorage
) -> None:
    task = make(
        SqliteQuery,
        url="jdbc:sqlite::memory:",
        sql="SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL",
        fetchType="STORE",
        fetchSize=1,
    )
    outcome = run_jdbc(task, ctx, "sqlite")
    assert outcome.outputs["size"] == 2
    assert outcome.outputs["uri"].endswith(".ion")
    assert ion_rows(storage, outcome.outputs["uri"]) == [{"a": 1, "b": "x"}, {"a": 2, "b": None}]


def test_named_parameters_and_after_sql_in_one_transaction(
    tmp_path: Path, ctx: LocalTaskContext
) -> None:
    url = f"jdbc:sqlite:{tmp_path / 'p.db'}"
    setup = (
        "CREATE TABLE t(id INTEGER, seen INTEGER DEFAULT 0); INSERT INTO t(id) VALUES (1), (2), (3)"
    )
    run_jdbc(make(SqliteQueries, url=url, sql=setup), ctx, "sqlite")
    task = make(
        SqliteQuery,
        url=url,
        sql="SELECT id FROM t WHERE id >= :low AND seen = 0 ORDER BY id",
        parameters={"low": "{{ 1 + 1 }}"},
        afterSQL="UPDATE t SET seen = 1 WHERE id >= :low",
        fetchType="FETCH",
    )
    assert run_jdbc(task, ctx, "sqlite").outputs["rows"] == [{"id": 2}, {"id": 3}]
    assert run_jdbc(task, ctx, "sqlite").outputs["rows"] == []


def test_a_missing_parameter_fails_with_its_name(ctx: LocalTaskContext) -> None:
    task = make(SqliteQuery, sql="SELECT :nope", parameters={"a": 1})
    outcome = run_jdbc(task, ctx, "sqlite")
    assert outcome.state is State.FAILED and ":nope" in (outcome.error or "")


def test_queries_gives_one_output_per_result_and_rolls_back_on_failure(
    tmp_path: Path, ctx: LocalTaskContext
) -> None:
    url = f"jdbc:sqlite:{tmp_path / 'q.db'}"
    ok = run_jdbc(
        make(
            SqliteQueries,
            url=url,
            sql="CREATE TABLE t(a INT); INSERT INTO t VALUES (1); SELECT a FROM t; SELECT count(*) AS n FROM t",
            fetchType="FETCH",
        ),
        ctx,
        "sqlite",
    )
    assert ok.outputs == {
        "outputs": [{"rows": [{"a": 1}], "size": 1}, {"rows": [{"n": 1}], "size": 1}]
    }
    bad = run_jdbc(
        make(SqliteQueries, url=url, sql="INSERT INTO t VALUES (2); SELECT * FROM missing"),
        ctx,
        "sqlite",
    )
    assert bad.state is State.FAILED and "no such table: missing" in (bad.error or "")
    assert sqlite3.connect(tmp_path / "q.db").execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_sqlite_trigger_bodies_stay_whole(ctx: LocalTaskContext) -> None:
    sql = """
    CREATE TABLE t(a INT); CREATE TABLE log(a INT);
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a); END;
    INSERT INTO t VALUES (7); SELECT a FROM log
    """
    outcome = run_jdbc(make(SqliteQueries, sql=sql, fetchType="FETCH"), ctx, "sqlite")
    assert outcome.outputs["outputs"] == [{"rows": [{"a": 7}], "size": 1}]


def test_sqlite_file_in_and_out(
    ctx: LocalTaskContext, storage: LocalStorage, tmp_path: Path
) -> None:
    made = run_jdbc(
        make(
            SqliteQueries,
            url="jdbc:sqlite:myfile.db",
            outputDbFile=True,
            sql="CREATE TABLE t(a INT); INSERT INTO t VALUES (42)",
        ),
        ctx,
        "sqlite",
    )
    uri = made.outputs["databaseUri"]
    assert uri.startswith("kestra://") and uri.endswith("myfile.db")
    again = LocalTaskContext(storage=storage, execution_id="E1", flow_id="etl")
    read_back = run_jdbc(
        make(
            SqliteQuery,
            url="jdbc:sqlite:myfile.db",
            sqliteFile=uri,
            sql="SELECT a FROM t",
            fetchOne=True,
        ),
        again,
        "sqlite",
    )
    assert read_back.outputs == {"row": {"a": 42}, "size": 1}


def test_bad_url_fails_clearly(ctx: LocalTaskContext) -> None:
    outcome = run_jdbc(
        make(SqliteQuery, url="jdbc:postgresql://h/db", sql="SELECT 1"), ctx, "sqlite"
    )
    assert outcome.state is State.FAILED
    assert "is not a sqlite JDBC URL" in (outcome.error or "")


def _cancel_soon(ctx: LocalTaskContext, after: float = 0.5) -> threading.Timer:
    timer = threading.Timer(after, ctx.cancel)
    timer.start()
    return timer


_SLOW_SQLITE = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"
)


def test_sqlite_query_is_interrupted_when_killed(ctx: LocalTaskContext) -> None:
    _cancel_soon(ctx)
    started = time.monotonic()
    outcome = run_jdbc(make(SqliteQuery, sql=_SLOW_SQLITE, fetchType="FETCH"), ctx, "sqlite")
    assert outcome.state is State.KILLED
    assert time.monotonic() - started < 10


# -- DuckDB -----------------------------------------------------------------------------


def test_duckdb_types(ctx: LocalTaskContext) -> None:
    sql = """SELECT DATE '2024-01-02' AS d, TIME '10:30:00' AS t,
        TIMESTAMP '2024-01-02 10:00:00' AS ts, TIMESTAMPTZ '2024-01-02 10:00:00+00' AS tz,
        1.50::DECIMAL(5,2) AS dec, [1, 2] AS arr, {'k': 'v'} AS st, '\\xAA'::BLOB AS b,
        '{"a": 1}'::JSON AS j"""
    task = make(DuckDbQuery, sql=sql, fetchType="FETCH_ONE", timeZoneId="Europe/Paris")
    outcome = run_jdbc(task, ctx, "duckdb")
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["row"] == {
        "d": "2024-01-02",
        "t": "10:30:00",
        "ts": "2024-01-02T10:00:00",
        "tz": "2024-01-02T11:00:00+01:00",
        "dec": 1.5,
        "arr": [1, 2],
        "st": {"k": "v"},
        "b": "qg==",
        "j": '{"a": 1}',
    }


def test_duckdb_input_and_output_files(ctx: LocalTaskContext, storage: LocalStorage) -> None:
    csv_uri = put(storage, b"id,name\n1,ada\n2,bob\n", "orders.csv")
    task = make(
        DuckDbQueries,
        url="jdbc:duckdb:",
        inputFiles={"data.csv": csv_uri, "extra.csv": "id\n9\n"},
        outputFiles=["out"],
        sql="""CREATE TABLE o AS SELECT * FROM read_csv_auto('data.csv', header=True);
        COPY (SELECT name FROM o ORDER BY id) TO '{{ outputFiles.out }}' (HEADER, DELIMITER ',');
        SELECT count(*) AS n FROM o;
        SELECT id FROM read_csv_auto('{{ workingDir }}/extra.csv')""",
        fetchType="FETCH",
        outputDbFile=True,
    )
    outcome = run_jdbc(task, ctx, "duckdb")
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["outputs"] == [
        {"rows": [{"n": 2}], "size": 1},
        {"rows": [{"id": 9}], "size": 1},
    ]
    assert read(storage, outcome.outputs["outputFiles"]["out"]) == b"name\nada\nbob\n"
    db_uri = outcome.outputs["databaseUri"]
    again = LocalTaskContext(storage=storage, execution_id="E1", flow_id="etl")
    back = run_jdbc(
        make(
            DuckDbQuery,
            databaseUri=db_uri,
            sql="SELECT count(*) AS n FROM o",
            fetchType="FETCH_ONE",
        ),
        again,
        "duckdb",
    )
    assert back.outputs == {"row": {"n": 2}, "size": 1}


def test_duckdb_parameters_store_and_changes(ctx: LocalTaskContext, storage: LocalStorage) -> None:
    task = make(
        DuckDbQueries,
        sql="CREATE TABLE t AS SELECT range AS i FROM range(5); INSERT INTO t VALUES (:extra); SELECT i FROM t WHERE i >= :low ORDER BY i",
        parameters={"low": 3, "extra": 10},
        fetchType="STORE",
    )
    outcome = run_jdbc(task, ctx, "duckdb")
    assert outcome.state is State.SUCCESS, outcome.error
    [entry] = outcome.outputs["outputs"]
    assert entry["size"] == 3
    assert ion_rows(storage, entry["uri"]) == [{"i": 3}, {"i": 4}, {"i": 10}]


def test_duckdb_query_is_interrupted_when_killed(ctx: LocalTaskContext) -> None:
    _cancel_soon(ctx)
    started = time.monotonic()
    slow = "SELECT count(*) FROM range(100000000000) a"
    outcome = run_jdbc(make(DuckDbQuery, sql=slow, fetchType="FETCH"), ctx, "duckdb")
    assert outcome.state is State.KILLED
    assert time.monotonic() - started < 10


def test_duckdb_missing_output_file_fails(ctx: LocalTaskContext) -> None:
    task = make(DuckDbQuery, sql="SELECT 1", outputFiles=["never"])
    with pytest.raises(ValueError, match="wrote no file 'never'"):
        run_jdbc(task, ctx, "duckdb")


def test_queries_without_transaction_keep_what_ran(tmp_path: Path, ctx: LocalTaskContext) -> None:
    url = f"jdbc:sqlite:{tmp_path / 'nt.db'}"
    sql = "CREATE TABLE t(a INT); INSERT INTO t VALUES (1); SELECT * FROM missing"
    failed = run_jdbc(make(SqliteQueries, url=url, sql=sql, transaction=False), ctx, "sqlite")
    assert failed.state is State.FAILED
    assert sqlite3.connect(tmp_path / "nt.db").execute("SELECT a FROM t").fetchall() == [(1,)]


def test_dynamic_fetch_type_and_its_error(ctx: LocalTaskContext) -> None:
    ok = make(SqliteQuery, sql="SELECT 1 AS a", fetchType="{{ 'FETCH' }}")
    assert run_jdbc(ok, ctx, "sqlite").outputs == {"rows": [{"a": 1}], "size": 1}
    bad = make(SqliteQuery, sql="SELECT 1", fetchType="{{ 'ALL' }}")
    with pytest.raises(ValueError, match="fetchType must be one of"):
        run_jdbc(bad, ctx, "sqlite")


def test_flow_validation_locates_jdbc_errors() -> None:
    source = """\
id: f
namespace: company.team
tasks:
  - id: q
    type: io.kestra.plugin.jdbc.postgresql.Query
    url: jdbc:postgresql://127.0.0.1/db
    sql: SELECT 1
    sslMode: REQUIRE
"""
    registry = TaskRegistry(jdbc.task_types())
    with pytest.raises(FlowValidationError) as caught:
        load_flow(source, registry)
    message = str(caught.value)
    assert "tasks[0].sslMode" in message and "not supported here" in message


@pytest.mark.parametrize(
    ("kind", "url", "message"),
    [
        ("mysql", "jdbc:postgresql://127.0.0.1/db", "is not a mysql JDBC URL"),
        ("postgresql", "postgresql://127.0.0.1/db", "is not a postgresql JDBC URL"),
        ("mariadb", "jdbc:mariadb://127.0.0.1:99999/db", "is not a port number"),
        ("duckdb", "jdbc:duckdb:md:my_db", "MotherDuck"),
    ],
)
def test_a_url_written_out_is_read_at_load(kind: str, url: str, message: str) -> None:
    source = f"""\
id: f
namespace: company.team
tasks:
  - id: q
    type: io.kestra.plugin.jdbc.{kind}.Query
    url: {url}
    sql: SELECT 1
"""
    with pytest.raises(FlowValidationError) as caught:
        load_flow(source, TaskRegistry(jdbc.task_types()))
    [problem] = caught.value.problems
    assert (problem.path, problem.line, problem.task_id) == ("tasks[0].url", 6, "q")
    assert message in problem.message


def test_a_dynamic_url_is_read_when_the_task_runs() -> None:
    source = """\
id: f
namespace: company.team
tasks:
  - id: q
    type: io.kestra.plugin.jdbc.mysql.Query
    url: "{{ secret('DB_URL') }}"
    sql: SELECT 1
"""
    assert load_flow(source, TaskRegistry(jdbc.task_types())).tasks[0].id == "q"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"inputFiles": {"../up.csv": "x"}}, "must be a relative file name"),
        ({"outputFiles": ["/abs"]}, "must be a relative file name"),
        ({"databaseUri": "kestra:///company/team/other/x.duckdb"}, "kestra:///company/team/other"),
        ({"url": "jdbc:duckdb:/tmp/x.duckdb", "databaseUri": "kestra:///a/b"}, "not both"),
    ],
)
def test_duckdb_file_properties_fail_clearly(
    ctx: LocalTaskContext, props: dict[str, Any], message: str
) -> None:
    outcome = run_jdbc(make(DuckDbQuery, sql="SELECT 1", **props), ctx, "duckdb")
    assert outcome.state is State.FAILED
    assert message in (outcome.error or ""), outcome.error
