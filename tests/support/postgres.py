"""The PostgreSQL server of the tests: throw-away databases on the server at
``LANNER_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``).

When it cannot be reached its tests are skipped, except under CI
(``CI=true``), where they fail: a service missing in CI is a failure, never a
silent skip.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

from lanner.store import open_store

POSTGRES_ADMIN_URL = os.environ.get(
    "LANNER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def postgres_unavailable(message: str) -> NoReturn:
    """Skip outside CI; fail in CI, where PostgreSQL must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: PostgreSQL is required)", pytrace=False)
    pytest.skip(message)


class PostgresServer:
    """The test server: makes throw-away databases and empties them between tests."""

    def __init__(self, admin_url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            postgres_unavailable(f"psycopg is not installed: {exc}")
        self._psycopg = psycopg
        self._admin_url = self.admin_url = admin_url
        try:
            self._admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            postgres_unavailable(f"PostgreSQL is not reachable at {admin_url}: {exc}")
        self._base = admin_url.rsplit("/", 1)[0]
        self._created: list[str] = []
        self._reset: dict[str, Any] = {}  # url -> (connection, TRUNCATE statement)

    def _admin_connection(self) -> Any:
        """The admin connection, opened again after the server restarted (crash tests)."""
        try:
            self._admin.execute("SELECT 1")
        except self._psycopg.Error:
            self._admin.close()
            self._admin = self._psycopg.connect(self._admin_url, autocommit=True, connect_timeout=5)
        return self._admin

    def new_database(self) -> str:
        """The URL of a new, empty database (no schema), dropped by close()."""
        name = f"lanner_test_{secrets.token_hex(6)}"
        self._admin_connection().execute(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return f"{self._base}/{name}"

    def empty(self, url: str) -> None:
        """Delete every row of a migrated database (the schema stays)."""
        found = self._reset.get(url)
        if found is None:
            conn = self._psycopg.connect(url, autocommit=True)
            conn.execute("SET lock_timeout = '10s'")  # a leaked transaction fails the test
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT quote_ident(tablename) FROM pg_tables"
                    " WHERE schemaname = current_schema() AND tablename <> 'schema_version'"
                )
            ]
            statement = f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"
            self._reset[url] = found = (conn, statement)
        conn, statement = found
        conn.execute(statement)

    def close(self) -> None:
        for conn, _ in self._reset.values():
            conn.close()
        admin = self._admin_connection()
        for name in self._created:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_ADMIN_URL)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres_db(postgres_server: PostgresServer) -> str:
    """The session's database, migrated once."""
    url = postgres_server.new_database()
    open_store(url).close()
    return url
