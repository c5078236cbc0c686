"""The shared statements are one text for both dialects but for the placeholder."""

from __future__ import annotations

from lanner.store import postgressql, sqlitesql
from lanner.store.postgres import PostgresStore
from lanner.store.sql import SqlMethods, Statements
from lanner.store.sqlite import SQLiteStore


def _shared(statements: Statements) -> dict[str, str]:
    return {name: value for name, value in vars(statements).items() if name.isupper()}


def test_the_dialects_share_every_statement_but_the_placeholder() -> None:
    lite, pg = _shared(sqlitesql.SQL), _shared(postgressql.SQL)
    assert lite.keys() == pg.keys()
    assert len(lite) > 30
    for name, text in lite.items():
        # A "?" or "%" of a statement's own would be taken for a placeholder
        # by the rewrite (psycopg reads "%" as the start of one).
        assert "%" not in text, name
        assert pg[name] == text.replace("?", "%s"), name


def test_each_dialect_fills_in_the_statements_the_shared_methods_run() -> None:
    for statements in (sqlitesql.SQL, postgressql.SQL):
        assert statements.EXPIRED and statements.RELEASE
        assert statements.PURGE_PICK and len(statements.PURGE) == 5
    assert sqlitesql.SQL.FLOW_LOCK is None  # the single writer orders deploys
    assert postgressql.SQL.FLOW_LOCK is not None
    assert sqlitesql.SQL.ids(["a", "b"]) == '["a", "b"]'
    assert postgressql.SQL.ids(("a", "b")) == ["a", "b"]


def test_the_twin_methods_are_written_once() -> None:
    """Written in store/sql.py, not once per dialect: what differs is the dialect
    object's (`sql`: statements, `ids`, `log_rows`) or a connection hook's."""
    for name in ("create_execution", "append_logs", "purge_executions", "deploy_flow"):
        for store in (SQLiteStore, PostgresStore):
            assert getattr(store, name) is getattr(SqlMethods, name), (store.__name__, name)


def test_postgresql_log_rows_replace_nul_which_its_text_cannot_hold() -> None:
    from datetime import UTC, datetime

    from lanner.store.base import LogRecord

    record = LogRecord("e", None, None, None, datetime(2026, 1, 1, tzinfo=UTC), "INFO", "a\x00b")
    assert sqlitesql.SQL.log_rows([record])[0][6] == "a\x00b"
    assert postgressql.SQL.log_rows([record])[0][6] == "a\ufffdb"
