"""Flows: create and update from YAML (a new revision when the source
changed), get, delete, search, list by namespace, revisions, validate,
enable/disable."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.filters import flow_tests, parse, sort_keys, sorted_by
from lanner.api.schemas import (
    BulkResponse,
    IdWithNamespace,
    ValidateConstraintViolation,
    flow_answer,
)
from lanner.errors import FlowValidationError, NotFoundError
from lanner.model.flow import Flow
from lanner.store.base import FlowRecord

router = APIRouter(tags=["Flows"])
Ctx = Annotated[ApiContext, Depends(context)]
YAML_BODY = {"requestBody": {"content": {"application/x-yaml": {"schema": {"type": "string"}}}}}


async def _yaml(request: Request) -> str:
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("the flow source is not UTF-8 text") from None
    if not text.strip():
        raise ApiError("the request body is empty: send the flow's YAML source")
    return text


def _validate(ctx: ApiContext, source: str) -> Flow:
    from lanner.model.validate import load_flows

    loaded = load_flows(source, ctx.registry, defaults=ctx.config.pluginDefaults)
    if len(loaded) != 1:
        listed = ", ".join(f"{f.flow.namespace}.{f.flow.id} at line {f.line}" for f in loaded)
        raise ApiError(f"send one flow per request; this body holds {len(loaded)} ({listed})")
    return loaded[0].flow


def _record(
    ctx: ApiContext, namespace: str, flow_id: str, revision: int | None = None
) -> FlowRecord:
    record = ctx.store.get_flow(namespace, flow_id, revision)
    if record is None:
        which = f" revision {revision}" if revision is not None else ""
        raise NotFoundError(f"flow {namespace}.{flow_id}{which} not found")
    return record


def _deploy(ctx: ApiContext, flow: Flow, source: str) -> dict[str, Any]:
    ctx.store.deploy_flow(flow.namespace, flow.id, source)
    return flow_answer(_record(ctx, flow.namespace, flow.id), with_source=True)


@router.post("/flows", openapi_extra=YAML_BODY)
async def create_flow(request: Request, ctx: Ctx) -> dict[str, Any]:
    source = await _yaml(request)
    flow = _validate(ctx, source)
    if ctx.store.get_flow(flow.namespace, flow.id) is not None:
        raise ApiError(
            f"flow {flow.namespace}.{flow.id} already exists: update it with"
            f" PUT /api/v1/main/flows/{flow.namespace}/{flow.id}"
        )
    return _deploy(ctx, flow, source)


@router.get("/flows/search")
def search_flows(
    request: Request,
    ctx: Ctx,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=10000)] = 10,
    q: str | None = None,
    namespace: str | None = None,
    sort: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """By namespace then id unless `sort` says otherwise."""
    keys = sort_keys(sort, ("id", "namespace"))
    filters = parse(request.query_params.multi_items())
    tests = flow_tests(filters)
    rows = sorted(ctx.store.list_flows(), key=lambda r: (r.namespace, r.id))
    if namespace:
        rows = [
            r for r in rows if r.namespace == namespace or r.namespace.startswith(namespace + ".")
        ]
    if q:
        rows = [r for r in rows if q.lower() in r.id.lower() or q.lower() in r.namespace.lower()]
    rows = [r for r in rows if all(t(r) for t in tests)]
    rows = sorted_by(rows, keys, lambda r, f: r.id if f == "id" else r.namespace)
    chosen = rows[(page - 1) * size : page * size]
    return {"results": [flow_answer(r, with_source=False) for r in chosen], "total": len(rows)}


@router.get("/flows/distinct-namespaces")
def distinct_namespaces(ctx: Ctx, q: str | None = None) -> list[str]:
    names = sorted({r.namespace for r in ctx.store.list_flows()})
    return [n for n in names if not q or q.lower() in n.lower()]


@router.post("/flows/validate", openapi_extra=YAML_BODY)
async def validate_flows(request: Request, ctx: Ctx) -> list[dict[str, Any]]:
    """One answer per YAML document; `constraints` holds its problems, each located."""
    from lanner.model.validate import load_flows
    from lanner.model.yamlsource import split_documents

    text = await _yaml(request)
    documents = split_documents(text) or [(0, text)]
    out: list[dict[str, Any]] = []
    for index, (offset, part) in enumerate(documents):
        answer = ValidateConstraintViolation(index=index)
        try:
            [loaded] = load_flows(part, ctx.registry, defaults=ctx.config.pluginDefaults)
            answer.namespace, answer.flow = loaded.flow.namespace, loaded.flow.id
        except FlowValidationError as exc:
            located = [
                replace(p, line=p.line + offset) if p.line is not None else p for p in exc.problems
            ]
            answer.constraints = "\n".join(p.render() for p in located)
        except ValueError as exc:
            answer.constraints = str(exc)
        out.append(answer.model_dump())
    return out


def _set_disabled(source: str, disabled: bool) -> str:
    line = f"disabled: {'true' if disabled else 'false'}"
    pattern = re.compile(r"^disabled:.*$", re.MULTILINE)
    if pattern.search(source):
        return pattern.sub(line, source, count=1)
    return source.rstrip("\n") + "\n" + line + "\n"


def _toggle(ctx: ApiContext, ids: list[IdWithNamespace], disabled: bool) -> dict[str, Any]:
    records = [_record(ctx, i.namespace, i.id) for i in ids]
    count = 0
    for record in records:
        source = _set_disabled(record.source, disabled)
        flow = _validate(ctx, source)
        if ctx.store.deploy_flow(flow.namespace, flow.id, source)[1]:
            count += 1
    return BulkResponse(count=count).model_dump()


@router.post("/flows/disable/by-ids")
def disable_flows(ids: list[IdWithNamespace], ctx: Ctx) -> dict[str, Any]:
    """Kestra's way: the source gets `disabled: true`, a new revision."""
    return _toggle(ctx, ids, True)


