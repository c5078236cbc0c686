"""The JSON Schema of the flow language, for editors' YAML extensions.

Every task type of the registry contributes its pydantic schema, with
`type` restricted to its name and aliases; child task lists refer back to
the union of all task types.
"""

from __future__ import annotations

from typing import Any

from lanner.model.flow import Flow
from lanner.plugin import TaskRegistry

_TASK_REF = {"$ref": "#/$defs/Task"}


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


def flow_json_schema(registry: TaskRegistry) -> dict[str, Any]:
    schema = Flow.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    defs: dict[str, Any] = schema.pop("$defs", {})
    base_names = {"Task", "InvalidTask"}
    variants: list[dict[str, Any]] = []
    for task_type in registry.types():
        model = task_type.model
        sub = model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
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
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://lanner.dev/flow.schema.json",
        **schema,
        "$defs": defs,
    }
    return _retarget(out, base_names)  # type: ignore[no-any-return]
