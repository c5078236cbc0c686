"""Logs of an execution over real HTTP: JSON with filters, and download."""

from __future__ import annotations

from tests.api.conftest import API, ApiServer
from tests.api.flows import HELLO


def test_logs_by_execution_with_filters_and_download(api: ApiServer) -> None:
    api.deploy(HELLO)
    body = api.start("company.team", "hello", {"name": "Ada"}, wait="true").json()
    url = f"{API}/logs/{body['id']}"
    logs = api.client.get(url).json()
    messages = [(entry["taskId"], entry["level"], entry["message"]) for entry in logs]
    assert ("say", "INFO", "hello Ada x1") in messages
    assert ("warn", "WARN", "careful") in messages
    assert all(e["namespace"] == "company.team" and e["flowId"] == "hello" for e in logs)
    warned = api.client.get(url, params={"minLevel": "WARN"}).json()
    assert [e["message"] for e in warned] == ["careful"]
    said = api.client.get(url, params={"taskId": "say"}).json()
    assert [e["message"] for e in said] == ["hello Ada x1"]
    run_id = said[0]["taskRunId"]
    assert api.client.get(url, params={"taskRunId": run_id}).json() == said
    text = api.client.get(f"{url}/download").text
    assert "INFO say hello Ada x1\n" in text and "WARN warn careful\n" in text
    bad = api.client.get(url, params={"minLevel": "LOUD"})
    assert bad.status_code == 422 and "LOUD" in bad.json()["message"]
    assert api.client.get(f"{API}/logs/nope").status_code == 404
