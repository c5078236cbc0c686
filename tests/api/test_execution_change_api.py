"""Replay with inputs, the change of a task run's state, force-run and unqueue,
over real HTTP on both generations' paths, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.conftest import API, ApiServer
from tests.api.flows import HELLO

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
errors:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    message: alerted
"""

WITH_FILE = """\
id: withfile
namespace: company.team
inputs:
  - id: data
    type: FILE
  - id: note
    type: STRING
tasks:
  - id: read
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read(inputs.data) }} {{ inputs.note }}"
"""

QUEUED = """\
id: one_at_a_time
namespace: company.ops
concurrency:
  limit: 1
  behavior: QUEUE
tasks:
  - id: nap
    type: io.kestra.plugin.core.flow.Sleep
    duration: PT60S
"""


def _until(api: ApiServer, execution_id: str, *states: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = api.client.get(f"{API}/executions/{execution_id}").json()
        state = body["state"]["current"]
        if state in states and (state in ("RUNNING", "QUEUED") or body["state"]["endDate"]):
            return body
        assert time.monotonic() < deadline, f"still {state}"
        time.sleep(0.05)


@pytest.mark.parametrize("path", ["replay-with-inputs", "actions/replay-with-inputs"])
def test_replay_with_inputs_replaces_the_given_ones(api_on_db: ApiServer, path: str) -> None:
    api = api_on_db
    api.deploy(HELLO)
    first = api.start("company.team", "hello", {"name": "Ada", "count": "2"}, wait="true").json()
    url = f"{API}/executions/{first['id']}/{path}"
    resp = api.client.post(url, files={"name": (None, "Bob")})
    assert resp.status_code == 200, resp.text
    again = resp.json()
    assert again["id"] != first["id"] and again["originalId"] == first["id"]
    done = _until(api, again["id"], "SUCCESS")
    assert done["inputs"] == {"name": "Bob", "count": 2}  # count kept
    logs = [line["message"] for line in api.client.get(f"{API}/logs/{again['id']}").json()]
    assert "hello Bob x2" in logs
    # No inputs at all (kestrapy 2.x sends an empty multipart): the original's.
    boundary = "lanner0boundary"
    empty = api.client.post(
        url,
        content=f"--{boundary}--\r\n".encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert empty.status_code == 200, empty.text
    assert _until(api, empty.json()["id"], "SUCCESS")["inputs"] == {"name": "Ada", "count": 2}
    bad = api.client.post(url, files={"count": (None, "many")})
    assert bad.status_code == 422 and "count" in bad.json()["message"]
    unknown = api.client.post(url, files={"colour": (None, "red")})
    assert unknown.status_code == 422 and "colour" in unknown.json()["message"]
    assert api.client.post(f"{API}/executions/nope/{path}").status_code == 404


def test_replay_with_a_new_file_input(api: ApiServer) -> None:
    api.deploy(WITH_FILE)
    first = api.client.post(
        f"{API}/executions/company.team/withfile",
        params={"wait": "true"},
        files={"data": ("in.csv", b"old", "text/csv"), "note": (None, "n")},
    ).json()
    assert first["state"]["current"] == "SUCCESS", first
    resp = api.client.post(
        f"{API}/executions/{first['id']}/replay-with-inputs",
        files={"data": ("new.csv", b"new", "text/csv")},
    )
    assert resp.status_code == 200, resp.text
    done = _until(api, resp.json()["id"], "SUCCESS")
    assert done["inputs"]["note"] == "n"
    assert done["inputs"]["data"] != first["inputs"]["data"]
    assert done["id"] in done["inputs"]["data"]  # stored under the new execution
    read = next(t for t in done["taskRunList"] if t["taskId"] == "read")
    assert read["outputs"]["value"] == "new n"


@pytest.mark.parametrize("path", ["state", "actions/state"])
def test_a_failed_task_run_marked_success_goes_on(api_on_db: ApiServer, path: str) -> None:
    api = api_on_db
    api.deploy(STEPS)
    failed = api.start("company.ops", "steps", wait="true").json()
    assert failed["state"]["current"] == "FAILED"
    load = next(t for t in failed["taskRunList"] if t["taskId"] == "load")
    url = f"{API}/executions/{failed['id']}/{path}"
    for body, status, words in (
        ({"taskRunId": load["id"], "state": "RUNNING"}, 422, "SUCCESS, WARNING or FAILED"),
        ({"taskRunId": "nope", "state": "SUCCESS"}, 422, "nope"),
        ({"taskRunId": load["id"], "state": "FAILED"}, 422, "FAILED already"),
        ({"state": "SUCCESS"}, 422, "taskRunId"),
    ):
        refused = api.client.post(url, json=body)
        assert refused.status_code == status, refused.text
        assert words in refused.json()["message"]
    resp = api.client.post(url, json={"taskRunId": load["id"], "state": "SUCCESS"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == failed["id"]
    done = _until(api, failed["id"], "SUCCESS")
    runs = {t["taskId"]: t["state"]["current"] for t in done["taskRunList"]}
    assert runs == {"prepare": "SUCCESS", "load": "SUCCESS", "report": "SUCCESS"}
    messages = [line["message"] for line in api.client.get(f"{API}/logs/{failed['id']}").json()]
    assert "reported" in messages
    # Marked FAILED again: its errors run again and the execution fails.
    resp = api.client.post(url, json={"taskRunId": load["id"], "state": "FAILED"})
    assert resp.status_code == 200, resp.text
    assert _until(api, failed["id"], "FAILED")["state"]["current"] == "FAILED"
    unknown = {"taskRunId": load["id"], "state": "SUCCESS"}
    assert api.client.post(f"{API}/executions/nope/{path}", json=unknown).status_code == 404


def _start_queued(api: ApiServer, count: int) -> list[str]:
    # The first takes the slot before the others are created: executors may apply
    # Start events of executions created together in any order.
    ids = [api.start("company.ops", "one_at_a_time").json()["id"]]
    _until(api, ids[0], "RUNNING")
    ids += [api.start("company.ops", "one_at_a_time").json()["id"] for _ in range(count - 1)]
    for execution_id in ids[1:]:
        _until(api, execution_id, "QUEUED")
    return ids


@pytest.mark.parametrize("generation", ["1.x", "2.x"])
def test_unqueue_and_force_run(api_on_db: ApiServer, generation: str) -> None:
    api = api_on_db
    api.deploy(QUEUED)
    action = "" if generation == "1.x" else "actions/"
    running, a, b, c, d, e = _start_queued(api, 6)
    refused = api.client.post(f"{API}/executions/{running}/{action}unqueue")
    assert refused.status_code == 409 and "QUEUED" in refused.json()["message"]
    assert api.client.post(f"{API}/executions/{running}/{action}force-run").status_code == 409
    nap = api.client.get(f"{API}/executions/{running}").json()["taskRunList"][0]["id"]
    marked = api.client.post(
        f"{API}/executions/{running}/{action}state", json={"taskRunId": nap, "state": "SUCCESS"}
    )
    assert marked.status_code == 409 and "once the execution has ended" in marked.text
    resp = api.client.post(f"{API}/executions/{a}/{action}unqueue", params={"state": "RUNNING"})
    assert resp.status_code == 200, resp.text
    assert _until(api, a, "RUNNING")["state"]["current"] == "RUNNING"
    resp = api.client.post(f"{API}/executions/{b}/{action}unqueue", params={"state": "CANCELLED"})
    assert resp.status_code == 200, resp.text
    assert _until(api, b, "CANCELLED")["taskRunList"] in (None, [])
    bad = api.client.post(f"{API}/executions/{c}/{action}unqueue", params={"state": "SUCCESS"})
    assert bad.status_code == 422 and "RUNNING" in bad.json()["message"]
    resp = api.client.post(f"{API}/executions/{c}/{action}force-run")
    assert resp.status_code == 200, resp.text
    _until(api, c, "RUNNING")
    # By ids: every id checked first.
    both = api.client.post(f"{API}/executions/unqueue/by-ids", json=[d, running])
    assert both.status_code == 422 and running in both.json()["message"]
    resp = api.client.post(f"{API}/executions/unqueue/by-ids", json=[d], params={"state": "KILLED"})
    assert resp.json() == {"count": 1}
    _until(api, d, "KILLED")
    # By query: the QUEUED one of the flow; the others are skipped.
    resp = api.client.post(
        f"{API}/executions/force-run/by-query",
        params={"filters[flowId][EQUALS]": "one_at_a_time"},
    )
    assert resp.status_code == 200 and resp.json() == {"count": 1}, resp.text
    _until(api, e, "RUNNING")
    killed = api.client.delete(
        f"{API}/executions/kill/by-query", params={"filters[flowId][EQUALS]": "one_at_a_time"}
    )
    assert killed.json()["count"] == 4


def test_force_run_by_ids_and_unqueue_by_query(api: ApiServer) -> None:
    api.deploy(QUEUED)
    _, a, b, c = _start_queued(api, 4)
    resp = api.client.post(f"{API}/executions/force-run/by-ids", json=[a])
    assert resp.json() == {"count": 1}
    _until(api, a, "RUNNING")
    resp = api.client.post(
        f"{API}/executions/unqueue/by-query",
        params={"filters[state][EQUALS]": "QUEUED", "newState": "CANCELLED"},
    )
    assert resp.json() == {"count": 2}
    _until(api, b, "CANCELLED")
    _until(api, c, "CANCELLED")
    api.client.delete(
        f"{API}/executions/kill/by-query", params={"filters[flowId][EQUALS]": "one_at_a_time"}
    )


def test_a_plain_replay_keeps_a_file_input(api: ApiServer) -> None:
    api.deploy(WITH_FILE)
    first = api.client.post(
        f"{API}/executions/company.team/withfile",
        params={"wait": "true"},
        files={"data": ("in.csv", b"old", "text/csv"), "note": (None, "n")},
    ).json()
    resp = api.client.post(f"{API}/executions/{first['id']}/replay")
    assert resp.status_code == 200, resp.text
    done = _until(api, resp.json()["id"], "SUCCESS")
    assert done["inputs"]["data"] == first["inputs"]["data"]


def test_change_status_is_refused_with_the_reason(api: ApiServer) -> None:
    for path in (
        "some-id/change-status",
        "some-id/actions/change-status",
        "change-status/by-ids",
        "change-status/by-query",
    ):
        resp = api.client.post(f"{API}/executions/{path}", params={"status": "SUCCESS"}, json=[])
        assert resp.status_code == 422, (path, resp.text)
        assert "change a task run's state instead" in resp.json()["message"]


GREET = """\
id: greet
namespace: company.ops
inputs:
  - id: who
    type: STRING
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "first {{ inputs.who }}"
  - id: second
    type: io.kestra.plugin.core.debug.Return
    format: "second {{ inputs.who }}"
"""


def test_replay_with_inputs_from_a_task_run(api_on_db: ApiServer) -> None:
    api = api_on_db
    api.deploy(GREET)
    first = api.start("company.ops", "greet", {"who": "ann"}, wait="true").json()
    second = next(t for t in first["taskRunList"] if t["taskId"] == "second")
    resp = api.client.post(
        f"{API}/executions/{first['id']}/actions/replay-with-inputs",
        params={"taskRunId": second["id"]},
        files={"who": (None, "bob")},
    )
    assert resp.status_code == 200, resp.text
    done = _until(api, resp.json()["id"], "SUCCESS")
    assert done["inputs"] == {"who": "bob"}
    values = {t["taskId"]: t["outputs"]["value"] for t in done["taskRunList"]}
    assert values == {"first": "first ann", "second": "second bob"}  # copied, run again
