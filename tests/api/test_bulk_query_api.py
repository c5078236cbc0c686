"""Pausing a running execution, and the bulk actions by query, over real HTTP on
both generations' paths."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.conftest import API, ApiServer
from tests.api.flows import FAILING, SLEEPY

NAPS = """\
id: naps
namespace: company.team
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1S
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: after the pause
"""

PLAIN_PAUSE = """\
id: waits
namespace: company.team
tasks:
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
"""


def _get(api: ApiServer, execution_id: str) -> dict[str, Any]:
    body: dict[str, Any] = api.client.get(f"{API}/executions/{execution_id}").json()
    return body


def _until(api: ApiServer, execution_id: str, *states: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = _get(api, execution_id)
        state = body["state"]["current"]
        if state in states and (
            state not in ("SUCCESS", "FAILED", "KILLED") or body["state"]["endDate"]
        ):
            return body
        assert time.monotonic() < deadline, f"still {state}"
        time.sleep(0.05)


def _task_states(body: dict[str, Any]) -> dict[str, str]:
    return {t["taskId"]: t["state"]["current"] for t in body.get("taskRunList") or []}


@pytest.mark.parametrize("path", ["pause", "actions/pause"])
def test_pause_holds_a_running_execution_until_resumed(api_on_db: ApiServer, path: str) -> None:
    api = api_on_db
    api.deploy(NAPS)
    started = api.start("company.team", "naps").json()
    _until(api, started["id"], "RUNNING")
    resp = api.client.post(f"{API}/executions/{started['id']}/{path}")
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == started["id"]
    assert resp.json()["state"]["current"] in ("RUNNING", "PAUSED")  # PAUSED unless slow
    paused = _until(api, started["id"], "PAUSED")
    # The running Sleep ends; nothing after it starts while the execution is PAUSED.
    deadline = time.monotonic() + 60
    while _task_states(paused).get("nap") != "SUCCESS":
        assert time.monotonic() < deadline, "the running task never ended"
        time.sleep(0.05)
        paused = _get(api, started["id"])
    time.sleep(0.5)
    held = _get(api, started["id"])
    assert held["state"]["current"] == "PAUSED" and "after" not in _task_states(held)
    again = api.client.post(f"{API}/executions/{started['id']}/{path}")
    assert again.status_code == 409 and "RUNNING" in again.json()["message"]
    resume = api.client.post(f"{API}/executions/{started['id']}/resume")
    assert resume.status_code == 200, resume.text
    done = _until(api, started["id"], "SUCCESS")
    assert _task_states(done) == {"nap": "SUCCESS", "after": "SUCCESS"}
    states = [h["state"] for h in done["state"]["histories"]]
    assert states == ["CREATED", "RUNNING", "PAUSED", "RUNNING", "SUCCESS"]
    assert api.client.post(f"{API}/executions/nope/{path}").status_code == 404


def test_bulk_actions_by_query_act_on_those_they_apply_to(api_on_db: ApiServer) -> None:
    api = api_on_db
    api.deploy(SLEEPY)
    api.deploy(FAILING)
    api.deploy(PLAIN_PAUSE)
    failed = [api.start("company.ops", "failing", wait="true").json()["id"] for _ in range(2)]
    sleeping = api.start("company.team", "sleepy").json()["id"]
    _until(api, sleeping, "RUNNING")

    # The plain 1.x `namespace` (a prefix) selects all three; only the running one is killed.
    kill = api.client.request(
        "DELETE", f"{API}/executions/kill/by-query", params={"namespace": "company"}
    )
    assert kill.status_code == 200 and kill.json() == {"count": 1}
    _until(api, sleeping, "KILLED")
    assert {_get(api, i)["state"]["current"] for i in failed} == {"FAILED"}

    # Restart by Kestra's filters: the two FAILED ones (the KILLED sleepy is filtered out).
    restart = api.client.post(
        f"{API}/executions/restart/by-query", params={"filters[flowId][EQUALS]": "failing"}
    )
    assert restart.status_code == 200 and restart.json() == {"count": 2}
    for execution_id in failed:
        deadline = time.monotonic() + 60
        while True:  # restarted, then FAILED again
            body = _get(api, execution_id)
            histories = [h["state"] for h in body["state"]["histories"]]
            if "RESTARTED" in histories and body["state"]["current"] == "FAILED":
                break
            assert time.monotonic() < deadline, histories
            time.sleep(0.05)
        _until(api, execution_id, "FAILED")

    replay = api.client.post(
        f"{API}/executions/replay/by-query",
        params={"filters[namespace][EQUALS]": "company.ops", "filters[state][IN]": "FAILED"},
    )
    assert replay.status_code == 200 and replay.json() == {"count": 2}

    waiting = api.start("company.team", "waits").json()["id"]
    _until(api, waiting, "PAUSED")
    resume = api.client.post(f"{API}/executions/resume/by-query", params={"flowId": "waits"})
    assert resume.status_code == 200 and resume.json() == {"count": 1}
    _until(api, waiting, "SUCCESS")

    # Delete: the finished executions of company.ops (the originals and their replays,
    # once those are finished).
    found = api.client.get(
        f"{API}/executions/search", params={"filters[namespace][EQUALS]": "company.ops", "size": 50}
    ).json()
    ids = [e["id"] for e in found["results"]]
    assert len(ids) == 4
    for execution_id in ids:
        _until(api, execution_id, "FAILED")
    delete = api.client.request(
        "DELETE", f"{API}/executions/by-query", params={"filters[namespace][EQUALS]": "company.ops"}
    )
    assert delete.status_code == 200 and delete.json() == {"count": 4}
    assert api.client.get(f"{API}/executions/{failed[0]}").status_code == 404

    # A repeated plain `state` is a list of states (Kestra's List<State.Type>).
    both = api.client.post(
        f"{API}/executions/labels/by-query",
        params=[("flowId", "waits"), ("state", "SUCCESS"), ("state", "FAILED")],
        json=[{"key": "seen", "value": "yes"}],
    )
    assert both.status_code == 200 and both.json() == {"count": 1}

    # Nothing selected: nothing done.
    none = api.client.post(f"{API}/executions/pause/by-query", params={"state": "RUNNING"})
    assert none.status_code == 200 and none.json() == {"count": 0}
    # A query without any filter, or with one not served, is refused.
    assert api.client.post(f"{API}/executions/replay/by-query").status_code == 422
    bad = api.client.post(
        f"{API}/executions/replay/by-query", params={"filters[color][EQUALS]": "x"}
    )
    assert bad.status_code == 422 and "color" in bad.json()["message"]
    scoped = api.client.post(f"{API}/executions/replay/by-query", params={"scope": "USER"})
    assert scoped.status_code == 422 and "scope" in scoped.json()["message"]


def test_pause_by_ids_and_by_query(api: ApiServer) -> None:
    api.deploy(SLEEPY)
    one = api.start("company.team", "sleepy").json()["id"]
    two = api.start("company.team", "sleepy").json()["id"]
    _until(api, one, "RUNNING")
    _until(api, two, "RUNNING")
    by_ids = api.client.post(f"{API}/executions/pause/by-ids", json=[one])
    assert by_ids.status_code == 200 and by_ids.json() == {"count": 1}
    _until(api, one, "PAUSED")
    by_query = api.client.post(f"{API}/executions/pause/by-query", params={"flowId": "sleepy"})
    assert by_query.status_code == 200 and by_query.json() == {"count": 1}  # one is PAUSED
    _until(api, two, "PAUSED")
    refused = api.client.post(f"{API}/executions/pause/by-ids", json=[one])
    assert refused.status_code == 422 and "not RUNNING" in refused.json()["message"]
    kill = api.client.request(
        "DELETE", f"{API}/executions/kill/by-query", params={"flowId": "sleepy"}
    )
    assert kill.json() == {"count": 2}
    _until(api, one, "KILLED")
    _until(api, two, "KILLED")


def test_labels_of_finished_executions_single_by_ids_and_by_query(api: ApiServer) -> None:
    api.deploy(FAILING)
    api.deploy(SLEEPY)
    done = [api.start("company.ops", "failing", wait="true").json()["id"] for _ in range(3)]
    for path in ("labels", "actions/labels"):
        resp = api.client.post(
            f"{API}/executions/{done[0]}/{path}", json=[{"key": "triage", "value": path}]
        )
        assert resp.status_code == 200, resp.text
        assert {"key": "triage", "value": path} in resp.json()["labels"]
    by_ids = api.client.post(
        f"{API}/executions/labels/by-ids",
        json={"executionsId": done[1:], "executionLabels": [{"key": "triage", "value": "ids"}]},
    )
    assert by_ids.status_code == 200 and by_ids.json() == {"count": 2}
    running = api.start("company.team", "sleepy").json()["id"]
    _until(api, running, "RUNNING")
    by_query = api.client.post(
        f"{API}/executions/labels/by-query",
        params={"namespace": "company"},
        json=[{"key": "reviewed", "value": "yes"}],
    )
    assert by_query.status_code == 200 and by_query.json() == {"count": 3}  # not the running one

    def labels(execution_id: str) -> dict[str, str]:
        return {lb["key"]: lb["value"] for lb in _get(api, execution_id)["labels"]}

    deadline = time.monotonic() + 60
    while labels(done[2]).get("reviewed") != "yes" or labels(done[0]).get("reviewed") != "yes":
        assert time.monotonic() < deadline, labels(done[2])
        time.sleep(0.05)
    assert labels(done[0])["triage"] == "actions/labels"
    assert labels(done[1])["triage"] == "ids"
    assert "reviewed" not in labels(running)
    refused = api.client.post(
        f"{API}/executions/{running}/labels", json=[{"key": "a", "value": "b"}]
    )
    assert refused.status_code == 409 and "finished" in refused.json()["message"]
    bad = api.client.post(f"{API}/executions/{done[0]}/labels", json=[{"key": "a"}])
    assert bad.status_code == 422
    api.client.delete(f"{API}/executions/{running}/kill")
