"""Execution search over HTTP on each backend: Kestra's filters reach the store's SQL
(namespace prefix, flow REGEX, labels, state, dates), with paging and the total."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import API, ApiServer
from tests.api.flows import FAILING, HELLO


def test_filters_sort_and_paging_on_each_backend(api_on_db: ApiServer) -> None:
    api = api_on_db
    api.deploy(HELLO)
    api.deploy(FAILING)
    hello = [
        api.start("company.team", "hello", wait="true", labels=[f"n:{i}"]).json()["id"]
        for i in range(3)
    ]
    failed = api.start("company.ops", "failing", wait="true").json()["id"]

    def search(**params: Any) -> dict[str, Any]:
        resp = api.client.get(f"{API}/executions/search", params=params)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def ids(**params: Any) -> list[str]:
        return [e["id"] for e in search(**params)["results"]]

    assert ids(size=10) == [failed, *reversed(hello)]
    page = search(size=2, page=2)
    assert page["total"] == 4 and [e["id"] for e in page["results"]] == [hello[1], hello[0]]
    assert all(len(e["taskRunList"]) == 2 for e in search(size=2, page=2)["results"])
    assert ids(**{"filters[namespace][PREFIX]": "company"}) == [failed, *reversed(hello)]
    assert ids(**{"filters[flowId][REGEX]": "^fail"}) == [failed]
    assert ids(**{"filters[labels][EQUALS][n]": "1"}) == [hello[1]]
    assert ids(**{"filters[state][IN]": "FAILED"}) == [failed]
    assert ids(**{"filters[state][NOT_IN]": "FAILED", "sort": "state.startDate:asc"}) == hello
    assert ids(**{"filters[timeRange][EQUALS]": "PT1H", "filters[q][EQUALS]": "OPS"}) == [failed]
    bad = api.client.get(f"{API}/executions/search", params={"filters[id][REGEX]": "("})
    assert bad.status_code == 422 and "REGEX" in bad.json()["message"]
