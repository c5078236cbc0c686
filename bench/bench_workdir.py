"""WorkingDirectory benchmark (issue 9): what running tasks as one job in one shared
directory costs against running the same tasks as jobs of their own.

Two flows of N shell `Commands` tasks running `true` (and of N Log tasks), run
through the real runtime (executor thread, worker threads, SQLite store) from
the execution's creation to its end: one with the tasks at the flow's root, one
with them inside a WorkingDirectory. The WorkingDirectory's worker renders each
task itself and sends two fenced events per task (its start and its end), where
a task of its own costs a dispatch and a job. Medians of several rounds,
measured interleaved after a warm-up.

    .venv/bin/python -m bench.bench_workdir [--rounds N] [--tasks N]   (from the checkout's root)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

from bench.bench_run import Lanner

SHELL = """
      - id: t{i}
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["true"]"""
LOG = """
      - id: t{i}
        type: io.kestra.plugin.core.log.Log
        message: "{{{{ taskrun.id }}}}" """


def _flows(tasks: int, body: str, name: str) -> tuple[str, str]:
    items = "".join(body.format(i=i) for i in range(tasks))
    plain = f"id: {name}_plain\nnamespace: bench\ntasks:{items.replace(chr(10) + '  ', chr(10))}\n"
    wdir = (
        f"id: {name}_wdir\nnamespace: bench\ntasks:\n  - id: wdir\n"
        f"    type: io.kestra.plugin.core.flow.WorkingDirectory\n    tasks:{items}\n"
    )
    return plain, wdir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tasks", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        runtime = Lanner(directory)
        try:
            for name, body in (("shell", SHELL), ("log", LOG)):
                plain_src, wdir_src = _flows(args.tasks, body, name)
                plain, wdir = runtime.deploy(plain_src), runtime.deploy(wdir_src)
                times: dict[str, list[float]] = {"plain": [], "wdir": []}
                for _ in range(args.rounds):
                    times["plain"].append(plain())
                    times["wdir"].append(wdir())
                p = statistics.median(times["plain"]) * 1000
                w = statistics.median(times["wdir"]) * 1000
                print(
                    f"{args.tasks} {name} tasks: at the root {p:8.1f} ms,"
                    f" in a WorkingDirectory {w:8.1f} ms (ratio {w / p:.2f})"
                )
        finally:
            runtime.close()


if __name__ == "__main__":
    main()
