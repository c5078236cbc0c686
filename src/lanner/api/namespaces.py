"""Namespaces as Kestra's open-source API serves them: `GET /namespaces/search`
lists the namespaces of the deployed flows and every parent of them (Kestra's
`NamespaceUtils.asTree`), `GET /namespaces/{id}` answers any valid id. Lanner
keeps nothing on a namespace itself (its KV pairs and files have their own
endpoints), so there is nothing to create, update or delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.filters import Filter, parse, sort_keys, text_test

router = APIRouter(tags=["Namespaces"])
Ctx = Annotated[ApiContext, Depends(context)]


def _checked(namespace: str) -> str:
    from lanner.model.common import NAMESPACE_RE

    if not NAMESPACE_RE.match(namespace):
        raise ApiError(
            f"invalid namespace {namespace!r}: lower-case letters, digits, '.', '_' and '-'"
        )
    return namespace


def _with_parents(namespace: str) -> list[str]:
    parts = namespace.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _test(f: Filter) -> Callable[[str], bool]:
    if f.field == "q":
        return lambda n: f.value.lower() in n.lower()
    if f.field in ("id", "namespace"):
        return text_test(f.field, f.operation, f.value)
    raise ApiError(f"filters[{f.field}]: not a field namespaces can be searched by (q, id)")


@router.get("/namespaces/search")
def search_namespaces(
    request: Request,
    ctx: Ctx,
    q: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=10000)] = 10,
    sort: Annotated[list[str] | None, Query()] = None,
    existing: bool = False,  # every namespace listed has flows or children: all exist
) -> dict[str, Any]:
    """By id; `q` (1.x) or `filters[q]` (2.x) a substring of it, any case."""
    keys = sort_keys(sort, ("id",))
    tests = [_test(f) for f in parse(request.query_params.multi_items())]
    names = sorted({n for r in ctx.store.list_flows() for n in _with_parents(r.namespace)})
    if q:
        names = [n for n in names if q.lower() in n.lower()]
    names = [n for n in names if all(t(n) for t in tests)]
    if keys and keys[0][1]:
        names.reverse()
    chosen = names[(page - 1) * size : page * size]
    return {
        "results": [{"id": n, "deleted": False, "disabled": True} for n in chosen],
        "total": len(names),
    }


@router.get("/namespaces/{namespace}")
def get_namespace(namespace: str) -> dict[str, Any]:
    return {"id": _checked(namespace), "deleted": False}
