"""Secret values in stored documents: sealed on the way in, tainted on the way out.

A tainted string (``lanner.expr.taint.Secret``) is stored as
``{"$secret": TOKEN}``, a tainted list or map computed from a secret as
``{"$secret": TOKEN, "json": true}`` (TOKEN: its JSON text sealed), a map key
or a text column (a ForEach task run's value) as ``"$secret:" + TOKEN``;
TOKEN is the value sealed with the instance key (``lanner.expr.sealing``).
A plain string that holds a value known to this process as secret is sealed
too: a task's output or an error text that repeats a secret it was given
never reaches the store in clear.

On the way out, a sealed value becomes a Secret again (registered for
masking), or a ``Sealed`` placeholder when this process has no key or
another one: displays show it masked, and the task that needs it fails.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lanner.errors import SecretUnavailableError
from lanner.expr import taint
from lanner.expr.sealing import keyring
from lanner.expr.secrets import MASK

MARK = "$secret"
PREFIX = "$secret:"


def _token(value: taint.Secret) -> str:
    if isinstance(value, taint.Sealed):
        return value.token  # kept as it was: this process cannot read it
    return keyring.seal(str.__str__(value))


def _sealed_json(value: Any) -> dict[str, Any]:
    if isinstance(value, taint.Sealed):
        return {MARK: value.token, "json": True}
    text = json.dumps(taint.plain(value), separators=(",", ":"), ensure_ascii=False, default=str)
    return {MARK: keyring.seal(text), "json": True}


def _key(key: Any) -> Any:
    if isinstance(key, str) and (
        isinstance(key, taint.Secret) or (taint.KNOWN and taint.KNOWN.search(key))
    ):
        return PREFIX + _token(taint.mark(key, known=False))
    return key


def seal(value: Any) -> Any:
    """A document with its secret values sealed (a copy where needed)."""
    if isinstance(value, str):
        if isinstance(value, taint.Secret):
            return {MARK: _token(value)}
        if taint.KNOWN and taint.KNOWN.search(value):
            return {MARK: keyring.seal(value)}
        return value
    if isinstance(value, taint.TaintedList | taint.TaintedDict):
        return _sealed_json(value)
    if isinstance(value, Mapping):
        return {_key(k): seal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [seal(v) for v in value]
    return value


def seal_text(value: str | None) -> str | None:
    """A text column (a task run's value)."""
    if value is None or not taint.is_active():
        return value
    if isinstance(value, taint.Secret) or (taint.KNOWN and taint.KNOWN.search(value)):
        return PREFIX + _token(taint.mark(value, known=False))
    return value


def _unseal(token: str, as_json: bool) -> Any:
    try:
        text = keyring.unseal(token)
    except SecretUnavailableError as exc:
        return taint.Sealed(token, exc.message, as_json)
    if as_json:
        return taint.taint(json.loads(text))
    return taint.mark(text)


def unseal_text(value: str | None) -> Any:
    if value is None or not value.startswith(PREFIX):
        return value
    return _unseal(value[len(PREFIX) :], False)


def _hook(doc: dict[str, Any]) -> Any:
    token = doc.get(MARK)
    if isinstance(token, str) and (len(doc) == 1 or (len(doc) == 2 and doc.get("json") is True)):
        return _unseal(token, len(doc) == 2)
    if any(isinstance(k, str) and k.startswith(PREFIX) for k in doc):
        return {unseal_key(k): v for k, v in doc.items()}
    return doc


def unseal_key(key: str) -> str:
    if not key.startswith(PREFIX):
        return key
    value = _unseal(key[len(PREFIX) :], False)
    return MASK if isinstance(value, taint.Sealed) else value


def decode(text: str) -> Any:
    """JSON text of a stored document, secret values unsealed."""
    if MARK in text:
        return json.loads(text, object_hook=_hook)
    return json.loads(text)
