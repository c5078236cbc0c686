"""Python script tasks with the real `kestra` library (PyPI) in Lanner's cached virtual
environments: outputs, metrics and log levels from the library; `dependencies` and
`beforeCommands: pip install` from a wheel built here (never the network); a venv
built once when two tasks want it at once, and rebuilt after a crash left it half
made.

The venvs live in one folder shared by every run of these tests (LANNER_TEST_VENVS,
default: the system's temp dir): the base environment with the kestra library is
made once on a machine (pip fetches it through the machine's configured index)."""

from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from lanner.model.states import State
from lanner.plugin import Outcome
from lanner.storage import LocalStorage
from lanner.tasks.scripts.model import PythonCommands, PythonScript
from lanner.tasks.scripts.run import run_script
from lanner.tasks.scripts.venvs import READY, ensure_venv, requirements_key, venvs_root
from tests.support.task_context import LocalTaskContext
from tests.support.wheels import build_wheel

SHARED_VENVS = Path(
    os.environ.get("LANNER_TEST_VENVS") or Path(tempfile.gettempdir()) / "lanner-test-venvs"
)


@pytest.fixture(autouse=True)
def shared_venvs(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LANNER_VENVS", str(SHARED_VENVS))
    return SHARED_VENVS


@pytest.fixture
def ctx(tmp_path: Path) -> LocalTaskContext:
    return LocalTaskContext(storage=LocalStorage(tmp_path / "storage"))


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    # A new path (and so a new set of requirements) per test run.
    return build_wheel(tmp_path / "wheels", "lannerdemo", "1.0", "VALUE = 42\n")


def run(ctx: LocalTaskContext, model: type[Any], **props: Any) -> Outcome:
    task = model.model_validate({"id": "py", "type": "python", **props})
    try:
        return run_script(task, ctx)
    finally:
        ctx.close()


def test_the_kestra_library_works_with_no_set_up(ctx: LocalTaskContext) -> None:
    outcome = run(
        ctx,
        PythonScript,
        script="""
from kestra import Kestra
print("plain line")
Kestra.outputs({"rows": 3, "name": "orders"})
Kestra.counter("processed", 3, {"source": "csv"})
Kestra.timer("duration", 1.5)
logger = Kestra.logger()
logger.info("info from the library")
logger.warning("careful")
logger.error("bad row")
""",
    )
    assert outcome.state is State.SUCCESS, ctx.logs
    assert outcome.outputs["vars"] == {"rows": 3, "name": "orders"}
    assert outcome.outputs["exitCode"] == 0
    assert outcome.outputs["metrics"] == [
        {"name": "processed", "type": "counter", "value": 3, "tags": {"source": "csv"}},
        {"name": "duration", "type": "timer", "value": 1.5, "tags": {}},
    ]
    levels = [(level, m.split(" - ", 1)[-1]) for level, m in ctx.logs if "environment" not in m]
    assert ("INFO", "plain line") in levels
    assert ("INFO", "info from the library") in levels
    assert ("WARN", "careful") in levels
    assert ("ERROR", "bad row") in levels


def test_python_is_the_environment_s_and_first_on_path(ctx: LocalTaskContext) -> None:
    outcome = run(
        ctx,
        PythonCommands,
        commands=[
            "python -c 'import sys; print(sys.prefix)'",
            "command -v python",
            "command -v pip",
        ],
    )
    assert outcome.state is State.SUCCESS, ctx.logs
    prefix, python, pip = ctx.messages()[-3:]
    assert Path(prefix).parent == SHARED_VENVS
    assert python == f"{prefix}/bin/python" and pip == f"{prefix}/bin/pip"


def test_dependencies_install_in_their_own_cached_environment(
    ctx: LocalTaskContext, wheel: Path, tmp_path: Path
) -> None:
    dependency = f"lannerdemo @ {wheel.as_uri()}"
    script = (
        "import lannerdemo\nfrom kestra import Kestra\nKestra.outputs({'v': lannerdemo.VALUE})\n"
    )
    outcome = run(ctx, PythonScript, dependencies=[dependency], script=script)
    assert outcome.state is State.SUCCESS, ctx.logs
    assert outcome.outputs["vars"] == {"v": 42}
    assert any(m.startswith("Creating the virtual environment") for m in ctx.messages())
    # The second run uses the cached environment.
    again = LocalTaskContext(storage=LocalStorage(tmp_path / "again"))
    outcome = run(again, PythonScript, dependencies=[dependency], script=script)
    assert outcome.outputs["vars"] == {"v": 42}
    assert not any("virtual environment" in m for m in again.messages())


def test_other_environments_do_not_see_those_dependencies(
    ctx: LocalTaskContext, wheel: Path, tmp_path: Path
) -> None:
    run(ctx, PythonScript, dependencies=[f"lannerdemo @ {wheel.as_uri()}"], script="pass")
    other = LocalTaskContext(storage=LocalStorage(tmp_path / "other"))
    outcome = run(other, PythonScript, script="import lannerdemo")
    assert outcome.state is State.FAILED
    assert any("No module named 'lannerdemo'" in m for m in other.messages())


def test_before_commands_pip_install(ctx: LocalTaskContext, wheel: Path) -> None:
    outcome = run(
        ctx,
        PythonScript,
        beforeCommands=[f"pip install --no-index {wheel}"],
        script="import lannerdemo\nprint('value', lannerdemo.VALUE)\n",
    )
    assert outcome.state is State.SUCCESS, ctx.logs
    assert "value 42" in ctx.messages()


def test_two_tasks_creating_one_environment_build_it_once() -> None:
    requirements = ["six"]
    extra = [f"pip install marker-{uuid.uuid4().hex}"]  # a set of requirements never seen
    logs: list[str] = []
    paths: list[Path] = []
    barrier = threading.Barrier(2)

    def build() -> None:
        barrier.wait()
        paths.append(
            ensure_venv(requirements, lambda _, m: logs.append(m), lambda: False, extra_key=extra)
        )

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert len(paths) == 2 and paths[0] == paths[1]
    assert (paths[0] / READY).exists()
    assert len([m for m in logs if m.startswith("Creating the virtual environment")]) == 1


def test_a_half_made_environment_is_built_again() -> None:
    extra = [f"pip install crashed-{uuid.uuid4().hex}"]
    path = venvs_root() / requirements_key([], extra)
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "python").write_text("left by a crash")
    logs: list[str] = []
    built = ensure_venv([], lambda _, m: logs.append(m), lambda: False, extra_key=extra)
    assert built == path and (path / READY).exists()
    assert (path / "bin" / "python").resolve().read_bytes()[:4] == b"\x7fELF"
    assert any(m.startswith("Creating the virtual environment") for m in logs)


def test_printed_lines_are_logs_before_the_script_ends(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    flag = tmp_path / "go-on"
    script = (
        "import os, time\n"
        "print('first')\n"
        f"while not os.path.exists({str(flag)!r}):\n"
        "    time.sleep(0.02)\n"
        "print('second')\n"
    )
    task = PythonScript.model_validate({"id": "py", "type": "python", "script": script})
    done: list[Outcome] = []
    thread = threading.Thread(target=lambda: done.append(run_script(task, ctx)))
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while "first" not in ctx.messages():
            assert time.monotonic() < deadline, ctx.logs
            time.sleep(0.02)
        assert "second" not in ctx.messages()
    finally:
        flag.touch()
        thread.join(60)
        ctx.close()
    assert done and done[0].state is State.SUCCESS
    assert ctx.messages()[-2:] == ["first", "second"]
