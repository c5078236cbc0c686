"""One test per documented difference between Pebble and Jinja2.

The numbers are the rows of the table "Where Pebble and Jinja2 differ, and
what Lanner does" in docs/expressions.md (SPEC §0 decision 8).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lanner.expr import RenderError, SandboxError

DIFFERENCES = [
    (1, "{{ 'x' and 'y' }}|{{ '' or 0 }}", "true|false"),
    (3, "{% if 'false' %}t{% endif %}{{ 0 ? 'a' : 'b' }}{{ null ? 'a' : 'b' }}", "tbb"),
    (4, "{{ 7 / 2 }} {{ -7 / 2 }} {{ 7 / 2.0 }}", "3 -3 3.5"),
    (5, "{{ -7 % 3 }} {{ 7 % -3 }}", "-1 1"),
    (6, "{{ 1.0 / 0 }} {{ -1 / 0.0 }}", "Infinity -Infinity"),
    (7, "{{ 'n=' + 1 }} {{ 'x' + null }}", "n=1 xnull"),
    (8, "{{ [1, 2] + 3 }} {{ [1, 2] + [3] }} {{ [1, 2, 1] - 1 }}", "[1,2,3] [1,2,3] [2]"),
    (10, "{{ 1 == true }} {{ 1 == 1.0 }}", "false true"),
    (11, "{{ null < 1 }} {{ 'a' < 'b' }}", "false true"),
    (12, "{{ 'a' ~ null ~ 'b' }}", "ab"),
    (13, "{{ null is null }}", "true"),
    (14, "{{ true ? 'y' : 'n' }}{{ 'y' if true else 'n' }}", "yy"),
    (
        15,
        "{{ outputs.x ?? 'a' }}{{ outputs.first.nothing ??? 'b' }}{{ 2 isIn [2] }}{{ 1..2 }}",
        "atrue[1,2]",
    ),
    (16, "{{ 1 + 2 is odd }}", "true"),
    (17, "{{ outputs.x ?? 'd' | upper }}", "D"),
    (18, "{% for x in xs %}{{ loop.index }}{{ loop.revindex }}{% endfor %}", "021120"),
    (19, "{% for e in {'a': 1} %}{{ e.key }}{{ e.value }}{% endfor %}", "a1"),
    (20, "{% for x in null %}x{% endfor %}", ""),
    (21, "{{ range(0, 3) }}", "[0,1,2,3]"),
    (22, "{% if false %}a{% elseif true %}b{% endif %}", "b"),
    (23, "{{ inputs.blank | default('d') }}{{ [] | default('e') }}", "de"),
    (24, "{{ outputs.x.y.z is defined }}", "false"),
    (25, "{{ {'keys': 'k'}.keys }}", "k"),
    (26, "{{ 'hello WORLD' | capitalize }}", "Hello WORLD"),
    (27, "{{ 'hello wORLD' | title }}", "Hello WORLD"),
    (28, "{{ 'a.b.c' | split('.') }}", '["a","b","c"]'),
    (30, "x\n", "x\n"),
    (31, "{{ 1 if false else 2 }}", "2"),
    (32, "{{ 2 ** 3 }} {{ 7 // 2 }}", "8 3"),
]


@pytest.mark.parametrize(("row", "template", "expected"), DIFFERENCES)
def test_difference(render: Callable[[str], str], row: int, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("row", "template", "error"),
    [
        (2, "{{ null and true }}", RenderError),
        (3, "{% if [1] %}x{% endif %}", RenderError),
        (6, "{{ 1 / 0 }}", RenderError),
        (9, "{{ 'ab' * 2 }}", RenderError),
        (9, "{{ [1] * 2 }}", RenderError),
        (11, "{{ 'a' < 1 }}", RenderError),
        (29, "{{ xs[-1] }}", RenderError),
        (32, "{{ 10 ** 10 ** 10 }}", SandboxError),
    ],
)
def test_difference_errors(
    render: Callable[[str], str], row: int, template: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        render(template)
