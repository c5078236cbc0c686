"""Both dialects' migrations end with one logical schema.

The statements in ``lanner.store.sql`` are shared by SQLite and PostgreSQL,
so a column or an index that one migration adds and the other forgets is a
bug on one backend only. This reads both schemas back from the databases
(after every migration) and compares tables, columns (name, compatible type,
NOT NULL), primary keys, unique columns and indexes (name, columns,
uniqueness, partial predicate).

The differences the dialects need are listed here, each with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from lanner.store import open_store

# PostgreSQL has no rowid: `job.id` (an identity) stands in for SQLite's
# rowid, the claim order; `execution_event.id` and `log.id` are the rowid on
# SQLite (INTEGER PRIMARY KEY). Every index of SQLite implicitly ends with
# the rowid, so PostgreSQL's may name that column last or not.
ROWID_COLUMNS = {"job": "id"}
ROWID_TABLES = {"job": "id", "execution_event": "id", "log": "id"}

# SQLite stores dates (epoch microseconds) and booleans as INTEGER.
COMPATIBLE = {
    "INTEGER": {"integer", "bigint", "boolean"},
    "TEXT": {"text"},
}

Column = tuple[str, bool]  # type, NOT NULL
Index = tuple[tuple[str, ...], bool, str]  # columns, unique, predicate


def _predicate(text: str | None) -> str:
    return re.sub(r"[()\s]+", " ", (text or "").lower()).strip()


def _without_rowid(table: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    rowid = ROWID_TABLES.get(table)
    return columns[:-1] if rowid is not None and columns[-1:] == (rowid,) else columns


def sqlite_schema(path: Path) -> dict[str, Any]:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        schema: dict[str, Any] = {}
        for table in tables:
            info = db.execute(f"PRAGMA table_info({table})").fetchall()
            columns = {row[1]: (row[2].upper(), bool(row[3]) or row[5] > 0) for row in info}
            primary = tuple(row[1] for row in sorted(info, key=lambda r: r[5]) if row[5] > 0)
            indexes: dict[str, Index] = {}
            unique: set[tuple[str, ...]] = set()
            for _, name, is_unique, origin, _partial in db.execute(f"PRAGMA index_list({table})"):
                cols = tuple(r[2] for r in db.execute(f"PRAGMA index_info({name})"))
                if origin == "u":
                    unique.add(cols)
                if origin != "c":
                    continue
                sql = db.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
                ).fetchone()[0]
                where = sql.split(" WHERE ", 1)[1] if " WHERE " in sql else None
                indexes[name] = (_without_rowid(table, cols), bool(is_unique), _predicate(where))
            if table in ROWID_COLUMNS:
                columns[ROWID_COLUMNS[table]] = ("INTEGER", True)
            schema[table] = {
                "columns": columns,
                "primary": primary,
                "unique": unique,
                "indexes": indexes,
            }
        return schema
    finally:
        db.close()


def postgres_schema(url: str) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " ORDER BY tablename"
            )
        ]
        schema: dict[str, Any] = {}
        for table in tables:
            columns = {
                name: (data_type, nullable == "NO")
                for name, data_type, nullable in db.execute(
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = %s",
                    (table,),
                )
            }
            indexes: dict[str, Index] = {}
            unique: set[tuple[str, ...]] = set()
            primary: tuple[str, ...] = ()
            found = db.execute(
                "SELECT c.relname, i.indisunique, i.indisprimary,"
                " pg_get_expr(i.indpred, i.indrelid),"
                " (SELECT array_agg(a.attname ORDER BY k.n)"
                "  FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
                "  JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum),"
                " EXISTS (SELECT 1 FROM pg_constraint AS x WHERE x.conindid = i.indexrelid)"
                " FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = %s::regclass",
                (table,),
            ).fetchall()
            for name, is_unique, is_primary, where, cols, constraint in found:
                if is_primary:
                    primary = tuple(cols)
                elif constraint:
                    unique.add(tuple(cols))
                else:
                    cols = _without_rowid(table, tuple(cols))
                    indexes[name] = (cols, bool(is_unique), _predicate(where))
            schema[table] = {
                "columns": columns,
                "primary": primary,
                "unique": unique,
                "indexes": indexes,
            }
        return schema


@pytest.mark.postgres
def test_both_dialects_migrate_to_the_same_schema(tmp_path: Path, postgres_db: str) -> None:
    open_store(f"sqlite://{tmp_path / 'lanner.db'}").close()
    lite = sqlite_schema(tmp_path / "lanner.db")
    pg = postgres_schema(postgres_db)

    assert sorted(lite) == sorted(pg)
    for table in lite:
        a, b = lite[table], pg[table]
        assert sorted(a["columns"]) == sorted(b["columns"]), table
        for column, (lite_type, lite_not_null) in a["columns"].items():
            pg_type, pg_not_null = b["columns"][column]
            assert pg_type in COMPATIBLE[lite_type], (table, column, lite_type, pg_type)
            # A non-integer PRIMARY KEY column of SQLite accepts NULL (a
            # historical quirk): there, the key is what counts.
            if column not in a["primary"]:
                assert lite_not_null == pg_not_null, (table, column)
        assert a["primary"] == b["primary"], table
        assert a["unique"] == b["unique"], table
        assert a["indexes"] == b["indexes"], table


def test_the_sqlite_schema_reader_sees_every_index(tmp_path: Path) -> None:
    # The comparison above is only as good as its readers: a reader that
    # missed indexes would compare two empty sets.
    open_store(f"sqlite://{tmp_path / 'lanner.db'}").close()
    lite = sqlite_schema(tmp_path / "lanner.db")
    assert lite["job"]["indexes"]["job_ready"] == (("run_after",), False, "claim_token is null")
    assert lite["log"]["indexes"]["log_execution"][0] == ("execution_id",)
    assert lite["execution_event"]["unique"] == {("dedup_key",)}
    assert lite["task_run"]["primary"] == ("id",)
    assert lite["execution"]["indexes"]["execution_slots"][2] == "finalized_at is null"
