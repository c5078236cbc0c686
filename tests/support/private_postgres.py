"""A private PostgreSQL cluster for the tests that must stop or restart the
server: `initdb` + `pg_ctl` on a temporary directory and a free port on
127.0.0.1, stopped and removed when the test ends, whatever its outcome.

The machine's own server (127.0.0.1:5432, see postgres.py) is shared with
every other test run and program on the machine; restarting it would break
them. Here only this cluster goes down.

PostgreSQL refuses to run as root, and CI runs as root: the cluster then runs
as the `postgres` user (``runuser``), in a directory owned by that user.
Without PostgreSQL's server programs the tests are skipped, except under CI
(``CI=true``), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port as free_port  # tests patch it here
from tests.support.postgres import PostgresServer, postgres_unavailable

START_TIMEOUT = 120  # seconds; initdb and a start on a loaded 2-core machine
SERVICE_USER = "postgres"


def server_bin_dir() -> Path | None:
    """The directory of `initdb` and `pg_ctl`: ``LANNER_TEST_PG_BIN``, else the
    newest Debian install under /usr/lib/postgresql, else the PATH."""
    configured = os.environ.get("LANNER_TEST_PG_BIN")
    if configured:
        return Path(configured)
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted(
            (p for p in debian.iterdir() if (p / "bin" / "initdb").is_file()),
            key=lambda p: [int(n) for n in p.name.split(".") if n.isdigit()],
        )
        if versions:
            return versions[-1] / "bin"
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    return None


class PrivatePostgres:
    """One throw-away cluster. `server` makes databases on it (as the shared
    server's fixture does) and reconnects after a restart."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self._bin = bin_dir
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = free_port()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            self._as_user = ["runuser", "-u", SERVICE_USER, "--"]
            entry = pwd.getpwnam(SERVICE_USER)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        self._server: PostgresServer | None = None

    def _run(self, *args: str) -> None:
        proc = subprocess.run(
            [*self._as_user, *args],
            cwd=self.root,  # the service user may not enter the caller's directory
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}{log}"
            )

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.data), *args)

    def init(self) -> None:
        # Trust auth on a loopback port the way the shared server is set up;
        # fsync off because the data is thrown away (a clean restart still
        # writes everything out at its shutdown checkpoint).
        self._run(
            str(self._bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nfsync = off\n"
            )

    def start(self) -> None:
        """Start on a free port; another one if the port was taken in between."""
        for attempt in range(3):
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write(f"port = {self.port}\n")  # the last setting wins
            try:
                self._pg_ctl("-l", str(self.log), "-w", "-t", str(START_TIMEOUT), "start")
                return
            except RuntimeError as exc:
                if attempt == 2 or "could not bind" not in str(exc):
                    raise
            self.port = free_port()
            self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def restart(self) -> None:
        """A clean restart (fast shutdown: every session is ended, then a
        new server starts on the same data)."""
        self._pg_ctl("-l", str(self.log), "-m", "fast", "-w", "-t", str(START_TIMEOUT), "restart")

    def stop(self) -> None:
        self._pg_ctl("-m", "immediate", "-w", "-t", str(START_TIMEOUT), "stop")

    @property
    def server(self) -> PostgresServer:
        if self._server is None:
            self._server = PostgresServer(self.admin_url)
        return self._server

    def close(self) -> None:
        """Stop the cluster and remove its directory, whatever state it is in."""
        try:
            if self._server is not None:
                with contextlib.suppress(Exception):
                    self._server.close()
            if (self.data / "postmaster.pid").exists():
                self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_postgres_cluster() -> Iterator[PrivatePostgres]:
    """A started private cluster, stopped and removed on leaving."""
    bin_dir = server_bin_dir()
    if bin_dir is None or not (bin_dir / "initdb").is_file():
        postgres_unavailable("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        postgres_unavailable("running as root without runuser to start PostgreSQL as postgres")
    cluster = PrivatePostgres(bin_dir, Path(tempfile.mkdtemp(prefix="lanner-pg-")))
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL cluster, for a test that stops or restarts the server."""
    with private_postgres_cluster() as cluster:
        yield cluster
