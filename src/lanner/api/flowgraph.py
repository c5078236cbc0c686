"""A flow's graph as Kestra's FlowGraph: `nodes`, `edges` (with their relation),
`clusters` (a flowable task and what it holds), `flowables`.

Drawn from the flow's document (its YAML as JSON); the UI's topology draws this
graph (ui/static/topology.js), so the two cannot disagree. A task's children
are the task lists among its properties (`tasks`, `then`, `else`, `cases.X`,
`errors`, `finally`, ...). Each list is a chain
(SEQUENTIAL), or side by side (PARALLEL) under Parallel, ForEach and the
like; `then`/`else`/`cases` are CHOICE branches. The flow's `errors`,
`finally` and `afterExecution` blocks are clusters of their own, beside the
main chain. Node uids are dotted task paths under `root`."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from lanner.api.context import ApiContext, context
from lanner.api.schemas import flow_answer, flow_document

router = APIRouter(tags=["Flows"])
Ctx = Annotated[ApiContext, Depends(context)]

_G = "io.kestra.core.models.hierarchies."
_PARALLEL = re.compile(r"\.(Parallel|ForEach|WorkingDirectory|AllowFailure|Dag|EachParallel)$")
_BLOCKS = (("errors", "ERROR"), ("finally", "FINALLY"), ("afterExecution", "AFTER_EXECUTION"))


def _is_task(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str) and "type" in value


def _task_lists(task: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in task.items():
        if isinstance(value, list) and value and all(_is_task(v) for v in value):
            out.append((key, value))
        elif isinstance(value, dict):
            for sub, inner in value.items():
                if isinstance(inner, list) and inner and all(_is_task(v) for v in inner):
                    out.append((f"{key}.{sub}", inner))
    return out


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self.clusters: list[dict[str, Any]] = []
        self.flowables: list[str] = []
        self._open: list[dict[str, Any]] = []  # the clusters being filled, outermost first

    def node(self, uid: str, kind: str, **fields: Any) -> str:
        self.nodes.append({"uid": uid, "type": _G + kind, **fields})
        for cluster in self._open:
            cluster["nodes"].append(uid)
        return uid

    def edge(self, source: str, target: str, relation: str, value: str | None = None) -> None:
        self.edges.append(
            {
                "source": source,
                "target": target,
                "relation": {"relationType": relation, "value": value},
            }
        )

    def chain(
        self, tasks: list[dict[str, Any]], prefix: str, start: str, end: str, relation: str
    ) -> None:
        parallel = relation == "PARALLEL"
        previous = start
        for task in tasks:
            first, last = self.task(task, prefix, relation)
            self.edge(start if parallel else previous, first, relation)
            if parallel:
                self.edge(last, end, relation)
            previous = last
        if not parallel:
            self.edge(previous, end, relation)

    def cluster(
        self, uid: str, relation: str, task: dict[str, Any] | None
    ) -> tuple[dict[str, Any], str, str]:
        entry, exit_ = f"{uid}.root", f"{uid}.end"
        cluster = {
            "cluster": {
                "uid": f"cluster_{uid}",
                "type": _G + "GraphCluster",
                "relationType": relation,
            }
            | ({"task": task} if task is not None else {}),
            "nodes": [],
            "parents": [c["cluster"]["uid"] for c in self._open],
            "start": entry,
            "end": exit_,
        }
        self.clusters.append(cluster)
        self._open.append(cluster)
        self.node(entry, "GraphClusterRoot")
        self.node(exit_, "GraphClusterEnd")
        return cluster, entry, exit_

    def task(self, task: dict[str, Any], prefix: str, relation: str) -> tuple[str, str]:
        uid = f"{prefix}.{task['id']}"
        lists = _task_lists(task)
        if not lists:
            self.node(uid, "GraphTask", task=task, relationType=relation)
            return uid, uid
        self.flowables.append(task["id"])
        _, entry, exit_ = self.cluster(uid, relation, task)
        self.node(uid, "GraphTask", task=task, relationType=relation)
        self.edge(entry, uid, relation)
        parallel = bool(_PARALLEL.search(str(task.get("type", ""))))
        for key, children in lists:
            if key in ("errors", "finally"):
                inner = "ERROR" if key == "errors" else "FINALLY"
            elif key in ("then", "else") or key.startswith("cases."):
                inner = "CHOICE"
            else:
                inner = "PARALLEL" if parallel else "SEQUENTIAL"
            self.chain(children, f"{uid}.{key}", uid, exit_, inner)
        self.close()
        return entry, exit_

    def close(self) -> None:
        """The innermost open cluster is complete."""
        self._open.pop()


def flow_graph(document: dict[str, Any]) -> dict[str, Any]:
    g = _Graph()
    start = g.node("root.root", "GraphClusterRoot")
    end = g.node("root.end", "GraphClusterEnd")
    g.chain(list(document.get("tasks") or []), "root", start, end, "SEQUENTIAL")
    for block, relation in _BLOCKS:
        tasks = document.get(block)
        if isinstance(tasks, list) and tasks:
            _, entry, exit_ = g.cluster(f"root.{block}", relation, None)
            g.chain(tasks, f"root.{block}", entry, exit_, relation)
            g.close()
            g.edge(start, entry, relation)
            g.edge(exit_, end, relation)
    return {"nodes": g.nodes, "edges": g.edges, "clusters": g.clusters, "flowables": g.flowables}


@router.get("/flows/{namespace}/{flow_id}/graph")
def graph_of_flow(
    namespace: str, flow_id: str, ctx: Ctx, revision: int | None = None
) -> dict[str, Any]:
    from lanner.api.flows import _record

    record = _record(ctx, namespace, flow_id, revision)
    return flow_graph(flow_answer(record, with_source=False))


@router.post("/flows/graph")
async def graph_of_source(request: Request, ctx: Ctx) -> dict[str, Any]:
    """The graph of a YAML source (validated first: an invalid flow is a 422)."""
    from lanner.api.flows import _validate, _yaml

    source = await _yaml(request)
    await run_in_threadpool(_validate, ctx, source)
    return flow_graph(flow_document(source))
