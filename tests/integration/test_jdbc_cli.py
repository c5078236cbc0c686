"""The JDBC task types through the real `lanner run`: a SQLite database made,
stored and read again by a later task with named parameters, a PostgreSQL
query in STORE mode, and a DuckDB query stopped by its task timeout."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.cli import logs, run_json
from tests.support.postgres import PostgresServer

FLOW = """\
id: jdbc_demo
namespace: company.team
tasks:
  - id: make
    type: io.kestra.plugin.jdbc.sqlite.Queries
    url: jdbc:sqlite:shop.db
    outputDbFile: true
    sql: |
      CREATE TABLE items(id INTEGER, name TEXT);
      INSERT INTO items VALUES (1, 'tea'), (2, 'milk');
  - id: read
    type: io.kestra.plugin.jdbc.sqlite.Query
    url: jdbc:sqlite:shop.db
    sqliteFile: "{{ outputs.make.databaseUri }}"
    sql: SELECT id, name FROM items WHERE id >= :low ORDER BY id
    parameters:
      low: 1
    fetchType: FETCH
  - id: pg
    type: io.kestra.plugin.jdbc.postgresql.Query
    url: "PG_URL"
    username: postgres
    sql: SELECT n, 'row ' || n AS label FROM generate_series(1, 3) AS n
    fetchType: STORE
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.read.size }} {{ outputs.read.rows[1].name }} {{ outputs.pg.size }}"
"""

SLOW = """\
id: jdbc_slow
namespace: company.team
tasks:
  - id: slow
    type: io.kestra.plugin.jdbc.duckdb.Query
    timeout: PT1S
    sql: SELECT count(*) FROM range(100000000000)
"""


def test_jdbc_tasks_through_lanner_run(
    tmp_path: Path, env: dict[str, str], postgres_server: PostgresServer
) -> None:
    database = postgres_server.new_database().rsplit("/", 1)[1]
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW.replace("PG_URL", f"jdbc:postgresql://127.0.0.1:5432/{database}"))
    final = run_json(flow, env)
    assert final["state"]["current"] == "SUCCESS", final
    outputs = {t["taskId"]: t.get("outputs") for t in final["taskRunList"]}
    assert outputs["make"]["databaseUri"].endswith("/shop.db")
    assert outputs["read"] == {
        "rows": [{"id": 1, "name": "tea"}, {"id": 2, "name": "milk"}],
        "size": 2,
    }
    assert outputs["pg"]["size"] == 3 and outputs["pg"]["uri"].endswith(".ion")
    assert ("show", "INFO", "2 milk 3") in logs(final["id"], env)


def test_a_task_timeout_interrupts_the_query(tmp_path: Path, env: dict[str, str]) -> None:
    flow = tmp_path / "slow.yml"
    flow.write_text(SLOW)
    started = time.monotonic()
    final = run_json(flow, env)
    assert time.monotonic() - started < 30
    [slow] = final["taskRunList"]
    assert slow["state"]["current"] == "FAILED"
    assert any("Timeout" in message for _, _, message in logs(final["id"], env))
