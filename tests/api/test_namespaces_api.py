"""Namespaces over HTTP (docs/api.md, Namespaces): the search lists the deployed
flows' namespaces and their parents, as Kestra's open-source API does."""

from __future__ import annotations

from tests.api.conftest import API, ApiServer

FLOW = """\
id: {id}
namespace: {namespace}
tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: hi
"""


def test_search_lists_flow_namespaces_and_their_parents(api: ApiServer) -> None:
    api.deploy(FLOW.format(id="a", namespace="company.team"))
    api.deploy(FLOW.format(id="b", namespace="company.team.data"))
    api.deploy(FLOW.format(id="c", namespace="other"))
    for prefix in (API, "/api/v1"):
        found = api.client.get(f"{prefix}/namespaces/search").json()
        assert found["total"] == 4
        assert [n["id"] for n in found["results"]] == [
            "company",
            "company.team",
            "company.team.data",
            "other",
        ]
        assert all(n["deleted"] is False for n in found["results"])

    for params in ({"q": "TEAM"}, {"filters[q][EQUALS]": "team"}):
        q = api.client.get(f"{API}/namespaces/search", params=params).json()
        assert [n["id"] for n in q["results"]] == ["company.team", "company.team.data"]
    prefixed = api.client.get(
        f"{API}/namespaces/search", params={"filters[id][PREFIX]": "company.team"}
    ).json()
    assert prefixed["total"] == 2
    paged = api.client.get(
        f"{API}/namespaces/search", params={"page": 2, "size": 3, "sort": "id:desc"}
    ).json()
    assert paged == {"results": [{"id": "company", "deleted": False, "disabled": True}], "total": 4}


def test_get_answers_a_valid_namespace_and_refuses_a_bad_one(api: ApiServer) -> None:
    assert api.client.get(f"{API}/namespaces/company.team").json() == {
        "id": "company.team",
        "deleted": False,
    }
    bad = api.client.get(f"{API}/namespaces/Not Valid")
    assert bad.status_code == 422
    assert "invalid namespace" in bad.json()["message"]
    wrong_sort = api.client.get(f"{API}/namespaces/search", params={"sort": "id:sideways"})
    assert wrong_sort.status_code == 422
    assert ":asc or :desc" in wrong_sort.json()["message"]
    unknown = api.client.get(f"{API}/namespaces/search", params={"filters[state][EQUALS]": "x"})
    assert unknown.status_code == 422
    assert "filters[state]" in unknown.json()["message"]
