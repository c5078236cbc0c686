"""The KV store of a namespace (docs/kv.md): get, set, list, delete, as both
client generations call them. kestrapy 1.x lists a namespace's pairs with
`GET /namespaces/{ns}/kv`, 2.x with `GET /kv?filters[namespace][EQUALS]=ns`
(paged); both set with a `text/plain` body holding a JSON value.

Values read from a secret stay masked in every answer (docs/secrets.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.filters import Filter, parse, text_test
from lanner.api.schemas import paged
from lanner.errors import NotFoundError
from lanner.model.kvtypes import KVEntry

router = APIRouter(tags=["KV"])
Ctx = Annotated[ApiContext, Depends(context)]


def _access(ctx: ApiContext, namespace: str) -> Any:
    from lanner.model.common import NAMESPACE_RE
    from lanner.runtime.kvaccess import StoreKV

    if not NAMESPACE_RE.match(namespace):
        raise ApiError(
            f"invalid namespace {namespace!r}: lower-case letters, digits, '.', '_' and '-'"
        )
    return StoreKV(ctx.store, namespace)


def _iso(value: datetime | None) -> str | None:
    from lanner.engine.variables import iso

    return None if value is None else iso(value)


def entry_answer(entry: KVEntry) -> dict[str, Any]:
    """Kestra's KVEntry (the listing: no value)."""
    return {
        "namespace": entry.namespace,
        "key": entry.key,
        "type": entry.type.value,
        "revision": 1,
        "description": entry.description,
        "creationDate": _iso(entry.updated_at),
        "updateDate": _iso(entry.updated_at),
        "expirationDate": _iso(entry.expires_at),
    }


def _missing(namespace: str, key: str) -> NotFoundError:
    return NotFoundError(f"No value found for key '{key}' in namespace '{namespace}'")


@router.get("/namespaces/{namespace}/kv/inheritance")
def list_keys_with_inheritance(namespace: str, ctx: Ctx) -> list[dict[str, Any]]:
    """The pairs of the namespace and of its parents, nearest first (`kv()`'s lookup)."""
    from lanner.model.kvtypes import lineage

    access = _access(ctx, namespace)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for ns in lineage(namespace):
        for entry in access.entries(ns):
            if entry.key not in seen:
                seen.add(entry.key)
                out.append(entry_answer(entry))
    return out


@router.get("/namespaces/{namespace}/kv/{key}")
def key_value(namespace: str, key: str, ctx: Ctx) -> dict[str, Any]:
    from lanner.expr import taint

    entry = _access(ctx, namespace).get(namespace, key)
    if entry is None:
        raise _missing(namespace, key)
    return {
        "type": entry.type.value,
        "value": taint.shown(entry.value),
        "revision": 1,
        "updated": _iso(entry.updated_at),
    }


def _body_value(text: str) -> Any:
    """Kestra reads the body as JSON (`"text"`, `1`, `true`, `{...}`); what is not JSON
    is taken as text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@router.put("/namespaces/{namespace}/kv/{key}", status_code=200)
async def set_key_value(
    namespace: str,
    key: str,
    request: Request,
    ctx: Ctx,
    ttl: Annotated[str | None, Header()] = None,
    description: Annotated[str | None, Header()] = None,
) -> Response:
    text = (await request.body()).decode("utf-8", errors="replace")
    if not text:
        raise ApiError(f"KV pair '{key}': the body holds the value (JSON or text); it is empty")
    _access(ctx, namespace).set(namespace, key, _body_value(text), ttl=ttl, description=description)
    return Response(status_code=200)


@router.delete("/namespaces/{namespace}/kv/{key}")
def delete_key_value(namespace: str, key: str, ctx: Ctx) -> bool:
    """True when the pair existed (Kestra's answer)."""
    deleted: bool = _access(ctx, namespace).delete(namespace, key)
    return deleted


@router.delete("/namespaces/{namespace}/kv")
def delete_key_values(
    namespace: str, ctx: Ctx, request: Annotated[dict[str, Any], Body()]
) -> dict[str, list[str]]:
    keys = request.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ApiError('the body is {"keys": [KEY, ...]}')
    access = _access(ctx, namespace)
    return {"keys": [k for k in keys if access.delete(namespace, k)]}


@router.get("/namespaces/{namespace}/kv")
def list_keys(namespace: str, ctx: Ctx) -> list[dict[str, Any]]:
    return [entry_answer(e) for e in _access(ctx, namespace).entries(namespace)]


def _kv_test(f: Filter) -> Callable[[KVEntry], bool]:
    if f.field == "namespace":
        test = text_test(f.field, f.operation, f.value)
        return lambda e: test(e.namespace)
    if f.field in ("key", "q"):
        op = "CONTAINS" if f.field == "q" else f.operation
        test = text_test(f.field, op, f.value)
        return lambda e: test(e.key)
    raise ApiError(f"filters[{f.field}]: KV pairs are filtered by namespace, key or q")


@router.get("/kv")
def list_all_keys(
    request: Request,
    ctx: Ctx,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=1000)] = 10,
) -> JSONResponse:
    """Every pair (not expired) matching the filters, by namespace and key, paged."""
    filters = parse(request.query_params.multi_items())
    tests = [_kv_test(f) for f in filters]
    now = datetime.now(UTC)
    namespaces = sorted({ns for ns, _, _ in ctx.store.kv_index()})
    equal = [f.value for f in filters if f.field == "namespace" and f.operation == "EQUALS"]
    if equal:
        namespaces = [ns for ns in namespaces if ns in equal]
    rows = [e for ns in namespaces for e in ctx.store.kv_list(ns, now) if all(t(e) for t in tests)]
    chosen = rows[(page - 1) * size : page * size]
    return JSONResponse(paged([entry_answer(e) for e in chosen], len(rows)))
