"""Filters on text: Pebble's core string filters and Kestra's additions.

Every filter receives the value before the ``|`` first. Filters are
registered through :func:`lanner.expr.registry.build_filters`, which makes
them strict about undefined arguments and bounds the size of their result.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
import urllib.parse
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from lanner.errors import RenderError, SandboxError
from lanner.expr import pebble
from lanner.expr.convert import to_output, to_text
from lanner.expr.limits import MAX_INDENT

__all__ = ["TEXT_FILTERS"]


def _text(value: Any, name: str) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return to_output(value)


def upper(value: Any) -> Any:
    return None if value is None else _text(value, "upper").upper()


def lower(value: Any) -> Any:
    return None if value is None else _text(value, "lower").lower()


def capitalize(value: Any) -> Any:
    # Pebble upper-cases the first letter only (Jinja also lower-cases the rest).
    text = _text(value, "capitalize")
    return text[:1].upper() + text[1:]


def title(value: Any) -> Any:
    # Pebble: the first letter of each word up, the others unchanged.
    text = _text(value, "title")
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), text)


def trim(value: Any) -> Any:
    return None if value is None else _text(value, "trim").strip("".join(map(chr, range(33))))


def abbreviate(value: Any, length: int) -> Any:
    text = _text(value, "abbreviate")
    if len(text) <= length:
        return text
    return text[: max(length - 3, 0)] + "..."


def replace(value: Any, search: Any, replacement: Any = None) -> Any:
    """Pebble's ``replace({'a': 'b'})``; ``replace('a', 'b')`` is accepted too."""
    text = _text(value, "replace")
    pairs = search if isinstance(search, Mapping) else {search: replacement}
    for old, new in pairs.items():
        pebble.tick()  # each pair scans the whole text
        old_text, new_text = to_text(old), to_text(new)
        if old_text == "":
            continue
        growth = text.count(old_text) * (len(new_text) - len(old_text))
        if len(text) + growth > pebble.max_output():
            raise SandboxError("Result of replace() is larger than the output limit")
        text = text.replace(old_text, new_text)
    return text


def split(value: Any, delimiter: str, limit: int = 0) -> list[str]:
    # Literal delimiter (Java uses a regex; see docs/expressions.md). As in
    # Java, a limit <= 0 drops trailing empty strings.
    text = _text(value, "split")
    if delimiter == "":
        return list(text)
    parts = text.split(delimiter, limit - 1) if limit > 0 else text.split(delimiter)
    if limit <= 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


def starts_with(value: Any, prefix: Any) -> bool:
    return value is not None and _text(value, "startsWith").startswith(to_text(prefix))


def ends_with(value: Any, suffix: Any) -> bool:
    return value is not None and _text(value, "endsWith").endswith(to_text(suffix))


def substring_before(value: Any, sep: str) -> Any:
    text = _text(value, "substringBefore")
    index = text.find(sep)
    return text if index < 0 else text[:index]


def substring_before_last(value: Any, sep: str) -> Any:
    text = _text(value, "substringBeforeLast")
    index = text.rfind(sep)
    return text if index < 0 or sep == "" else text[:index]


def substring_after(value: Any, sep: str) -> Any:
    text = _text(value, "substringAfter")
    index = text.find(sep)
    return "" if index < 0 else text[index + len(sep) :]


def substring_after_last(value: Any, sep: str) -> Any:
    text = _text(value, "substringAfterLast")
    index = text.rfind(sep)
    return "" if index < 0 or sep == "" else text[index + len(sep) :]


def slugify(value: Any) -> str:
    text = unicodedata.normalize("NFKD", _text(value, "slugify"))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _indent_pad(amount: Any, prefix: Any) -> str:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise RenderError("indent needs a non-negative integer amount")
    if amount > MAX_INDENT:
        raise SandboxError(f"indent amount is larger than {MAX_INDENT}, the limit")
    text = to_text(prefix)
    if len(text) * amount > MAX_INDENT:
        raise SandboxError(f"indent prefix is longer than {MAX_INDENT} characters, the limit")
    return text * amount


def _indented(text: str, pad: str, lead: str) -> str:
    # Sized before it is built: every new line grows by the pad.
    size = len(lead) + len(text) + text.count("\n") * len(pad)
    if size > pebble.max_output():
        raise pebble.output_too_large(pebble.max_output(), "Result of indent")
    return lead + (text.replace("\n", "\n" + pad) if pad else text)


def indent(value: Any, amount: int, prefix: str = " ") -> str:
    """Indent every line but the first (Kestra, like Helm's template use)."""
    return _indented(_text(value, "indent"), _indent_pad(amount, prefix), "")


def nindent(value: Any, amount: int, prefix: str = " ") -> str:
    """A new line, then every line indented."""
    pad = _indent_pad(amount, prefix)
    return _indented(_text(value, "nindent"), pad, "\n" + pad)


