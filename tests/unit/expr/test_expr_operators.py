"""Pebble's operators, one row per operator (SPEC §6.3, §0 decision 8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lanner.expr import RenderError


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # == != with Java equality: numbers compare by value, booleans are not 1/0
        ("{{ 1 == 1.0 }}", "true"),
        ("{{ 1 == true }}", "false"),
        ("{{ 'a' == 'a' }}", "true"),
        ("{{ execution.state == 'RUNNING' }}", "true"),
        ("{{ 1 != 2 }}", "true"),
        ("{{ null == null }}", "true"),
        ("{{ 1 equals 1 }}", "true"),
        # ordering
        ("{{ 1 < 2 }}", "true"),
        ("{{ 2 > 1 }}", "true"),
        ("{{ 2 <= 2 }}", "true"),
        ("{{ 2 >= 3 }}", "false"),
        ("{{ null < 1 }}", "false"),
        ("{{ 'a' < 'b' }}", "true"),
        # logic returns booleans (Jinja returns the operands)
        ("{{ 'x' and 'y' }}", "true"),
        ("{{ 0 or '' }}", "false"),
        ("{{ true and false }}", "false"),
        ("{{ not true }}", "false"),
        ("{{ not null }}", "true"),
        # is / is not
        ("{{ 3 is odd }}", "true"),
        ("{{ 3 is not odd }}", "false"),
        # contains
        ("{{ [1, 2] contains 2 }}", "true"),
        ("{{ [1, 2, 3] contains [1, 3] }}", "true"),
        ("{{ {'a': 1} contains 'a' }}", "true"),
        ("{{ 'hello' contains 'ell' }}", "true"),
        ("{{ null contains 'x' }}", "false"),
        # isIn / notIn / in compare text forms (Kestra)
        ("{{ 1 isIn ['1', '2'] }}", "true"),
        ("{{ 'c' notIn ['a', 'b'] }}", "true"),
        ("{{ 'a' in ['a'] }}", "true"),
        # ~ concatenates, null as nothing
        ("{{ 'a' ~ 1 ~ null ~ true }}", "a1true"),
        ("{{ 'x' ~ [1, 2] }}", "x[1,2]"),
        # arithmetic, Java style
        ("{{ 1 + 2 }}", "3"),
        ("{{ 1 + 2.5 }}", "3.5"),
        ("{{ 5 - 7 }}", "-2"),
        ("{{ 3 * 4 }}", "12"),
        ("{{ 7 / 2 }}", "3"),
        ("{{ -7 / 2 }}", "-3"),
        ("{{ 7 / 2.0 }}", "3.5"),
        ("{{ 7 % 3 }}", "1"),
        ("{{ -7 % 3 }}", "-1"),
        ("{{ 7 % -3 }}", "1"),
        ("{{ 7.5 % 2 }}", "1.5"),
        ("{{ 1.0 / 0 }}", "Infinity"),
        ("{{ -(3) }}", "-3"),
        # + with a string operand concatenates (Pebble OperatorUtils.add)
        ("{{ 'a' + 1 }}", "a1"),
        ("{{ 1 + 'a' }}", "1a"),
        ("{{ 'a' + null }}", "anull"),
        ("{{ [1] + 2 }}", "[1,2]"),
        ("{{ [1, 2] + [3] }}", "[1,2,3]"),
        ("{{ [1, 2, 3] - 2 }}", "[1,3]"),
        # ternary, lowest precedence, nested
        ("{{ 1 == 1 ? 'yes' : 'no' }}", "yes"),
        ("{{ null ? 'yes' : 'no' }}", "no"),
        ("{{ false ? 1 : true ? 2 : 3 }}", "2"),
        ("{{ inputs.count > 5 ? inputs.name | upper : 'small' }}", "WORLD"),
        # ranges: `..` and range() include their end in Pebble
        ("{{ 1..3 }}", "[1,2,3]"),
        ("{{ range(0, 3) }}", "[0,1,2,3]"),
        ("{{ range(0, 6, 2) }}", "[0,2,4,6]"),
        # Jinja's extra operators, kept and bounded
        ("{{ 2 ** 10 }}", "1024"),
        ("{{ 7 // 2 }}", "3"),
    ],
)
def test_operator(render: Callable[[str], str], template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 1 / 0 }}", "/ by zero"),
        ("{{ 1 % 0 }}", "/ by zero"),
        ("{{ 'a' * 3 }}", "MULTIPLICATION"),
        ("{{ 'a' - 1 }}", "SUBTRACT"),
        ("{{ 'a' < 1 }}", "comparison"),
        ("{{ null and true }}", "null value used in and operator"),
        ("{{ true or null }}", "true"),  # short-circuit: right side never read
        ("{{ -'a' }}", "unary"),
        ("{{ 5 contains 1 }}", "Contains operator"),
    ],
)
def test_operator_errors(render: Callable[[str], str], template: str, message: str) -> None:
    if message == "true":
        assert render(template) == "true"
        return
    with pytest.raises(RenderError, match=message):
        render(template)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Pebble: `is` binds looser than arithmetic and comparisons
        ("{{ 1 + 2 is odd }}", "true"),
        ("{{ 1 == 1 is null }}", "false"),
        # `??` binds tighter than filters and `~`
        ("{{ outputs.missing ?? 'd' | upper }}", "D"),
        ("{{ 'a' ~ outputs.missing ?? 'b' }}", "ab"),
        # a filter takes only its invocation: what follows it coalesces the
        # filtered value (a published blueprint writes `... | first ?? null`)
        ("{{ [] | first ?? 'none' }}", "none"),
        ("{{ [null] | first ?? 'x' | upper }}", "X"),
        ("{{ ['a'] | first ?? 'x' | upper }}", "A"),
        # `not` is the loosest
        ("{{ not 1 == 2 }}", "true"),
    ],
)
def test_precedence(render: Callable[[str], str], template: str, expected: str) -> None:
    assert render(template) == expected
