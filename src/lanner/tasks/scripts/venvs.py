"""Cached Python virtual environments, one per set of requirements.

A Python script task runs in `$LANNER_HOME/venvs/<hash>` (or under
`$LANNER_VENVS` when set), made with `python -m venv` by the Python that runs
Lanner, with the real `kestra` library and the task's `dependencies`
installed by pip, so that `from kestra import Kestra` works with no set-up.
The hash covers the Python, the requirements and the `pip install` lines of
`beforeCommands` (which install into the same environment): two tasks with
the same ones share an environment, others never see each other's packages.

Creation is safe under concurrency and crashes: a lock file per environment
(`<hash>.lock`, flock, released by the kernel if its holder dies) lets one
task build while the others wait, and an environment is used only once its
marker file is written last; one without the marker is a leftover of a
crash, removed and built again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from lanner.config import lanner_home
from lanner.errors import LannerError
from lanner.tasks.scripts.environment import host_basics
from lanner.tasks.scripts.process import run_process

KESTRA_LIBRARY = "kestra"
READY = ".lanner-ready"
_FORMAT = 1  # bump when the layout of an environment changes
_LOCK_POLL_SECONDS = 0.1
_ERROR_TAIL = 20  # lines of pip's output in the error of a failed install


def venvs_root() -> Path:
    override = os.environ.get("LANNER_VENVS")
    return Path(override) if override else lanner_home() / "venvs"


def requirements_key(requirements: Sequence[str], extra: Sequence[str] = ()) -> str:
    """The environment's name: a digest of the Python, the requirements and `extra`
    (the `pip install` lines of beforeCommands)."""
    text = json.dumps(
        {
            "format": _FORMAT,
            "python": sys.version,
            "base": getattr(sys, "_base_executable", sys.executable),
            "requirements": sorted({r.strip() for r in requirements if r.strip()}),
            "extra": [e.strip() for e in extra],
        }
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def ensure_venv(
    requirements: Sequence[str],
    log: Callable[[str, str], None],
    cancelled: Callable[[], bool],
    *,
    extra_key: Sequence[str] = (),
    root: Path | None = None,
) -> Path:
    """The ready environment for `requirements` (made first when needed)."""
    root = root or venvs_root()
    path = root / requirements_key(requirements, extra_key)
    if (path / READY).exists():
        return path
    root.mkdir(parents=True, exist_ok=True)
    with (root / f"{path.name}.lock").open("a+") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:  # another task builds it: wait, but not past a kill
                if cancelled():
                    raise LannerError("stopped while waiting for the virtual environment") from None
                time.sleep(_LOCK_POLL_SECONDS)
        if (path / READY).exists():
            return path  # built by the task we waited for
        if path.exists():
            shutil.rmtree(path)  # half made by a process that died
        started = time.monotonic()
        wanted = [KESTRA_LIBRARY, *requirements]
        log("INFO", f"Creating the virtual environment {path} with {', '.join(wanted)}")
        try:
            _run([sys.executable, "-m", "venv", str(path)], root, cancelled, "python -m venv")
            pip = [str(path / "bin" / "python"), "-m", "pip", "install"]
            _run([*pip, "--disable-pip-version-check", *wanted], root, cancelled, "pip install")
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        (path / READY).write_text(json.dumps(wanted) + "\n")
        log("INFO", f"Virtual environment ready in {time.monotonic() - started:.1f} s")
    return path


def _run(argv: list[str], cwd: Path, cancelled: Callable[[], bool], what: str) -> None:
    lines: list[str] = []
    result = run_process(argv, cwd, host_basics(), lambda line, _: lines.append(line), cancelled)
    if result.stopped:
        raise LannerError(f"stopped while creating the virtual environment ({what})")
    if result.exit_code != 0:
        tail = "\n".join(lines[-_ERROR_TAIL:])
        raise LannerError(
            f"creating the virtual environment failed: {what} exited with code"
            f" {result.exit_code}:\n{tail}"
        )
