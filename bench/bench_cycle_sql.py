"""What each part of a chain cycle's SQL costs SQLite (issue 8 §7, fifth pass).

Records every statement (with its parameters) the process's write connection
runs during real executions of 40 sequential Log tasks, then replays them on
fresh databases, alternating variants, and prints the CPU per write
transaction and the WAL pages each appends:

- as recorded, on the current schema;
- the log table with AUTOINCREMENT (the schema before migration 0006);
- without the job table's statements (a hand-off kept out of the job table:
  the ceiling of that change);
- without the version check that starts each cycle;
- on files of other page sizes than SQLite's default 4096 (2048 and 8192).

`--parallel` records the 100-task Parallel instead of the chain: its task runs
carry outputs, rows of another size than a Log task's.

Only SQLite's side is measured (the statements are replayed as recorded, no
Python of Lanner's around them): it bounds what a change of pages and
statements can give, against `bench_run.py`'s ~300-350 µs of CPU per task.

    .venv/bin/python bench/bench_cycle_sql.py [--runs N] [--rounds N] [--parallel]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent.parent))  # run as a script: bench.* importable
from bench import bench_run

from lanner.store import migrations
from lanner.store import sqlite as sqlite_store

Statement = tuple[str, Any]
# (name, migrations applied, which statements are replayed, page size of the file)
Variant = tuple[str, int, Callable[[str], bool], int]


def _all(sql: str) -> bool:
    return True


def as_recorded() -> Variant:
    """Every statement as recorded, on the current schema and SQLite's default page size."""
    return ("as recorded", len(migrations.load("sqlite")), _all, 4096)


class _Recorder:
    """The write connection, recording what runs on it (only the calls a cycle makes)."""

    def __init__(self, db: sqlite3.Connection, log: list[Statement]) -> None:
        self._db = db
        self._log = log

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        self._log.append((sql, tuple(params)))
        return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        rows = [tuple(r) for r in rows]
        for row in rows:
            self._log.append((sql, row))
        return self._db.executemany(sql, rows)

    def cursor(self) -> Any:
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def record(runs: int, directory: str, source: str) -> list[list[Statement]]:
    """The write transactions of `runs` executions of `source` (after a warm-up)."""
    log: list[Statement] = []
    original = sqlite_store.SQLiteStore._writer_conn

    def writer_conn(self: Any) -> Any:
        db, memo = original(self)
        return _Recorder(db, log), memo

    lanner_ = bench_run.Lanner(directory)
    try:
        run = lanner_.deploy_timed(source)
        sqlite_store.SQLiteStore._writer_conn = writer_conn  # type: ignore[method-assign]
        try:
            for _ in range(runs):
                run()
        finally:
            sqlite_store.SQLiteStore._writer_conn = original  # type: ignore[method-assign]
    finally:
        lanner_.close()
    transactions: list[list[Statement]] = []
    current: list[Statement] | None = None
    for sql, params in log:
        if sql.startswith("BEGIN"):
            current = [(sql, params)]
        elif current is not None:
            current.append((sql, params))
            if sql == "COMMIT":
                transactions.append(current)
                current = None
    return transactions


def schema(path: str, upto: int, page_size: int) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA page_size={page_size}")  # while the file is empty
    db.execute("PRAGMA journal_mode=WAL")
    for migration in migrations.load("sqlite")[:upto]:
        for statement in migrations.split_sqlite(migration.sql):
            db.execute(statement)
    db.close()


def replay(
    directory: str,
    transactions: list[list[Statement]],
    variant: Variant,
) -> tuple[float, float]:
    """(µs of CPU, WAL pages) per transaction, replayed on a new database."""
    _, upto, keep, page_size = variant
    path = os.path.join(directory, f"replay-{time.monotonic_ns()}.db")
    schema(path, upto, page_size)
    db = sqlite3.connect(path, isolation_level=None, cached_statements=256)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = db.execute("PRAGMA page_size").fetchone()[0]
    plans = [[(s, p) for s, p in tx if keep(s)] for tx in transactions]
    cpu = time.process_time()
    for tx in plans:
        for sql, params in tx:
            db.execute(sql, params)
    spent = time.process_time() - cpu
    frames = os.path.getsize(path + "-wal") / (page + 24)
    db.close()
    return spent / len(plans) * 1e6, frames / len(plans)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--parallel", action="store_true", help="the 100-task Parallel")
    args = parser.parse_args()
    latest = len(migrations.load("sqlite"))
    variants: list[Variant] = [
        as_recorded(),
        ("log with AUTOINCREMENT (before 0006)", 5, _all, 4096),
        ("no job statements", latest, lambda s: "job" not in s.split("WHERE")[0], 4096),
        ("no version check", latest, lambda s: not s.startswith("SELECT version"), 4096),
        ("pages of 2048 bytes", latest, _all, 2048),
        ("pages of 8192 bytes", latest, _all, 8192),
    ]
    source = bench_run.parallel_returns(100) if args.parallel else bench_run.sequential_logs(40)
    with tempfile.TemporaryDirectory() as directory:
        transactions = record(args.runs, directory, source)
        cycles = sum(1 for tx in transactions if any("task_run" in s for s, _ in tx))
        print(f"{len(transactions)} write transactions recorded, {cycles} with task runs")
        samples: list[list[tuple[float, float]]] = [[] for _ in variants]
        for _ in range(args.rounds):
            for variant, taken in zip(variants, samples, strict=True):
                taken.append(replay(directory, transactions, variant))
    for (name, *_), taken in zip(variants, samples, strict=True):
        cpu = statistics.median(t[0] for t in taken)
        pages = statistics.median(t[1] for t in taken)
        print(f"{name:<40} {cpu:7.1f} µs CPU {pages:5.1f} WAL pages per transaction")


if __name__ == "__main__":
    main()
