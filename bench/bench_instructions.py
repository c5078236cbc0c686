"""Instructions per task of bench_run.py's chain and Parallel, and of its floor,
counted by callgrind: the figure to compare two trees by when the machine is
too noisy for CPU time to resolve a change of a few per cent.

Each figure is a whole process run twice under `valgrind --tool=callgrind`,
once with N measured executions and once with none (the same start-up, flow
deployment and warm-up executions): the difference, divided by N times the
tasks of the flow, is what one task costs, every thread included. Identical
trees agree within about 1 % on a quiet machine.

Callgrind runs one thread at a time, so the Parallel's worker threads
interleave differently under it than in a real run (its results come in
smaller groups, in more cycles): judge a change to how threads hand work over
by CPU time of alternated real runs (bench_run.py), not by this count.

    .venv/bin/python bench/bench_instructions.py [--runs N] [chain] [parallel] [floor]

With PYTHONPATH pointing at another checkout's `src`, the same script counts
that tree.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TASKS = {"chain": 40, "parallel": 100, "floor": 40}
WARM_UPS = 3


def run_child(kind: str, runs: int) -> None:
    """The measured process: `runs` executions of `kind` after the warm-ups."""
    sys.path.insert(0, str(HERE.parent))  # run as a script: bench.* importable
    from bench import bench_run

    directory = tempfile.mkdtemp()
    try:
        if kind == "floor":
            for _ in range(WARM_UPS + runs):
                bench_run.floor(TASKS[kind], directory)
            return
        source = (
            bench_run.sequential_logs(TASKS[kind])
            if kind == "chain"
            else bench_run.parallel_returns(TASKS[kind])
        )
        lanner = bench_run.Lanner(directory)
        timed = lanner.deploy_timed(source)  # one warm-up run inside
        for _ in range(WARM_UPS - 1 + runs):
            timed()
        lanner.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def collected(kind: str, runs: int) -> int:
    """Instructions callgrind counted for a whole child process."""
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}/callgrind.out",
                sys.executable,
                __file__,
                "--child",
                kind,
                str(runs),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        sys.exit(f"callgrind run of {kind} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_task(kind: str, runs: int) -> float:
    return (collected(kind, runs) - collected(kind, 0)) / runs / TASKS[kind]


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        run_child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="measured executions (default 10)")
    parser.add_argument("kinds", nargs="*", help="chain, parallel, floor (default: all)")
    args = parser.parse_args()
    kinds = args.kinds or list(TASKS)
    unknown = [kind for kind in kinds if kind not in TASKS]
    if unknown:
        parser.error(f"unknown figure {', '.join(unknown)}: choose from {', '.join(TASKS)}")
    if shutil.which("valgrind") is None:
        sys.exit(
            "valgrind is not installed: callgrind counts the instructions (apt install valgrind)"
        )
    counts = {kind: per_task(kind, args.runs) for kind in kinds}
    floor = counts.get("floor")
    for kind, count in counts.items():
        ratio = "" if floor is None or kind == "floor" else f"   {count / floor:.1f}x the floor"
        print(f"{kind:<9} {count / 1000:8.1f}k instructions a task{ratio}")


if __name__ == "__main__":
    main()
