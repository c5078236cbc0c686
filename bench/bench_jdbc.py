"""The PostgreSQL `Query` task against the machine's PostgreSQL (127.0.0.1:5432, user
postgres): a scratch database is created, filled and dropped at the end.

1. **Overhead of a 1-row query.** Alternating in one process, `--calls` times each:
   - *floor*: what any client must do for the same answer with psycopg directly:
     `psycopg.connect` (autocommit), `execute` of the same SELECT, `fetchall`,
     `close`;
   - *task*: the worker's call path for one attempt (worker.py `_execute`): the
     registry's task type, `model_validate` of the rendered properties, and its
     `run` with a real task context (real storage folder), `fetchType: FETCH_ONE`.
   Both open their own connection, as the task does on every run. Printed: the
   medians and their difference (bar: <= 10 ms).
2. **STORE of 1,000,000 rows** (int, text, numeric, timestamp, timestamptz, bool,
   a text column that is null every other row) to an Ion file in internal
   storage, in a child process of its own so that its peak RSS (VmHWM) is its
   own; `--runs` times. Printed: the median rows/s (bar >= 50,000) and the
   peak RSS (bar <= 200 MB); a floor from the same run: the same SELECT through
   psycopg's client-side cursor into nothing (`fetchmany` until empty). The
   file's first and last rows are read back with amazon-ion (the reference
   library) and compared with the table.

    .venv/bin/python -m bench.bench_jdbc [--rows 1000000] [--runs 3] [--calls 200] [--parquet]

With --parquet, the last STORE file then goes through IonToParquet (no bar; its
rate and peak RSS are printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BAR_OVERHEAD_MS = 10.0
BAR_ROWS_PER_S = 50_000.0
BAR_RSS_MB = 200.0
ONE_ROW = "SELECT id, name, amount FROM bench_rows WHERE id = 1"
ALL_ROWS = "SELECT * FROM bench_rows ORDER BY id"
QUERY_TYPE = "io.kestra.plugin.jdbc.postgresql.Query"


def _jdbc_url(db: str) -> str:
    return f"jdbc:postgresql://127.0.0.1:5432/{db}"


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM; ru_maxrss would count a vforked child's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def create_database(rows: int) -> str:
    import psycopg

    db = f"lanner_bench_jdbc_{os.getpid()}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {db}".encode())
        admin.execute(f"CREATE DATABASE {db}".encode())
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{db}", autocommit=True) as conn:
        conn.execute(
            b"CREATE TABLE bench_rows (id bigint PRIMARY KEY, name text, amount numeric(12,2),"
            b" created_at timestamp, seen_at timestamptz, active boolean, note text)"
        )
        conn.execute(
            (
                "INSERT INTO bench_rows SELECT i, 'name ' || i, (i % 100000) / 100.0,"
                " timestamp '2024-01-01' + i * interval '1 second',"
                " timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute',"
                " i % 2 = 0, CASE WHEN i % 2 = 0 THEN NULL ELSE 'note ' || i END"
                f" FROM generate_series(1, {int(rows)}) AS i"
            ).encode()
        )
        conn.execute(b"VACUUM ANALYZE bench_rows")
    return db


def drop_database(db: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)".encode())


# --- 1. overhead of a 1-row query --------------------------------------------------------------


def overhead(db: str, calls: int, storage: Path) -> tuple[float, float]:
    """Medians (ms) of the floor and of the task."""
    import psycopg

    from lanner.plugin import TaskRegistry
    from lanner.storage import LocalStorage
    from tests.support.task_context import LocalTaskContext

    registry = TaskRegistry.from_entry_points()
    properties = {
        "url": _jdbc_url(db),
        "username": "postgres",
        "sql": ONE_ROW,
        "fetchType": "FETCH_ONE",
    }
    dsn = f"postgresql://postgres@127.0.0.1:5432/{db}"

    def floor() -> Any:
        conn = psycopg.connect(dsn, autocommit=True)
        try:
            return conn.execute(ONE_ROW.encode()).fetchall()
        finally:
            conn.close()

    def task() -> Any:
        task_type = registry.get(QUERY_TYPE)
        assert task_type is not None and task_type.run is not None
        model = task_type.model.model_validate({"id": "one", "type": QUERY_TYPE, **properties})
        ctx = LocalTaskContext(storage=LocalStorage(storage), task_id="one")
        outcome = task_type.run(model, ctx)
        assert outcome.error is None, outcome.error
        return outcome.outputs["row"]

    assert floor()[0][0] == task()["id"] == 1  # warm both paths (imports, first connection)
    floors: list[float] = []
    tasks: list[float] = []
    for _ in range(calls):
        for fn, into in ((floor, floors), (task, tasks)):
            started = time.perf_counter()
            fn()
            into.append((time.perf_counter() - started) * 1000)
    return statistics.median(floors), statistics.median(tasks)


# --- 2. STORE of many rows, in a child process ---------------------------------------------------


def _store_child(db: str, storage: str) -> dict[str, Any]:
    from lanner.plugin import TaskRegistry
    from lanner.storage import LocalStorage
    from tests.support.task_context import LocalTaskContext

    task_type = TaskRegistry.from_entry_points().get(QUERY_TYPE)
    assert task_type is not None and task_type.run is not None
    model = task_type.model.model_validate(
        {
            "id": "store",
            "type": QUERY_TYPE,
            "url": _jdbc_url(db),
            "username": "postgres",
            "sql": ALL_ROWS,
            "fetchType": "STORE",
            "timeZoneId": "UTC",
        }
    )
    ctx = LocalTaskContext(storage=LocalStorage(storage), task_id="store")
    started = time.perf_counter()
    outcome = task_type.run(model, ctx)
    seconds = time.perf_counter() - started
    assert outcome.error is None, outcome.error
    return {
        "seconds": seconds,
        "rss_mb": _peak_rss_mb(),
        "uri": outcome.outputs["uri"],
        "size": outcome.outputs["size"],
    }


def _floor_child(db: str) -> dict[str, Any]:
    """The same rows through psycopg's default cursor, converted to Python and dropped."""
    import psycopg

    started = time.perf_counter()
    count = 0
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{db}", autocommit=True) as conn:
        cur = conn.execute(ALL_ROWS.encode())
        while batch := cur.fetchmany(10_000):
            count += len(batch)
    return {"seconds": time.perf_counter() - started, "rss_mb": _peak_rss_mb(), "size": count}


