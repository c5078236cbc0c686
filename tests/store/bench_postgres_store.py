"""Microbenchmark of PostgresStore's hot path (not collected by pytest).

The same store traffic as ``bench_sqlite_store.py`` (a sequential flow of N
tasks), on a throw-away database of the server at ``LANNER_TEST_POSTGRES``'s
host (default 127.0.0.1:5432), with the ratio to the cheapest write
transaction (raw psycopg, one row) measured in the same run.

    .venv/bin/python tests/store/bench_postgres_store.py [TASKS] [ROUNDS]
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import time

import psycopg

from lanner.store import open_store

# Run as a script: the repository root makes `tests.store` importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tests.store.bench_sqlite_store import run_flow

ADMIN = os.environ.get("LANNER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def floor(url: str, n: int = 2000) -> float:
    """The cheapest write transaction: raw psycopg, one row, BEGIN/UPDATE/COMMIT."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE floor_t (id INTEGER PRIMARY KEY, v INTEGER)")
        db.execute("INSERT INTO floor_t VALUES (1, 0)")
        start = time.perf_counter()
        for i in range(n):
            with db.transaction():
                db.execute("UPDATE floor_t SET v = %s WHERE id = 1", (i,))
        return (time.perf_counter() - start) / n


def main() -> None:
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    name = f"lanner_bench_{secrets.token_hex(4)}"
    url = ADMIN.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            store = open_store(url)
            run_flow(store, tasks, -1)  # warm up: pool, prepared statements, imports
            results = [run_flow(store, tasks, n) for n in range(rounds)]
            store.close()
            base = floor(url)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    cycles = [t for r in results for t in r[0]]
    trips = [t for r in results for t in r[1]]
    stores = [sum(r[0]) + sum(r[1]) for r in results]
    print(f"sequential flow of {tasks} tasks, {rounds} rounds: median, p90, x floor")
    print(f"  floor (raw 1-row write tx):     {base * 1e6:7.1f} us")
    for label, values, unit in (
        ("executor cycle", cycles, 1e6),
        ("claim + started + complete", trips, 1e6),
        (f"store time per flow ({2 * tasks + 1} cycles)", stores, 1e3),
    ):
        median = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        suffix = "us" if unit == 1e6 else "ms"
        print(
            f"  {label + ':':31} {median * unit:7.1f} {suffix} {p90 * unit:7.1f} {suffix}"
            f" {median / base:6.1f}x"
        )


if __name__ == "__main__":
    main()
