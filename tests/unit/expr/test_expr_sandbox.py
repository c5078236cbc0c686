"""The sandbox: published Jinja2 SSTI payloads and resource exhaustion.

Payloads are taken from PayloadsAllTheThings ("Server Side Template
Injection/Python.md", Jinja2 section) and common variants. Each must fail
with RenderError/SandboxError or render something harmless.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable

import pytest

from lanner.expr import ExpressionEngine, RenderError, SandboxError

PAYLOADS = [
    "{{ [].class.base.subclasses() }}",
    "{{ ''.class.mro()[1].subclasses() }}",
    "{{ ''.__class__.__mro__[2].__subclasses__() }}",
    "{{ self.__init__.__globals__.__builtins__ }}",
    "{% for key, value in config.iteritems() %}{{ key }}{{ value }}{% endfor %}",
    "{{ config.items() }}",
    "{{ ''.__class__.__mro__[2].__subclasses__()[40]('/etc/passwd').read() }}",
    "{{ config.items()[4][1].__class__.__mro__[2].__subclasses__()[40]('/tmp/flag').read() }}",
    "{{ get_flashed_messages.__globals__.__builtins__.open('/etc/passwd').read() }}",
    "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context.joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context.namespace.__init__.__globals__.os.popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
    "{{ namespace.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ ''.__class__.mro()[1].__subclasses__()[396]('cat flag.txt',shell=True,stdout=-1).communicate()[0].strip() }}",
    "{{ config.__class__.__init__.__globals__['os'].popen('ls').read() }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}"
    "{{ x()._module.__builtins__['__import__']('os').popen('id').read() }}{% endif %}{% endfor %}",
    "{{ request.__class__ }}",
    "{{ request['__class__'] }}",
    "{{ request|attr(['_'*2,'class','_'*2]|join) }}",
    "{{ request|attr(['__','class','__']|join) }}",
    "{{ request|attr('__class__') }}",
    "{{ request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}",
    "{{ xs|attr('__class__') }}",
    "{{ xs|map(attribute='__class__')|list }}",
    "{{ xs['__class__'] }}",
    "{{ m['__init__'] }}",
    "{{ m.__class__ }}",
    "{{ m.items() }}",
    "{{ m.keys() }}",
    "{{ 'abc'.upper() }}",
    "{{ '{0.__class__}'.format(xs) }}",
    "{{ '%s' % xs }}",
    "{{ '%s' | format(xs) }}",
    "{{ range.__globals__ }}",
    "{{ now.__globals__['os'] }}",
    "{{ now.__code__ }}",
    "{{ now }}",
    "{{ os.environ }}",
    "{{ environ }}",
    "{{ self }}",
    "{{ __builtins__ }}",
    "{{ __import__('os') }}",
    "{% import 'os' as os %}{{ os }}",
    "{% include '/etc/passwd' %}",
    "{% extends '/etc/passwd' %}",
    "{% from 'x' import y %}",
    "{{ loop.__class__ }}",
    "{% for x in xs %}{{ loop.__init__ }}{% endfor %}",
    "{% for x in xs %}{{ loop.cycle('a') }}{% endfor %}",
    "{% set x = namespace() %}{{ x }}",
    "{{ dict(a=1) }}",
    "{% macro m() %}{% endmacro %}{{ m.__globals__ }}",
    "{% macro m() %}{% endmacro %}{{ m._func }}",
    "{{ 7*'7' }}",
    "{{ fromJson('{}').__class__ }}",
    "{{ (xs | first).__class__ }}",
]

FORBIDDEN_IN_OUTPUT = ("<class", "<module", "<function", "<built-in", "uid=", "root:", "environ")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_ssti_payload_is_contained(render: Callable[[str], str], payload: str) -> None:
    try:
        output = render(payload)
    except RenderError:
        return  # SandboxError is a RenderError
    for marker in FORBIDDEN_IN_OUTPUT:
        assert marker not in output
    assert os.environ.get("PATH", "/nonexistent-path") not in output


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__ }}",
        "{{ xs['_private'] }}",
        "{{ __import__ }}",
        "{{ self }}",
        "{% include 'x' %}",
        "{{ 'abc'.upper() }}",
        "{{ xs.append(1) }}",
    ],
)
def test_refused_with_sandbox_error(render: Callable[[str], str], payload: str) -> None:
    with pytest.raises(SandboxError):
        render(payload)


@pytest.mark.parametrize(
    "template",
    [
        "{% for i in range(0, 1000000000) %}x{% endfor %}",
        "{% for i in range(0, 99999) %}{% for j in range(0, 99999) %}x{% endfor %}{% endfor %}",
        "{% for i in range(0, 99999) %}{% for j in range(0, 99999) %}{% endfor %}{% endfor %}",
        "{% for i in 0..99999 %}{{ 'abcdefghijklmnopqrstuvwxyz' }}{% endfor %}",
        "{{ 'a' * 1000000000 }}",
        "{{ [1] * 1000000000 }}",
        "{{ 10 ** 10 ** 10 }}",
        "{{ 2 ** 100000 }}",
        "{{ range(0, 100001) | length }}",
        "{{ 0..1000000 }}",
        "{% macro d(s, n) %}{{ n > 0 ? d(s ~ s, n - 1) : s | length }}{% endmacro %}{{ d('ab', 64) }}",
        "{% macro d(s, n) %}{{ n > 0 ? d(s + s, n - 1) : s | length }}{% endmacro %}{{ d('ab', 64) }}",
        "{% macro d(s, n) %}{{ n > 0 ? d(s + s, n - 1) : s | length }}{% endmacro %}{{ d([1], 64) }}",
        "{% set s %}{% for i in range(0, 99999) %}{{ 'abcdefghijklmnopqrstuvwxyz' }}{% endfor %}{% endset %}x",
        "{{ range(0, 99999) | join('abcdefghijklmnopqrstuvwxyz') }}",
        "{{ '" + "a" * 2000 + "' | replace({'a': '" + "b" * 1000 + "'}) }}",
        "{{ 'a' | indent(1000000000) }}",
        "{% macro r(n) %}{{ r(n) }}{% endmacro %}{{ r(1) }}",
    ],
)
def test_resource_exhaustion_fails_fast(render: Callable[[str], str], template: str) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(RenderError):
            render(template)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A guard against a template that runs away, not a timing: tracemalloc slows
    # these down several times, and CI machines are shared.
    assert time.perf_counter() - start < 30
    assert peak < 200 * 1024 * 1024


def test_render_nesting_is_bounded(engine: ExpressionEngine) -> None:
    import datetime as dt

    from lanner.expr import Scope

    scope = Scope(variables={"loop": "{{ render(loop) }}"}, now=dt.datetime.now(dt.UTC))
    with pytest.raises(SandboxError, match="nested"):
        engine.render("{{ render(loop) }}", scope)


def test_output_limit_is_configurable() -> None:
    import datetime as dt

    from lanner.expr import Scope

    small = ExpressionEngine(max_output=10, max_range=5)
    scope = Scope(variables={}, now=dt.datetime.now(dt.UTC))
    assert small.render("{{ '0123456789' }}", scope) == "0123456789"
    with pytest.raises(SandboxError):
        small.render("{{ '0123456789' }}x", scope)
    with pytest.raises(SandboxError, match="Range"):
        small.render("{{ range(0, 10) }}", scope)