PARQUET_SCHEMA = {
    "type": "record",
    "name": "BenchRow",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2},
        },
        {"name": "created_at", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "seen_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "active", "type": "boolean"},
        {"name": "note", "type": ["null", "string"]},
    ],
}


def _parquet_child(uri: str, storage: str) -> dict[str, Any]:
    """IonToParquet of the STORE file, in a process of its own (its peak RSS)."""
    from lanner.plugin import TaskRegistry
    from lanner.storage import LocalStorage
    from tests.support.task_context import LocalTaskContext

    name = "io.kestra.plugin.serdes.parquet.IonToParquet"
    task_type = TaskRegistry.from_entry_points().get(name)
    assert task_type is not None and task_type.run is not None
    model = task_type.model.model_validate(
        {"id": "parquet", "type": name, "from": uri, "schema": json.dumps(PARQUET_SCHEMA)}
    )
    ctx = LocalTaskContext(storage=LocalStorage(storage), task_id="parquet")
    started = time.perf_counter()
    outcome = task_type.run(model, ctx)
    seconds = time.perf_counter() - started
    assert outcome.error is None, outcome.error
    return {"seconds": seconds, "rss_mb": _peak_rss_mb(), "size": outcome.outputs["size"]}


def _child(args: list[str]) -> dict[str, Any]:
    step, db, storage = args
    if step == "parquet":
        return _parquet_child(db, storage)  # db: the STORE file's URI here
    return _store_child(db, storage) if step == "store" else _floor_child(db)


