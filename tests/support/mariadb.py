"""The MariaDB server of the JDBC tests: a throw-away database per test session
on the server at 127.0.0.1:3306 (user root, empty password; override with
``LANNER_TEST_MARIADB_HOST`` / ``_PORT`` / ``_USER`` / ``_PASSWORD``).

When it cannot be reached its tests are skipped, except under CI
(``CI=true``), where they fail: .ci/run starts MariaDB, so a missing server
there is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

import pytest


@dataclass(frozen=True)
class MariaDb:
    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:mariadb://{self.host}:{self.port}/{self.database}"


def mariadb_unavailable(message: str) -> NoReturn:
    """Skip outside CI; fail in CI, where MariaDB must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: MariaDB is required)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDb]:
    try:
        import pymysql  # type: ignore[import-untyped]
    except ImportError as exc:
        mariadb_unavailable(f"PyMySQL is not installed: {exc}")
    host = os.environ.get("LANNER_TEST_MARIADB_HOST", "127.0.0.1")
    port = int(os.environ.get("LANNER_TEST_MARIADB_PORT", "3306"))
    user = os.environ.get("LANNER_TEST_MARIADB_USER", "root")
    password = os.environ.get("LANNER_TEST_MARIADB_PASSWORD", "")
    try:
        admin = pymysql.connect(
            host=host, port=port, user=user, password=password, connect_timeout=5, autocommit=True
        )
    except pymysql.Error as exc:
        mariadb_unavailable(f"MariaDB is not reachable at {host}:{port}: {exc}")
    name = f"lanner_test_{secrets.token_hex(6)}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    try:
        yield MariaDb(host, port, user, password, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
