"""Taint: values read by ``secret()`` and every value computed from them.

A tainted string is a :class:`Secret` (a ``str``: a task given one gets the
plain text). ``secret()`` makes the first; the expression hooks make one of
every string computed from a tainted argument: filters, functions, ``+``,
``~``, subscripts and slices, and a render whose output printed one. A list
or map computed from a tainted argument is a :class:`TaintedList` or
:class:`TaintedDict` whose strings are tainted, so that printing it — even a
list of numbers, as jq's ``explode`` makes — prints a Secret. Exceptions
(docs/secrets.md): hash filters (a hash of a secret is not a secret), and
non-string results (a length, a comparison).

Every tainted string made by a transformation is also registered in
:data:`KNOWN`, the process's masker: a log line, an error message, a task's
output that holds one as a substring is masked or tainted in turn. A
concatenation is not registered itself — its parts are — so that
``'Bearer ' ~ secret('T')`` logs as ``Bearer ******``.

A stored tainted value is sealed with the instance key (``lanner.store.codec``)
and comes back as a Secret, or as a :class:`Sealed` placeholder when this
process cannot decrypt it: reading a Sealed value in an expression, or giving
one to a task, fails with the reason.

Everything here costs one flag test until the process meets its first Secret.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lanner.errors import SecretUnavailableError
from lanner.expr.secrets import MASK, MIN_SECRET_LENGTH, SecretMasker

__all__ = [
    "KNOWN",
    "Sealed",
    "Secret",
    "TaintedDict",
    "TaintedList",
    "is_active",
    "mark",
    "shown",
    "taint",
    "tainted",
]

# Filters whose result does not reveal their input (docs/secrets.md).
UNTAINTED_FILTERS = frozenset({"md5", "sha1", "sha256", "sha512"})


class Secret(str):
    """A string computed from a secret."""

    __slots__ = ()

    def __str__(self) -> str:
        return self  # str() keeps the mark (Jinja prints with str())

    def __repr__(self) -> str:
        # Tracebacks and `{value!r}` in messages never show the value.
        return f"Secret({MASK!r})"


class Sealed(Secret):
    """A stored secret value this process cannot decrypt: its text is the mask."""

    token: str
    reason: str
    json: bool

    def __new__(cls, token: str, reason: str, json: bool = False) -> Sealed:
        global _active
        _active = True
        self = super().__new__(cls, MASK)
        self.token = token
        self.reason = reason
        self.json = json
        return self

    def fail(self) -> SecretUnavailableError:
        return SecretUnavailableError(self.reason)


class TaintedList(list[Any]):
    """A list computed from a secret."""

    __slots__ = ()


class TaintedDict(dict[Any, Any]):
    """A map computed from a secret."""

    __slots__ = ()


KNOWN = SecretMasker()
_active = False


def is_active() -> bool:
    """Whether this process has met a Secret (else every hook is a no-op)."""
    return _active


def reset() -> None:
    """Forget every known value (tests: each starts as a fresh process)."""
    global _active
    KNOWN.clear()
    _active = False


def mark(text: str, *, known: bool = True, forms: bool = False) -> Secret:
    """`text` as a Secret; `known`: register it for masking (`forms`: with its
    common transformations too)."""
    global _active
    _active = True
    if isinstance(text, Sealed):
        return text
    if known and len(text) >= MIN_SECRET_LENGTH:
        KNOWN.add(text, forms=forms)
    return text if type(text) is Secret else Secret(text)


def tainted(value: Any) -> bool:
    """Whether a value is, or holds, a tainted value."""
    if isinstance(value, str):
        return isinstance(value, Secret)
    if isinstance(value, TaintedList | TaintedDict):
        return True
    if isinstance(value, Mapping):
        return any(tainted(k) or tainted(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(tainted(v) for v in value)
    return False


def taint(value: Any, *, known: bool = True) -> Any:
    """The result of a computation with a tainted argument, tainted."""
    if isinstance(value, str):
        return mark(value, known=known)
    if isinstance(value, Mapping):
        return TaintedDict({k: taint(v, known=known) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return TaintedList(taint(v, known=known) for v in value)
    return value  # numbers, booleans, null, dates: not secret


def check(value: Any) -> Any:
    """A value read in an expression: a Sealed one fails the render."""
    if isinstance(value, Sealed):
        raise value.fail()
    return value


def _check_deep(value: Any) -> None:
    if isinstance(value, Sealed):
        raise value.fail()
    if isinstance(value, Mapping):
        for v in value.values():
            _check_deep(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _check_deep(v)


def _any_tainted(args: Iterable[Any]) -> bool:
    found = False
    for arg in args:
        if tainted(arg):
            _check_deep(arg)
            found = True
    return found


# --- hooks of the expression engine -----------------------------------------


def tracked(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter, test or function whose result is tainted when an argument is."""
    if name in UNTAINTED_FILTERS:
        return func
    if name == "secret":

        @functools.wraps(func)
        def secret(*args: Any, **kwargs: Any) -> Any:
            result = func(*args, **kwargs)
            return mark(result, forms=True) if isinstance(result, str) else taint(result)

        return secret

    @functools.wraps(func)
    def propagating(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        if not _active or result is None or isinstance(result, bool | int | float):
            return result
        if _any_tainted(args) or _any_tainted(kwargs.values()):
            return taint(result)
        return result

    return propagating


def binop(left: Any, right: Any, result: Any) -> Any:
    """``+`` (and list ``-``): a concatenation of tainted parts is tainted, unregistered."""
    if _active and isinstance(result, str | list) and _any_tainted((left, right)):
        return taint(result, known=False)
    return result


def concat(func: Callable[[Iterable[Any]], str]) -> Callable[[Iterable[Any]], str]:
    """Pebble's ``~``."""

    @functools.wraps(func)
    def concatenating(values: Iterable[Any]) -> str:
        if not _active:
            return func(values)
        items = list(values)
        result = func(items)
        if _any_tainted(items):
            return mark(result, known=False)
        return result

    return concatenating


def sliced(obj: Any, result: Any) -> Any:
    """``s[1:3]``, ``s[0]`` of a tainted string (or list)."""
    if _active and isinstance(obj, Secret | TaintedList):
        return taint(result)
    return check(result)


def finalize(func: Callable[[Any], str]) -> Callable[[Any], str]:
    """A printed value: a printed tainted list or map is a Secret."""

    @functools.wraps(func)
    def printing(value: Any) -> str:
        if not _active:
            return func(value)
        if isinstance(value, Sealed):
            raise value.fail()
        text = func(value)
        if not isinstance(value, str) and _any_tainted((value,)):
            return mark(text)
        return text

    return printing


def joined(parts: list[str], text: str) -> str:
    """A render's output: tainted when it printed a tainted value, or holds a
    known one (``printContext()``, a map dumped whole...)."""
    if not _active:
        return text
    for part in parts:
        if isinstance(part, Secret):
            return mark(text, known=False)
    if KNOWN.search(text):
        return mark(text, known=False)
    return text


# --- what is shown -------------------------------------------------------------


def mask(text: str, extra: SecretMasker | None = None) -> str:
    """A text as displayed or logged: a tainted one is the mask; known values
    inside another are masked."""
    if _active:
        if isinstance(text, Secret):
            if len(text) >= MIN_SECRET_LENGTH or isinstance(text, Sealed):
                return MASK
            return str.__str__(text)
        text = KNOWN.mask(text)
    return extra.mask(text) if extra is not None else text


def shown(value: Any, extra: SecretMasker | None = None) -> Any:
    """A value as displayed: strings (keys too) masked, containers copied plain."""
    if isinstance(value, str):
        return mask(value, extra)
    if isinstance(value, Mapping):
        return {shown(k, extra): shown(v, extra) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if isinstance(value, TaintedList) and not any(isinstance(v, str) for v in value):
            return MASK  # numbers computed from a secret (jq's explode)
        return [shown(v, extra) for v in value]
    return value


def plain(value: Any) -> Any:
    """A value with its marks removed (strings as ``str``), for a task's own use."""
    if isinstance(value, Sealed):
        raise value.fail()
    if isinstance(value, str):
        return str.__str__(value) if isinstance(value, Secret) else value
    if isinstance(value, Mapping):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def retaint(value: Any) -> Any:
    """A task's output: strings holding a known secret become tainted."""
    if not _active or not KNOWN:
        return value
    if isinstance(value, str):
        if not isinstance(value, Secret) and KNOWN.search(value):
            return mark(value, known=False)
        return value
    if isinstance(value, Mapping):
        return {k: retaint(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [retaint(v) for v in value]
    return value
