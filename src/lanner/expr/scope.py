"""What an expression can see: the variables and the render-time services."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = ["FileReader", "FlowHistory", "KVLookup", "Scope", "is_truthy"]

# What `kv()` reads: (namespace, key) -> the pair's value, or None when the key is
# missing or expired in that namespace (a KV value is never null). The runtime
# builds it over its store (docs/kv.md); the expression layer never sees a store.
KVLookup = Callable[[str, str], Any]

# What consecutiveFailures() and flowRecovered() read: (namespace, flow id, the
# execution to leave out, how many) -> the states of the flow's most recent ended
# executions, newest first. The runtime builds it over its store (docs/triggers.md).
FlowHistory = Callable[[str, str, str, int], list[str]]


class FileReader(Protocol):
    """The internal-storage files one execution may read, as `read()`, `fileSize()`,
    `fileExists()` and `isFileEmpty()` see them. `path` is a `kestra://` URI or a
    namespace file's path relative to the flow's namespace. A refused or invalid
    path raises a LannerError saying why."""

    def size(self, path: str) -> int | None:
        """The file's size in bytes; None when there is no such file."""
        ...

    def read(self, path: str, max_bytes: int) -> bytes:
        """At most `max_bytes` bytes of the file (FileNotFoundError when none)."""
        ...


@dataclass(frozen=True)
class Scope:
    """Everything one render reads; nothing else (no clock, no environment).

    ``variables`` holds plain JSON-like data (flow, execution, task, outputs,
    inputs, vars, ...). ``now`` is the instant ``now()`` returns, and
    ``seed`` makes ``uuid()``/``randomInt()`` deterministic, so that
    replaying an execution renders the same text.
    """

    variables: Mapping[str, Any]
    now: datetime
    seed: int = 0
    secrets: Callable[[str], str] | None = None
    on_secret: Callable[[str], None] | None = None
    error_logs: Callable[[], list[Mapping[str, Any]]] | None = None
    tasks_with_state: Callable[[str], list[Mapping[str, Any]]] | None = None
    task_id: str | None = None
    kv: KVLookup | None = None
    flow_history: FlowHistory | None = None
    # Internal storage for read(), fileSize(), fileExists(), isFileEmpty().
    files: FileReader | None = None


_FALSY = frozenset({"false", "0", "-0", ""})
# Java's String.trim() strips every character up to U+0020, nothing else.
_JAVA_TRIM = "".join(chr(c) for c in range(0x21))


def is_truthy(value: str | None) -> bool:
    """Kestra's ``TruthUtils.isTruthy`` (SPEC §6.5).

    Falsy iff None or, once trimmed, one of ``false``, ``0``, ``-0`` or the
    empty string. Case-sensitive: ``False``, ``no``, ``null``, ``0.0`` are true.
    """
    return value is not None and value.strip(_JAVA_TRIM) not in _FALSY
