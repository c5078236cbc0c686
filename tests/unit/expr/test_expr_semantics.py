"""Rendering rules of SPEC §6.1: strictness, single pass, output conversion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from lanner.expr import ExpressionEngine, RenderError, Scope


def test_string_without_brace_is_returned_unparsed(render: Callable[[str], str]) -> None:
    text = "no expression here %} }} endfor"
    assert render(text) is text


@pytest.mark.parametrize(
    ("template", "variable"),
    [
        ("{{ x }}", "x"),
        ("{{ outputs.missing.value }}", "missing"),
        ("{{ outputs.first.missing }}", "missing"),
        ("{{ inputs.name ~ nope }}", "nope"),
        ("{{ xs[10] }}", "10"),
        ("{% for i in nope %}{% endfor %}", "nope"),
    ],
)
def test_strict_undefined(render: Callable[[str], str], template: str, variable: str) -> None:
    with pytest.raises(RenderError) as info:
        render(template)
    assert info.value.variable == variable
    assert info.value.expression == template
    assert str(info.value) == (
        f"Unable to find `{variable}` used in the expression `{template}` at line 1"
    )


def test_strict_undefined_reports_line_and_task(engine: ExpressionEngine) -> None:
    scope = Scope(variables={"a": 1}, now=dt.datetime.now(dt.UTC), task_id="my-task")
    template = "line one {{ a }}\nline two {{ b }}"
    with pytest.raises(RenderError) as info:
        engine.render(template, scope)
    assert "at line 2" in str(info.value)
    assert "my-task" in str(info.value)
    assert info.value.task_id == "my-task"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ outputs.missing ?? 'd' }}", "d"),
        ("{{ outputs.missing.deep.chain ?? 'd' }}", "d"),
        ("{{ outputs.first.nothing ?? 'd' }}", "d"),  # null -> right side
        ("{{ outputs.first.value ?? 'd' }}", "abc"),
        ("{{ outputs.first.value ?? outputs.never }}", "abc"),  # right side is lazy
        ("{{ outputs.a ?? outputs.b ?? 'c' }}", "c"),
        ("{{ outputs.missing ??? 'd' }}", "d"),
        ("{{ outputs.first.nothing ??? 'd' }}", ""),  # defined null stays null
        ("{{ outputs.missing.x ??? 'd' }}", "d"),
    ],
)
def test_coalescing(render: Callable[[str], str], template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{% raw %}{{ not rendered }}{% endraw %}", "{{ not rendered }}"),
        ("a{% raw %}{% if %}'\"{{{% endraw %}b", "a{% if %}'\"{{b"),
        ("{{ '{{ x }}' }}", "{{ x }}"),  # a string literal is not re-rendered
        ("{{ '}}' ~ \"{{\" }}", "}}{{"),  # braces inside literals are just text
    ],
)
def test_raw_and_literals(render: Callable[[str], str], template: str, expected: str) -> None:
    assert render(template) == expected


def test_single_pass(render: Callable[[str], str]) -> None:
    assert render("{{ vars.template }}") == "{{ inputs.name }}"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ render(vars.template) }}", "World"),
        ("{{ render(vars.nested) }}", "World"),  # recursive by default
        ("{{ render(vars.nested, false) }}", "{{ inputs.name }}"),
        ("{{ renderOnce(vars.nested) }}", "{{ inputs.name }}"),
        ("{{ render(3) }}", "3"),
    ],
)
def test_render_function(render: Callable[[str], str], template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ null }}", ""),
        ("{{ true }}", "true"),
        ("{{ False }}", "false"),
        ("{{ 1 }}", "1"),
        ("{{ 1.5 }}", "1.5"),
        ("{{ 1.0 }}", "1.0"),
        ("{{ 100.0 * 100000 }}", "1.0E7"),
        ("{{ 0.0001 }}", "1.0E-4"),
        ("{{ 123456789.5 }}", "1.234567895E8"),
        ("{{ {'a': 1, 'b': [1, 2]} }}", '{"a":1,"b":[1,2]}'),
        ("{{ ['é', null, true] }}", '["é",null,true]'),
        ("{{ m }}", '{"a":1,"b":[1,2]}'),
    ],
)
def test_output_conversion(render: Callable[[str], str], template: str, expected: str) -> None:
    assert render(template) == expected


def test_datetime_output(engine: ExpressionEngine) -> None:
    moment = dt.datetime(2025, 1, 1, 10, 0, 0, 123456, tzinfo=dt.UTC)
    scope = Scope(variables={"d": moment}, now=moment)
    assert engine.render("{{ d }}", scope) == "2025-01-01T10:00:00.123456Z"
    assert engine.render("{{ [d] }}", scope) == '["2025-01-01T10:00:00.123456Z"]'


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Pebble's loop: index from 0, revindex down to 0
        ("{% for x in xs %}{{ loop.index }}{% endfor %}", "012"),
        ("{% for x in xs %}{{ loop.revindex }}{% endfor %}", "210"),
        ("{% for x in xs %}{{ loop.length }}{% endfor %}", "333"),
        (
            "{% for x in xs %}{{ loop.first }},{{ loop.last }};{% endfor %}",
            "true,false;false,false;false,true;",
        ),
        ("{% for x in [] %}a{% else %}empty{% endfor %}", "empty"),
        ("{% for x in null %}a{% endfor %}", ""),
        ("{% for e in {'a': 1} %}{{ e.key }}={{ e.value }}{% endfor %}", "a=1"),
        ("{% for k, v in {'a': 1, 'b': 2} %}{{ k }}{{ v }}{% endfor %}", "a1b2"),
        ("{% for i in 0..2 %}{{ i }}{% endfor %}", "012"),
        ("{% if 1 > 2 %}a{% elseif 2 > 1 %}b{% else %}c{% endif %}", "b"),
        ("{% if 1 > 2 %}a{% elif true %}b{% endif %}", "b"),
        ("{% if 'false' %}yes{% endif %}", "yes"),  # a non-empty string is true
        ("{% if 0 %}yes{% else %}no{% endif %}", "no"),
        ("{% set y = 3 %}{{ y * 2 }}", "6"),
        ("{% macro hi(n) %}hi {{ n }}{% endmacro %}{{ hi('bob') }}", "hi bob"),
        ("{% filter upper %}abc{% endfilter %}", "ABC"),
        ("line\n", "line\n"),  # no trailing newline trimming
    ],
)
def test_statements(render: Callable[[str], str], template: str, expected: str) -> None:
    assert render(template) == expected


def test_if_on_a_map_is_an_error_as_in_pebble(render: Callable[[str], str]) -> None:
    with pytest.raises(RenderError, match="Expected a boolean"):
        render("{% if m %}x{% endif %}")


def test_syntax_error_names_expression(render: Callable[[str], str]) -> None:
    with pytest.raises(RenderError, match=r"in the expression `\{\{ 1 \+ \}\}` at line 1"):
        render("{{ 1 + }}")


def test_render_value_walks_structures(engine: ExpressionEngine, scope: Scope) -> None:
    value = {"{{ inputs.name }}": ["{{ inputs.count }}", 3, None, {"k": "{{ true }}"}]}
    assert engine.render_value(value, scope) == {"World": ["7", 3, None, {"k": "true"}]}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("xs", [3, 1, 2]),
        ("inputs.count + 1", 8),
        ("m", {"a": 1, "b": [1, 2]}),
        ("outputs.first.nothing", None),
        ("outputs.missing ?? [1]", [1]),
        ("1..3", [1, 2, 3]),
        ("inputs.flag", True),
        ("'{{ not rendered }}'", "{{ not rendered }}"),
    ],
)
def test_evaluate(
    engine: ExpressionEngine, scope: Scope, expression: str, expected: object
) -> None:
    assert engine.evaluate(expression, scope) == expected


@pytest.mark.parametrize("expression", ["missing", "1 }}{{ 2", "x +"])
def test_evaluate_errors(engine: ExpressionEngine, scope: Scope, expression: str) -> None:
    with pytest.raises(RenderError):
        engine.evaluate(expression, scope)
