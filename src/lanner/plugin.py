"""The plugin API: what a task type is, what it gets when it runs, and the
registry that resolves Kestra type names (and their legacy aliases).

Built-in task types register through the ``lanner.tasks`` entry-point group
exactly as a third-party package would: the entry point is a callable that
returns :class:`TaskType` objects. The registry is an explicit object passed
to validation and to the runtime, never a module global.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from lanner.model.kvtypes import KVEntry, KVType
from lanner.model.states import State
from lanner.model.task import Task, TaskKind

if TYPE_CHECKING:
    from lanner.storage.namespacefiles import NamespaceFile

ENTRY_POINT_GROUP = "lanner.tasks"


@dataclass(frozen=True)
class Outcome:
    """What one attempt of a runnable task ended with.

    Expected failures are returned, not raised. An exception escaping `run`
    becomes FAILED with the exception's message.
    """

    state: State = State.SUCCESS
    outputs: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None


@dataclass(frozen=True)
class ExecutionView:
    """An execution as a task may read it (the execution summaries: SlackExecution, ...).

    `end_date` is None while the execution runs; `failed_task_id` is the first task
    run that ended FAILED (creation order), with its error message."""

    id: str
    namespace: str
    flow_id: str
    flow_revision: int
    state: State
    start_date: datetime
    end_date: datetime | None
    labels: Mapping[str, str]
    inputs: Mapping[str, Any]
    failed_task_id: str | None = None
    failed_message: str | None = None
    task_run_count: int = 0
    trigger: Mapping[str, Any] | None = None


class KVAccess(Protocol):
    """The KV store as a runnable task reaches it (docs/kv.md). An expired pair is missing."""

    @property
    def namespace(self) -> str:
        """The namespace of the execution's flow: where the KV tasks read and write by default."""
        ...

    def get(self, namespace: str, key: str) -> KVEntry | None:
        """The pair of `key` in `namespace` alone (no parent lookup)."""
        ...

    def set(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        kv_type: KVType | None = None,
        ttl: str | None = None,
        overwrite: bool = True,
        description: str | None = None,
    ) -> KVEntry:
        """Save a pair; `value` is parsed as `kv_type` (inferred when None), `ttl` is an
        ISO-8601 duration. Raises InputError for a bad key, value or ttl, and when the
        key exists and `overwrite` is False."""
        ...

    def delete(self, namespace: str, key: str) -> bool:
        """True if a pair was there."""
        ...

    def entries(self, namespace: str) -> list[KVEntry]:
        """The pairs of `namespace`, by key."""
        ...

    def index(self) -> list[tuple[str, str, datetime | None]]:
        """Every stored pair, expired ones too: (namespace, key, expires_at)."""
        ...

    def purge(self, pairs: Sequence[tuple[str, str]], *, expired_only: bool) -> int:
        """Delete these (namespace, key) pairs (with `expired_only`, those expired now)."""
        ...


class TaskContext(Protocol):
    """What a runnable task gets from the worker for one attempt."""

    execution_id: str
    task_run_id: str
    attempt: int
    idempotency_key: str  # f"{task_run_id}:{attempt}", stable across resubmissions
    namespace: str
    flow_id: str
    task_id: str

    @property
    def kv(self) -> KVAccess:
        """The KV store, for the KV task types (docs/kv.md)."""
        ...

    @property
    def server_url(self) -> str | None:
        """Configuration `server.url`: the public base URL of Lanner's UI and API, for
        links in notifications (None when not configured)."""
        ...

    def read_execution(self, execution_id: str) -> ExecutionView | None:
        """An execution of the store (any namespace), None when there is none."""
        ...

    def render(self, value: Any) -> Any:
        """Render a property: strings through the expression engine, lists and maps item by item."""
        ...

    def log(self, level: str, message: str) -> None:
        """Write a log line for this attempt (secrets are masked by the runtime)."""
        ...

    @property
    def cancelled(self) -> bool:
        """True once the attempt was timed out or killed: stop, send nothing more."""
        ...

    def wait(self, seconds: float) -> bool:
        """Sleep, waking early on cancellation; returns False when cancelled."""
        ...

    def put_file(self, source: str | os.PathLike[str], name: str | None = None) -> str:
        """Copy a local file into internal storage as a file of this task run (named
        `name`, else the file's own name); its `kestra://` URI, for the task's outputs."""
        ...

    def open_file(self, uri: str) -> BinaryIO:
        """Open a `kestra://` file the execution may read (its flow's files, its
        namespace files); a StorageUriError names what is wrong otherwise."""
        ...

    def working_directory(self) -> Path:
        """The attempt's working directory: a fresh, empty one made on first call (the
        same one on later calls) and removed with its content when the attempt ends."""
        ...

    def delete_file(self, uri: str) -> bool:
        """Delete a `kestra://` file of this flow's executions; whether there was one
        (a StorageUriError for any other file)."""
        ...

    def purge_execution_files(self) -> list[str]:
        """Delete every internal-storage file of this execution; their URIs."""
        ...

    def namespace_files(
        self,
        namespace: str | None = None,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
    ) -> list[NamespaceFile]:
        """Namespace files (`path`, `uri`, `size`) of the flow's namespace (or one above
        it) matching one of `include` (all when none) and none of `exclude`, Kestra's
        globs; read one with open_file(f.uri)."""
        ...


RunFunction = Callable[[Any, TaskContext], Outcome]


@dataclass(frozen=True)
class TaskType:
    """One task type: its Kestra name, legacy aliases, property model and runner."""

    name: str
    model: type[Task]
    aliases: tuple[str, ...] = ()
    run: RunFunction | None = None

    def __post_init__(self) -> None:
        if self.model.kind is TaskKind.RUNNABLE and self.run is None:
            raise ValueError(f"runnable task type {self.name} needs a run function")

    @property
    def kind(self) -> TaskKind:
        return self.model.kind


class TaskRegistry:
    """Resolves a type name or alias to its TaskType."""

    def __init__(self, types: Iterable[TaskType] = ()) -> None:
        self._by_name: dict[str, TaskType] = {}
        self.load_errors: dict[str, str] = {}
        for t in types:
            self.register(t)

    @classmethod
    def from_entry_points(cls, group: str = ENTRY_POINT_GROUP) -> TaskRegistry:
        """Every task type installed; a plugin that fails to load is reported, not fatal."""
        registry = cls()
        for ep in entry_points(group=group):
            try:
                provided = ep.load()()
                for t in provided:
                    registry.register(t)
            except Exception as exc:  # a broken plugin must not stop Lanner
                registry.load_errors[ep.name] = f"{type(exc).__name__}: {exc}"
        return registry

    def register(self, task_type: TaskType) -> None:
        for name in (task_type.name, *task_type.aliases):
            existing = self._by_name.get(name)
            if existing is not None and existing is not task_type:
                raise ValueError(f"task type {name} is registered twice")
            self._by_name[name] = task_type

    def get(self, name: str) -> TaskType | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def types(self) -> list[TaskType]:
        """Each type once, in name order."""
        seen: dict[str, TaskType] = {t.name: t for t in self._by_name.values()}
        return [seen[k] for k in sorted(seen)]

    def suggest(self, name: str) -> str | None:
        """The closest known type name, matching on the simple class name too."""
        names = [t.name for t in self.types()]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        if close:
            return close[0]
        simple = name.rsplit(".", 1)[-1].lower()
        by_simple = {n.rsplit(".", 1)[-1].lower(): n for n in names}
        match = difflib.get_close_matches(simple, list(by_simple), n=1, cutoff=0.75)
        return by_simple[match[0]] if match else None
