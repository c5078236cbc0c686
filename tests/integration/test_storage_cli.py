"""Internal storage through the real CLI: FILE inputs, read() and its kin, namespace
files, `lanner executions files`, purge, and S3 shared by two processes (moto's server
on 127.0.0.1)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.support.cli import lanner, logs, run_json
from tests.support.s3 import S3Server

FLOW = """\
id: files_demo
namespace: company.team
inputs:
  - id: data
    type: FILE
tasks:
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ read(inputs.data) }}|{{ fileSize(inputs.data) }}|{{ read('queries/q.sql') }}"
"""


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _run(flow: Path, env: dict[str, str], *args: str) -> dict[str, object]:
    proc = lanner("run", str(flow), "--json", *args, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_file_inputs_read_namespace_files_list_download_purge(
    tmp_path: Path, env: dict[str, str]
) -> None:
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW)
    ns = tmp_path / "ns" / "queries"
    ns.mkdir(parents=True)
    (ns / "q.sql").write_text("select 1")
    data = tmp_path / "in.csv"
    data.write_text("a,b")
    assert "uploaded 1 file(s)" in _ok(
        lanner("namespaces", "files", "upload", "company.team", str(tmp_path / "ns"), env=env)
    )
    listed = json.loads(
        _ok(lanner("namespaces", "files", "list", "company.team", "--json", env=env))
    )
    assert [(f["path"], f["size"]) for f in listed] == [("queries/q.sql", 8)]

    final = _run(flow, env, "-i", f"data={data}")
    assert final["state"] == {**final["state"], "current": "SUCCESS"}  # type: ignore[dict-item]
    execution_id = str(final["id"])
    uri = f"kestra:///company/team/files_demo/executions/{execution_id}/inputs/data/in.csv"
    assert final["inputs"] == {"data": uri}
    assert ("show", "INFO", "a,b|3|select 1") in logs(execution_id, env)

    files = json.loads(_ok(lanner("executions", "files", execution_id, "--json", env=env)))
    assert files == [{"uri": uri, "size": 3}]
    assert _ok(lanner("executions", "files", execution_id, "download", uri, env=env)) == "a,b"
    out = tmp_path / "copy.csv"
    _ok(lanner("executions", "files", execution_id, "download", uri, "-o", str(out), env=env))
    assert out.read_text() == "a,b"
    foreign = lanner(
        "executions", "files", execution_id, "download",
        "kestra:///company/team/_files/queries/q.sql", env=env,
    )  # fmt: skip
    assert foreign.returncode == 2 and "is not a file of execution" in foreign.stderr

    # A kestra:// value the execution may read is taken as it is; another flow's is not.
    again = _run(flow, env, "-i", f"data={uri}")
    assert again["inputs"] == {"data": uri}
    other = tmp_path / "other.yml"
    other.write_text(FLOW.replace("company.team", "company.ops"))
    refused = lanner("run", str(other), "-i", f"data={uri}", env=env)
    assert refused.returncode == 2
    assert "may read its own flow's files and its namespace's files only" in refused.stderr

    _ok(lanner("purge", "--older-than", "PT0S", env=env))
    storage = Path(env["LANNER_HOME"]) / "storage"
    assert not (storage / "company/team/files_demo/executions").exists() or not any(
        p.is_file() for p in (storage / "company/team/files_demo/executions").rglob("*")
    )
    assert (storage / "company/team/_files/queries/q.sql").is_file()  # not an execution's
    assert "deleted 1 file(s)" in _ok(
        lanner("namespaces", "files", "delete", "company.team", "queries", env=env)
    )
    gone = lanner("namespaces", "files", "delete", "company.team", "queries", env=env)
    assert gone.returncode == 2


def test_two_processes_share_files_through_s3(
    tmp_path: Path, env: dict[str, str], s3_server: S3Server, db_url: str
) -> None:
    """Two `lanner run` processes on one store (SQLite, PostgreSQL), each with its own
    LANNER_HOME (no shared folder): what one stored, the other reads, through S3."""
    bucket = s3_server.new_bucket()
    envs = []
    for name in ("one", "two"):
        home = tmp_path / name
        home.mkdir()
        (home / "config.yml").write_text(s3_server.config_yaml(bucket, prefix="lanner"))
        envs.append({**env, "LANNER_HOME": str(home), "LANNER_DB": db_url})
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW)
    ns = tmp_path / "ns" / "queries"
    ns.mkdir(parents=True)
    (ns / "q.sql").write_text("select 2")
    data = tmp_path / "in.csv"
    data.write_text("from one")
    _ok(lanner("namespaces", "files", "upload", "company.team", str(tmp_path / "ns"), env=envs[0]))
    first = _run(flow, envs[0], "-i", f"data={data}")
    uri = str(first["inputs"]["data"])  # type: ignore[index]
    second = _run(flow, envs[1], "-i", f"data={uri}")
    assert second["state"]["current"] == "SUCCESS"  # type: ignore[index]
    assert ("show", "INFO", "from one|8|select 2") in logs(str(second["id"]), envs[1])
    assert (
        _ok(lanner("executions", "files", str(first["id"]), "download", uri, env=envs[1]))
        == "from one"
    )
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert f"lanner/{uri.removeprefix('kestra:///')}" in keys
    assert not any((tmp_path / name / "storage").exists() for name in ("one", "two"))


def test_storage_tasks_through_lanner_run(env: dict[str, str]) -> None:
    """Write, Concat, Size, Reverse, Split (rows, partitions, bytes), Delete and
    PurgeCurrentExecutionFiles in one flow (tests/integration/flows/storage_tasks.yml)."""
    final = run_json("storage_tasks.yml", env)
    assert final["state"]["current"] == "SUCCESS"
    lines = logs(final["id"], env)
    assert ("log", "INFO", "12|6,5,4,3,2,1,|2|2,4,6,|3|false") in lines
    assert ("exists", "INFO", "true false false") in lines
    assert ("after", "INFO", "10 false") in lines
    files = json.loads(_ok(lanner("executions", "files", final["id"], "--json", env=env)))
    assert files == []


def test_executions_start_stores_file_inputs(tmp_path: Path, env: dict[str, str]) -> None:
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW)
    _ok(lanner("flows", "deploy", str(flow), env=env))
    data = tmp_path / "in.csv"
    data.write_text("x,y")
    missing = lanner(
        "executions", "start", "company.team", "files_demo", "-i", f"data={tmp_path}/nope.csv",
        env=env,
    )  # fmt: skip
    assert missing.returncode == 2 and "no such file" in missing.stderr
    start = ("executions", "start", "company.team", "files_demo", "-i", f"data={data}")
    started = json.loads(_ok(lanner(*start, "--json", env=env)))
    shown = json.loads(_ok(lanner("executions", "show", started["id"], env=env)))
    uri = shown["inputs"]["data"]
    assert uri.endswith(f"/executions/{started['id']}/inputs/data/in.csv")
    files = json.loads(_ok(lanner("executions", "files", started["id"], "--json", env=env)))
    assert files == [{"uri": uri, "size": 3}]


SCRIPT_FLOW = """
id: nsfiles_demo
namespace: company.team
tasks:
  - id: query
    type: io.kestra.plugin.scripts.shell.Commands
    namespaceFiles:
      enabled: true
      include: ["queries/**"]
    commands:
      - cat queries/q.sql
      - test ! -e README.md
