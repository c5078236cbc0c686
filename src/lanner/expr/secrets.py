"""Secrets: where ``secret('KEY')`` finds them, and how they are masked.

Open-source Kestra reads ``SECRET_<KEY>`` environment variables holding
base64-encoded values; the key lookup is case-insensitive (SPEC §6.3).
Resolved values are masked wherever logs, errors and displayed outputs are
written (§0 decision 10), also after the transformations a task commonly
applies to them (Kestra #8092).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from lanner.errors import RenderError

__all__ = ["MASK", "MIN_SECRET_LENGTH", "SecretMasker", "env_secrets"]

MASK = "******"
# Values shorter than this are not masked: masking "a", "1" or "yes" would
# blank out every occurrence of that text in every log line and make logs
# unreadable, while hiding almost nothing. Kestra is silent; Lanner decides.
MIN_SECRET_LENGTH = 4


def env_secrets(environ: Mapping[str, str]) -> Callable[[str], str]:
    """A ``secret()`` resolver over ``SECRET_<KEY>`` variables (base64 values)."""
    table: dict[str, str] = {}
    for name, value in environ.items():
        if name.upper().startswith("SECRET_"):
            table[name[len("SECRET_") :].upper()] = value

    def resolve(key: str) -> str:
        encoded = table.get(key.upper())
        if encoded is None:
            raise RenderError(f"Cannot find secret for key '{key}'.")
        try:
            return base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise RenderError(f"Secret for key '{key}' is not valid base64.") from exc

    return resolve


def _forms(secret: str) -> set[str]:
    """The value and the forms a task commonly turns it into."""
    raw = secret.encode("utf-8")
    forms = {
        secret,
        secret.upper(),
        secret.lower(),
        base64.b64encode(raw).decode("ascii"),
        base64.urlsafe_b64encode(raw).decode("ascii"),
        base64.b64encode(raw).decode("ascii").rstrip("="),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        json.dumps(secret)[1:-1],  # as inside a JSON string
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class SecretMasker:
    """Replaces every registered secret (and its transformations) by ``******``.

    Thread-safe: ``add`` and ``mask`` may be called from any thread. The
    pattern is rebuilt lazily, on the first ``mask`` after an ``add``: a
    loop that registers many values does not recompile it each time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._dirty = False

    def add(self, secret: str, *, forms: bool = True) -> None:
        """Register a value; `forms`: also its common transformations (upper case,
        base64, URL and JSON escapes), for a value a script may transform itself."""
        if len(secret) < MIN_SECRET_LENGTH:
            return
        if not forms:
            if secret in self._forms:
                return
            new = {secret}
        else:
            new = _forms(secret) - self._forms
            if not new:
                return
        with self._lock:
            self._forms |= new
            self._dirty = True

    def _current(self) -> re.Pattern[str] | None:
        if self._dirty:
            with self._lock:
                if self._dirty:
                    # Longest first, so a form containing another is masked whole.
                    ordered = sorted(self._forms, key=len, reverse=True)
                    self._pattern = re.compile("|".join(map(re.escape, ordered)))
                    self._dirty = False
        return self._pattern

    def clear(self) -> None:
        with self._lock:
            self._forms = set()
            self._pattern = None
            self._dirty = False

    def __bool__(self) -> bool:
        return bool(self._forms)

    def mask(self, text: str) -> str:
        if not text:
            return text
        pattern = self._current() if self._dirty else self._pattern
        if pattern is None:
            return text
        return pattern.sub(MASK, text)

    def search(self, text: str) -> bool:
        """Whether the text holds a registered value."""
        if len(text) < MIN_SECRET_LENGTH:
            return False
        pattern = self._current()
        return pattern is not None and pattern.search(text) is not None

    def mask_value(self, value: Any) -> Any:
        """Mask strings inside dicts and lists (keys too); other values unchanged."""
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, Mapping):
            return {self.mask_value(k): self.mask_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.mask_value(v) for v in value]
        return value
