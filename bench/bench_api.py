"""REST API benchmarks (issue 10), each printed with its bar and `ok` or `MISSED`.

- Idle `lanner server` (API + UI + executor + workers) resident memory: < 150 MB.
- Create-and-wait of a 2-task flow through the API (`POST
  /executions/{ns}/{id}?wait=true`) on an idle server: p50 < 30 ms, p99 < 150 ms.
- Executions started and completed through the API (IN_FLIGHT client threads,
  each `wait=true`) against the rate `bench_cluster.throughput` reaches without
  HTTP on the same server, in the same run: >= 0.5x.
- The first page of the execution search with 100,000 executions in the store
  (no filter, a namespace, a state, a label), on SQLite and on PostgreSQL:
  median < 200 ms.

    .venv/bin/python bench/bench_api.py [--seconds S] [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent.parent))  # run as a script: bench.* importable
from bench.bench_cluster import (
    FLOW,
    drop_pg_database,
    new_pg_database,
    rss_mb,
    throughput,
)

from lanner.engine.execution import Execution, History
from lanner.model.states import State
from lanner.store import codec, open_store

LANNER = str(Path(sys.executable).parent / "lanner")
IN_FLIGHT = 16
MANY = 100_000


def start_server(url: str, home: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "LANNER_HOME": home, "LANNER_DB": url, "LANNER_PORT": "0"}
    log = Path(home) / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([LANNER, "server"], env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        found = re.search(r"API on (http://\S+/api/v1/main)", log.read_text())
        if found:
            return proc, found.group(1)
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(log.read_text())
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def deploy(client: httpx.Client) -> None:
    answer = client.post("/flows", content=FLOW, headers={"content-type": "application/x-yaml"})
    assert answer.status_code in (200, 422), answer.text


def create_and_wait(client: httpx.Client) -> float:
    t0 = time.perf_counter()
    answer = client.post("/executions/bench/two", params={"wait": "true"})
    elapsed = time.perf_counter() - t0
    assert answer.status_code == 200 and answer.json()["state"]["current"] == "SUCCESS"
    return elapsed


def api_throughput(base: str, seconds: float) -> float:
    done = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + 2.0 + seconds
    counting = threading.Event()

    def client_loop() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            while time.perf_counter() < stop_at:
                create_and_wait(client)
                if counting.is_set():
                    with lock:
                        done[0] += 1

    threads = [threading.Thread(target=client_loop) for _ in range(IN_FLIGHT)]
    for t in threads:
        t.start()
    time.sleep(2.0)  # warm-up
    counting.set()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return done[0] / (time.perf_counter() - t0) * 60


def many_executions(n: int) -> list[tuple[Any, ...]]:
    """n finished executions over 50 namespaces and 5 states, one a second back from now."""
    memo = codec.JsonMemo()
    start = datetime.now(UTC) - timedelta(seconds=n)
    states = (State.SUCCESS, State.FAILED, State.KILLED, State.WARNING, State.SUCCESS)
    rows = []
    for i in range(n):
        created = start + timedelta(seconds=i)
        state = states[i % 5]
        e = Execution(
            id=f"bench{i:07d}",
            namespace=f"bench.ns{i % 50}",
            flow_id=f"flow{i % 7}",
            flow_revision=1,
            state=state,
            histories=(History(State.CREATED, created), History(state, created)),
            labels={"team": f"t{i % 10}"},
            terminal_at=created,
            finalized_at=created,
        )
        rows.append(codec.execution_params(e, 1, memo))
    return rows


def fill(url: str, n: int) -> None:
    open_store(url).close()  # migrated
    rows = many_executions(n)
    if url.startswith("sqlite://"):
        from lanner.store.sqlitesql import SQL as SQLITE

        db = sqlite3.connect(url.removeprefix("sqlite://"), isolation_level=None)
        db.execute("BEGIN")
        db.executemany(SQLITE.EXEC_INSERT, rows)
        db.execute("COMMIT")
        db.execute("ANALYZE")
        db.close()
    else:
        import psycopg

        from lanner.store.postgressql import SQL as PG

        with psycopg.connect(url, autocommit=True) as conn:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(PG.EXEC_INSERT, rows)
            # What autovacuum does soon after a bulk load: statistics and the
            # visibility map (an index-only count).
            conn.execute("VACUUM ANALYZE execution")


SEARCHES: dict[str, dict[str, str]] = {
    "no filter": {},
    "namespace": {"filters[namespace][EQUALS]": "bench.ns7"},
    "state": {"filters[state][IN]": "FAILED"},
    "label": {"filters[labels][EQUALS][team]": "t3"},
    "page 50 of 100": {"page": "50", "size": "100"},
}


def search_medians(base: str) -> dict[str, float]:
    out: dict[str, float] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for name, params in SEARCHES.items():
            times = []
            for _ in range(15):
                t0 = time.perf_counter()
                answer = client.get("/executions/search", params={"size": "10", **params})
                times.append(time.perf_counter() - t0)
                assert answer.status_code == 200, answer.text
                assert answer.json()["total"] > 0
            out[name] = statistics.median(times) * 1000
    return out


def row(name: str, value: str, bar: str, ok: bool) -> None:
    print(f"{name:<44}{value:>18}  {bar} {'ok' if ok else 'MISSED'}", flush=True)


def timed(label: str, fn: Callable[[], Any]) -> Any:
    t0 = time.perf_counter()
    out = fn()
    print(f"  ({label}: {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only-search", action="store_true")
    parser.add_argument("--no-search", action="store_true")
    args = parser.parse_args()
    missed = 0

    def check(name: str, value: str, bar: str, ok: bool) -> None:
        nonlocal missed
        missed += not ok
        row(name, value, bar, ok)

    if not args.only_search:
        with tempfile.TemporaryDirectory(prefix="lanner-bench-") as home:
            url = f"sqlite://{home}/lanner.db"
            server, base = start_server(url, home)
            try:
                time.sleep(3.0)
                idle = rss_mb(server.pid)
                check("idle server RSS", f"{idle:.1f} MB", "< 150 MB", idle < 150)
                with httpx.Client(base_url=base, timeout=60) as client:
                    deploy(client)
                    for _ in range(10):
                        create_and_wait(client)  # warm-up
                    times = []
                    for _ in range(200):
                        time.sleep(0.05)  # an idle server between executions
                        times.append(create_and_wait(client))
                times.sort()
                p50 = statistics.median(times) * 1000
                p99 = times[int(len(times) * 0.99) - 1] * 1000
                check(
                    "API create-and-wait, 2-task flow",
                    f"{p50:.1f}/{p99:.1f} ms",
                    "p50 < 30 ms, p99 < 150 ms",
                    p50 < 30 and p99 < 150,
                )
                direct = throughput(url, args.seconds)
                api = api_throughput(base, args.seconds)
                check(
                    "executions through the API vs direct",
                    f"{api:,.0f} / {direct:,.0f}/min",
                    f">= 0.5x ({api / direct:.2f}x)",
                    api >= 0.5 * direct,
                )
            finally:
                stop(server)

    stores: list[tuple[str, Callable[[str], str], Callable[[str], None]]] = [
        ("SQLite", lambda home: f"sqlite://{home}/lanner.db", lambda url: None)
    ]
    if args.no_search:
        stores = []
    if not args.no_postgres and not args.no_search:
        stores.append(
            (
                "PostgreSQL",
                lambda home: new_pg_database(args.postgres),
                lambda url: drop_pg_database(args.postgres, url),
            )
        )
    for name, make_url, drop in stores:
        with tempfile.TemporaryDirectory(prefix="lanner-bench-") as home:
            url = make_url(home)
            try:
                timed(f"fill {name}", lambda url=url: fill(url, MANY))  # type: ignore[misc]
                server, base = start_server(url, home)
                try:
                    time.sleep(2.0)
                    medians = search_medians(base)
                finally:
                    stop(server)
            finally:
                drop(url)
        for search, ms in medians.items():
            check(f"search 100k, {name}, {search}", f"{ms:.1f} ms", "median < 200 ms", ms < 200)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
