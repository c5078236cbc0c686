"""What a script says to Lanner through its output, as the `kestra` library prints it.

The library (PyPI `kestra`) writes one JSON object per line between `::`
markers: `::{"outputs": {...}}::` (Kestra.outputs), `::{"metrics": [...]}::`
(Kestra.counter / timer / gauge), `::{"logs": [{"level": ..., "message":
...}]}::` (Kestra.logger(), INFO and below on stdout, WARN and up on stderr).
Every other line is a log line: stdout at INFO, stderr at WARN, as in Kestra.

Outputs become the task's `vars` (later keys win), metrics are kept in the
order they came, and a `logs` message is logged at its own level.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lanner.plugin import TaskContext

_MESSAGE = re.compile(r"^::(\{.*\})::$")
_LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR"}
_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "ERROR", "FATAL": "ERROR"}


@dataclass
class ScriptMessages:
    """Reads a script's output lines: logs them, keeps its outputs and metrics."""

    ctx: TaskContext
    vars: dict[str, Any] = field(default_factory=dict)
    metrics: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, line: str, is_err: bool) -> None:
        stripped = line.strip()
        found = _MESSAGE.match(stripped) if stripped.startswith("::") else None
        message = _parse(found.group(1)) if found else None
        if message is None:
            self.ctx.log("WARN" if is_err else "INFO", line)
            return
        outputs = message.get("outputs")
        if isinstance(outputs, dict):
            self.vars.update(outputs)
        metrics = message.get("metrics")
        if isinstance(metrics, list):
            self.metrics.extend(_metric(m) for m in metrics if isinstance(m, dict))
        logs = message.get("logs")
        if isinstance(logs, list):
            for entry in logs:
                if isinstance(entry, dict):
                    self.ctx.log(_level(entry.get("level")), str(entry.get("message", "")))


def _parse(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None  # looks like a message, is not one: an ordinary line
    return value if isinstance(value, dict) else None


def _level(value: Any) -> str:
    name = str(value or "INFO").upper()
    name = _LEVEL_NAMES.get(name, name)
    return name if name in _LEVELS else "INFO"


def _metric(entry: dict[str, Any]) -> dict[str, Any]:
    tags = entry.get("tags")
    return {
        "name": str(entry.get("name", "")),
        "type": str(entry.get("type", "counter")),
        "value": entry.get("value"),
        "tags": dict(tags) if isinstance(tags, dict) else {},
    }
