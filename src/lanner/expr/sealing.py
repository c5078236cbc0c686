"""The instance key, and secret values sealed with it for storage.

A value computed from a secret is stored encrypted (AES-256-GCM, a random
96-bit nonce per value), so that the store's file or rows alone do not
reveal it. The key is, in this order: ``secrets.key`` of the configuration
(any text; its SHA-256 is the key), else ``$LANNER_HOME/instance.key``,
generated on the first value sealed (32 random bytes in base64, mode 0600).
Every process working on one store must have the same key: a process with
another key, or none, cannot unseal a value and the task that needs it fails
(docs/secrets.md).

A sealed token is ``base64url(version byte | key fingerprint (4 bytes) |
nonce | ciphertext+tag)``; the fingerprint tells "sealed with another key"
apart from a corrupted value, in the error a user reads.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
from pathlib import Path

from lanner.errors import SecretUnavailableError

__all__ = ["KeyRing", "keyring"]

_VERSION = b"\x01"
_NONCE = 12
_FINGERPRINT = 4


def _home() -> Path:
    return Path(os.environ.get("LANNER_HOME") or Path.home() / ".lanner")


class KeyRing:
    """The process's key, resolved on first use (never when no secret is stored)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configured: str | None = None
        self._key: bytes | None = None
        self._aead: object | None = None
        self._where = ""

    def configure(self, key: str | None) -> None:
        """``secrets.key`` from the configuration (None: the instance key file)."""
        with self._lock:
            self._configured = key
            self._key = None
            self._aead = None

    def _load(self, create: bool) -> bytes | None:
        with self._lock:
            if self._key is not None:
                return self._key
            if self._configured is not None:
                self._key = hashlib.sha256(self._configured.encode("utf-8")).digest()
                self._where = "secrets.key of the configuration"
                return self._key
            path = _home() / "instance.key"
            self._where = str(path)
            try:
                text = path.read_text(encoding="ascii").strip()
            except FileNotFoundError:
                if not create:
                    return None
                text = self._create(path)
            except OSError as exc:
                raise SecretUnavailableError(
                    f"cannot read the instance key {path}: {exc.strerror or exc}"
                ) from None
            try:
                key = base64.b64decode(text, validate=True)
            except binascii.Error:
                key = b""
            if len(key) != 32:
                raise SecretUnavailableError(
                    f"the instance key {path} is not 32 bytes in base64"
                ) from None
            self._key = key
            return key

    @staticmethod
    def _create(path: Path) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = base64.b64encode(os.urandom(32)).decode("ascii")
        # Written whole under a name of its own, then linked into place: two
        # processes creating it at once agree on the first one's key, and no
        # process ever reads a half-written key.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(text + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(draft, path)
            except FileExistsError:
                return path.read_text(encoding="ascii").strip()
        finally:
            draft.unlink(missing_ok=True)
        return text

    def _cipher(self, create: bool) -> tuple[object, bytes] | None:
        key = self._load(create)
        if key is None:
            return None
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self._aead is None:
            self._aead = AESGCM(key)
        return self._aead, hashlib.sha256(key).digest()[:_FINGERPRINT]

    def seal(self, text: str) -> str:
        cipher = self._cipher(create=True)
        assert cipher is not None
        aead, fingerprint = cipher
        nonce = os.urandom(_NONCE)
        sealed = aead.encrypt(nonce, text.encode("utf-8"), None)  # type: ignore[attr-defined]
        token = _VERSION + fingerprint + nonce + sealed
        return base64.urlsafe_b64encode(token).decode("ascii")

    def unseal(self, token: str) -> str:
        """The plaintext; SecretUnavailableError says why it cannot be had."""
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raw = b""
        if len(raw) < 1 + _FINGERPRINT + _NONCE + 16 or raw[:1] != _VERSION:
            raise SecretUnavailableError("a stored secret value is corrupted")
        cipher = self._cipher(create=False)
        if cipher is None:
            raise SecretUnavailableError(
                "a secret value is stored encrypted, and this process has no key to decrypt "
                f"it: no secrets.key in the configuration and no {self._where}; every "
                "process of a store needs the same key (docs/secrets.md)"
            )
        aead, fingerprint = cipher
        if raw[1 : 1 + _FINGERPRINT] != fingerprint:
            raise SecretUnavailableError(
                "a secret value was encrypted with another key than this process's "
                f"({self._where}); every process of a store needs the same key "
                "(docs/secrets.md)"
            )
        from cryptography.exceptions import InvalidTag

        nonce = raw[1 + _FINGERPRINT : 1 + _FINGERPRINT + _NONCE]
        try:
            plain: bytes = aead.decrypt(nonce, raw[1 + _FINGERPRINT + _NONCE :], None)  # type: ignore[attr-defined]
        except InvalidTag:
            raise SecretUnavailableError("a stored secret value is corrupted") from None
        return plain.decode("utf-8")


keyring = KeyRing()
