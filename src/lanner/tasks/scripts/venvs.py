"""Cached Python virtual environments, one per set of requirements.

A Python script task runs in a virtual environment under `$LANNER_HOME/venvs`
(or `$LANNER_VENVS` when set), with `python` and `pip` first on PATH and the
real `kestra` library (PyPI) importable, so that `from kestra import Kestra`
works with no set-up.

Two layers keep this cheap. The *base* environment (`base-<hash>`) is made
once per Python with `python -m venv` and gets `kestra` (and its own
dependencies) from pip; a task with no requirements runs in it. A task with
`dependencies`, or with `pip install` lines in its `beforeCommands`, gets an
environment of its own (`<hash>`, the hash covering the Python and those
requirements), made with `python -m venv --without-pip` and layered on the
base by a `.pth` file (the base's packages come after its own, so a pinned
dependency wins); `pip` there is the base's pip, run by this environment's
`python`, so it installs here. Making one costs about as much as installing
its dependencies, not a fresh download of pip and of the kestra library.

Creation is safe under concurrency and crashes: a lock file per environment
(`<name>.lock`, flock, let go by the kernel when its holder dies) lets one
task build while the others wait, and an environment is used only once its
marker file is written, last; one without the marker is a leftover of a
crash, removed and built again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lanner.config import lanner_home
from lanner.errors import LannerError
from lanner.tasks.scripts.environment import host_basics
from lanner.tasks.scripts.process import run_process

KESTRA_LIBRARY = "kestra"
READY = ".lanner-ready"
_FORMAT = 2  # bump when the layout of an environment changes
_LOCK_POLL_SECONDS = 0.1
_ERROR_TAIL = 20  # lines of pip's output in the error of a failed install
_PIP_WRAPPER = '#!/bin/sh\nexec "$(dirname "$0")/python" -m pip "$@"\n'

Log = Callable[[str, str], None]
Cancelled = Callable[[], bool]


def venvs_root() -> Path:
    override = os.environ.get("LANNER_VENVS")
    return Path(override) if override else lanner_home() / "venvs"


def _python_id() -> str:
    base = getattr(sys, "_base_executable", sys.executable)
    return f"{sys.version}\x00{os.path.realpath(base)}"


def requirements_key(requirements: Sequence[str], extra: Sequence[str] = ()) -> str:
    """The environment's name: a digest of the Python, the requirements and `extra`
    (the `pip install` lines of beforeCommands)."""
    text = json.dumps(
        {
            "format": _FORMAT,
            "python": _python_id(),
            "requirements": sorted({r.strip() for r in requirements if r.strip()}),
            "extra": [e.strip() for e in extra],
        }
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def ensure_venv(
    requirements: Sequence[str],
    log: Log,
    cancelled: Cancelled,
    *,
    extra_key: Sequence[str] = (),
    root: Path | None = None,
) -> Path:
    """The ready environment for `requirements` (made first when needed)."""
    root = root or venvs_root()
    base = _ensure_base(root, log, cancelled)
    wanted = [r for r in requirements if r.strip()]
    if not wanted and not extra_key:
        return base
    path = root / requirements_key(wanted, extra_key)
    if (path / READY).exists():
        return path
    with _building(path, cancelled) as build:
        if build:
            started = time.monotonic()
            log("INFO", f"Creating the virtual environment {path} for {', '.join(wanted) or '-'}")
            _run([sys.executable, "-m", "venv", "--without-pip", str(path)], cancelled, "venv")
            _site_packages(path).joinpath("_lanner_base.pth").write_text(
                f"{_site_packages(base)}\n"
            )
            for name in ("pip", "pip3"):
                wrapper = path / "bin" / name
                wrapper.write_text(_PIP_WRAPPER)
                wrapper.chmod(0o755)
            if wanted:
                _pip_install(path, wanted, cancelled)
            log("INFO", f"Virtual environment ready in {time.monotonic() - started:.1f} s")
    return path


def _ensure_base(root: Path, log: Log, cancelled: Cancelled) -> Path:
    """The environment made by `python -m venv` with the kestra library installed by pip."""
    path = root / f"base-{hashlib.sha256(f'{_FORMAT}{_python_id()}'.encode()).hexdigest()[:12]}"
    if (path / READY).exists():
        return path
    with _building(path, cancelled) as build:
        if build:
            started = time.monotonic()
            log(
                "INFO", f"Creating the virtual environment {path} with the {KESTRA_LIBRARY} library"
            )
            _run([sys.executable, "-m", "venv", str(path)], cancelled, "venv")
            _pip_install(path, [KESTRA_LIBRARY], cancelled)
            log("INFO", f"Virtual environment ready in {time.monotonic() - started:.1f} s")
    return path


@contextmanager
def _building(path: Path, cancelled: Cancelled) -> Iterator[bool]:
    """Hold `path`'s lock; yields whether the caller must build it (no one has yet).
    The marker is written when the build ends without error; a failed build is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(f"{path.name}.lock").open("a+") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:  # another task builds it: wait, but not past a kill
                if cancelled():
                    raise LannerError("stopped while waiting for the virtual environment") from None
                time.sleep(_LOCK_POLL_SECONDS)
        if (path / READY).exists():
            yield False  # built by the task we waited for
            return
        if path.exists():
            shutil.rmtree(path)  # half made by a process that died
        try:
            yield True
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        (path / READY).write_text(json.dumps({"python": sys.version}) + "\n")


def _site_packages(venv: Path) -> Path:
    relative = Path(sysconfig.get_path("purelib")).relative_to(sysconfig.get_path("data"))
    return venv / relative


def _pip_install(venv: Path, requirements: list[str], cancelled: Cancelled) -> None:
    argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
    _run([*argv, *requirements], cancelled, "pip install " + " ".join(requirements))


def _run(argv: list[str], cancelled: Cancelled, what: str) -> None:
    lines: list[str] = []
    cwd = Path(argv[0]).parent  # any existing directory: nothing is written there
    result = run_process(argv, cwd, host_basics(), lambda line, _: lines.append(line), cancelled)
    if result.stopped:
        raise LannerError(f"stopped while creating the virtual environment ({what})")
    if result.exit_code != 0:
        tail = "\n".join(lines[-_ERROR_TAIL:])
        raise LannerError(
            f"creating the virtual environment failed: {what} exited with code"
            f" {result.exit_code}:\n{tail}"
        )