@router.post("/flows/enable/by-ids")
def enable_flows(ids: list[IdWithNamespace], ctx: Ctx) -> dict[str, Any]:
    return _toggle(ctx, ids, False)


@router.get("/flows/{namespace}")
def list_flows_by_namespace(namespace: str, ctx: Ctx) -> list[dict[str, Any]]:
    rows = sorted(
        (r for r in ctx.store.list_flows() if r.namespace == namespace), key=lambda r: r.id
    )
    return [flow_answer(r, with_source=False) for r in rows]


@router.get("/flows/{namespace}/{flow_id}")
def get_flow(
    namespace: str,
    flow_id: str,
    ctx: Ctx,
    source: bool = False,
    revision: int | None = None,
) -> dict[str, Any]:
    # Kestra's `source` query parameter only trims the answer; the source is cheap here.
    return flow_answer(_record(ctx, namespace, flow_id, revision), with_source=True)


@router.put("/flows/{namespace}/{flow_id}", openapi_extra=YAML_BODY)
async def update_flow(namespace: str, flow_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    source = await _yaml(request)
    _record(ctx, namespace, flow_id)
    flow = _validate(ctx, source)
    if (flow.namespace, flow.id) != (namespace, flow_id):
        raise ApiError(
            f"the source defines {flow.namespace}.{flow.id}, not {namespace}.{flow_id}:"
            " a flow's namespace and id cannot change"
        )
    return _deploy(ctx, flow, source)


@router.delete("/flows/{namespace}/{flow_id}", status_code=204)
def delete_flow(namespace: str, flow_id: str, ctx: Ctx) -> Response:
    if not ctx.store.delete_flow(namespace, flow_id):
        raise NotFoundError(f"flow {namespace}.{flow_id} not found")
    return Response(status_code=204)


@router.get("/flows/{namespace}/{flow_id}/revisions")
def list_revisions(namespace: str, flow_id: str, ctx: Ctx) -> list[dict[str, Any]]:
    latest = _record(ctx, namespace, flow_id)
    out = []
    for revision in range(1, latest.revision + 1):
        record = ctx.store.get_flow(namespace, flow_id, revision)
        if record is not None:
            out.append(flow_answer(record, with_source=True))
    return out
