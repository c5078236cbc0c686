"""A flow's graph (Kestra's FlowGraph) over HTTP, from a deployed flow and from a source."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import API, ApiServer

BRANCHY = """\
id: branchy
namespace: company.team
tasks:
  - id: first
    type: io.kestra.plugin.core.log.Log
    message: one
  - id: fan
    type: io.kestra.plugin.core.flow.Parallel
    tasks:
      - id: a
        type: io.kestra.plugin.core.log.Log
        message: a
      - id: b
        type: io.kestra.plugin.core.log.Log
        message: b
  - id: choose
    type: io.kestra.plugin.core.flow.If
    condition: "{{ true }}"
    then:
      - id: yes
        type: io.kestra.plugin.core.log.Log
        message: y
errors:
  - id: alert
    type: io.kestra.plugin.core.log.Log
    message: failed
"""


def _relations(graph: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["source"], e["target"], e["relation"]["relationType"]) for e in graph["edges"]}


def test_graph_of_a_deployed_flow_and_of_a_source(api: ApiServer) -> None:
    api.deploy(BRANCHY)
    resp = api.client.get(f"{API}/flows/company.team/branchy/graph")
    assert resp.status_code == 200, resp.text
    graph = resp.json()
    uids = {n["uid"] for n in graph["nodes"]}
    assert {
        "root.root",
        "root.end",
        "root.first",
        "root.fan.tasks.a",
        "root.choose.then.yes",
    } <= uids
    assert "root.errors.alert" in uids
    edges = _relations(graph)
    assert ("root.root", "root.first", "SEQUENTIAL") in edges
    assert ("root.fan", "root.fan.tasks.a", "PARALLEL") in edges
    assert ("root.fan", "root.fan.tasks.b", "PARALLEL") in edges
    assert ("root.choose", "root.choose.then.yes", "CHOICE") in edges
    assert ("root.root", "root.errors.root", "ERROR") in edges
    clusters = {c["cluster"]["uid"]: c for c in graph["clusters"]}
    assert "root.fan.tasks.a" in clusters["cluster_root.fan"]["nodes"]
    assert graph["flowables"] == ["fan", "choose"]

    same = api.client.post(
        f"{API}/flows/graph", content=BRANCHY, headers={"Content-Type": "application/x-yaml"}
    )
    assert same.status_code == 200 and _relations(same.json()) == edges
    bad = api.client.post(
        f"{API}/flows/graph", content="id: x\n", headers={"Content-Type": "application/x-yaml"}
    )
    assert bad.status_code == 422
    assert api.client.get(f"{API}/flows/company.team/nope/graph").status_code == 404
