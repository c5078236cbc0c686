"""Stored triggers over real HTTP: search (both generations' shapes), disable and
enable (by ids, by query, one), unlock, backfill (1.x's PUT /triggers and 2.x's
backfill/create; pause, unpause and delete: one, by triggers, by query), restart and
delete."""

from __future__ import annotations

import time
from typing import Any

from tests.api.conftest import API, ApiServer

YEARLY = """\
id: yearly
namespace: company.team
inputs:
  - id: who
    type: STRING
    defaults: cron
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.who }} {{ trigger.date }}"
triggers:
  - id: newyear
    type: io.kestra.plugin.core.trigger.Schedule
    cron: "0 0 1 1 *"
"""

KEY = {"namespace": "company.team", "flowId": "yearly", "triggerId": "newyear"}
T = f"{API}/triggers"


def _search(api: ApiServer, **params: Any) -> dict[str, Any]:
    resp = api.client.get(f"{T}/search", params=params)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _deployed(api: ApiServer) -> dict[str, Any]:
    api.deploy(YEARLY)
    for _ in range(200):  # the server's trigger runtime stores the context on its tick
        found = _search(api)
        if found["total"]:
            return found
        time.sleep(0.05)
    raise AssertionError("the trigger's context was never stored")


def test_search_answers_both_generations_shapes(api: ApiServer) -> None:
    found = _deployed(api)
    assert found["total"] == 1
    hit = found["results"][0]
    assert hit["abstractTrigger"]["cron"] == "0 0 1 1 *" and hit["trigger"]["id"] == "newyear"
    state = hit["triggerContext"]
    assert state == hit["state"]
    assert state["nextExecutionDate"].startswith(state["nextEvaluationDate"][:4])
    assert state["disabled"] is False and state["date"] is not None
    assert _search(api, **{"filters[namespace][EQUALS]": "other"})["total"] == 0
    assert _search(api, **{"filters[q][EQUALS]": "newy"})["total"] == 1
    bad = api.client.get(f"{T}/search", params={"filters[cron][EQUALS]": "x"})
    assert bad.status_code == 422 and "filters[cron]" in bad.json()["message"]
    flow = api.client.get(f"{T}/company.team/yearly").json()
    assert flow["total"] == 1 and flow["results"][0]["triggerId"] == "newyear"


def test_disable_enable_and_unlock(api: ApiServer) -> None:
    _deployed(api)
    resp = api.client.post(
        f"{T}/set-disabled/by-triggers", json={"triggers": [KEY], "disabled": True}
    )
    assert resp.json() == {"count": 1}
    assert _search(api)["results"][0]["state"]["disabled"] is True
    resp = api.client.post(
        f"{T}/set-disabled/by-query",
        params={"disabled": "false", "filters[namespace][PREFIX]": "company"},
    )
    assert resp.json() == {"count": 1}
    assert _search(api)["results"][0]["state"]["disabled"] is False
    one = api.client.put(f"{T}/set-disabled", json={**KEY, "disabled": True}).json()
    assert one["disabled"] is True
    unlocked = api.client.post(f"{T}/company.team/yearly/newyear/unlock")
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
    assert api.client.post(f"{T}/unlock/by-triggers", json=[KEY]).json() == {"count": 0}
    missing = api.client.post(f"{T}/company.team/yearly/nope/unlock")
    assert missing.status_code == 404


def _executions(api: ApiServer) -> list[dict[str, Any]]:
    body = api.client.get(f"{API}/executions/search", params={"size": 100}).json()
    results: list[dict[str, Any]] = body["results"]
    return results


