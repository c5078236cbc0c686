"""Flows over real HTTP: create, update (revisions), get, search, list by
namespace, validate, enable/disable, delete."""

from __future__ import annotations

from tests.api.conftest import API, ApiServer
from tests.api.flows import FAILING, HELLO, SLEEPY

YAML = {"Content-Type": "application/x-yaml"}


def test_create_get_update_and_revisions(api: ApiServer) -> None:
    created = api.deploy(HELLO)
    assert created["id"] == "hello" and created["namespace"] == "company.team"
    assert created["revision"] == 1 and created["source"] == HELLO
    assert created["labels"] == [{"key": "team", "value": "data"}]
    assert created["disabled"] is False and created["deleted"] is False

    again = api.client.post(f"{API}/flows", content=HELLO, headers=YAML)
    assert again.status_code == 422 and "already exists" in again.json()["message"]

    changed = HELLO.replace("careful", "very careful")
    updated = api.client.put(f"{API}/flows/company.team/hello", content=changed, headers=YAML)
    assert updated.status_code == 200 and updated.json()["revision"] == 2
    # The tenant-less prefix serves the same API.
    got = api.client.get("/api/v1/flows/company.team/hello").json()
    assert got["revision"] == 2 and got["source"] == changed
    first = api.client.get(f"{API}/flows/company.team/hello", params={"revision": 1}).json()
    assert first["source"] == HELLO
    revisions = api.client.get(f"{API}/flows/company.team/hello/revisions").json()
    assert [r["revision"] for r in revisions] == [1, 2]


def test_update_refuses_another_id_and_unknown_flows(api: ApiServer) -> None:
    api.deploy(HELLO)
    moved = api.client.put(f"{API}/flows/company.team/hello", content=SLEEPY, headers=YAML)
    assert moved.status_code == 422 and "cannot change" in moved.json()["message"]
    missing = api.client.put(f"{API}/flows/company.team/nope", content=HELLO, headers=YAML)
    assert missing.status_code == 404


def test_invalid_yaml_is_422_with_the_line(api: ApiServer) -> None:
    bad = "id: x\nnamespace: a\ntasks:\n  - id: t\n    type: no.such.Task\n"
    resp = api.client.post(f"{API}/flows", content=bad, headers=YAML)
    assert resp.status_code == 422
    body = resp.json()
    assert ":5:" in body["message"] and "no.such.Task" in body["message"]
    assert body["_embedded"]["errors"][0]["message"] == body["message"]
    broken = api.client.post(f"{API}/flows", content="id: [unclosed\n", headers=YAML)
    assert broken.status_code == 422 and ":1:" in broken.json()["message"]
    empty = api.client.post(f"{API}/flows", content="", headers=YAML)
    assert empty.status_code == 422 and "empty" in empty.json()["message"]


def test_validate_answers_200_with_one_located_entry_per_document(api: ApiServer) -> None:
    text = HELLO + "---\nid: y\nnamespace: a\ntasks: []\n"
    resp = api.client.post(f"{API}/flows/validate", content=text, headers=YAML)
    assert resp.status_code == 200
    ok, bad = resp.json()
    assert ok["index"] == 0 and ok["constraints"] is None and ok["flow"] == "hello"
    line = HELLO.count("\n") + 4  # `tasks: []`, counted in the whole text
    assert bad["index"] == 1 and f":{line}:" in bad["constraints"], bad


