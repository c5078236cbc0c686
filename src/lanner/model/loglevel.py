"""A task's `logLevel`: which of its log lines are kept.

Kestra orders the levels TRACE < DEBUG < INFO < WARN < ERROR; a task with
`logLevel: WARN` keeps its WARN and ERROR lines and drops the others, whoever
writes them (the task itself, the worker, the executor). No `logLevel`
keeps every line.
"""

from __future__ import annotations

LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
_RANK = {name: rank for rank, name in enumerate(LEVELS)}


def kept(level: str, minimum: str | None) -> bool:
    """Whether a line at `level` is kept by a task whose `logLevel` is `minimum`."""
    if minimum is None:
        return True
    # An unknown level (none reaches here from a validated flow) is kept: losing a
    # line silently would be worse than showing one too many.
    return _RANK.get(level, len(LEVELS)) >= _RANK.get(minimum, 0)
