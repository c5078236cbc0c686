"""The long-running roles log through `logging`: one stderr line per record
with UTC time, level and role, filtered by `--log-level`; `lanner run` keeps
its plain `lanner worker: ...` warning lines."""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lanner.config import Config
from lanner.logs import configure_plain, configure_role
from lanner.plugin import TaskRegistry
from lanner.runtime.serve import serve
from lanner.store import open_store
from tests.support.cluster import Cluster

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture
def sqlite_cluster(tmp_path: Path) -> Iterator[Cluster]:
    # Logging is the same on every backend: SQLite alone is enough here.
    c = Cluster(f"sqlite://{tmp_path / 'lanner.db'}", tmp_path / "home")
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def lanner_logger() -> Iterator[logging.Logger]:
    """The `lanner` logger as it was before the test configured it."""
    logger = logging.getLogger("lanner")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def _stop(cluster: Cluster, *args: str) -> str:
    proc = cluster.spawn("worker", "--threads", "1", *args)
    cluster.wait_for(lambda: cluster.store.list_processes(), 60, "the worker's heartbeat")
    proc.signal(signal.SIGTERM)
    assert proc.popen.wait(60) == 0, proc.output()
    return proc.output()


def test_a_role_logs_its_stop_with_time_level_and_role(sqlite_cluster: Cluster) -> None:
    out = _stop(sqlite_cluster)
    assert re.search(rf"^{STAMP} INFO lanner worker: .+ 1 worker thread\(s\)$", out, re.M), out
    assert re.search(rf"^{STAMP} INFO lanner worker: stopping \(SIGTERM\)$", out, re.M), out


def test_log_level_hides_the_less_severe_records(sqlite_cluster: Cluster) -> None:
    out = _stop(sqlite_cluster, "--log-level", "warning")
    assert "stopping" not in out and "worker thread" not in out, out


def test_log_level_rejects_an_unknown_level(sqlite_cluster: Cluster) -> None:
    proc = sqlite_cluster.cli("executor", "--log-level", "loud")
    assert proc.returncode == 2, proc.stderr
    assert "loud" in proc.stderr


def test_serve_reports_through_logging(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = open_store(f"sqlite://{tmp_path / 'lanner.db'}")
    ready, stop = threading.Event(), threading.Event()
    caplog.set_level(logging.INFO, logger="lanner")
    args = (store, TaskRegistry.from_entry_points(), Config())
    kwargs = {"role": "server", "executor": True, "threads": 1, "ready": ready, "stop": stop}
    thread = threading.Thread(target=serve, args=args, kwargs=kwargs)
    thread.start()
    try:
        assert ready.wait(60)
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    started = [r for r in caplog.records if r.name == "lanner.runtime.serve"]
    assert started and "executor, 1 worker thread(s)" in started[0].getMessage()
    assert started[0].levelno == logging.INFO


def test_configure_role_writes_one_line_per_record(
    lanner_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_role("executor", "ERROR")
    logging.getLogger("lanner.runtime.executor").warning("not shown")
    logging.getLogger("lanner.runtime.executor").error("execution e1: gave up")
    err = capsys.readouterr().err
    assert "not shown" not in err
    assert re.fullmatch(
        rf"{STAMP} ERROR lanner executor \[executor\]: execution e1: gave up\n", err
    )


def test_run_keeps_its_plain_warning_lines(
    lanner_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_plain()
    logging.getLogger("lanner.runtime.worker").info("not shown")
    logging.getLogger("lanner.runtime.worker").warning("cannot renew leases: gone")
    logging.getLogger("lanner.runtime.process").warning("cannot hand jobs back: gone")
    assert capsys.readouterr().err == (
        "lanner worker: cannot renew leases: gone\nlanner: cannot hand jobs back: gone\n"
    )