def test_search_pages_and_filters(api: ApiServer) -> None:
    for source in (HELLO, SLEEPY, FAILING):
        api.deploy(source)
    page = api.client.get(f"{API}/flows/search", params={"size": 2, "page": 1}).json()
    assert page["total"] == 3 and len(page["results"]) == 2
    assert "source" not in page["results"][0]
    second = api.client.get(f"{API}/flows/search", params={"size": 2, "page": 2}).json()
    assert [f["id"] for f in second["results"]] == ["sleepy"]
    team = api.client.get(
        f"{API}/flows/search", params={"filters[namespace][EQUALS]": "company.team"}
    ).json()
    assert sorted(f["id"] for f in team["results"]) == ["hello", "sleepy"]
    prefix = api.client.get(
        f"{API}/flows/search", params={"filters[namespace][PREFIX]": "company"}
    ).json()
    assert prefix["total"] == 3
    query = api.client.get(f"{API}/flows/search", params={"filters[q][EQUALS]": "fail"}).json()
    assert [f["id"] for f in query["results"]] == ["failing"]
    bad = api.client.get(f"{API}/flows/search", params={"filters[color][EQUALS]": "red"})
    assert bad.status_code == 422 and "color" in bad.json()["message"]
    backwards = api.client.get(f"{API}/flows/search", params={"sort": "id:desc"}).json()
    assert [f["id"] for f in backwards["results"]] == ["sleepy", "hello", "failing"]
    listed = api.client.get(f"{API}/flows/company.team").json()
    assert [f["id"] for f in listed] == ["hello", "sleepy"]
    names = api.client.get(f"{API}/flows/distinct-namespaces").json()
    assert names == ["company.ops", "company.team"]


def test_disable_and_enable_write_a_revision(api: ApiServer) -> None:
    api.deploy(HELLO)
    ids = [{"namespace": "company.team", "id": "hello"}]
    assert api.client.post(f"{API}/flows/disable/by-ids", json=ids).json() == {"count": 1}
    flow = api.client.get(f"{API}/flows/company.team/hello").json()
    assert flow["disabled"] is True and flow["revision"] == 2
    refused = api.start("company.team", "hello")
    assert refused.status_code == 422 and "disabled" in refused.json()["message"]
    assert api.client.post(f"{API}/flows/enable/by-ids", json=ids).json() == {"count": 1}
    assert api.client.get(f"{API}/flows/company.team/hello").json()["disabled"] is False
    assert api.start("company.team", "hello", wait="true").json()["state"]["current"] == "SUCCESS"


def test_delete(api: ApiServer) -> None:
    api.deploy(HELLO)
    assert api.client.delete(f"{API}/flows/company.team/hello").status_code == 204
    assert api.client.get(f"{API}/flows/company.team/hello").status_code == 404
    assert api.client.delete(f"{API}/flows/company.team/hello").status_code == 404


def test_one_flow_per_request_and_no_store_location_in_errors(api: ApiServer) -> None:
    two = api.client.post(f"{API}/flows", content=HELLO + "---\n" + SLEEPY, headers=YAML)
    assert two.status_code == 422 and "one flow per request" in two.json()["message"]
    missing = api.client.get(f"{API}/executions/nope").json()["message"]
    assert missing == "execution nope not found"
    assert "sqlite" not in api.client.post(f"{API}/executions/a/b").text


def test_flow_json_reads_yaml_as_kestra_does(api: ApiServer) -> None:
    """`yes`, `no`, `on` and dates stay strings in the flow JSON, as in the flow that
    runs (PyYAML's YAML 1.1 rules would make them booleans and datetimes)."""
    source = (
        "id: yaml_rules\nnamespace: company.team\nlabels:\n  since: 2024-01-01\n"
        "tasks:\n  - id: yes\n    type: io.kestra.plugin.core.log.Log\n    message: on\n"
        "  - id: no\n    type: io.kestra.plugin.core.log.Log\n    message: 2024-01-02\n"
    )
    api.deploy(source)
    got = api.client.get(f"{API}/flows/company.team/yaml_rules").json()
    assert [(t["id"], t["message"]) for t in got["tasks"]] == [
        ("yes", "on"),
        ("no", "2024-01-02"),
    ]
    assert got["labels"] == [{"key": "since", "value": "2024-01-01"}]
    listed = api.client.get(f"{API}/flows/company.team").json()
    assert [t["id"] for t in listed[0]["tasks"]] == ["yes", "no"]
