"""Kestra's truthiness of rendered strings (SPEC §6.5)."""

from __future__ import annotations

import pytest

from lanner.expr import is_truthy


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("   ", False),
        ("false", False),
        (" false\n", False),
        ("0", False),
        ("-0", False),
        ("\t0 ", False),
        ("true", True),
        ("False", True),
        ("FALSE", True),
        ("no", True),
        ("null", True),
        ("0.0", True),
        ("1", True),
        ("anything", True),
    ],
)
def test_is_truthy(value: str | None, expected: bool) -> None:
    assert is_truthy(value) is expected
