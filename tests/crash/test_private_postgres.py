"""The private PostgreSQL cluster of the restart tests: it runs apart from the
machine's shared server, survives a restart with its data, and leaves nothing
behind."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import psycopg
import pytest

from tests.support import private_postgres
from tests.support.postgres import PostgresServer
from tests.support.private_postgres import private_postgres_cluster

# initdb and two server starts: slow on a loaded machine.
pytestmark = pytest.mark.timeout(600)


def _started_at(url: str) -> object:
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
        assert row is not None
        return row[0]


@pytest.mark.postgres
def test_a_private_cluster_restarts_alone_and_is_removed(postgres_server: PostgresServer) -> None:
    shared_started = _started_at(postgres_server.admin_url)
    with private_postgres_cluster() as pg:
        root, port = pg.root, pg.port
        assert port != 5432
        if os.geteuid() == 0:
            assert root.stat().st_uid != 0  # PostgreSQL refuses to run as root
        url = pg.server.new_database()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (7)")
        before = _started_at(pg.admin_url)
        pg.restart()
        assert _started_at(pg.admin_url) != before
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT n FROM kept").fetchall() == [(7,)]
    assert not Path(root).exists()
    assert _started_at(postgres_server.admin_url) == shared_started  # the shared server ran on
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", port))


@pytest.mark.parametrize("ci", ["true", ""])
def test_missing_server_programs_fail_under_ci_and_skip_elsewhere(
    ci: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANNER_TEST_PG_BIN", str(tmp_path / "no-postgres"))
    monkeypatch.setenv("CI", ci)
    expected = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(expected, match="initdb"), private_postgres_cluster():
        pass


@pytest.mark.postgres
def test_a_port_taken_before_the_start_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    real_free_port = private_postgres.free_port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1]])
        monkeypatch.setattr(
            private_postgres, "free_port", lambda: next(ports, None) or real_free_port()
        )
        with private_postgres_cluster() as pg:
            assert pg.port != taken.getsockname()[1]
            assert _started_at(pg.admin_url) is not None
