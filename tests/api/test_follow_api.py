"""Live follow over real HTTP: Server-Sent Events that arrive while the execution
runs (chunked, not buffered to the end), and a stream that ends with it."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.api.conftest import API, ApiServer

SLOW = """\
id: slow
namespace: company.team
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: before the nap
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT1.5S
  - id: after
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: after the nap
"""


def _events(api: ApiServer, url: str, **params: str) -> list[tuple[float, str, Any]]:
    """(seconds since the request, event id, data) of every event, as they arrive."""
    out: list[tuple[float, str, Any]] = []
    began = time.monotonic()
    with api.client.stream("GET", url, params=params) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in resp.iter_lines():
            if line.startswith("id: "):
                name = line[4:]
            elif line.startswith("data: "):
                out.append((time.monotonic() - began, name, json.loads(line[6:])))
    return out


def test_following_an_execution(api: ApiServer) -> None:
    api.deploy(SLOW)
    execution_id = api.start("company.team", "slow").json()["id"]
    events = _events(api, f"{API}/executions/{execution_id}/follow")
    assert events[0][1:] == ("start", {"id": execution_id})
    names = [name for _, name, _ in events]
    assert names[-1] == "end" and set(names[1:-1]) == {"progress"}
    assert events[-1][2]["state"]["current"] == "SUCCESS"
    # Flushed as they come: the first progress came well before the end.
    assert events[1][0] < events[-1][0] - 1.0
    assert "RUNNING" in {data["state"]["current"] for _, _, data in events[1:-1]}
    # An ended execution: start and end at once.
    again = _events(api, f"{API}/executions/{execution_id}/follow")
    assert [name for _, name, _ in again] == ["start", "end"]


def test_following_logs(api: ApiServer) -> None:
    api.deploy(SLOW)
    execution_id = api.start("company.team", "slow").json()["id"]
    events = _events(api, f"{API}/logs/{execution_id}/follow")
    assert events[0][1:] == ("start", {})
    lines = {data["message"]: at for at, name, data in events if name == "progress"}
    assert list(lines) == ["before the nap", "Waiting for PT1.5S", "after the nap"]
    # The first line came before the nap ended.
    assert lines["before the nap"] < lines["after the nap"] - 1.0
    warned = _events(api, f"/api/v1/logs/{execution_id}/follow", minLevel="WARN")
    assert [d["message"] for _, n, d in warned if n == "progress"] == ["after the nap"]


def test_unknown_executions_and_bad_levels(api: ApiServer) -> None:
    assert api.client.get(f"{API}/executions/nope/follow").status_code == 404
    assert api.client.get(f"{API}/logs/nope/follow").status_code == 404
    api.deploy(SLOW)
    execution_id = api.start("company.team", "slow").json()["id"]
    bad = api.client.get(f"{API}/logs/{execution_id}/follow", params={"minLevel": "LOUD"})
    assert bad.status_code == 422