"""


def test_a_script_gets_uploaded_namespace_files(tmp_path: Path, env: dict[str, str]) -> None:
    ns = tmp_path / "ns"
    (ns / "queries").mkdir(parents=True)
    (ns / "queries" / "q.sql").write_text("select 42")
    (ns / "README.md").write_text("not included")
    _ok(lanner("namespaces", "files", "upload", "company.team", str(ns), env=env))
    flow = tmp_path / "flow.yml"
    flow.write_text(SCRIPT_FLOW)
    final = _run(flow, env)
    assert final["state"] == {**final["state"], "current": "SUCCESS"}  # type: ignore[dict-item]
    assert ("query", "INFO", "select 42") in logs(str(final["id"]), env)


WORKDIR_FLOW = """
id: nsfiles_workdir
namespace: company.team
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    namespaceFiles:
      enabled: true
      include: ["queries/**"]
    inputFiles:
      queries/q.sql: "select 'inline wins'"
    tasks:
      - id: first
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - cat queries/q.sql; echo
          - cat queries/other.sql
          - test ! -e README.md
      - id: second
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - cat queries/other.sql
"""


def test_a_working_directory_gets_namespace_files_for_all_its_tasks(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """WorkingDirectory's `namespaceFiles`: the included files are in the directory
    every task of it shares, before `inputFiles`, which win on a shared name."""
    ns = tmp_path / "ns"
    (ns / "queries").mkdir(parents=True)
    (ns / "queries" / "q.sql").write_text("select 1\n")
    (ns / "queries" / "other.sql").write_text("select 2\n")
    (ns / "README.md").write_text("not included")
    _ok(lanner("namespaces", "files", "upload", "company.team", str(ns), env=env))
    flow = tmp_path / "flow.yml"
    flow.write_text(WORKDIR_FLOW)
    final = _run(flow, env)
    assert final["state"] == {**final["state"], "current": "SUCCESS"}  # type: ignore[dict-item]
    lines = logs(str(final["id"]), env)
    assert ("first", "INFO", "select 'inline wins'") in lines
    assert ("first", "INFO", "select 2") in lines
    assert ("second", "INFO", "select 2") in lines
