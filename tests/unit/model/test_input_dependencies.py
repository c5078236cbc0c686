"""`dependsOn.condition` and SELECT/MULTISELECT `expression` at execution time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lanner.engine.inputrender import input_renderer
from lanner.errors import InputValueError
from lanner.model.inputs import parse_inputs
from tests.unit.model.flowtools import flow_data, load, log

RENDER = input_renderer("a", "f", 1, datetime(2026, 1, 1, tzinfo=UTC))


def _inputs(*declared: dict[str, Any]) -> Any:
    return load(flow_data([log("t")], inputs=list(declared))).inputs


def test_an_input_is_resolved_after_the_inputs_it_depends_on() -> None:
    declared = _inputs(
        {
            "id": "b",
            "type": "STRING",
            "dependsOn": {"inputs": ["a"], "condition": "{{ inputs.a == 'yes' }}"},
        },
        {"id": "a", "type": "STRING"},
    )
    assert parse_inputs(declared, {"a": "yes", "b": "x"}, render=RENDER) == {"b": "x", "a": "yes"}
    assert parse_inputs(declared, {"a": "no", "b": "x"}, render=RENDER) == {"a": "no"}


@pytest.mark.parametrize("condition", ["{{ 'true' }} ", "{{ true }}"])
def test_a_condition_rendering_true_enables_the_input(condition: str) -> None:
    declared = _inputs(
        {"id": "x", "type": "INT", "defaults": 3, "dependsOn": {"condition": condition}}
    )
    assert parse_inputs(declared, {}, render=RENDER) == {"x": 3}


@pytest.mark.parametrize("condition", ["{{ 1 }}", "yes", "{{ false }}", "TRUE"])
def test_anything_but_true_disables_the_input(condition: str) -> None:
    declared = _inputs({"id": "x", "type": "INT", "dependsOn": {"condition": condition}})
    assert parse_inputs(declared, {"x": "4"}, render=RENDER) == {}


def test_a_condition_that_cannot_render_is_an_input_error() -> None:
    declared = _inputs({"id": "x", "type": "INT", "dependsOn": {"condition": "{{ nope }}"}})
    with pytest.raises(
        InputValueError, match=r"input 'x': Invalid condition: Unable to find `nope`"
    ):
        parse_inputs(declared, {}, render=RENDER)


def test_a_multiselect_expression_gives_the_allowed_values() -> None:
    declared = _inputs({"id": "m", "type": "MULTISELECT", "expression": "{{ ['a', 'b'] }}"})
    assert parse_inputs(declared, {"m": '["b"]'}, render=RENDER) == {"m": ["b"]}
    with pytest.raises(InputValueError, match="'c' is not one of 'a', 'b'"):
        parse_inputs(declared, {"m": '["c"]'}, render=RENDER)


@pytest.mark.parametrize("expression", ["{{ [1, 2] }}", "a,b", "{{ {'a': 1} }}"])
def test_an_expression_must_render_to_a_list_of_strings(expression: str) -> None:
    declared = _inputs({"id": "s", "type": "SELECT", "expression": expression})
    with pytest.raises(InputValueError, match="expression must render to a list of strings"):
        parse_inputs(declared, {"s": "a"}, render=RENDER)
