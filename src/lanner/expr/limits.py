"""The limits of one render: every bound an expression runs into, in one place.

Each value is a named constant so that ``docs/expressions.md`` ("Limits")
and ``docs/limits.md`` can cite it; :class:`Limits` groups them for an
:class:`~lanner.expr.engine.ExpressionEngine` (tests shrink them). Every limit
is checked *before* the work it bounds is done, and a breach is a
:class:`~lanner.errors.SandboxError` whose message names the limit.

Sizes of values are *estimates of the memory* a value takes once expanded:
a value reached twice (``[a, a]``, a YAML alias) counts twice, because that
is what printing it, serialising it or handing it to a task costs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "JQ_MEMORY_BYTES",
    "JQ_SECONDS",
    "MAX_INDENT",
    "MAX_INTEGER_BITS",
    "MAX_LOOP_ITERATIONS",
    "MAX_MACRO_DEPTH",
    "MAX_OUTPUT_CHARS",
    "MAX_PROCESS_RENDER_BYTES",
    "MAX_RANGE_ITEMS",
    "MAX_RENDER_BYTES",
    "MAX_RENDER_NESTING",
    "MAX_RENDER_SECONDS",
    "MAX_TEMPLATE_CHARS",
    "MAX_VALUE_BYTES",
    "MAX_VALUE_DEPTH",
    "Limits",
]

#: Characters a render may write, and the length of any one string or list.
MAX_OUTPUT_CHARS = 1 << 20
#: Estimated bytes of any one value an expression builds or prints.
MAX_VALUE_BYTES = 16 << 20
#: Estimated bytes of all the values one render builds, added up.
MAX_RENDER_BYTES = 64 << 20
#: The same, for all the renders in progress in one process (worker threads).
MAX_PROCESS_RENDER_BYTES = 128 << 20
#: Nesting of lists and maps in a value.
MAX_VALUE_DEPTH = 200
#: Items of one ``range()`` or ``a..b``.
MAX_RANGE_ITEMS = 100_000
#: Loop iterations of one render, all loops together (nested loops multiply).
MAX_LOOP_ITERATIONS = 1_000_000
#: ``render()`` called within ``render()``.
MAX_RENDER_NESTING = 10
#: Macro calls within macro calls.
MAX_MACRO_DEPTH = 50
#: Wall-clock seconds of one render, nested renders and jq included.
MAX_RENDER_SECONDS = 10.0
#: Bits of an integer result (Java's ``long``).
MAX_INTEGER_BITS = 64
#: Characters of a template compiled at run time (the text given to ``render()``).
MAX_TEMPLATE_CHARS = 64 << 10
#: Amount of ``indent``/``nindent``.
MAX_INDENT = 1024
#: Wall-clock seconds of one ``jq`` program.
JQ_SECONDS = 5.0
#: Memory one ``jq`` program may allocate (address space of its helper process).
JQ_MEMORY_BYTES = 128 << 20


@dataclass(frozen=True)
class Limits:
    """The limits an engine enforces; the defaults are the constants above."""

    output_chars: int = MAX_OUTPUT_CHARS
    value_bytes: int = MAX_VALUE_BYTES
    render_bytes: int = MAX_RENDER_BYTES
    process_render_bytes: int = MAX_PROCESS_RENDER_BYTES
    value_depth: int = MAX_VALUE_DEPTH
    range_items: int = MAX_RANGE_ITEMS
    loop_iterations: int = MAX_LOOP_ITERATIONS
    render_nesting: int = MAX_RENDER_NESTING
    macro_depth: int = MAX_MACRO_DEPTH
    render_seconds: float = MAX_RENDER_SECONDS
    template_chars: int = MAX_TEMPLATE_CHARS
    jq_seconds: float = JQ_SECONDS
    jq_memory_bytes: int = JQ_MEMORY_BYTES
