"""`lanner run` leaves a bounded WAL behind: runs in one LANNER_HOME do not make
every later process read a WAL grown by each of them (store/walcheckpoint.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from lanner.store.walcheckpoint import EXIT_CHECKPOINT_BYTES

LANNER = str(Path(sys.executable).parent / "lanner")

FLOW = """\
id: one
namespace: test.wal
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello
"""

# Writes about 4 MB of frames to the WAL and leaves as `lanner run` does, without
# the checkpoint of closing the last connection.
GROW = textwrap.dedent(
    """\
    import os, sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("BEGIN")
    db.execute("CREATE TABLE padding (b BLOB)")
    db.executemany("INSERT INTO padding VALUES (?)", [(b"x" * 3000,)] * 1000)
    db.execute("DROP TABLE padding")
    db.execute("COMMIT")
    os._exit(0)
    """
)


def test_runs_in_one_home_keep_the_wal_bounded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "LANNER_DB"}
    env["LANNER_HOME"] = str(home)
    flow = tmp_path / "one.yml"
    flow.write_text(FLOW)

    def run() -> int:
        proc = subprocess.run(
            [LANNER, "run", str(flow)], env=env, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        assert "ended SUCCESS" in proc.stdout
        return wal.stat().st_size

    wal = home / "lanner.db-wal"
    run()
    database = home / "lanner.db"
    subprocess.run([sys.executable, "-c", GROW, str(database)], check=True, timeout=60)
    assert wal.stat().st_size > 2 * EXIT_CHECKPOINT_BYTES

    # The run that finds the WAL long checkpoints it, and so do the later ones.
    assert run() <= EXIT_CHECKPOINT_BYTES
    sizes = [run() for _ in range(3)]
    assert all(size <= EXIT_CHECKPOINT_BYTES for size in sizes), sizes
    assert sizes[-1] > 0  # a short WAL is left as it is: no checkpoint per run
