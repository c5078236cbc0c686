"""Firing delay of a Schedule with seconds (issue 10: "fires within 1 s of its date").

One real `lanner server` on a fresh SQLite store (or PostgreSQL with
--postgres URL) runs a flow scheduled every second (`withSeconds: true`) for
--seconds; the delay of a date is the time from the date to its execution's
creation (its CREATED history entry), as the trigger runtime committed it.
Prints p50, p99 and the maximum, and whether every date fired once within 1 s.

    .venv/bin/python bench/bench_schedule.py [--seconds S] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from lanner.store import open_store

LANNER = str(Path(sys.executable).parent / "lanner")
FLOW = """
id: tick
namespace: bench
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: "{{ trigger.date }}"
triggers:
  - id: every_second
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "* * * * * *"
    withSeconds: true
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--postgres", default=None, help="a database URL (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite://{tmp}/lanner.db"
        store = open_store(url)
        store.migrate()
        store.deploy_flow("bench", "tick", FLOW)
        env = {**os.environ, "LANNER_HOME": f"{tmp}/home", "LANNER_DB": url}
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [LANNER, "server", "--threads", "2"], env=env, stdout=out, stderr=out
            )
        try:
            time.sleep(args.seconds)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
        executions = store.list_executions(namespace="bench", limit=100_000)
        store.close()
    delays: list[float] = []
    dates: list[datetime] = []
    for e in executions:
        date = datetime.fromisoformat(str((e.trigger or {})["date"]).replace("Z", "+00:00"))
        dates.append(date)
        delays.append((e.histories[0].date - date).total_seconds() * 1000)
    if not delays:
        print("no execution was created")
        return 1
    once = max(Counter(dates).values()) == 1
    p50, p99 = statistics.median(delays), _percentile(delays, 0.99)
    ok = once and max(delays) < 1000
    print(f"dates fired             {len(delays):>10}  (each once: {once})")
    print(f"firing delay p50 (ms)   {p50:>10.1f}")
    print(f"firing delay p99 (ms)   {p99:>10.1f}")
    print(f"firing delay max (ms)   {max(delays):>10.1f}  bar < 1000 ms {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
