"""Hostile payloads: each fails with a SandboxError naming its limit, before
the work is done — never a success, never a crash, never a runaway process.

The limits are the defaults of ``lanner.expr.limits`` except where a test
shrinks one to keep the suite fast (the time limits).
"""

from __future__ import annotations

import datetime as dt
import time
import tracemalloc
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from lanner.expr import ExpressionEngine, RenderError, SandboxError, Scope
from lanner.expr import limits as lim
from lanner.expr.limits import Limits

NOW = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)


def _chain(start: str, step: str, times: int, end: str) -> str:
    return start + step * times + end


LIST_CHAIN = _chain(
    "{% set a = [1,2,3,4,5,6,7,8,9,10] %}",
    "{% set a = [a,a,a,a,a,a,a,a,a,a] %}",
    12,
    "{{ a | length }}",
)
MAP_CHAIN = _chain(
    "{% set a = {'k': 'vvvvvvvvvv'} %}",
    "{% set a = {'a':a,'b':a,'c':a,'d':a,'e':a,'f':a,'g':a,'h':a,'i':a,'j':a} %}",
    12,
    "{{ a }}",
)
TUPLE_CHAIN = _chain("{% set a = (1, 2) %}", "{% set a = (a, a, a, a) %}", 20, "{{ a | length }}")
SQUARES = _chain("{% set x = 3 %}", "{% set x = x * x %}", 40, "{{ x }}")
LAUGHS = (
    "{{ yaml('"
    + "\n".join(
        [f"l0: &l0 [{','.join(['lol'] * 9)}]"]
        + [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    )
    + "') }}"
)
BIG = "{% set s = range(0, 50000) | join('😀😀😀😀😀😀😀😀😀😀') %}"

# (template, what the message must name)
PAYLOADS: list[tuple[str, str]] = [
    (LIST_CHAIN, "the limit for one value"),
    (MAP_CHAIN, "the limit for one value"),
    (TUPLE_CHAIN, "the limit for one value"),
    (LIST_CHAIN.replace("{{ a | length }}", "{{ a | toJson | length }}"), "limit for one value"),
    (SQUARES, "64-bit integer range"),
    ("{{ 2 ** 64 }}", "64-bit integer range"),
    ("{{ 9223372036854775807 + 1 }}", "64-bit integer range"),
    ("{{ -9223372036854775807 - 2 }}", "64-bit integer range"),
    (LAUGHS, "the limit for one value"),
    ("{{ yaml('a: &a [*a]') }}", "nested more than 200 levels"),
    ("{{ fromJson('" + "[" * 300 + "]" * 300 + "') }}", "nested more than 200 levels"),
    ("{{ fromJson('" + "[" * 5000 + "]" * 5000 + "') }}", "nested more than 200 levels"),
    ("{{ range(0, 99999) | join('\n') | indent(1000) | length }}", "output limit"),
    ("{{ range(0, 99999) | join('\n') | nindent(1000) | length }}", "output limit"),
    ("{{ 'a' | indent(10, '" + "x" * 200 + "') }}", "limit"),
    (BIG + "{{ (s + s) | length }}", "output limit"),
    (BIG + "{{ (s ~ s) | length }}", "output limit"),
    (
        BIG + "".join(f"{{% set a{i} = s ~ {i} %}}" for i in range(40)) + "{{ a1 | length }}",
        "the memory limit of a render",
    ),
    (
        BIG + "{% macro m(n, acc) %}{{ n > 0 ? m(n - 1, acc ~ n) : acc | length }}"
        "{% endmacro %}{{ m(45, s) }}",
        "the memory limit of a render",
    ),
    ("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(1) }}", "nested more than 50 deep"),
    ("{{ range(0, 1000000) | length }}", "Range too big"),
    ("{{ render(range(0, 9999) | join('{{ 1 }}')) }}", "template made at run time"),
    ("{{ range(0, 20000) | join('x') | replace({'x': range(0, 99) | join('') }) }}", "limit"),
]


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return ExpressionEngine()


def _scope() -> Scope:
    return Scope(variables={"xs": [1, 2, 3]}, now=NOW)


@pytest.mark.parametrize(("template", "limit"), PAYLOADS, ids=range(len(PAYLOADS)))
def test_hostile_payload_fails_on_its_limit(
    engine: ExpressionEngine, template: str, limit: str
) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(SandboxError) as caught:
            engine.render(template, _scope())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert limit in caught.value.message
    # Bounded before the work: far below what the payload asks for.
    assert peak < 150 * 1024 * 1024


def test_the_limits_are_the_documented_constants(engine: ExpressionEngine) -> None:
    assert engine.limits == Limits()
    assert engine.limits.output_chars == lim.MAX_OUTPUT_CHARS == 1 << 20
    assert engine.limits.value_bytes == lim.MAX_VALUE_BYTES
    assert engine.limits.render_seconds == lim.MAX_RENDER_SECONDS


def test_values_under_the_limits_still_render(engine: ExpressionEngine) -> None:
    scope = _scope()
    assert engine.render("{% set a = [1, 2] %}{% set a = [a, a] %}{{ a }}", scope) == (
        "[[1,2],[1,2]]"
    )
    assert engine.render("{{ 9223372036854775806 + 1 }}", scope) == "9223372036854775807"
    assert engine.render("{{ 2 ** 62 }}", scope) == str(2**62)
    assert engine.render("{{ 'a\nb' | indent(2) }}", scope) == "a\n  b"
    assert engine.render("{{ yaml('a: &a [1, 2]\nb: *a') }}", scope) == ('{"a":[1,2],"b":[1,2]}')
    assert engine.render("{{ range(0, 9999) | join(',') | length }}", scope) == "48889"


def _timed(limits: Limits) -> Callable[[str], str]:
    engine = ExpressionEngine(limits=limits)
    return lambda template: engine.render(template, _scope())


@pytest.mark.parametrize(
    "slow",
    [
        "{% for i in range(0, 99999) %}{% for j in range(0, 9) %}{{ '' }}{% endfor %}{% endfor %}",
        # 2**40 macro calls, none deeper than 40: only the clock stops them.
        "{% macro m(n) %}{% if n > 0 %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
        "{{ m(40) }}",
        "{{ range(0, 99999) | join(',') | replace({'0': '0', '1': '1', '2': '2', '3': '3'}) }}",
    ],
)
def test_a_render_stops_at_its_deadline(slow: str) -> None:
    render = _timed(Limits(render_seconds=0.001))
    start = time.monotonic()
    with pytest.raises(SandboxError, match="the time limit of a render"):
        render(slow)
    assert time.monotonic() - start < 30  # a guard against a runaway, not a timing


def test_the_deadline_is_per_render() -> None:
    render = _timed(Limits(render_seconds=5))
    for _ in range(3):
        assert render("{{ 1 }}") == "1"


@pytest.mark.parametrize(
    ("template", "seconds", "message"),
    [
        ("{{ 1 | jq('def f: f; f') }}", 1, "jq program ran longer than 1 s, the time limit"),
        ("{{ 1 | jq('[range(1e9)]') }}", 60, "needed more than 64 MiB, the memory limit"),
        ("{{ 1 | jq('\"x\" * 100000000') }}", 60, "needed more than 64 MiB, the memory limit"),
        ("{{ 1 | jq('[limit(3000000; repeat(1))]') }}", 60, "limit"),
    ],
)
def test_jq_is_bounded_in_time_and_memory(template: str, seconds: float, message: str) -> None:
    render = _timed(Limits(jq_seconds=seconds, jq_memory_bytes=64 << 20, render_seconds=120))
    with pytest.raises(SandboxError, match=message):
        render(template)
    # The helper that ran over was replaced: jq still works.
    assert render("{{ [1, 2] | jq('.[] | . * 2') }}") == "[2,4]"


def test_errors_of_a_limit_are_render_errors(engine: ExpressionEngine) -> None:
    with pytest.raises(RenderError):
        engine.render(SQUARES, _scope())


def test_renders_in_progress_share_the_process_memory_limit() -> None:
    from lanner.expr import pebble

    engine = ExpressionEngine(limits=Limits(process_render_bytes=12 << 20))
    build = BIG + "{% set t = s ~ 'x' %}{{ t | length }}"  # about 6 MB, twice
    inner: list[BaseException] = []

    def another_render() -> list[Mapping[str, Any]]:
        # A second render while the first is in progress, as a worker
        # thread would start one.
        try:
            engine.render(build, _scope())
        except SandboxError as exc:
            inner.append(exc)
        return []

    scope = Scope(variables={}, now=NOW, error_logs=another_render)
    assert engine.render(build, scope) == "738896"  # alone, each fits
    engine.render(build + "{{ errorLogs() }}", scope)
    assert inner
    assert "the memory limit of the renders of a process" in str(inner[0])
    assert pebble._process_memory == 0  # what a render counted is given back
