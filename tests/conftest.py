"""Fixtures shared by every test directory.

``db_url``, ``sink`` and ``cluster`` serve the tests of real `lanner`
processes (tests/crash/, tests/integration/): a fresh store per test on each
backend (a new SQLite file; a new PostgreSQL database, since the processes of
a test keep their connections open), an HTTP sink on 127.0.0.1, and a
Cluster of processes on that store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.support.cluster import Cluster
from tests.support.http_sink import HttpSink
from tests.support.http_sink import http_sink as _http_sink
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401 (fixture)
from tests.support.private_postgres import private_postgres  # noqa: F401 (fixture)
from tests.support.s3 import s3_server  # noqa: F401 (fixture)

http_sink = pytest.fixture(_http_sink)

# Hypothesis fails an example that takes over 200 ms by default: on a loaded
# 2-core machine that is the scheduler's doing, not the code's. Property tests
# keep their example counts; only the per-example deadline and the slow-data
# health check go.
settings.register_profile("lanner", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("lanner")

# Every `lanner server` a test starts serves its API on a free port: tests run
# side by side, and 8080 may be taken on the machine.
os.environ.setdefault("LANNER_PORT", "0")


@pytest.fixture(autouse=True)
def _fresh_secrets() -> Iterator[None]:
    """The values a process knows as secret are process-wide (lanner.expr.taint):
    each test starts as a fresh process would, so that one's secrets never mask
    another's values."""
    from lanner.expr import taint

    taint.reset()
    yield
    taint.reset()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'lanner.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    with HttpSink() as s:
        yield s


@pytest.fixture
def cluster(db_url: str, tmp_path: Path, sink: HttpSink) -> Iterator[Cluster]:
    if db_url.startswith("postgresql"):
        # A worker the crash tests freeze (SIGSTOP) inside a transaction keeps
        # its row locks until the server ends its session: seconds here, as
        # the leases are, rather than the default minute.
        db_url += "?options=-c%20idle_in_transaction_session_timeout%3D5s"
    c = Cluster(db_url, tmp_path / "home", sink_url=sink.url)
    try:
        yield c
    finally:
        c.close()