def _wait(what: str, test: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _state(api: ApiServer) -> dict[str, Any]:
    state: dict[str, Any] = _search(api)["results"][0]["state"]
    return state


def test_backfill_in_both_generations(api_on_db: ApiServer) -> None:
    api = api_on_db  # on SQLite and PostgreSQL
    _deployed(api)
    v2 = api.client.put(
        f"{T}/backfill/create",
        json={
            **KEY,
            "backfill": {
                "start": "2020-06-01T00:00:00Z",
                "end": "2022-06-01T00:00:00Z",
                "inputs": {"who": "v2"},
                "labels": [{"key": "batch", "value": "b-{{ trigger.date | date('yyyy') }}"}],
            },
        },
    )
    assert v2.status_code == 200, v2.text
    state = v2.json()["backfill"]
    assert state["start"] == "2020-06-01T00:00:00Z" and state["paused"] is False
    assert state["currentDate"] == "2020-06-01T00:00:00Z"
    assert state["labels"] == [{"key": "batch", "value": "b-{{ trigger.date | date('yyyy') }}"}]
    # The server's trigger runtime creates them (2021-01-01 and 2022-01-01), then drops
    # the backfill from the state, as Kestra does.
    _wait("the backfill's end", lambda: _state(api)["backfill"] is None)
    assert _state(api)["lastBackfill"]["created"] == 2
    made = sorted(_executions(api), key=lambda e: e["trigger"]["date"])
    assert [e["labels"] for e in made] == [
        [
            {"key": "batch", "value": "b-2021"},
            {"key": "system.correlationId", "value": made[0]["id"]},
        ],
        [
            {"key": "batch", "value": "b-2022"},
            {"key": "system.correlationId", "value": made[1]["id"]},
        ],
    ]
    v1 = api.client.put(
        T,
        json={**KEY, "backfill": {"start": "2019-06-01T00:00:00Z", "end": "2020-06-01T00:00:00Z"}},
    )
    assert v1.status_code == 200 and v1.json()["backfill"]["end"] == "2020-06-01T00:00:00Z"
    _wait("the 1.x backfill", lambda: len(_executions(api)) == 3)
    dates = sorted((e["trigger"]["date"], e["inputs"]["who"]) for e in _executions(api))
    assert [d[:4] for d, _ in dates] == ["2020", "2021", "2022"]
    assert [who for _, who in dates] == ["cron", "v2", "v2"]
    future = api.client.put(
        f"{T}/backfill/create", json={**KEY, "backfill": {"start": "2099-01-01T00:00:00Z"}}
    )
    assert future.status_code == 422
    system = api.client.put(
        f"{T}/backfill/create",
        json={
            **KEY,
            "backfill": {
                "start": "2020-01-01T00:00:00Z",
                "labels": [{"key": "system.correlationId", "value": "b"}],
            },
        },
    )
    assert system.status_code == 422 and "system labels" in system.json()["message"]


def test_backfill_paused_resumed_and_deleted(api: ApiServer) -> None:
    _deployed(api)
    created = api.client.put(
        f"{T}/backfill/create",
        json={**KEY, "backfill": {"start": "1950-01-01T00:00:00Z", "end": "2020-01-01T00:00:00Z"}},
    )
    assert created.status_code == 200, created.text
    again = api.client.put(
        f"{T}/backfill/create", json={**KEY, "backfill": {"start": "1950-01-01T00:00:00Z"}}
    )
    assert again.status_code == 409 and "delete it first" in again.json()["message"]
    paused = api.client.put(f"{T}/backfill/pause", json=KEY)
    assert paused.status_code == 200 and paused.json()["backfill"]["paused"] is True
    count = len(_executions(api))
    assert count < 71  # 1950..2020: 71 dates, 10 per tick
    time.sleep(2.5)  # a few ticks: nothing more is created
    assert len(_executions(api)) == count and _state(api)["backfill"]["paused"] is True
    resumed = api.client.post(f"{T}/backfill/unpause/by-triggers", json=[KEY])
    assert resumed.json() == {"count": 1}
    _wait("more dates", lambda: len(_executions(api)) > count)
    by_query = api.client.post(
        f"{T}/backfill/pause/by-query", params={"filters[namespace][EQUALS]": "company.team"}
    )
    assert by_query.json() == {"count": 1}
    assert api.client.put(f"{T}/backfill/unpause", json=KEY).json()["backfill"]["paused"] is False
    deleted = api.client.post(f"{T}/backfill/delete", json=KEY)
    assert deleted.status_code == 200 and deleted.json()["backfill"] is None
    count = len(_executions(api))
    time.sleep(2.5)
    assert len(_executions(api)) == count  # the executions made stay; no more come
    none = api.client.put(f"{T}/backfill/pause", json=KEY)
    assert none.status_code == 400 and "no backfill" in none.json()["message"]
    assert api.client.post(f"{T}/backfill/delete/by-triggers", json=[KEY]).json() == {"count": 0}
    one = api.client.post(f"{T}/backfill/pause/by-query", params={"namespace": "company"})
    assert one.json() == {"count": 0}  # Kestra 1.x's `namespace` prefix; none has a backfill


def test_restart_and_delete_forget_the_state(api: ApiServer) -> None:
    _deployed(api)
    api.client.put(f"{T}/set-disabled", json={**KEY, "disabled": True})
    assert api.client.post(f"{T}/company.team/yearly/newyear/restart").status_code == 200
    for _ in range(200):  # the runtime starts it again, enabled
        found = _search(api)
        if found["total"] and found["results"][0]["state"]["disabled"] is False:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the trigger did not start again")
    assert api.client.delete(f"{T}/company.team/yearly/newyear").status_code == 204
