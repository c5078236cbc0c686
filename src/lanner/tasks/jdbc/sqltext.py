"""SQL text: splitting a script into statements and binding Kestra's named
parameters (`:name`), without touching string literals, quoted names,
comments or PostgreSQL's `::` casts and dollar-quoted bodies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def _chunks(sql: str, backslash_escapes: bool) -> Iterator[tuple[str, str]]:
    """(kind, text) pieces: 'code', 'quoted' (literals, names, comments, dollar bodies)."""
    i, n, start = 0, len(sql), 0
    while i < n:
        c = sql[i]
        end = -1
        if c in "'\"`":
            j = i + 1
            while j < n:
                if backslash_escapes and sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # '' inside a literal
                        j += 2
                        continue
                    break
                j += 1
            end = min(j + 1, n)
        elif sql.startswith("--", i) or (backslash_escapes and c == "#"):
            j = sql.find("\n", i)
            end = n if j < 0 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            end = n if j < 0 else j + 2
        elif c == "$" and not backslash_escapes:
            m = _DOLLAR.match(sql, i)
            if m and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                j = sql.find(m.group(0), m.end())
                end = n if j < 0 else j + len(m.group(0))
        if end < 0:
            i += 1
            continue
        if start < i:
            yield "code", sql[start:i]
        yield "quoted", sql[i:end]
        i = start = end
    if start < n:
        yield "code", sql[start:n]


def split_statements(sql: str, *, backslash_escapes: bool = False) -> list[str]:
    """The statements of a script, split on `;` outside quotes and comments;
    empty ones (and trailing comments alone) dropped."""
    statements: list[str] = []
    current: list[str] = []
    for kind, text in _chunks(sql, backslash_escapes):
        if kind == "quoted":
            current.append(text)
            continue
        parts = text.split(";")
        for k, part in enumerate(parts):
            if k:
                statements.append("".join(current))
                current = []
            current.append(part)
    statements.append("".join(current))
    return [s.strip() for s in statements if _has_code(s, backslash_escapes)]


def _has_code(statement: str, backslash_escapes: bool) -> bool:
    for kind, text in _chunks(statement, backslash_escapes):
        if kind == "code" and text.strip():
            return True
        if kind == "quoted" and not text.startswith(("--", "/*", "#")):
            return True
    return False


class ParameterError(ValueError):
    """A named parameter the SQL uses but `parameters` does not give."""


def bind_named(
    sql: str,
    parameters: Mapping[str, Any],
    *,
    placeholder: str,
    escape_percent: bool,
    backslash_escapes: bool = False,
) -> tuple[str, list[Any]]:
    """Replace each `:name` with `placeholder` (`%s` or `?`) and list the values in order.

    `escape_percent` doubles every `%` (psycopg and PyMySQL read `%` as a
    placeholder once values are passed, inside literals too)."""
    out: list[str] = []
    values: list[Any] = []
    for kind, text in _chunks(sql, backslash_escapes):
        if kind == "quoted":
            out.append(text.replace("%", "%%") if escape_percent else text)
            continue
        i = 0
        while i < len(text):
            c = text[i]
            if c == ":" and text.startswith("::", i):
                out.append("::")
                i += 2
                continue
            if c == ":" and (i == 0 or text[i - 1] != ":"):
                m = _NAME.match(text, i + 1)
                if m:
                    name = m.group(0)
                    if name not in parameters:
                        raise ParameterError(
                            f"sql uses the parameter :{name}, which `parameters` does not give"
                            f" (given: {', '.join(sorted(parameters)) or 'none'})"
                        )
                    out.append(placeholder)
                    values.append(parameters[name])
                    i = m.end()
                    continue
            out.append("%%" if escape_percent and c == "%" else c)
            i += 1
    return "".join(out), values
