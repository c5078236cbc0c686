"""Kestra's official Python client, both major versions, against a real
`lanner server`: create a flow, start it with inputs, wait, read it back,
search, kill a running one, resume a paused one with inputs, restart a failed
one, read logs (2.x; 1.x has no logs API).

Each version is installed by the test session into its own cached folder
with `pip install --target` (both are the same package `kestrapy`) from the
configured package index, and runs in a subprocess with that folder on its
path: the real clients, not copies. Both kestrapy 1.0.10 and 2.0.3 import
`regex` without declaring it, so it is installed beside them."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.api.flows import FAILING, HELLO, PAUSED, SLEEPY
from tests.api.process import lanner_server

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".pytest_cache" / "lanner-kestrapy"
CLIENTS = Path(__file__).parent / "clients"
VERSIONS = {
    "1": ["kestrapy==1.0.10", "regex"],
    "2": ["kestrapy==2.0.3", "regex"],
}


def installed(major: str) -> Path:
    """The folder holding kestrapy `major`, installed once and reused."""
    requirements = VERSIONS[major]
    target = CACHE / "-".join(r.replace("==", "-") for r in requirements)
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be installing it
        if not (target / "kestrapy").is_dir():
            staging = Path(tempfile.mkdtemp(dir=CACHE))
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--target",
                    str(staging),
                    *requirements,
                ],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert proc.returncode == 0, f"pip install {requirements} failed:\n{proc.stderr}"
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
    return target


@pytest.mark.parametrize("major", sorted(VERSIONS), ids=lambda m: f"kestrapy-{m}.x")
def test_the_official_client_drives_lanner(major: str, tmp_path: Path) -> None:
    folder = installed(major)
    with lanner_server(tmp_path, "--threads", "2") as (url, _):
        env = {**os.environ, "PYTHONPATH": str(folder)}
        proc = subprocess.run(
            [
                sys.executable,
                str(CLIENTS / f"scenario_v{major}.py"),
                url,
                HELLO,
                SLEEPY,
                PAUSED,
                FAILING,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["created"] == ["company.team", "hello", 1]
    assert out["updated_revision"] == 2 and out["revisions"] == [1, 2]
    assert out["got_source_has_mind"] is True
    assert out["flows_found"] == ["hello", "sleepy"]
    assert ":3:1: tasks:" in out["violation"]
    assert out["run_state"] == "SUCCESS"
    assert out["run_inputs"] == {"name": "Ada", "count": 2}
    assert out["read_back"] == [True, "SUCCESS"]
    assert out["labels"] == [f"client:v{major}", "team:data"]
    assert out["searched"] == [1, True]
    assert out["killed"] is True
    assert out["resumed"] == "SUCCESS"
    assert out["restart_answer"] is True and out["restarted"] is True
    assert out["webhook"] == ["hooked", "hook"]
    assert out["webhook_path"] == "io.kestra.plugin.core.trigger.Webhook"
    assert out["kv_get"] == ["NUMBER", 3]
    assert out["kv_list"] == [2, ["color", "size"]]
    assert out["kv_delete"] is True
    assert out["kv_inherited"] == ["size"]
    assert out["triggers"] == ["newyear"]
    assert out["trigger_disabled"] is True and out["trigger_unlocked"] == "newyear"
    year = 1950 if major == "1" else "1950"
    assert out["backfill"] == [False, year, [["batch", f"v{major}"]], True, False, 1, True]
    assert out["replayed"] == [True, {"name": "Ada", "count": 2}]
    assert out["replay_chain"] == [True, True, True, [1, 2, 3], True]
    assert out["bulk_restart"] == 1
    assert out["exported"] == ["company.ops.failing.yml"]
    assert out["import_problems"] == [] and out["imported"] == "imported"
    assert out["namespaces"] == [3, ["company", "company.ops", "company.team"]]
    assert out["namespace"] == "company.team"
    assert out["graph"] == ["root.end", "root.fails", "root.root"]
    assert out["replayed_from"] == [["say", 1], ["warn", 2]]
    assert out["paused"] == "PAUSED"
    assert out["killed_by_query"] == 1 and out["killed_state"] == "KILLED"
    assert out["deleted_by_query"] == 2  # both killed sleepy executions
    assert out["labeled"] == [f"client:v{major}", "reviewed:yes", "team:data"]
    assert out["replayed_with_inputs"] == {"name": "Rex", "count": 2}
    assert out["marked"] == "WARNING"
    assert out["unqueued"] == ["RUNNING", "RUNNING"]
    assert out["queue_bulk"] == [1, 1, 1, 1, ["CANCELLED", "RUNNING", "RUNNING", "CANCELLED"]]
    if major == "2":
        assert out["plugin_listed"] and out["plugin_schema"] and out["plugin_doc"]
        assert out["replayed_without_inputs"] == {"name": "Ada", "count": 2}
        assert out["followed_last"] == "SUCCESS"
        assert out["followed_logs"] == ["hello Flo x1", "mind"]
        assert out["file_download"] == "file body" and out["file_size"] == 9
        assert out["outputs"] == {"content": "file body"}
        assert out["nsfile"] == "select 1" and out["nsfile_list"] == ["one.sql"]
        assert out["logs"] == ["hello Ada x2"]
        assert out["warn_logs"] == ["mind"]
        assert out["download_has_hello"] is True
        assert out["kill_answer_id"] is True
        assert out["resume_answer"] is True
        assert out["resume_log"] == ["resumed because v2 said so"]
