"""What every route works with: the store, the task registry and the configuration."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import Request

from lanner.config import Config
from lanner.plugin import TaskRegistry
from lanner.runtime.finalwait import FinalizedSignals
from lanner.storage import Storage
from lanner.store.base import Store


@dataclass(frozen=True)
class ApiContext:
    store: Store
    registry: TaskRegistry
    config: Config
    storage: Storage  # internal storage, the runtime's own
    # Set when the server stops: requests waiting for an execution answer at once.
    stopping: threading.Event = field(default_factory=threading.Event)
    # Told by this process's executors when they finalize an execution (wait=true).
    finalized: FinalizedSignals = field(default_factory=FinalizedSignals)


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.lanner
    return ctx