def escape_char(value: Any, kind: str = "double") -> str:
    text = _text(value, "escapeChar")
    if kind == "single":
        return text.replace("\\", "\\\\").replace("'", "\\'")
    if kind == "shell":
        return text.replace("'", "'\\''")
    if kind == "double":
        return text.replace("\\", "\\\\").replace('"', '\\"')
    raise RenderError(f"escapeChar type must be single, double or shell, not '{kind}'")


def base64encode(value: Any) -> str:
    return base64.b64encode(_text(value, "base64encode").encode("utf-8")).decode("ascii")


def base64decode(value: Any) -> str:
    try:
        return base64.b64decode(_text(value, "base64decode"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise RenderError(f"Invalid base64 value: {exc}") from exc


def _digest(name: str) -> Any:
    def digest(value: Any) -> str:
        return hashlib.new(name, _text(value, name).encode("utf-8")).hexdigest()

    return digest


def urlencode(value: Any) -> str:
    # Java's URLEncoder: form encoding, space as '+', '*' kept.
    return urllib.parse.quote_plus(_text(value, "urlencode"), safe="*")


def urldecode(value: Any) -> str:
    return urllib.parse.unquote_plus(_text(value, "urldecode"))


def number(value: Any, kind: str | None = None) -> Any:
    """Parse text to a number; ``kind`` is a Java type name (INT, LONG, DOUBLE...)."""
    if pebble.is_number(value):
        parsed: int | float = value
    else:
        text = _text(value, "number").strip()
        try:
            parsed = (
                int(text, 0) if re.fullmatch(r"[+-]?(0[xX])?[0-9a-fA-F]+", text) else float(text)
            )
        except ValueError as exc:
            raise RenderError(f"'{text}' is not a number") from exc
    if kind is None:
        return parsed
    kind = kind.upper()
    if kind in ("INT", "INTEGER", "LONG", "SHORT", "BYTE", "BIGINTEGER"):
        return int(parsed)
    if kind in ("FLOAT", "DOUBLE", "BIGDECIMAL"):
        return float(parsed)
    raise RenderError(f"Unknown number type '{kind}'")


def numberformat(value: Any, pattern: str) -> str:
    """Java ``DecimalFormat`` for the common patterns (``#,##0.00``, ``0.#``)."""
    if not pebble.is_number(value):
        raise RenderError("numberformat needs a number")
    integer_part, _, fraction_part = pattern.partition(".")
    min_frac = fraction_part.count("0")
    max_frac = min_frac + fraction_part.count("#")
    min_int = integer_part.count("0")
    try:
        quantized = Decimal(repr(value)).quantize(Decimal(1).scaleb(-max_frac), ROUND_HALF_EVEN)
    except InvalidOperation as exc:
        raise RenderError(f"Cannot format {value}") from exc
    sign = "-" if quantized < 0 else ""
    digits = f"{abs(quantized):f}"
    whole, _, frac = digits.partition(".")
    frac = frac.rstrip("0").ljust(min_frac, "0")
    whole = whole.lstrip("0").rjust(min_int, "0")
    if "," in integer_part and whole:
        whole = f"{int(whole):,}".rjust(min_int, "0")  # Java groups by three
    return sign + whole + ("." + frac if frac else "")


def abs_(value: Any) -> Any:
    if not pebble.is_number(value):
        raise RenderError("abs needs a number")
    return abs(value)


def round_(value: Any, precision: int = 0) -> Any:
    if not pebble.is_number(value):
        raise RenderError("round needs a number")
    if not isinstance(precision, int) or isinstance(precision, bool):
        raise RenderError("round needs an integer precision")
    try:
        exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-precision), "ROUND_HALF_UP")
    except InvalidOperation as exc:
        raise RenderError(f"Cannot round {to_output(value)} to {precision} digits") from exc
    return float(exact) if precision > 0 else int(exact)


TEXT_FILTERS = {
    "upper": upper,
    "lower": lower,
    "capitalize": capitalize,
    "title": title,
    "trim": trim,
    "abbreviate": abbreviate,
    "replace": replace,
    "split": split,
    "startsWith": starts_with,
    "endsWith": ends_with,
    "substringBefore": substring_before,
    "substringBeforeLast": substring_before_last,
    "substringAfter": substring_after,
    "substringAfterLast": substring_after_last,
    "slugify": slugify,
    "indent": indent,
    "nindent": nindent,
    "escapeChar": escape_char,
    "base64encode": base64encode,
    "base64decode": base64decode,
    "md5": _digest("md5"),
    "sha1": _digest("sha1"),
    "sha256": _digest("sha256"),
    "sha512": _digest("sha512"),
    "urlencode": urlencode,
    "urldecode": urldecode,
    "number": number,
    "numberformat": numberformat,
    "numberFormat": numberformat,
    "abs": abs_,
    "round": round_,
}
