"""WAL checkpoints on a thread of their own, off the commit path.

SQLite's automatic checkpoint runs inside the COMMIT that crosses its
threshold: that commit copies the whole WAL into the database file and
syncs both, several milliseconds during which the writer (here: the
executor's cycle, and so every waiting task) stands still. The store
instead wakes this thread every few commits; its PASSIVE checkpoint runs
beside the writers and never blocks them. SQLite's own automatic
checkpoint stays on, with a high threshold, as a backstop for a WAL that
this thread cannot keep short (a reader pinning old frames, another
process writing a lot).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable

# The store wakes the checkpointer every this many commits. A cycle writes
# about twelve pages, mostly the same few again (the execution's, the job
# table's, the log's last ones): a checkpoint copies each distinct page once, so
# rarer checkpoints copy less per commit (256 against 64: 2-6 % of a chain's or
# a Parallel's CPU, docs/performance.md). The WAL then stays near 3000 pages.
COMMITS_PER_CHECKPOINT = 256
# The writers' automatic checkpoint (pages), the backstop.
BACKSTOP_PAGES = 10_000
# A short-lived process (`lanner run`) leaves its WAL behind: its few dozen commits
# never reach COMMITS_PER_CHECKPOINT, and os._exit skips the checkpoint of a closing
# connection. The next process to open the store reads the whole WAL again to rebuild
# its index (about 0.5 ms of CPU per MiB), and each one-task run in one LANNER_HOME
# added ~120 KiB, up to the backstop (about 40 MiB: 18 ms of CPU at every start). Past
# this size the process checkpoints before it exits (`checkpoint_long_wal`): about 1.5 ms
# of CPU and 10-25 ms of wall time (the fsyncs), once every eight or so one-task runs.
EXIT_CHECKPOINT_BYTES = 1 << 20


def checkpoint_long_wal(db: sqlite3.Connection, path: str, busy_timeout_ms: int) -> bool:
    """Checkpoint the WAL of the database at `path` when it is longer than
    EXIT_CHECKPOINT_BYTES; whether it was tried. Never waits for a lock and never raises.

    PASSIVE copies what it can beside other processes' writers and readers. Once all is
    copied, TRUNCATE empties the file as well, if no other connection is using the WAL
    (the usual end of a `lanner run`): after a checkpoint alone the file keeps its size
    while its frames are written over, and the size test above would see a long WAL at
    every later exit. Without a busy handler neither waits for a lock, and the write lock
    TRUNCATE takes is held for no copy, only to cut the file. `db` must have no
    transaction open; its busy timeout is set back to `busy_timeout_ms`.
    """
    try:
        if os.stat(path + "-wal").st_size <= EXIT_CHECKPOINT_BYTES:
            return False
    except OSError:  # no WAL file: nothing to do
        return False
    with contextlib.suppress(sqlite3.Error):
        db.execute("PRAGMA busy_timeout=0")
        try:
            busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if not busy and copied == frames:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            db.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    return True


class WalCheckpointer:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._commits = 0
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._pid = 0  # the process the thread runs in (a fork()ed child starts its own)
        self._lock = threading.Lock()
        self.checkpoints = 0  # checkpoints run so far (for tests and diagnostics)

    def committed(self) -> None:
        """A write transaction committed. Called under the store's write lock."""
        self._commits += 1
        if self._commits % COMMITS_PER_CHECKPOINT:
            return
        if self._thread is None or self._pid != os.getpid():
            with self._lock:
                if self._stop:
                    return
                if self._thread is None or self._pid != os.getpid():
                    self._pid = os.getpid()
                    self._wake = threading.Event()
                    self._thread = threading.Thread(
                        target=self._loop, name="lanner-sqlite-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def close(self) -> None:
        with self._lock:
            self._stop = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)

    def _loop(self) -> None:
        try:
            db = self._connect()
        except Exception:  # the store closed meanwhile, or the file is gone: the backstop remains
            return
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stop:
                    return
                # Busy or failing now: the next wake-up (or the backstop) tries again.
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
        finally:
            db.close()