def _run_child(step: str, db: str, storage: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_jdbc", "--child", step, db, str(storage)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"child {step} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _expected(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "name": f"name {i}",
        "amount": Decimal(i % 100000) / 100,
        "created_at": dt.datetime(2024, 1, 1) + dt.timedelta(seconds=i),
        "seen_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i),
        "active": i % 2 == 0,
        "note": None if i % 2 == 0 else f"note {i}",
    }


def check_with_amazon_ion(path: Path, rows: int, sample: int = 1000) -> bool:
    """The first and last `sample` lines, read by amazon-ion, hold the table's rows."""
    from amazon.ion import simpleion

    from lanner.ion.reference import plain

    with path.open("rb") as f:
        lines = f.readlines()
    assert len(lines) == rows, (len(lines), rows)
    picked = list(range(min(sample, rows))) + list(range(max(0, rows - sample), rows))
    for index in picked:
        value = simpleion.loads(lines[index])
        got = {str(k): plain(v) for k, v in value.items()}
        want = _expected(index + 1)
        if got != want:
            print(f"  line {index + 1}: amazon-ion read {got}, expected {want}")
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--child", nargs=3, metavar=("STEP", "DB", "STORAGE"))
    parser.add_argument(
        "--parquet", action="store_true", help="then IonToParquet of the STORE file, once"
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return

    from lanner.storage.uris import storage_path

    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    db = create_database(args.rows)
    try:
        with tempfile.TemporaryDirectory(prefix="lanner-bench-jdbc-") as tmp:
            storage = Path(tmp) / "storage"
            floor_ms, task_ms = overhead(db, args.calls, storage)
            extra = task_ms - floor_ms
            verdict = "PASS" if extra <= BAR_OVERHEAD_MS else "FAIL"
            print(f"1-row Query (FETCH_ONE), {args.calls} calls each, alternating, medians:")
            print(f"  floor: psycopg connect + execute + fetchall + close  {floor_ms:6.2f} ms")
            print(f"  task: validate + run through the registry's type      {task_ms:6.2f} ms")
            print(f"  task overhead {extra:5.2f} ms (bar <= {BAR_OVERHEAD_MS:.0f} ms) {verdict}")

            stores: list[dict[str, Any]] = []
            floors: list[dict[str, Any]] = []
            for _ in range(args.runs):
                floors.append(_run_child("floor", db, storage))
                stores.append(_run_child("store", db, storage))
            assert all(s["size"] == args.rows for s in stores)
            seconds = statistics.median(s["seconds"] for s in stores)
            floor_s = statistics.median(f["seconds"] for f in floors)
            speed = args.rows / seconds
            peak = max(s["rss_mb"] for s in stores)
            print(f"STORE of {args.rows:,} rows to Ion, {args.runs} runs, medians:")
            print(
                f"  task {seconds:6.2f} s  {speed:9,.0f} rows/s"
                f" (bar >= {BAR_ROWS_PER_S:,.0f}) {'PASS' if speed >= BAR_ROWS_PER_S else 'FAIL'}"
            )
            print(
                f"  peak RSS {peak:.0f} MB (bar <= {BAR_RSS_MB:.0f})"
                f" {'PASS' if peak <= BAR_RSS_MB else 'FAIL'}"
            )
            print(
                f"  floor: psycopg client-side cursor, rows dropped {floor_s:6.2f} s"
                f" {args.rows / floor_s:9,.0f} rows/s, peak RSS"
                f" {max(f['rss_mb'] for f in floors):.0f} MB"
            )
            ion = storage / storage_path(stores[-1]["uri"])
            print(f"  Ion file {ion.stat().st_size / 1e6:.1f} MB")
            same = check_with_amazon_ion(ion, args.rows)
            print(f"  first and last 1000 rows read back by amazon-ion as the table's: {same}")
            print(f"  task / floor: {seconds / floor_s:.1f}x")
            if args.parquet:
                pq = _run_child("parquet", stores[-1]["uri"], storage)
                print(
                    f"IonToParquet of that file, one run: {pq['seconds']:.2f} s,"
                    f" {pq['size'] / pq['seconds']:,.0f} rows/s, peak RSS {pq['rss_mb']:.0f} MB"
                )
    finally:
        drop_database(db)


if __name__ == "__main__":
    main()
