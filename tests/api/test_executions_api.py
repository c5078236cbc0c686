"""Executions over real HTTP: create with multipart inputs and labels, wait,
get, search with filters and paging, kill, resume, restart; errors."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import API, ApiServer
from tests.api.flows import FAILING, HELLO, PAUSED, SECRET, SLEEPY


def _until(api: ApiServer, execution_id: str, *states: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = api.client.get(f"{API}/executions/{execution_id}").json()
        if body["state"]["current"] in states:
            return body
        assert time.monotonic() < deadline, f"still {body['state']['current']}"
        time.sleep(0.05)


def test_create_with_inputs_and_labels_then_wait(api: ApiServer) -> None:
    api.deploy(HELLO)
    resp = api.start(
        "company.team", "hello", {"name": "Ada", "count": "3"}, wait="true", labels=["env:test"]
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["state"]["current"] == "SUCCESS"
    assert body["inputs"] == {"name": "Ada", "count": 3}
    assert {"key": "env", "value": "test"} in body["labels"]
    assert {"key": "team", "value": "data"} in body["labels"]
    assert [r["taskId"] for r in body["taskRunList"]] == ["say", "warn"]
    assert all(r["namespace"] == "company.team" for r in body["taskRunList"])
    assert body["deleted"] is False and body["originalId"] == body["id"]
    assert body["state"]["endDate"] and body["state"]["duration"].startswith("PT")
    got = api.client.get(f"{API}/executions/{body['id']}").json()
    assert got["id"] == body["id"] and got["state"]["current"] == "SUCCESS"


def test_create_without_wait_answers_at_once(api: ApiServer) -> None:
    api.deploy(HELLO)
    body = api.start("company.team", "hello").json()
    assert body["state"]["current"] == "CREATED"
    assert _until(api, body["id"], "SUCCESS")["inputs"]["name"] == "world"


def test_bad_requests_are_clear(api: ApiServer) -> None:
    api.deploy(HELLO)
    bad = api.start("company.team", "hello", {"count": "many"})
    assert bad.status_code == 422 and "count" in bad.json()["message"]
    unknown = api.start("company.team", "nope")
    assert unknown.status_code == 404 and "company.team.nope" in unknown.json()["message"]
    label = api.start("company.team", "hello", labels=["novalue"])
    assert label.status_code == 422 and "key:value" in label.json()["message"]
    missing = api.client.get(f"{API}/executions/doesnotexist")
    assert missing.status_code == 404 and "Traceback" not in missing.text
    page = api.client.get(f"{API}/executions/search", params={"page": 0})
    assert page.status_code == 422 and "page" in page.json()["message"]
    nowhere = api.client.get(f"{API}/nothing/here")
    assert nowhere.status_code == 404 and "no endpoint" in nowhere.json()["message"]


def test_search_filters_and_paging(api: ApiServer) -> None:
    api.deploy(HELLO)
    api.deploy(FAILING)
    ids = [api.start("company.team", "hello", wait="true").json()["id"] for _ in range(3)]
    labelled = api.start("company.team", "hello", wait="true", labels=["pick:me"]).json()["id"]
    failed = api.start("company.ops", "failing", wait="true").json()
    assert failed["state"]["current"] == "FAILED"

    def search(**params: Any) -> dict[str, Any]:
        resp = api.client.get(f"{API}/executions/search", params=params)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    assert search()["total"] == 5
    first = search(size=2, page=1)
    second = search(size=2, page=2)
    assert len(first["results"]) == 2 and first["total"] == 5
    assert not {e["id"] for e in first["results"]} & {e["id"] for e in second["results"]}
    assert search(**{"filters[namespace][EQUALS]": "company.ops"})["total"] == 1
    assert search(**{"filters[flowId][EQUALS]": "hello"})["total"] == 4
    assert [e["id"] for e in search(**{"filters[state][EQUALS]": "FAILED"})["results"]] == [
        failed["id"]
    ]
    assert search(**{"filters[state][IN]": "FAILED,SUCCESS"})["total"] == 5
    assert [e["id"] for e in search(**{"filters[labels][EQUALS][pick]": "me"})["results"]] == [
        labelled
    ]
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert search(**{"filters[startDate][GREATER_THAN_OR_EQUAL_TO]": since})["total"] == 5
    assert search(**{"filters[timeRange][EQUALS]": "PT1H"})["total"] == 5
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert search(**{"filters[startDate][GREATER_THAN]": later})["total"] == 0
    # The older plain parameters, and the by-flow listing.
    assert search(namespace="company.team", state="SUCCESS")["total"] == 4
    assert search(namespace="company")["total"] == 5  # a prefix, as in Kestra
    by_flow = api.client.get(
        f"{API}/executions", params={"namespace": "company.team", "flowId": "hello"}
    ).json()
    assert {e["id"] for e in by_flow["results"]} <= {*ids, labelled}
    bad = api.client.get(f"{API}/executions/search", params={"filters[state][EQUALS]": "DONE"})
    assert bad.status_code == 422 and "DONE" in bad.json()["message"]
    newest = [e["id"] for e in search()["results"]]
    oldest = [e["id"] for e in search(sort="state.startDate:asc")["results"]]
    assert oldest == newest[::-1] and oldest[0] == ids[0]
    by_flow_then_new = search(sort=["flowId:asc", "state.startDate:desc"])["results"]
    assert [e["flowId"] for e in by_flow_then_new] == ["failing"] + ["hello"] * 4
    unsorted = api.client.get(f"{API}/executions/search", params={"sort": "color:asc"})
    assert unsorted.status_code == 422 and "color" in unsorted.json()["message"]


def test_kill_on_both_paths_answers_with_the_execution(api: ApiServer) -> None:
    api.deploy(SLEEPY)
    for path in ("kill", "actions/kill"):
        started = api.start("company.team", "sleepy").json()
        _until(api, started["id"], "RUNNING")
        alone = api.client.delete(
            f"{API}/executions/{started['id']}/{path}", params={"isOnKillCascade": "false"}
        )
        assert alone.status_code == 422 and "isOnKillCascade" in alone.json()["message"]
        resp = api.client.delete(
            f"{API}/executions/{started['id']}/{path}", params={"isOnKillCascade": "true"}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["id"] == started["id"]
        assert _until(api, started["id"], "KILLED")["state"]["current"] == "KILLED"
        again = api.client.delete(f"{API}/executions/{started['id']}/{path}")
        assert again.status_code == 409 and "nothing to kill" in again.json()["message"]


def test_resume_with_inputs_on_both_paths(api: ApiServer) -> None:
    api.deploy(PAUSED)
    for path in ("resume", "actions/resume"):
        started = api.start("company.team", "paused").json()
        _until(api, started["id"], "PAUSED")
        bad = api.client.post(
            f"{API}/executions/{started['id']}/{path}", files={"reasno": (None, "typo")}
        )
        assert bad.status_code == 422, bad.text
        resp = api.client.post(
            f"{API}/executions/{started['id']}/{path}", files={"reason": (None, "approved")}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["id"] == started["id"]
        _until(api, started["id"], "SUCCESS")
        logs = api.client.get(f"{API}/logs/{started['id']}").json()
        assert any("resumed because approved" in entry["message"] for entry in logs)
        again = api.client.post(f"{API}/executions/{started['id']}/{path}")
        assert again.status_code == 409


def test_restart_on_both_paths(api: ApiServer) -> None:
    api.deploy(FAILING)
    for path in ("restart", "actions/restart"):
        failed = api.start("company.ops", "failing", wait="true").json()
        assert failed["state"]["current"] == "FAILED"
        resp = api.client.post(f"{API}/executions/{failed['id']}/{path}")
        assert resp.status_code == 200 and resp.json()["id"] == failed["id"]
        deadline = time.monotonic() + 60
        while True:
            body = api.client.get(f"{API}/executions/{failed['id']}").json()
            states = [h["state"] for h in body["state"]["histories"]]
            if "RESTARTED" in states and body["state"]["current"] == "FAILED":
                break
            assert time.monotonic() < deadline, states
            time.sleep(0.05)
    running = api.start("company.ops", "failing").json()
    early = api.client.post(f"{API}/executions/{running['id']}/restart")
    assert early.status_code in (200, 409)


def test_secret_inputs_never_appear(api: ApiServer) -> None:
    api.deploy(SECRET)
    body = api.start("company.team", "secretive", {"token": "hunter2-xyz"}, wait="true").json()
    assert body["state"]["current"] == "SUCCESS"
    assert body["inputs"]["token"] == "******"
    for text in (
        api.client.get(f"{API}/executions/{body['id']}").text,
        api.client.get(f"{API}/logs/{body['id']}").text,
        api.client.get(f"{API}/logs/{body['id']}/download").text,
        api.client.get(f"{API}/executions/search").text,
    ):
        assert "hunter2-xyz" not in text


def test_delete_a_finished_execution_on_each_backend(api_on_db: ApiServer) -> None:
    api = api_on_db
    api.deploy(HELLO)
    api.deploy(SLEEPY)
    done = api.start("company.team", "hello", wait="true").json()
    assert api.client.get(f"{API}/logs/{done['id']}").json()
    running = api.start("company.team", "sleepy").json()
    _until(api, running["id"], "RUNNING")
    busy = api.client.delete(f"{API}/executions/{running['id']}")
    assert busy.status_code == 409 and "kill it first" in busy.json()["message"]
    kept = api.client.delete(f"{API}/executions/{done['id']}", params={"deleteLogs": "false"})
    assert kept.status_code == 422
    assert api.client.delete(f"{API}/executions/{done['id']}").status_code == 204
    assert api.client.get(f"{API}/executions/{done['id']}").status_code == 404
    assert api.client.get(f"{API}/logs/{done['id']}").status_code == 404
    assert api.client.delete(f"{API}/executions/{done['id']}").status_code == 404
    search = api.client.get(f"{API}/executions/search").json()
    assert [e["id"] for e in search["results"]] == [running["id"]]
    api.client.delete(f"{API}/executions/{running['id']}/kill")
    _until(api, running["id"], "KILLED")
