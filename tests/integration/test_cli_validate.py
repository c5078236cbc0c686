"""The real `lanner` command in a subprocess: validate, schema, usage errors, exit
codes (0 ok, 2 bad input, 3 environment) and the environment forms of options."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
from tests.support.seed import SEED_FLOWS  # noqa: E402

LANNER = str(Path(sys.executable).parent / "lanner")

HELLO = """\
id: hello
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hello
"""

INVALID = """\
id: broken
namespace: company.team
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    mesage: hello
  - id: say
    type: io.kestra.plugin.core.log.Logg
"""

WITH_INPUTS = """\
id: with_inputs
namespace: company.team
inputs:
  - id: count
    type: INT
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.count }}"
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no LANNER_* from outside, a private home."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LANNER_")}
    return {**clean, "LANNER_HOME": str(tmp_path / "home")}


def lanner(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LANNER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def executions(db_url: str, env: dict[str, str]) -> list[dict[str, object]]:
    proc = lanner("executions", "list", "--json", "--db", db_url, env=env)
    assert proc.returncode == 0, proc.stderr
    result: list[dict[str, object]] = json.loads(proc.stdout)
    return result


# --- validate --------------------------------------------------------------------------------


def test_validate_seed_flows(env: dict[str, str]) -> None:
    files = SEED_FLOWS
    assert files
    proc = lanner("validate", *map(str, files), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    for path in files:
        assert f"{path}: valid flow company.team." in proc.stdout


def test_validate_invalid_flow(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, "broken.yml", INVALID)
    proc = lanner("validate", str(path), env=env)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0] == f"Invalid Flow {path}: 3 problem(s)"
    assert f"{path}:6:5: tasks[0].mesage: task 'say' (io.kestra.plugin.core.log.Log): " in lines[1]
    assert "did you mean 'message'?" in lines[1]
    assert f"{path}:7:5: tasks[1].id: task 'say'" in lines[2]
    assert f"{path}:8:5: tasks[1].type:" in lines[3]
    assert "Traceback" not in proc.stderr


def test_validate_reports_every_file(tmp_path: Path, env: dict[str, str]) -> None:
    good = write(tmp_path, "good.yml", HELLO)
    bad = write(tmp_path, "bad.yml", INVALID)
    proc = lanner("validate", str(bad), str(good), env=env)
    assert proc.returncode == 2
    assert f"{good}: valid flow company.team.hello (1 tasks)" in proc.stdout
    assert f"Invalid Flow {bad}" in proc.stderr


def test_validate_invalid_yaml(tmp_path: Path, env: dict[str, str]) -> None:
    path = write(tmp_path, "syntax.yml", "id: x\nnamespace: y\ntasks: [\n")
    proc = lanner("validate", str(path), env=env)
    assert proc.returncode == 2
    assert f"{path}:3:8: invalid YAML" in proc.stderr  # where the bracket opens


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_validate_missing_file(tmp_path: Path, env: dict[str, str], kind: str) -> None:
    path = tmp_path / "nosuch.yml"
    if kind == "directory":
        path.mkdir()
    proc = lanner("validate", str(path), env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"lanner: {path}: ")
    assert ("no such file" if kind == "missing" else "is a directory") in lines[0]


def test_validate_with_config_defaults(tmp_path: Path, env: dict[str, str]) -> None:
    """Instance plugin defaults from the configuration file apply when validating."""
    flow = write(
        tmp_path,
        "needs_default.yml",
        "id: d\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
    )
    assert lanner("validate", str(flow), env=env).returncode == 2
    config = write(
        tmp_path,
        "config.yml",
        "pluginDefaults:\n  - type: io.kestra.plugin.core.log\n    values: {message: from config}\n",
    )
    assert lanner("validate", str(flow), "--config", str(config), env=env).returncode == 0
    assert lanner("validate", str(flow), env={**env, "LANNER_CONFIG": str(config)}).returncode == 0


# --- schema ------------------------------------------------------------------------------------


def test_schema_prints_json(env: dict[str, str]) -> None:
    proc = lanner("schema", env=env)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "task:io.kestra.plugin.core.log.Log" in schema["$defs"]


# --- usage errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("frobnicate",),
        ("validate", "--nope", "x.yml"),
        ("validate",),
        ("logs",),
        ("run",),
        ("executions", "list", "--limit", "many"),
    ],
    ids=["unknown command", "unknown option", "no file", "no id", "no flow", "bad int"],
)
def test_usage_errors_exit_2(args: tuple[str, ...], env: dict[str, str]) -> None:
    proc = lanner(*args, env=env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()


def test_help_exits_0(env: dict[str, str]) -> None:
    proc = lanner("--help", env=env)
    assert proc.returncode == 0
    for command in ("validate", "schema", "run", "logs", "executions"):
        assert command in proc.stdout


# --- stores -----------------------------------------------------------------------------------------


def test_logs_of_unknown_execution(tmp_path: Path, env: dict[str, str]) -> None:
    proc = lanner("logs", "NOSUCHID", "--db", f"sqlite:///{tmp_path}/x.db", env=env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("lanner: execution NOSUCHID not found in sqlite:///")
    assert lines[0].endswith(f"{tmp_path}/x.db")


def test_show_of_unknown_execution(tmp_path: Path, env: dict[str, str]) -> None:
    proc = lanner("executions", "show", "NOSUCHID", "--db", f"sqlite:///{tmp_path}/x.db", env=env)
    assert proc.returncode == 2
    assert "not found" in proc.stderr


@pytest.mark.parametrize("kind", ["parent is a file", "not a database"])
def test_unusable_db_exits_3_with_one_line(tmp_path: Path, env: dict[str, str], kind: str) -> None:
    if kind == "parent is a file":
        (tmp_path / "afile").write_text("not a directory")
        url = f"sqlite:///{tmp_path}/afile/x.db"
    else:
        (tmp_path / "garbage.db").write_bytes(b"\x00\x01garbage" * 500)
        url = f"sqlite:///{tmp_path}/garbage.db"
    proc = lanner("logs", "X", "--db", url, env=env)
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lanner: "), proc.stderr
    assert "Traceback" not in proc.stderr

    debug = lanner("logs", "X", "--db", url, "--debug", env=env)
    assert debug.returncode == 3
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == lines[0]


@pytest.mark.slow
def test_locked_db_exits_3(tmp_path: Path, env: dict[str, str]) -> None:
    """Another process holds the write lock past the busy timeout (about 10 s)."""
    db = tmp_path / "locked.db"
    assert lanner("executions", "list", "--db", f"sqlite:///{db}", env=env).returncode == 0
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        proc = lanner("executions", "list", "--db", f"sqlite:///{db}", env=env)
    finally:
        holder.close()
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "locked" in lines[0]
    assert "Traceback" not in proc.stderr


# --- run -----------------------------------------------------------------------------------------


def test_run_accepts_options_after_the_flow(tmp_path: Path, env: dict[str, str]) -> None:
    flow = write(tmp_path, "hello.yml", HELLO)
    url = f"sqlite:///{tmp_path}/run.db"
    proc = lanner("run", str(flow), "--db", url, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    execution = json.loads(proc.stdout)
    assert execution["state"]["current"] == "SUCCESS"
    assert [e["id"] for e in executions(url, env)] == [execution["id"]]
    logs = lanner("logs", execution["id"], "--db", url, env=env)
    assert logs.returncode == 0 and "say: hello" in logs.stdout


def test_lanner_db_environment_variable(tmp_path: Path, env: dict[str, str]) -> None:
    flow = write(tmp_path, "hello.yml", HELLO)
    db = tmp_path / "from_env.db"
    with_db = {**env, "LANNER_DB": f"sqlite:///{db}"}
    proc = lanner("run", str(flow), env=with_db)
    assert proc.returncode == 0, proc.stderr
    assert db.is_file()
    assert not (tmp_path / "home" / "lanner.db").exists()
    listing = lanner("executions", "list", "--json", env=with_db)
    assert len(json.loads(listing.stdout)) == 1


def test_lanner_home_environment_variable(tmp_path: Path, env: dict[str, str]) -> None:
    flow = write(tmp_path, "hello.yml", HELLO)
    home = tmp_path / "elsewhere"
    with_home = {**env, "LANNER_HOME": str(home)}
    proc = lanner("run", str(flow), env=with_home, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (home / "lanner.db").is_file()
    listing = lanner("executions", "list", "--json", env=with_home)
    assert len(json.loads(listing.stdout)) == 1
    # Another home holds nothing.
    other = lanner("executions", "list", "--json", env={**env, "LANNER_HOME": str(tmp_path / "o")})
    assert json.loads(other.stdout) == []


def test_lanner_home_config_file_is_read(tmp_path: Path, env: dict[str, str]) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yml").write_text(
        "pluginDefaults:\n  - type: io.kestra.plugin.core.log.Log\n    values: {message: hi}\n"
    )
    flow = write(
        tmp_path,
        "no_message.yml",
        "id: d\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
    )
    proc = lanner("validate", str(flow), env={**env, "LANNER_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr


def test_run_invalid_flow_stores_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    flow = write(tmp_path, "broken.yml", INVALID)
    url = f"sqlite:///{tmp_path}/run.db"
    proc = lanner("run", str(flow), "--db", url, env=env)
    assert proc.returncode == 2
    assert f"{flow}:6:5: tasks[0].mesage" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert executions(url, env) == []


def test_run_missing_flow_file(tmp_path: Path, env: dict[str, str]) -> None:
    proc = lanner(
        "run", str(tmp_path / "nosuch.yml"), "--db", f"sqlite:///{tmp_path}/r.db", env=env
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"lanner: {tmp_path / 'nosuch.yml'}: no such file"]


@pytest.mark.parametrize(
    ("value", "named"),
    [("count=abc", "count"), ("cuont=1", "cuont"), ("count", "count"), ("=1", "=1")],
    ids=["unparsable INT", "undeclared", "no equals sign", "no name"],
)
def test_run_bad_input_runs_nothing(
    tmp_path: Path, env: dict[str, str], value: str, named: str
) -> None:
    flow = write(tmp_path, "inputs.yml", WITH_INPUTS)
    url = f"sqlite:///{tmp_path}/run.db"
    proc = lanner("run", str(flow), "--input", value, "--db", url, env=env)
    assert proc.returncode == 2
    assert named in proc.stderr
    assert "Traceback" not in proc.stderr
    assert executions(url, env) == []


def test_run_good_input(tmp_path: Path, env: dict[str, str]) -> None:
    flow = write(tmp_path, "inputs.yml", WITH_INPUTS)
    url = f"sqlite:///{tmp_path}/run.db"
    proc = lanner("run", str(flow), "-i", "count=41", "--db", url, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    execution = json.loads(proc.stdout)
    assert execution["inputs"] == {"count": 41}
