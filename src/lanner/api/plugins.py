"""The plugins this server runs, as Kestra's UI editor reads them (under
`/api/v1/plugins`, without a tenant, as Kestra and kestrapy 2.x call it):

- `GET /plugins`: the task, trigger and condition types, grouped by package
  (Kestra's Plugin list: `name`, `group`, `tasks`, `triggers`, `conditions`...);
- `GET /plugins/schemas/flow` (and `task`): the JSON Schema of the flow
  language (`lanner.model.schema`), which the editor completes and validates from;
- `GET /plugins/{type}`: one type's documentation: `schema.properties` (its JSON
  Schema), `schema.definitions`, and `markdown` (its description).

Schemas are computed once per server: the registry does not change while it runs."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from lanner.api.context import ApiContext, context
from lanner.api.errors import ApiError
from lanner.api.schemas import paged
from lanner.errors import NotFoundError

router = APIRouter(tags=["Plugins"])
Ctx = Annotated[ApiContext, Depends(context)]

_lock = threading.Lock()
_cache: dict[tuple[int, str], Any] = {}


def _cached(ctx: ApiContext, key: str, make: Any) -> Any:
    with _lock:
        slot = (id(ctx.registry), key)
        if slot not in _cache:
            _cache[slot] = make()
        return _cache[slot]


def _models(ctx: ApiContext) -> dict[str, tuple[str, Any]]:
    """Every documented type name (aliases too) -> (kind, model)."""
    from lanner.model.conditions import CONDITION_TYPES
    from lanner.model.triggers import TRIGGER_TYPES

    out: dict[str, tuple[str, Any]] = {}
    for task_type in ctx.registry.types():
        for name in (task_type.name, *task_type.aliases):
            out[name] = ("tasks", task_type.model)
    for name, model in TRIGGER_TYPES.items():
        out[name] = ("triggers", model)
    for plugin in ctx.registry.triggers():  # the trigger types of plugins
        for name in (plugin.name, *plugin.aliases):
            out[name] = ("triggers", plugin.model)
    for name, model in CONDITION_TYPES.items():
        out[name] = ("conditions", model)
    return out


def _group(name: str) -> str:
    return name.rsplit(".", 1)[0]


def _plugins(ctx: ApiContext) -> list[dict[str, Any]]:
    import lanner

    canonical: dict[str, tuple[str, Any]] = {}
    for task_type in ctx.registry.types():
        canonical[task_type.name] = ("tasks", task_type.model)
    for plugin in ctx.registry.triggers():
        canonical[plugin.name] = ("triggers", plugin.model)
    for name, (kind, model) in _models(ctx).items():
        if kind != "tasks" and name.startswith("io.kestra.plugin.core."):
            canonical[name] = (kind, model)
    groups: dict[str, dict[str, Any]] = {}
    for name in sorted(canonical):
        kind, _ = canonical[name]
        group = _group(name)
        entry = groups.setdefault(
            group,
            {
                "name": group,
                "title": group.rsplit(".", 1)[-1],
                "group": group,
                "version": getattr(lanner, "__version__", None),
                "tasks": [],
                "triggers": [],
                "conditions": [],
                "taskRunners": [],
                "secrets": [],
                "storages": [],
                "controllers": [],
                "aliases": [],
            },
        )
        entry[kind].append(name)
    return [groups[g] for g in sorted(groups)]


@router.get("/plugins")
def list_plugins(
    ctx: Ctx, page: int | None = None, size: int | None = None
) -> list[dict[str, Any]] | dict[str, Any]:
    """Kestra 1.x's list; paged (`results`, `total`) when `page` or `size` is given,
    as Kestra 2.0 answers."""
    result: list[dict[str, Any]] = _cached(ctx, "plugins", lambda: _plugins(ctx))
    if page is None and size is None:
        return result
    first, count = max(page or 1, 1), max(size or 50, 1)
    return paged(result[(first - 1) * count : first * count], len(result))


@router.get("/plugins/schemas/{schema_type}")
def plugin_schema(schema_type: str, ctx: Ctx) -> dict[str, Any]:
    from lanner.model.schema import flow_json_schema

    kind = schema_type.lower()
    if kind not in ("flow", "task"):
        raise ApiError(f"schema {schema_type}: the schemas served here are flow and task")
    flow: dict[str, Any] = _cached(ctx, "flow", lambda: flow_json_schema(ctx.registry))
    if kind == "flow":
        return flow
    return {
        "$schema": flow.get("$schema"),
        "$ref": "#/$defs/Task",
        "$defs": flow.get("$defs", {}),
    }


def _documentation(name: str, model: Any) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, ref_template="#/definitions/{model}")
    definitions = schema.pop("$defs", {})
    return {
        "cls": name,
        "markdown": (model.__doc__ or "").strip() or None,
        "schema": {
            "properties": schema,
            "outputs": None,
            "definitions": definitions,
        },
    }


@router.get("/plugins/{cls}")
def plugin_documentation(cls: str, ctx: Ctx) -> dict[str, Any]:
    known = _models(ctx)
    if cls not in known:
        raise NotFoundError(f"plugin type {cls} not found (GET /api/v1/plugins lists them)")
    _, model = known[cls]
    doc: dict[str, Any] = _cached(ctx, f"doc:{cls}", lambda: _documentation(cls, model))
    return doc
