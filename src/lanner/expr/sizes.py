"""How big a value is: the estimated memory of a value once expanded.

A value built by a template can share parts (``{% set a = [a, a] %}``, a
YAML alias): it is small in memory but grows with every doubling as soon as
it is printed, serialised, compared or handed to a task. The estimate counts
every path to a part, so it is what expanding the value would cost; the walk
stops as soon as the budget is passed, so measuring costs at most the budget,
however large the expansion would be, and a value that contains itself is
simply too deep.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from lanner.errors import SandboxError

__all__ = ["human_bytes", "string_bytes", "value_size"]

# CPython's sizes, rounded: a str header, an object, a list and a dict with
# the per-item cost of their tables.
_STR = 49
_SCALAR = 32
_LIST = 56
_LIST_ITEM = 8
_MAP = 64
_MAP_ITEM = 48


def human_bytes(n: int) -> str:
    """``16 MiB``, ``64 KiB``, ``100 bytes``: how a limit is named in messages."""
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"


def string_bytes(text: str) -> int:
    """The estimated memory of a string (Latin-1 text one byte a character)."""
    return _STR + (len(text) if text.isascii() else 4 * len(text))


def too_large(budget: int) -> SandboxError:
    return SandboxError(
        f"Value is larger than {human_bytes(budget)}, the limit for one value in an expression"
    )


def too_deep(max_depth: int) -> SandboxError:
    return SandboxError(
        f"Value is nested more than {max_depth} levels deep, the limit for lists and maps"
    )


def value_size(value: Any, budget: int, max_depth: int) -> int:
    """The estimated bytes of ``value`` expanded; SandboxError past ``budget``
    or ``max_depth``, found without walking more than the budget."""
    if isinstance(value, str):
        size = string_bytes(value)
        if size > budget:
            raise too_large(budget)
        return size
    total = 0
    # One iterator per open container: memory is the depth, not the width.
    stack: list[Iterator[Any]] = [iter((value,))]
    while stack:
        for item in stack[-1]:
            child: Iterator[Any] | None = None
            if isinstance(item, str):
                total += string_bytes(item)
            elif isinstance(item, Mapping):
                total += _MAP + _MAP_ITEM * len(item)
                child = itertools.chain.from_iterable(item.items())
            elif isinstance(item, list | tuple):
                total += _LIST + _LIST_ITEM * len(item)
                child = iter(item)
            elif isinstance(item, bytes):
                total += _SCALAR + len(item)
            else:
                total += _SCALAR
            if total > budget:
                raise too_large(budget)
            if child is not None:
                if len(stack) > max_depth:
                    raise too_deep(max_depth)
                stack.append(child)
                break
        else:
            stack.pop()
    return total
