"""Replay and the bulk actions by ids, over real HTTP, on both
generations' paths."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import API, ApiServer
from tests.api.flows import FAILING, HELLO, SLEEPY

PLAIN_PAUSE = """\
id: plainpause
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: resumed
"""


def _until(api: ApiServer, execution_id: str, *states: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = api.client.get(f"{API}/executions/{execution_id}").json()
        if body["state"]["current"] in states and (
            body["state"]["current"] not in ("SUCCESS", "FAILED", "KILLED")
            or body["state"]["endDate"]
        ):
            return body
        assert time.monotonic() < deadline, f"still {body['state']['current']}"
        time.sleep(0.05)


@pytest.mark.parametrize("path", ["replay", "actions/replay"])
def test_replay_starts_a_new_execution_with_the_inputs_and_labels(
    api: ApiServer, path: str
) -> None:
    api.deploy(HELLO)
    first = api.start(
        "company.team", "hello", {"name": "Ada", "count": "2"}, wait="true", labels=["k:v"]
    ).json()
    resp = api.client.post(f"{API}/executions/{first['id']}/{path}")
    assert resp.status_code == 200, resp.text
    again = resp.json()
    assert again["id"] != first["id"] and again["flowRevision"] == first["flowRevision"]
    done = _until(api, again["id"], "SUCCESS")
    assert done["inputs"] == {"name": "Ada", "count": 2}
    assert {"key": "k", "value": "v"} in done["labels"]
    refused = api.client.post(f"{API}/executions/{first['id']}/{path}", params={"taskRunId": "x"})
    assert refused.status_code == 422 and "taskRunId x" in refused.json()["message"]
    assert api.client.post(f"{API}/executions/nope/{path}").status_code == 404


STEPS = """\
id: steps
namespace: company.ops
tasks:
  - id: prepare
    type: io.kestra.plugin.core.log.Log
    message: prepared
  - id: load
    type: io.kestra.plugin.core.execution.Fail
    errorMessage: the table is missing
  - id: report
    type: io.kestra.plugin.core.log.Log
    message: reported
"""


@pytest.mark.parametrize("path", ["replay", "actions/replay"])
def test_replay_from_a_task_run_with_a_fixed_revision(api_on_db: ApiServer, path: str) -> None:
    api = api_on_db
    api.deploy(STEPS)
    failed = api.start("company.ops", "steps", wait="true").json()
    assert failed["state"]["current"] == "FAILED"
    load = next(t for t in failed["taskRunList"] if t["taskId"] == "load")
    fixed = STEPS.replace(
        "type: io.kestra.plugin.core.execution.Fail\n    errorMessage: the table is missing",
        "type: io.kestra.plugin.core.log.Log\n    message: loaded",
    )
    resp = api.client.put(
        f"{API}/flows/company.ops/steps",
        content=fixed,
        headers={"Content-Type": "application/x-yaml"},
    )
    assert resp.status_code == 200 and resp.json()["revision"] == 2
    replay = api.client.post(
        f"{API}/executions/{failed['id']}/{path}", params={"taskRunId": load["id"], "revision": 2}
    )
    assert replay.status_code == 200, replay.text
    again = replay.json()
    assert again["id"] != failed["id"] and again["flowRevision"] == 2
    done = _until(api, again["id"], "SUCCESS")
    runs = {t["taskId"]: t for t in done["taskRunList"]}
    assert list(runs) == ["prepare", "load", "report"]
    assert len(runs["prepare"]["attempts"]) == 1  # copied as it ended, not run again
    assert runs["load"]["state"]["current"] == "SUCCESS" and len(runs["load"]["attempts"]) == 2
    logs = api.client.get(f"{API}/logs/{again['id']}").json()
    messages = [line["message"] for line in logs]
    assert "loaded" in messages and "reported" in messages and "prepared" not in messages
    # The original is unchanged.
    assert _until(api, failed["id"], "FAILED")["state"]["current"] == "FAILED"


def test_bulk_actions_by_ids(api: ApiServer) -> None:
    api.deploy(SLEEPY)
    api.deploy(FAILING)
    api.deploy(PLAIN_PAUSE)
    # The test server has one worker thread: the failing ones first.
    failed = [api.start("company.ops", "failing", wait="true").json()["id"] for _ in range(2)]
    sleeping = [api.start("company.team", "sleepy").json()["id"] for _ in range(2)]

    # One id that cannot take the action: nothing is done, and the answer says why.
    mixed = api.client.request(
        "DELETE", f"{API}/executions/kill/by-ids", json=[*sleeping, failed[0]]
    )
    assert mixed.status_code == 422
    assert failed[0] in mixed.json()["message"] and sleeping[0] not in mixed.json()["message"]
    assert _until(api, sleeping[0], "RUNNING")["state"]["current"] == "RUNNING"

    kill = api.client.request("DELETE", f"{API}/executions/kill/by-ids", json=sleeping)
    assert kill.status_code == 200 and kill.json() == {"count": 2}
    for execution_id in sleeping:
        _until(api, execution_id, "KILLED")

    restart = api.client.post(f"{API}/executions/restart/by-ids", json=failed)
    assert restart.status_code == 200 and restart.json() == {"count": 2}
    for execution_id in failed:
        _until(api, execution_id, "FAILED", "RESTARTED", "RUNNING")

    replay = api.client.post(f"{API}/executions/replay/by-ids", json=sleeping[:1])
    assert replay.status_code == 200 and replay.json() == {"count": 1}

    paused = api.start("company.team", "plainpause").json()["id"]
    _until(api, paused, "PAUSED")
    resume = api.client.post(f"{API}/executions/resume/by-ids", json=[paused, "nope"])
    assert resume.status_code == 422 and "nope: not found" in resume.json()["message"]
    resume = api.client.post(f"{API}/executions/resume/by-ids", json=[paused])
    assert resume.status_code == 200 and resume.json() == {"count": 1}
    _until(api, paused, "SUCCESS")

    delete = api.client.request("DELETE", f"{API}/executions/by-ids", json=sleeping)
    assert delete.status_code == 200 and delete.json() == {"count": 2}
    assert api.client.get(f"{API}/executions/{sleeping[0]}").status_code == 404
    empty = api.client.request("DELETE", f"{API}/executions/by-ids", json=[])
    assert empty.status_code == 422


def test_schedule_date_starts_the_execution_then(api: ApiServer) -> None:
    api.deploy(HELLO)
    at = datetime.now(UTC) + timedelta(seconds=2)
    resp = api.start("company.team", "hello", scheduleDate=at.isoformat())
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["state"]["current"] == "CREATED" and body["scheduleDate"]
    time.sleep(1)
    assert _until(api, body["id"], "CREATED")["state"]["current"] == "CREATED"
    done = _until(api, body["id"], "SUCCESS")
    started = datetime.fromisoformat(done["state"]["histories"][1]["date"].replace("Z", "+00:00"))
    assert started >= at
    bad = api.start("company.team", "hello", scheduleDate="tomorrow")
    assert bad.status_code == 422 and "scheduleDate" in bad.json()["message"]
