"""Script task benchmarks (issue 9), as what a task adds beyond running the same
command directly, measured in the same run.

- A Shell `Commands` task running `true`, against `sh -c true` started with
  subprocess: the task's working directory, environment, process group, the
  reading of its output and its clean-up are what the difference costs.
- A Python `Script` task printing one output with the kestra library, against
  the same script run directly by the same interpreter (the cached virtual
  environment's `python`), so that the library's import cost is on both sides.

Each figure is a median of several rounds, measured interleaved (a direct
run, then a task, ...) after an unmeasured warm-up, so that load elsewhere
on the machine hits both sides alike. The task runs against a real
TaskContext (tests/support/task_context.py) with a local internal storage.

    .venv/bin/python -m bench.bench_scripts [--rounds N]   (from the checkout's root)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lanner.storage import LocalStorage
from lanner.tasks.scripts.model import PythonScript, ShellCommands
from lanner.tasks.scripts.run import run_script
from lanner.tasks.scripts.venvs import ensure_venv
from tests.support.task_context import LocalTaskContext

BAR_MS = 30.0  # what a task may add beyond the direct run (issue 9)
PY_SCRIPT = 'from kestra import Kestra\nKestra.outputs({"answer": 42})\n'


def _task_runner(model: type[Any], props: dict[str, Any], storage: Path) -> Callable[[], None]:
    task = model.model_validate({"id": "bench", "type": "bench", **props})

    def once() -> None:
        ctx = LocalTaskContext(storage=LocalStorage(storage))
        outcome = run_script(task, ctx)
        ctx.close()
        assert outcome.outputs["exitCode"] == 0, ctx.logs

    return once


def _timed(fn: Callable[[], None]) -> float:
    began = time.perf_counter()
    fn()
    return (time.perf_counter() - began) * 1000


def compare(
    name: str, direct: Callable[[], None], task: Callable[[], None], rounds: int
) -> tuple[float, float]:
    direct()
    task()  # warm-up: first imports, first venv lookup
    directs: list[float] = []
    tasks: list[float] = []
    for _ in range(rounds):
        directs.append(_timed(direct))
        tasks.append(_timed(task))
    d, t = statistics.median(directs), statistics.median(tasks)
    verdict = "ok" if t - d <= BAR_MS else "OVER"
    print(
        f"{name:<44} direct {d:7.1f} ms   task {t:7.1f} ms   beyond {t - d:6.1f} ms"
        f"  (bar {BAR_MS:.0f} ms: {verdict})"
    )
    return d, t


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lanner-bench-scripts-") as tmp:
        storage = Path(tmp) / "storage"

        def shell_direct() -> None:
            subprocess.run(["sh", "-c", "true"], check=True)

        shell_task = _task_runner(ShellCommands, {"commands": ["true"]}, storage)
        d1, t1 = compare("shell.Commands `true`", shell_direct, shell_task, args.rounds)

        venv = ensure_venv([], lambda level, message: print(message), lambda: False)
        script = Path(tmp) / "direct.py"
        script.write_text(PY_SCRIPT)
        python = str(venv / "bin" / "python")

        def py_direct() -> None:
            out = subprocess.run([python, str(script)], check=True, capture_output=True)
            assert b'"answer": 42' in out.stdout

        py_task = _task_runner(PythonScript, {"script": PY_SCRIPT}, storage)
        d2, t2 = compare("python.Script with Kestra.outputs", py_direct, py_task, args.rounds)
    over = t1 - d1 > BAR_MS or t2 - d2 > BAR_MS
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
