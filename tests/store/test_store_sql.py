"""The shared statements are one text for both dialects but for the placeholder."""

from __future__ import annotations

from lanner.store import postgressql, sqlitesql
from lanner.store.sql import Statements


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
    assert sqlitesql.SQL.FLOW_LOCK is None  # the single writer orders deploys
    assert postgressql.SQL.FLOW_LOCK is not None
    assert sqlitesql.SQL.ids(["a", "b"]) == '["a", "b"]'
    assert postgressql.SQL.ids(("a", "b")) == ["a", "b"]
