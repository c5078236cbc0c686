"""What a worker needs to render tasks as the executor does (the children of a
WorkingDirectory's job, runtime/jobchildren.py; a script's execution context):
kept apart so that a process wires it up without loading the job's code."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lanner.expr import ExpressionEngine
from lanner.expr.scope import FileReader
from lanner.runtime.effects import FlowCache


@dataclass
class ChildRuntime:
    """What a worker needs to render a child as the executor renders a task: the flows,
    the secrets and environment variables, the files of an execution."""

    flows: FlowCache
    secrets: Callable[[str], str] | None
    envs: Mapping[str, str]
    files: Callable[[str, str, str], FileReader] | None
    _engines: threading.local = field(default_factory=threading.local)

    def engine(self) -> ExpressionEngine:
        """This thread's expression engine (one per worker thread, made once)."""
        found: ExpressionEngine | None = getattr(self._engines, "engine", None)
        if found is None:
            found = self._engines.engine = ExpressionEngine()
        return found
