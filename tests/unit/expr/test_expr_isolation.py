"""What an expression cannot see: the process environment, files through
jq's module system, and Python's own names for things."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lanner.expr import ExpressionEngine, RenderError, SandboxError, Scope, jqproc

SECRET = "s3cr3t-value-from-the-environment"


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_PASSWORD", SECRET)
    monkeypatch.setenv("LANNER_DB", f"postgresql://lanner:{SECRET}@db:5432/lanner")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ {} | jq('$ENV.SECRET_PASSWORD') }}", "[null]"),
        ("{{ {} | jq('$ENV') }}", "[{}]"),
        ("{{ {} | jq('env.SECRET_PASSWORD') }}", "[null]"),
        ("{{ {} | jq('env') }}", "[{}]"),
        ("{{ {} | jq('env | keys') }}", "[[]]"),
        ("{{ {} | jq('\"\\\\(env)\\\\($ENV)\"') }}", '["{}{}"]'),
        ("{{ {} | jq('[$ENV[]]') }}", "[[]]"),
        ("{{ {} | jq('$__loc__') }}", '[{"file":"<top-level>","line":1}]'),
        ("{{ 1 | jq('input_filename') }}", "[null]"),
        ("{{ 1 | jq('[inputs]') }}", "[[]]"),
        ("{{ 1 | jq('debug, stderr, debug(\"msg\")') }}", "[1,1,1]"),
        ("{{ 1 | jq('1, halt, 2') }}", "[1]"),
        ("{{ 1 | jq('get_search_list') }}", "[[]]"),
        ("{{ 1 | jq('[get_prog_origin, get_jq_origin]') }}", "[[null,null]]"),
        ("{{ 1 | jq('localtime | length') }}", "[8]"),
    ],
)
def test_jq_sees_no_environment(
    secret_env: None, render: Callable[[str], str], template: str, expected: str
) -> None:
    output = render(template)
    assert output == expected
    assert SECRET not in output


@pytest.mark.parametrize(
    ("program", "message"),
    [
        ("input", "jq input is not available"),
        ('"stop" | halt_error', "stop"),
        ("{} | halt_error(3)", "{}"),
        ('"x" | modulemeta', "modules are not available"),
        ('import "d" as $d {search: "TMP"}; $d', "modules (import, include, module)"),
        ('include "m" {search: "TMP"}; f', "modules (import, include, module)"),
        ('# a comment\n  import "d" as $d {search: "TMP"}; $d', "modules"),
        ('module {}; import "d" as $d {search: "TMP"}; $d', "modules"),
        ('1 | import "d" as $d; $d', "syntax error"),
        (".[", "syntax error"),
        ("$__prog_args", "not defined"),
    ],
)
def test_jq_side_doors_fail(
    tmp_path: Path, engine: ExpressionEngine, program: str, message: str
) -> None:
    (tmp_path / "d.json").write_text('{"read": "contents-of-the-file"}')
    (tmp_path / "m.jq").write_text("def f: 42;")
    program = program.replace("TMP", str(tmp_path))
    scope = Scope(variables={"program": program}, now=dt.datetime.now(dt.UTC))
    with pytest.raises(RenderError) as caught:
        engine.render("{{ 1 | jq(program) }}", scope)
    assert message in caught.value.message
    assert "contents-of-the-file" not in caught.value.message


def test_jq_module_directive_is_refused_before_any_helper_runs() -> None:
    with pytest.raises(SandboxError, match="modules"):
        jqproc.run_jq('include "x"; 1', "1", seconds=5, memory=64 << 20, limit=1000)


def test_the_jq_helper_cannot_open_files_even_without_the_prelude(tmp_path: Path) -> None:
    """Defence in depth: a module directive that got past the checks still
    reads nothing, as the helper cannot open a file descriptor."""
    (tmp_path / "d.json").write_text('{"read": "contents-of-the-file"}')
    helper = jqproc._Helper(64 << 20)
    try:
        program = f'import "d" as $d {{search: "{tmp_path}"}}; $d'
        request = json.dumps({"program": program, "prelude": "", "limit": 1000}).encode()
        answer = helper.ask(request, b"1", time.monotonic() + 30)
    finally:
        helper.kill()
    assert answer is not None
    reply = json.loads(answer)
    assert "error" in reply
    assert "contents-of-the-file" not in answer.decode()


def test_jq_helpers_are_reused(render: Callable[[str], str]) -> None:
    render("{{ 1 | jq('.') }}")
    start = time.monotonic()
    for i in range(20):
        assert render("{{ " + str(i) + " | jq('. + 1') }}") == f"[{i + 1}]"
    # Twenty calls on a warm helper: no process start each time (a helper
    # takes some 50 ms to start; a loaded machine gets a wide margin).
    assert time.monotonic() - start < 20


def test_jq_runs_in_parallel_threads(engine: ExpressionEngine, scope: Scope) -> None:
    import threading

    results: list[str] = []

    def work(n: int) -> None:
        results.append(engine.render("{{ " + str(n) + " | jq('. * 2') }}", scope))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == sorted(f"[{2 * n}]" for n in range(6))


# --- type names -----------------------------------------------------------------

CLASS_NAMES = [
    ("'a'", "java.lang.String"),
    ("1", "java.lang.Integer"),
    ("3000000000", "java.lang.Long"),
    ("1.5", "java.lang.Double"),
    ("true", "java.lang.Boolean"),
    ("[1]", "java.util.ArrayList"),
    ("(1, 2)", "java.util.ArrayList"),
    ("{'a': 1}", "java.util.LinkedHashMap"),
    ("outputs.first", "java.util.LinkedHashMap"),
    ("outputs.first.items", "java.util.ArrayList"),
    ("inputs.count", "java.lang.Integer"),
    ("fromJson('123456789012345678901234567890')", "java.math.BigInteger"),
    ("yaml('d: 2024-01-02').d", "java.time.LocalDate"),
    ("yaml('d: 2024-01-02T10:00:00Z').d", "java.time.ZonedDateTime"),
    ("now()", "java.lang.String"),
    ("null", ""),
]


@pytest.mark.parametrize(("value", "name"), CLASS_NAMES)
def test_class_name_is_kestras_java_name(
    render: Callable[[str], str], value: str, name: str
) -> None:
    assert render("{{ " + value + " | className }}") == name


def test_loop_is_pebbles_map(render: Callable[[str], str]) -> None:
    out = render("{% for x in [7, 8] %}{{ loop | className }} {{ loop }};{% endfor %}")
    assert out == (
        'java.util.HashMap {"index":0,"revindex":1,"first":true,"last":false,"length":2};'
        'java.util.HashMap {"index":1,"revindex":0,"first":false,"last":true,"length":2};'
    )
    assert render("{% for x in [7] %}{{ loop.index }}{{ loop | length }}{% endfor %}") == "05"


@pytest.mark.parametrize(
    "template",
    [
        "{{ now }}",
        "{{ now | className }}",
        "{{ [now] }}",
        "{% set f = now %}{{ f() }}",
        "{% macro m() %}x{% endmacro %}{{ m }}",
        "{% macro m() %}x{% endmacro %}{{ m | className }}",
        "{{ range | length }}",
        "{{ secret }}",
        "{{ render ~ '' }}",
    ],
)
def test_a_function_named_without_a_call_is_undefined(
    render: Callable[[str], str], template: str
) -> None:
    with pytest.raises(RenderError, match="Unable to find `"):
        render(template)


def test_a_function_or_macro_name_can_still_be_tested_and_defaulted(
    render: Callable[[str], str],
) -> None:
    assert render("{{ now is defined }}") == "false"
    assert render("{{ now ?? 'none' }}") == "none"
    assert render("{% macro m() %}x{% endmacro %}{{ m() }}{{ m() | upper }}") == "xX"
    assert render("{% set now = 5 %}{{ now }}") == "5"  # a variable of that name is a value


PYTHON_NAMES = (
    "LoopContext",
    "Macro",
    "function",
    "'int'",
    "'str'",
    "'list'",
    "'dict'",
    "NoneType",
    "TypeError",
    "KeyError",
    "ValueError",
    "InvalidOperation",
    "jinja2",
    "__index__",
    "C int",
    "<class",
)


@pytest.mark.parametrize(
    "template",
    [
        "{% for x in [1] %}{{ loop | upper | number }}{% endfor %}",
        "{{ 'a' | abbreviate('x') }}",
        "{{ 'abc' | slice('a') }}",
        "{{ 'abc'[1:'x'] }}",
        "{{ [1] | date }}",
        "{{ {'a': 1} | timestamp }}",
        "{{ now() | dateAdd(999999999999, 'DAYS') }}",
        "{{ 1 | round(1000000000) }}",
        "{{ 99999999999999999999 | date }}",
        "{% for a, b in [1] %}{% endfor %}",
        "{{ {'a': 1}[1:2] }}",
        "{{ [1, 'a'] | sort }}",
        "{{ 'x' | number }}",
        "{{ 'abc' | chunk(2) }}",
        "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}",
        "{{ [1] | join(', ') | base64decode }}",
    ],
)
def test_error_messages_name_no_python_type(render: Callable[[str], str], template: str) -> None:
    with pytest.raises(RenderError) as caught:
        render(template)
    message = caught.value.message.split(", in the expression")[0]
    for name in PYTHON_NAMES:
        assert name not in message, message


def test_powers_follow_java(render: Callable[[str], str]) -> None:
    assert render("{{ (-8) ** 0.5 }}") == "NaN"
    assert render("{{ 10.0 ** 400 }}") == "Infinity"
    assert render("{{ 0 ** -1 }}") == "Infinity"


def _every_call() -> list[str]:
    """Every filter and function with a spread of arguments."""
    from lanner.expr.datafilters import DATA_FILTERS
    from lanner.expr.filters import TEXT_FILTERS
    from lanner.expr.functions import FUNCTIONS

    values = ["null", "1", "'a'", "[1, 'b']", "{'a': 1}", "1.5", "'2024-01-02T03:04:05Z'"]
    args = ["", "('ENV')", "(1)", "('$ENV')", "('env')", "({'a': 'b'})", "('x', 'y')"]
    calls = [
        "{{ %s | %s%s }}" % (value, name, arg)  # noqa: UP031 - braces of the template
        for name in [*TEXT_FILTERS, *DATA_FILTERS]
        if name != "jq"
        for value in values
        for arg in args
    ]
    calls += [
        "{{ %s%s }}" % (name, arg or "()")  # noqa: UP031
        for name in FUNCTIONS
        if name != "secret"  # the documented route, and only to SECRET_* variables
        for arg in args
    ]
    calls += [
        "{{ {} | jq(%r) }}" % program  # noqa: UP031
        for program in ("$ENV", "env", "[paths]", "$__loc__", "input_filename", "builtins")
    ]
    return calls


def test_no_filter_or_function_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, engine: ExpressionEngine
) -> None:
    marker = "env-marker-7f3a9c"
    monkeypatch.setenv("ENV", marker)
    monkeypatch.setenv("SECRET_A", marker)
    monkeypatch.setenv("LANNER_DB", f"postgresql://u:{marker}@h/db")
    scope = Scope(
        variables={"envs": {"documented": "yes"}},
        now=dt.datetime.now(dt.UTC),
        secrets=lambda key: "c2VjcmV0",
    )
    calls = _every_call()
    assert len(calls) > 500
    for template in calls:
        try:
            output = engine.render(template, scope)
        except RenderError as exc:
            output = exc.message
        assert marker not in output, template
