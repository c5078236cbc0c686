"""Functions: now(), fromJson(), secret(), uuid()... (SPEC §6.3)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from lanner.expr import ExpressionEngine, RenderError, Scope, env_secrets

NOW = dt.datetime(2025, 1, 2, 10, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ now() }}", "2025-01-02T10:30:15.123456Z"),
        ("{{ now('yyyy-MM-dd') }}", "2025-01-02"),
        ("{{ now(format='HH:mm', timeZone='America/New_York') }}", "05:30"),
        ("{{ now() | date('yyyy') }}", "2025"),
        ("{{ fromJson('{\"a\": [1, 2]}').a[1] }}", "2"),
        ("{{ json('[1]') }}", "[1]"),
        ("{{ fromJson(null) is null }}", "true"),
        ("{{ yaml('a: 1\nb: [x]').b[0] }}", "x"),
        ("{{ max(1, 5, 3) }}", "5"),
        ("{{ min(4, 2.5) }}", "2.5"),
        ("{{ range(1, 3) | join('-') }}", "1-2-3"),
    ],
)
def test_function(render: Callable[[str], str], template: str, expected: str) -> None:
    assert render(template) == expected


def test_now_uses_the_scope_not_the_clock(engine: ExpressionEngine) -> None:
    then = dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    assert engine.render("{{ now() }}", Scope(variables={}, now=then)) == (
        "1999-12-31T23:59:59.000000Z"
    )


def test_uuid_id_random_are_seeded(engine: ExpressionEngine) -> None:
    template = "{{ uuid() }} {{ uuid() }} {{ id() }} {{ randomInt(0, 1000) }}"
    first = engine.render(template, Scope(variables={}, now=NOW, seed=7))
    again = engine.render(template, Scope(variables={}, now=NOW, seed=7))
    other = engine.render(template, Scope(variables={}, now=NOW, seed=8))
    assert first == again != other
    u1, u2, ident, number = first.split()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", u1)
    assert u1 != u2
    assert re.fullmatch(r"[0-9A-Za-z]{22}", ident)
    assert 0 <= int(number) < 1000


def test_secret_resolves_and_reports_for_masking(engine: ExpressionEngine) -> None:
    seen: list[str] = []
    resolver = env_secrets({"SECRET_API_KEY": "czNjcjN0", "SECRET_JSON": "eyJ1IjogInVzZXIifQ=="})
    scope = Scope(variables={}, now=NOW, secrets=resolver, on_secret=seen.append)
    assert engine.render("{{ secret('api_key') }}", scope) == "s3cr3t"
    assert engine.render("{{ secret('JSON', subkey='u') }}", scope) == "user"
    assert seen == ["s3cr3t", '{"u": "user"}', "user"]


def test_secret_missing(engine: ExpressionEngine) -> None:
    scope = Scope(variables={}, now=NOW, secrets=env_secrets({}))
    with pytest.raises(RenderError, match=r"Cannot find secret for key 'NOPE'\."):
        engine.render("{{ secret('NOPE') }}", scope)


def test_error_logs_and_tasks_with_state(engine: ExpressionEngine) -> None:
    logs: list[Mapping[str, Any]] = [{"message": "boom", "taskId": "t1"}]
    states: dict[str, list[Mapping[str, Any]]] = {"FAILED": [{"taskId": "t1"}]}
    scope = Scope(
        variables={},
        now=NOW,
        error_logs=lambda: logs,
        tasks_with_state=lambda state: states.get(state, []),
    )
    assert engine.render("{{ errorLogs()[0].message }}", scope) == "boom"
    assert engine.render("{{ tasksWithState('failed') | length }}", scope) == "1"


def test_print_context(engine: ExpressionEngine, scope: Scope) -> None:
    assert engine.render("{{ fromJson(printContext()).flow.id }}", scope) == "hello"


@pytest.mark.parametrize(
    "template",
    [
        "{{ read('kestra:///file') }}",
        "{{ kv('KEY') }}",
        "{{ http('http://example.com') }}",
        "{{ fileURI('x') }}",
        "{{ secret('X') }}",  # no resolver in this scope
        "{{ errorLogs() }}",
        "{{ tasksWithState('FAILED') }}",
        "{{ randomInt(5, 1) }}",
        "{{ nosuchfunction() }}",
    ],
)
def test_unavailable_functions(render: Callable[[str], str], template: str) -> None:
    with pytest.raises(RenderError):
        render(template)


def test_rendering_does_not_mutate_variables(engine: ExpressionEngine) -> None:
    data = {"xs": [1]}
    scope = Scope(variables={"data": data}, now=NOW)
    assert engine.render("{{ data.xs + 2 }}{{ data.xs - 1 }}", scope) == "[1,2][]"
    assert data == {"xs": [1]}
