"""The JSON Schema of the flow language, for editors' YAML extensions.

Every task type of the registry contributes its pydantic schema, with
`type` restricted to its name and aliases; child task lists refer back to
the union of all task types. A property validation rejects as not supported
(:mod:`lanner.model.unsupported`) is not offered, or offered with only the
values that are accepted (``logToFile: false``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from lanner.model.common import _to_str
from lanner.model.flow import Flow, complete_flow_model
from lanner.model.unsupported import unsupported_fields
from lanner.plugin import TaskRegistry

_TASK_REF = {"$ref": "#/$defs/Task"}

_LABELS = {
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": "string"},
                    "value": {"type": ["string", "number", "boolean"]},
                },
                "required": ["key", "value"],
                "additionalProperties": False,
            },
        },
        {"type": "null"},
    ],
    "description": "Labels, as a map or as a list of {key, value}.",
}

# Old property names the models still accept (and rename): new name -> old name.
_OLD_NAMES = {"maxAttempts": "maxAttempt", "logLevel": "minLogLevel"}


class _FlowSchema(GenerateJsonSchema):
    """What the models accept, not only what they store: a `Text` property also takes a
    plain number or boolean (``runIf: true``)."""

    def function_before_schema(
        self, schema: core_schema.BeforeValidatorFunctionSchema
    ) -> JsonSchemaValue:
        inner = super().function_before_schema(schema)
        function = schema.get("function", {}).get("function")
        if function is _to_str and inner.get("type") == "string":
            return {**inner, "type": ["string", "number", "boolean"]}
        return inner

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        out = super().model_schema(schema)
        rejected = unsupported_fields(schema["cls"])
        properties = out.get("properties")
        if rejected and isinstance(properties, dict):
            for name, (accepted, reason) in rejected.items():
                if name not in properties:
                    continue
                if accepted:
                    values = sorted(accepted, key=str)
                    shown = ", ".join(map(json.dumps, values))
                    properties[name] = {
                        "enum": values,
                        "description": f"Only {shown} is accepted: {reason}.",
                    }
                else:
                    del properties[name]
            if "required" in out:
                out["required"] = [n for n in out["required"] if n in properties]
        return out


def _accept_old_forms(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    """Labels in list form, deprecated property names and a blueprint's `extend`, as
    the loader accepts them."""
    props = schema["properties"]
    # Read by the loader, not a Flow property (docs/flows.md).
    props["extend"] = {
        "type": "object",
        "title": "Extend",
        "description": "A Kestra blueprint's metadata (title, description, tags, ...): "
        "read, never run.",
    }
    if "pluginDefaults" in props:
        props["taskDefaults"] = {**props["pluginDefaults"], "deprecated": True}
    for definition in [schema, *defs.values()]:
        properties = definition.get("properties")
        if not isinstance(properties, dict):
            continue
        labels = properties.get("labels")
        # A map-only `labels` (flow, triggers) also takes the list form; the Labels task
        # declares its own forms.
        if isinstance(labels, dict) and {b.get("type") for b in labels.get("anyOf", [])} == {
            "object",
            "null",
        }:
            properties["labels"] = {**_LABELS, "title": labels.get("title", "Labels")}
        for new, old in _OLD_NAMES.items():
            if new in properties and old not in properties:
                properties[old] = {**properties[new], "deprecated": True}


def _retarget(node: Any, task_names: set[str]) -> Any:
    """Point every reference to the base Task model at the union of task types."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in task_names:
            return dict(_TASK_REF)
        return {k: _retarget(v, task_names) for k, v in node.items()}
    if isinstance(node, list):
        return [_retarget(v, task_names) for v in node]
    return node


def _add_plugin_triggers(
    schema: dict[str, Any], defs: dict[str, Any], registry: TaskRegistry
) -> None:
    """The trigger types of plugins (`lanner.triggers`) beside the built-in ones."""
    plugins = registry.triggers()
    if not plugins:
        return
    items = schema["properties"]["triggers"]
    # `triggers` is a list or null: its list's items are the union of the trigger types.
    listed = next(b for b in items.get("anyOf", [items]) if b.get("type") == "array")
    union = listed["items"]
    variants = list(union.get("oneOf") or union.get("anyOf") or [union])
    for plugin in plugins:
        sub = plugin.model.model_json_schema(
            by_alias=True, ref_template="#/$defs/{model}", schema_generator=_FlowSchema
        )
        for name, definition in sub.pop("$defs", {}).items():
            defs.setdefault(name, definition)
        sub["properties"]["type"] = {
            "type": "string",
            "enum": [plugin.name, *plugin.aliases],
            "description": "The trigger type.",
        }
        sub["title"] = plugin.name
        key = f"trigger:{plugin.name}"
        defs[key] = sub
        variants.append({"$ref": f"#/$defs/{key}"})
    listed["items"] = {"oneOf": variants}


def flow_json_schema(registry: TaskRegistry) -> dict[str, Any]:
    complete_flow_model()
    schema = Flow.model_json_schema(
        by_alias=True, ref_template="#/$defs/{model}", schema_generator=_FlowSchema
    )
    defs: dict[str, Any] = schema.pop("$defs", {})
    base_names = {"Task", "InvalidTask"}
    variants: list[dict[str, Any]] = []
    for task_type in registry.types():
        model = task_type.model
        sub = model.model_json_schema(
            by_alias=True, ref_template="#/$defs/{model}", schema_generator=_FlowSchema
        )
        for name, definition in sub.pop("$defs", {}).items():
            defs.setdefault(name, definition)
        names = [task_type.name, *task_type.aliases]
        sub["properties"]["type"] = {
            "type": "string",
            "enum": names,
            "description": "The task type.",
        }
        sub["title"] = task_type.name
        key = f"task:{task_type.name}"
        defs[key] = sub
        variants.append({"$ref": f"#/$defs/{key}"})
    defs["Task"] = {"anyOf": variants, "description": "A task: its `type` selects its properties."}
    _add_plugin_triggers(schema, defs, registry)
    _accept_old_forms(schema, defs)
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://lanner.dev/flow.schema.json",
        **schema,
        "$defs": defs,
    }
    return _retarget(out, base_names)  # type: ignore[no-any-return]
