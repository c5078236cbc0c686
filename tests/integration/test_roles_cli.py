"""The commands that drive a store without an API, against real `lanner`
processes: flows deploy/list/show/delete, executions start/kill/restart,
workers list, purge, and a worker's graceful shutdown on SIGTERM."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.crash.conftest import FLOWS
from tests.support.cluster import Cluster
from tests.support.http_sink import HttpSink
from tests.support.seed import SEED_DIR, SEED_FLOWS, seed_only_dir

SLEEPY = """
id: sleepy
namespace: roles.test
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT30S
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: not reached when killed
afterExecution:
  - id: told
    type: io.kestra.plugin.core.log.Log
    message: "ended {{ execution.state }}"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_flows_deploy_is_all_or_nothing(cluster: Cluster, tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    write(
        folder,
        "a.yml",
        "id: a\nnamespace: roles.test\ntasks:\n  - id: t\n"
        "    type: io.kestra.plugin.core.log.Log\n    message: hi\n",
    )
    write(
        folder,
        "sub/b.yaml",
        "id: b\nnamespace: roles.test\ntasks:\n  - id: t\n"
        "    type: io.kestra.plugin.core.log.Lgo\n    message: hi\n",
    )
    proc = cluster.cli("flows", "deploy", str(folder))
    assert proc.returncode == 2, proc.stderr
    assert "b.yaml" in proc.stderr and "nothing deployed" in proc.stderr
    assert cluster.cli("flows", "list", "--json").stdout.strip() == "[]"


def test_flows_deploy_saves_a_revision_only_when_the_source_changed(
    cluster: Cluster, tmp_path: Path
) -> None:
    first = cluster.cli("flows", "deploy", str(seed_only_dir(tmp_path)))
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("revision 1 (new revision)") == len(SEED_FLOWS)
    again = cluster.cli("flows", "deploy", *map(str, SEED_FLOWS))
    assert again.stdout.count("revision 1 (unchanged)") == len(SEED_FLOWS)
    listed = json.loads(cluster.cli("flows", "list", "--json").stdout)
    assert {f["id"] for f in listed} == {p.stem for p in SEED_FLOWS}
    shown = cluster.cli("flows", "show", "company.team", "alerts_demo")
    assert shown.stdout == (SEED_DIR / "alerts_demo.yml").read_text()
    assert cluster.cli("flows", "delete", "company.team", "alerts_demo").returncode == 0
    missing = cluster.cli("flows", "show", "company.team", "alerts_demo")
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_executions_start_wait_prints_the_execution_with_run_exit_codes(
    cluster: Cluster, sink: HttpSink
) -> None:
    cluster.cli("flows", "deploy", *map(str, SEED_FLOWS))
    cluster.spawn("server")
    proc = cluster.cli("executions", "start", "company.team", "alerts_demo", "--wait", "--json")
    assert proc.returncode == 1, proc.stderr
    execution = json.loads(proc.stdout)
    assert execution["state"]["current"] == "FAILED"
    states = {r["taskId"]: r["state"]["current"] for r in execution["taskRunList"]}
    assert states == {"fail": "FAILED", "onSuccess": "SKIPPED", "onFailure": "SUCCESS"}
    [hook] = sink.wait_for(1)
    assert hook.header("Idempotency-Key")
    no_wait = cluster.cli("executions", "start", "company.team", "state_demo")
    assert no_wait.returncode == 0 and len(no_wait.stdout.strip()) == 22
    unknown = cluster.cli("executions", "start", "company.team", "nope")
    assert unknown.returncode == 2 and "not found" in unknown.stderr
    bad_input = cluster.cli("executions", "start", "company.team", "state_demo", "-i", "x=1")
    assert bad_input.returncode == 2


def test_kill_stops_a_running_task_and_after_execution_still_runs(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.cli("flows", "deploy", str(write(tmp_path, "sleepy.yml", SLEEPY)))
    cluster.spawn("server")
    execution_id = cluster.cli("executions", "start", "roles.test", "sleepy").stdout.strip()

    def napping() -> bool:
        listed = json.loads(cluster.cli("workers", "list", "--json").stdout)
        return any(j["taskId"] == "nap" for p in listed for j in p["running"])

    cluster.wait_for(napping, 30, "`nap` to run")
    assert cluster.cli("executions", "kill", execution_id).returncode == 0
    [final] = cluster.wait_finalized([execution_id], timeout=20)
    assert final.state.value == "KILLED"
    states = {r.task_id: r.state.value for r in final.task_runs.values()}
    assert states == {"nap": "KILLED", "told": "SUCCESS"}
    again = cluster.cli("executions", "kill", execution_id)
    assert again.returncode == 2 and "already ended KILLED" in again.stderr
    assert cluster.cli("executions", "kill", "nope").returncode == 2


def test_purge_deletes_finalized_executions_only(cluster: Cluster, tmp_path: Path) -> None:
    cluster.cli(
        "flows", "deploy", str(write(tmp_path, "sleepy.yml", SLEEPY)), *map(str, SEED_FLOWS)
    )
    cluster.spawn("server")
    done = cluster.cli("executions", "start", "company.team", "state_demo", "--wait")
    assert done.returncode == 1
    running = cluster.cli("executions", "start", "roles.test", "sleepy").stdout.strip()
    proc = cluster.cli("purge", "--older-than", "PT0S")
    assert proc.returncode == 0 and "purged 1 execution" in proc.stdout, proc.stdout
    left = [e.id for e in cluster.store.list_executions()]
    assert left == [running]
    assert cluster.cli("purge", "--older-than", "soon").returncode == 2


def test_sigterm_hands_unfinished_jobs_back_to_another_worker(
    cluster: Cluster, sink: HttpSink
) -> None:
    cluster.grace_seconds = 0.2  # `nap` sleeps 1 s: it cannot finish in time
    cluster.write_config()
    cluster.deploy(FLOWS / "chain.yml")
    cluster.spawn("executor")
    first = cluster.spawn("worker")
    ids = [cluster.start("crash.test", "chain")]

    def nap_claimed() -> bool:
        return any(j.task_id == "nap" for p in cluster.store.list_processes() for j in p.jobs)

    cluster.wait_for(nap_claimed, 30, "`nap` to be claimed")
    first.signal(signal.SIGTERM)
    first.popen.wait(30)
    assert first.popen.returncode == 0, first.output()
    assert "handed 1 job(s) back" in first.output()
    cluster.spawn("worker")
    [execution] = cluster.wait_finalized(ids, timeout=60)
    assert execution.state.value == "SUCCESS"
    workers = json.loads(cluster.cli("workers", "list", "--json").stdout)
    assert {w["role"] for w in workers} == {"executor", "worker"}
    assert all(w["pid"] != first.pid for w in workers)
