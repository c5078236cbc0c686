"""`lanner schema` describes `sla` and `listeners` as validation accepts them."""

from __future__ import annotations

from typing import Any

from lanner.model.schema import flow_json_schema
from tests.unit.model.flowtools import REGISTRY

DEFS: dict[str, Any] = flow_json_schema(REGISTRY)["$defs"]


def test_an_sla_needs_a_behavior_and_the_field_of_its_type() -> None:
    sla = DEFS["Sla"]
    assert set(sla["required"]) == {"id", "type", "behavior"}
    [rule] = sla["allOf"]
    assert rule["if"] == {"properties": {"type": {"const": "MAX_DURATION"}}}
    assert rule["then"] == {"required": ["duration"], "not": {"required": ["assert"]}}
    assert rule["else"] == {"required": ["assert"], "not": {"required": ["duration"]}}
    assert "anyOf" in sla["properties"]["labels"]  # a map or a list of {key, value}


def test_a_listener_is_offered_only_the_conditions_it_can_evaluate() -> None:
    conditions = DEFS["Listener"]["properties"]["conditions"]["anyOf"][0]["items"]["oneOf"]
    names = {ref["$ref"].rsplit("/", 1)[-1] for ref in conditions}
    assert "ExecutionStatus" in names and "Expression" in names
    assert not names & {"PublicHoliday", "MultipleCondition"}
