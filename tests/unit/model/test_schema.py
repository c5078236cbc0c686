"""The JSON Schema of the flow language (`lanner schema`).

`jsonschema` is not a dependency, so the schema is checked for structure (every
`$ref` resolves, every task type and alias is named) and, with a small validator
for the keywords it uses, against real flows: the seed flows and the examples."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lanner.model.schema import flow_json_schema
from lanner.model.yamlsource import load_yaml
from tests.unit.model.flowtools import REGISTRY, ROOT, SEED_DIR, load

SCHEMA = flow_json_schema(REGISTRY)
DEFS: dict[str, Any] = SCHEMA["$defs"]

try:  # pragma: no cover - only when installed
    import jsonschema
except ImportError:  # pragma: no cover
    jsonschema = None


def _walk(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def _resolve(ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = SCHEMA
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _flow_files() -> list[Path]:
    files = sorted(set(SEED_DIR.glob("*.yml")) | set((ROOT / "examples" / "flows").glob("*.yml")))
    return [f for f in files if f.is_file()]


# --- structure ----------------------------------------------------------------------------------


def test_schema_is_json_and_a_draft_2020_12_object_schema() -> None:
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["type"] == "object"
    assert set(SCHEMA["required"]) == {"id", "namespace", "tasks"}


def test_every_ref_resolves_to_a_def() -> None:
    refs = [(where, node["$ref"]) for where, node in _walk(SCHEMA) if "$ref" in node]
    assert refs, "the schema uses references"
    for where, ref in refs:
        assert isinstance(ref, str) and ref.startswith("#/$defs/"), (where, ref)
        assert ref.removeprefix("#/$defs/") in DEFS, f"{where}: {ref} does not resolve"
    mappings = [n["discriminator"]["mapping"] for _, n in _walk(SCHEMA) if "discriminator" in n]
    for mapping in mappings:
        for ref in mapping.values():
            assert ref.removeprefix("#/$defs/") in DEFS, ref


def test_no_def_is_a_bare_base_task() -> None:
    """Child task lists point at the union of all types, never at the base Task model."""
    assert "InvalidTask" not in DEFS
    assert "anyOf" in DEFS["Task"]
    for ref in (v["$ref"] for v in DEFS["Task"]["anyOf"]):
        assert ref.startswith("#/$defs/task:")


def test_every_task_type_and_alias_is_in_an_enum() -> None:
    enums: set[str] = set()
    for _, node in _walk(DEFS["Task"]):
        if "$ref" in node:
            variant = _resolve(node["$ref"])
            enums.update(variant["properties"]["type"]["enum"])
    assert set(REGISTRY.names()) <= enums
    for task_type in REGISTRY.types():
        variant = DEFS[f"task:{task_type.name}"]
        assert variant["properties"]["type"]["enum"] == [task_type.name, *task_type.aliases]
        assert "id" in variant["required"] and "type" in variant["required"]


def test_flowable_children_refer_to_every_task_type() -> None:
    for name in ("Sequential", "Parallel", "If", "Switch", "ForEach"):
        variant = DEFS[f"task:io.kestra.plugin.core.flow.{name}"]
        text = json.dumps(variant["properties"])
        assert '"$ref": "#/$defs/Task"' in text, name


def test_seed_flow_task_types_are_covered() -> None:
    enums = {
        n for t in REGISTRY.types() for n in DEFS[f"task:{t.name}"]["properties"]["type"]["enum"]
    }
    for path in sorted(SEED_DIR.glob("*.yml")):
        flow = load(path.read_text(encoding="utf-8"))
        for task in flow.all_tasks():
            assert task.type in enums, f"{path.name}: {task.type}"


# --- a small validator for the keywords the schema uses -----------------------------------------

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def _type_ok(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def _errors(value: Any, schema: Any, where: str = "") -> list[str]:
    """Errors of `value` against `schema` (type, enum, const, properties, required,
    additionalProperties, items, minItems, minLength, maxLength, pattern, minimum,
    anyOf, oneOf, allOf, $ref); other keywords are ignored."""
    if schema is True or schema == {}:
        return []
    if schema is False:
        return [f"{where}: not allowed"]
    out: list[str] = []
    if "$ref" in schema:
        out += _errors(value, _resolve(schema["$ref"]), where)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(value, n) for n in names):
            return [*out, f"{where}: {value!r} is not of type {names}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: {value!r} != {schema['const']!r}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            out.append(f"{where}: too short")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{where}: too long")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{where}: does not match {schema['pattern']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{where}: below {schema['minimum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            out.append(f"{where}: not above {schema['exclusiveMinimum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append(f"{where}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                out += _errors(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{where}: missing {key}")
        for key, item in value.items():
            if key in props:
                out += _errors(item, props[key], f"{where}.{key}")
            elif "additionalProperties" in schema:
                out += _errors(item, schema["additionalProperties"], f"{where}.{key}")
    for sub in schema.get("allOf", []):
        out += _errors(value, sub, where)
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            branches = [_errors(value, sub, where) for sub in schema[keyword]]
            passing = sum(1 for b in branches if not b)
            if passing == 0:
                best = min(branches, key=len)
                out.append(f"{where}: no {keyword} branch matches ({'; '.join(best[:3])})")
            elif keyword == "oneOf" and passing > 1:
                out.append(f"{where}: {passing} oneOf branches match")
    return out


def _validate(data: Any) -> list[str]:
    if jsonschema is not None:  # pragma: no cover - only when installed
        validator = jsonschema.Draft202012Validator(SCHEMA)
        return [e.message for e in validator.iter_errors(data)]
    return _errors(data, SCHEMA)


def test_the_small_validator_rejects_what_it_should() -> None:
    assert _validate({"id": "x", "namespace": "y"}) != []
    assert _validate({"id": "x", "namespace": "y", "tasks": []}) != []
    bad_type = {"id": "x", "namespace": "y", "tasks": [{"id": "a", "type": "no.such.Type"}]}
    assert _validate(bad_type) != []
    unknown = {
        "id": "x",
        "namespace": "y",
        "tasks": [{"id": "a", "type": "io.kestra.plugin.core.log.Log", "message": "m", "x": 1}],
    }
    assert _validate(unknown) != []


@pytest.mark.parametrize("path", _flow_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_valid_flows_are_valid_for_the_schema(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    data, _ = load_yaml(text)  # YAML 1.2, as editors read it: `id: no` is a string
    load(text)  # valid for Lanner ...
    assert _validate(data) == []  # ... and for an editor using the schema


@pytest.mark.parametrize(
    "extra",
    [
        {"runIf": True},
        {"runIf": "{{ inputs.go }}"},
        {"retry": {"type": "constant", "interval": "PT1S", "maxAttempt": 2}},
        {"timeout": "PT1M"},
    ],
)
def test_task_forms_lanner_accepts_are_valid_for_the_schema(extra: dict[str, Any]) -> None:
    data = {
        "id": "x",
        "namespace": "y",
        "tasks": [{"id": "a", "type": "io.kestra.plugin.core.log.Log", "message": "m", **extra}],
    }
    load(yaml.safe_dump(data))
    assert _validate(data) == []


@pytest.mark.parametrize(
    "extra",
    [
        {"taskDefaults": [{"type": "io.kestra.plugin.core.log.Log", "values": {"level": "WARN"}}]},
        {"labels": [{"key": "team", "value": "data"}]},
        {"labels": {"team": "data"}},
        {"extend": {"title": "A blueprint", "tags": ["Getting Started"]}},
    ],
)
def test_flow_forms_lanner_accepts_are_valid_for_the_schema(extra: dict[str, Any]) -> None:
    data = {
        "id": "x",
        "namespace": "y",
        "tasks": [{"id": "a", "type": "io.kestra.plugin.core.log.Log", "message": "m"}],
        **extra,
    }
    load(yaml.safe_dump(data))
    assert _validate(data) == []


@pytest.mark.parametrize(
    "task",
    [
        {"id": "l", "type": "io.kestra.plugin.core.execution.Labels", "labels": '{"a": "b"}'},
        {"id": "l", "type": "io.kestra.plugin.core.execution.Labels", "labels": {"a": "b"}},
        {"id": "f", "type": "io.kestra.core.tasks.executions.Fail", "condition": True},
    ],
)
def test_other_task_forms_are_valid_for_the_schema(task: dict[str, Any]) -> None:
    data = {"id": "x", "namespace": "y", "tasks": [task]}
    load(yaml.safe_dump(data))
    assert _validate(data) == []


def test_trigger_labels_in_list_form_are_valid_for_the_schema() -> None:
    trigger = {
        "id": "daily",
        "type": "io.kestra.plugin.core.trigger.Schedule",
        "cron": "@daily",
        "labels": [{"key": "source", "value": "schedule"}],
    }
    data = {
        "id": "x",
        "namespace": "y",
        "tasks": [{"id": "a", "type": "io.kestra.plugin.core.log.Log", "message": "m"}],
        "triggers": [trigger],
    }
    load(yaml.safe_dump(data))
    assert _validate(data) == []
