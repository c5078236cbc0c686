"""The KV store over real HTTP: set with a text/plain JSON body (typed from the
JSON), get, list per namespace (1.x path), list with filters (2.x path, paged),
with inheritance, delete one and many; a secret value stays masked."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import pytest

from lanner.config import Config
from tests.api.conftest import API, ApiServer

NS = f"{API}/namespaces/company.team/kv"

SETS_A_SECRET = """\
id: keeper
namespace: company.team
tasks:
  - id: keep
    type: io.kestra.plugin.core.kv.Set
    key: token
    value: "{{ secret('API_TOKEN') }}"
"""


def _put(api: ApiServer, url: str, body: str, **headers: str) -> None:
    resp = api.client.put(url, content=body, headers={"Content-Type": "text/plain", **headers})
    assert resp.status_code == 200, resp.text


def test_set_get_list_delete(api_on_db: ApiServer) -> None:
    api = api_on_db  # on SQLite and PostgreSQL
    _put(api, f"{NS}/name", '"Ada"')
    _put(api, f"{NS}/count", "42")
    _put(api, f"{NS}/conf", '{"a": [1, 2]}')
    _put(api, f"{NS}/raw", "not json", description="kept as text")
    _put(api, f"{API}/namespaces/company/kv/parent", "true", ttl="PT1H")
    got = api.client.get(f"{NS}/count").json()
    assert got["type"] == "NUMBER" and got["value"] == 42
    assert api.client.get(f"{NS}/conf").json() == {
        **api.client.get(f"{NS}/conf").json(),
        "type": "JSON",
        "value": {"a": [1, 2]},
    }
    assert api.client.get(f"{NS}/raw").json()["value"] == "not json"
    assert api.client.get(f"{NS}/name").json()["value"] == "Ada"
    listed = api.client.get(NS).json()
    assert [e["key"] for e in listed] == ["conf", "count", "name", "raw"]
    assert listed[3]["description"] == "kept as text"
    inherited = api.client.get(f"{NS}/inheritance").json()
    assert [(e["namespace"], e["key"]) for e in inherited][-1] == ("company", "parent")
    assert inherited[-1]["expirationDate"] is not None
    paged = api.client.get(
        f"{API}/kv",
        params={"filters[namespace][EQUALS]": "company.team", "size": 2, "page": 2},
    ).json()
    assert paged["total"] == 4 and [e["key"] for e in paged["results"]] == ["name", "raw"]
    prefixed = api.client.get("/api/v1/kv", params={"filters[namespace][PREFIX]": "company"})
    assert prefixed.json()["total"] == 5
    bad = api.client.get(f"{API}/kv", params={"filters[value][EQUALS]": "x"})
    assert bad.status_code == 422 and "filters[value]" in bad.json()["message"]
    assert api.client.delete(f"{NS}/name").json() is True
    assert api.client.delete(f"{NS}/name").json() is False
    missing = api.client.get(f"{NS}/name")
    assert missing.status_code == 404
    assert "No value found for key 'name'" in missing.json()["message"]
    many = api.client.request("DELETE", NS, json={"keys": ["count", "raw", "nope"]})
    assert many.json() == {"keys": ["count", "raw"]}
    assert [e["key"] for e in api.client.get(NS).json()] == ["conf"]


def test_bad_keys_and_namespaces_are_422(api: ApiServer) -> None:
    resp = api.client.put(f"{NS}/bad%20key", content="1")
    assert resp.status_code == 422 and "invalid KV key" in resp.json()["message"]
    resp = api.client.get(f"{API}/namespaces/Bad!/kv")
    assert resp.status_code == 422 and "invalid namespace" in resp.json()["message"]


def test_a_value_from_a_secret_stays_masked(
    api_factory: Callable[[Config], ApiServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "tok-123456789"
    # Set before the server starts: its executor reads the secrets once.
    monkeypatch.setenv("SECRET_API_TOKEN", base64.b64encode(token.encode()).decode())
    api = api_factory(Config())
    api.deploy(SETS_A_SECRET)
    execution = api.start("company.team", "keeper", wait="true").json()
    assert execution["state"]["current"] == "SUCCESS", execution
    for _ in range(50):
        got = api.client.get(f"{NS}/token")
        if got.status_code == 200:
            break
        time.sleep(0.05)
    assert got.json()["value"] == "******"
    assert token not in api.client.get(f"{NS}/token").text
