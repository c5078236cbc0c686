"""Process logging: how Lanner's own messages reach stderr.

Library code logs through `logging.getLogger(__name__)` and configures
nothing; the command that starts a process decides where the records go.
A long-running role (`lanner server|executor|worker`) calls `configure_role`:
one line per record with UTC time, level and role, at the level of its
`--log-level` option. `lanner run` calls `configure_plain`: warnings only,
in the `lanner worker: ...` form its users have always seen next to the
progress display.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Final

ROLE_FORMAT: Final = "%(asctime)s %(levelname)s lanner %(role)s%(component)s: %(message)s"
PLAIN_FORMAT: Final = "lanner%(component)s: %(message)s"

# The runtime's threads that a message names (`lanner worker: ...`); the
# other modules speak for the process as a whole.
_COMPONENTS: Final = {"lanner.runtime.executor": "executor", "lanner.runtime.worker": "worker"}


class _Fields(logging.Filter):
    """Adds the `role` and `component` fields the formats name."""

    def __init__(self, role: str, bracket: bool) -> None:
        super().__init__()
        self.role = role
        self.bracket = bracket

    def filter(self, record: logging.LogRecord) -> bool:
        record.role = self.role
        component = _COMPONENTS.get(record.name, "")
        if component and self.bracket:
            record.component = f" [{component}]"
        else:
            record.component = f" {component}" if component else ""
        return True


class _UtcFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def configure_role(role: str, level: str = "INFO") -> None:
    """Send the `lanner` loggers' records at `level` and above to stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Fields(role, bracket=True))
    handler.setFormatter(_UtcFormatter(ROLE_FORMAT))
    _install(handler, level.upper())


def configure_plain() -> None:
    """Send warnings and errors to stderr as `lanner worker: message` lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Fields("", bracket=False))
    handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    _install(handler, "WARNING")


def _install(handler: logging.Handler, level: str) -> None:
    logger = logging.getLogger("lanner")
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(level)
