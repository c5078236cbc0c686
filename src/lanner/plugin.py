"""The plugin API: what a task type is, what it gets when it runs, and the
registry that resolves Kestra type names (and their legacy aliases).

Built-in task types register through the ``lanner.tasks`` entry-point group
exactly as a third-party package would: the entry point is a callable that
returns :class:`TaskType` objects, or a :class:`TaskFamily` naming the modules
that hold them (loaded one by one, as types are asked for). The registry is an explicit object passed
to validation and to the runtime, never a module global.

Trigger types a plugin adds register through the ``lanner.triggers`` group: the
entry point is a callable that returns :class:`TriggerPlugin` objects (a Kestra
type name, its pydantic model, and how the trigger runtime evaluates it). The
registry loads them the first time a flow names a trigger type Lanner does not
ship (or when every type is listed), never on a flow without triggers.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from lanner.model.kvtypes import KVEntry, KVType
from lanner.model.states import State
from lanner.model.task import Task, TaskKind

if TYPE_CHECKING:
    from pydantic import BaseModel

    from lanner.storage.namespacefiles import NamespaceFile

ENTRY_POINT_GROUP = "lanner.tasks"
TRIGGER_ENTRY_POINT_GROUP = "lanner.triggers"


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


@dataclass(frozen=True)
class ExecutionFilter:
    """Which executions (or logs) an administration task acts on, as Kestra's purge
    tasks name them: `namespace` is a prefix unless `flow_id` is given (then the flow's
    own namespace); dates bound the execution's start (a log's timestamp for logs)."""

    end: datetime
    start: datetime | None = None
    namespace: str | None = None
    flow_id: str | None = None
    execution_id: str | None = None
    states: tuple[str, ...] | None = None  # State values; None: any
    levels: tuple[str, ...] | None = None  # log levels (PurgeLogs); None: any


@dataclass(frozen=True)
class DeployedFlow:
    """A flow as stored: its source and revision; `changed` tells whether a deploy
    made (or, dry, would make) a new revision."""

    namespace: str
    id: str
    source: str
    revision: int
    changed: bool = False


@dataclass(frozen=True)
class PurgeCounts:
    """What PurgeExecutions deleted (Kestra's output names are in its docs)."""

    executions: int = 0
    logs: int = 0
    storage: int = 0


class InstanceAccess(Protocol):
    """The Lanner instance (its store and internal storage) as the administration tasks
    reach it: purges, log fetches, resumes, trigger toggles (docs/tasks-core.md)."""

    def execution_flow(self, execution_id: str) -> tuple[str, str]:
        """(namespace, flow id) of a stored execution; NotFoundError when there is none."""
        ...

    def task_run_value(self, execution_id: str, task_run_id: str) -> str | None:
        """The `taskrun.value` of a task run (inside a ForEach), else None."""
        ...

    def logs(self, execution_id: str) -> list[dict[str, Any]]:
        """The execution's log lines in order, each as Kestra's LogEntry (namespace, flowId,
        taskId, executionId, taskRunId, attemptNumber, timestamp, level, message)."""
        ...

    def purge_executions(
        self,
        which: ExecutionFilter,
        *,
        executions: bool,
        logs: bool,
        storage: bool,
        batch_size: int = 100,
    ) -> PurgeCounts:
        """Delete the finalized executions `which` selects: their rows (with task runs,
        jobs and events), their logs, their internal-storage files, as asked;
        `batch_size` executions per transaction."""
        ...

    def purge_logs(self, which: ExecutionFilter) -> int:
        """Delete the log lines `which` selects; how many."""
        ...

    def paused_execution(self, namespace: str, flow_id: str) -> str | None:
        """The id of the latest PAUSED execution of the flow, if any."""
        ...

    def resume(self, execution_id: str, inputs: Mapping[str, Any]) -> None:
        """Ask for the resume of a PAUSED execution, with its Pause's onResume values."""
        ...

    def set_trigger_enabled(
        self, namespace: str, flow_id: str, trigger_id: str, enabled: bool
    ) -> None:
        """Enable or disable a stored trigger (as `lanner triggers enable|disable`)."""
        ...

    def flows(self, namespace: str, children: bool) -> list[DeployedFlow]:
        """The deployed flows of `namespace` (and of those below it with `children`)."""
        ...

    def deploy_flow(self, source: str, *, dry_run: bool = False) -> DeployedFlow:
        """Validate a flow's source (with the process's plugin defaults, as `lanner flows
        deploy`) and deploy it (a new revision when it changed); with `dry_run`, only
        validate and say what would be deployed. An invalid flow raises its
        FlowValidationError."""
        ...

    def delete_flow(self, namespace: str, flow_id: str) -> bool:
        """Delete a deployed flow; whether there was one."""
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

    @property
    def instance(self) -> InstanceAccess:
        """The instance's executions, logs and triggers, for the administration tasks."""
        ...

    def run_task(self, definition: Mapping[str, Any]) -> Outcome:
        """Validate `definition` (a runnable task's properties with its `type`) against its
        task type and run it in this attempt, as its own (TemplatedTask)."""
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

    def put_namespace_file(
        self, namespace: str, path: str, data: BinaryIO, *, overwrite: bool = True
    ) -> NamespaceFile | None:
        """Store `data` as the namespace file `path` of `namespace` (any namespace); with
        `overwrite` False an existing file is kept and None returned."""
        ...

    def delete_namespace_files(
        self, namespace: str, patterns: Sequence[str]
    ) -> list[NamespaceFile]:
        """Delete the files of `namespace` matching one of the globs; those deleted."""
        ...

    def execution_context(self) -> Mapping[str, Any]:
        """The execution's metadata as the task's properties saw it, as plain JSON data:
        `flow`, `execution`, `task`, `taskrun`, `inputs`, `outputs`, `labels`, `vars`,
        `trigger`, `parents` (what a script's `executionContext: true` writes for the
        kestra library's `context`)."""
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


@dataclass(frozen=True)
class TriggerPlugin:
    """A trigger type a plugin adds: its Kestra name and legacy aliases, the pydantic
    model of its properties (a subclass of `lanner.model.triggers.PollingTrigger`, or
    of `TriggerBase` for a realtime one), and `runtime`, how the trigger runtime
    evaluates it: an object implementing `lanner.runtime.triggertypes.TriggerType`
    (a `PollingType` subclass of runtime/pollbase.py, or a `RealtimeKind` of
    runtime/realtime.py). `runtime` is typed loosely so that this module, which the
    model layer reads, does not import the runtime."""

    name: str
    model: type[BaseModel]
    runtime: Any
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        evaluation = str(getattr(self.runtime, "evaluation", ""))
        if evaluation not in {"POLLING", "REALTIME"}:
            raise ValueError(
                f"trigger type {self.name}: its runtime must declare evaluation POLLING or"
                f" REALTIME (runtime/triggertypes.py), not {evaluation or 'nothing'}"
            )


@dataclass(frozen=True)
class TaskFamily:
    """What an entry point may return instead of its task types: the modules that
    hold them, each with a ``TASK_TYPES`` list. The registry then imports a module
    only when a type is asked for (the module named like a segment of the type
    name first, `log` for `io.kestra.plugin.core.log.Log`), not every module of
    the family."""

    package: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class _Source:
    """Task types not loaded yet: an entry point, or one module of a TaskFamily."""

    hint: str  # tried first for a type name that has it as a segment
    plugin: str  # the entry point's name, for load_errors
    load: Callable[[], Any]


def _entry_point_types(ep: EntryPoint) -> Any:
    """What the entry point's callable returns: task types, or a TaskFamily."""
    return ep.load()()


def _module_types(module: str) -> list[TaskType]:
    types: list[TaskType] = importlib.import_module(module).TASK_TYPES
    return types


class TaskRegistry:
    """Resolves a type name or alias to its TaskType.

    A registry made from the entry points loads a plugin (its modules and their
    pydantic models) only when a type is asked for, trying first the plugin
    whose entry-point name is a segment of the type name (`core` for
    `io.kestra.plugin.core.log.Log`), then the others in order until the name
    is found; a plugin that returns a TaskFamily is loaded a module at a time
    the same way. A one-task `lanner run` then builds the models it uses, not
    those of every task type installed (docs/performance.md). Asking for every
    name (`names`, `types`, `suggest`, `load_errors`) loads them all, and so
    does a name no plugin has: laziness never changes an answer."""

    def __init__(self, types: Iterable[TaskType] = ()) -> None:
        self._by_name: dict[str, TaskType] = {}
        self._load_errors: dict[str, str] = {}
        # What is not loaded yet, in the order it is tried.
        self._pending: list[_Source] = []
        # Worker and executor threads share the registry: one loads at a time.
        self._loading = threading.RLock()
        for t in types:
            self.register(t)
        self._triggers: dict[str, TriggerPlugin] = {}
        # The `lanner.triggers` group, read on first use (None: nothing to read).
        self._trigger_group: str | None = None

    @classmethod
    def from_entry_points(cls, group: str = ENTRY_POINT_GROUP) -> TaskRegistry:
        """Every task type installed; a plugin that fails to load is reported, not fatal."""
        registry = cls()
        registry._pending = [
            _Source(ep.name, ep.name, functools.partial(_entry_point_types, ep))
            for ep in entry_points(group=group)
        ]
        if group == ENTRY_POINT_GROUP:
            registry._trigger_group = TRIGGER_ENTRY_POINT_GROUP
        return registry

    def _load(self, source: _Source) -> None:
        """Load one pending source; the caller holds _loading."""
        at = self._pending.index(source)
        del self._pending[at]
        try:
            provided = source.load()
            if isinstance(provided, TaskFamily):
                self._pending[at:at] = [
                    _Source(
                        module,
                        source.plugin,
                        functools.partial(_module_types, f"{provided.package}.{module}"),
                    )
                    for module in provided.modules
                ]
                return
            for t in provided:
                self.register(t)
        except Exception as exc:  # a broken plugin must not stop Lanner
            self._load_errors.setdefault(source.plugin, f"{type(exc).__name__}: {exc}")

    def _load_all(self) -> None:
        with self._loading:
            while self._pending:
                self._load(self._pending[0])

    @property
    def load_errors(self) -> dict[str, str]:
        """The plugins that failed to load, by entry-point name, with the reason."""
        self._load_all()
        self._load_triggers()
        return self._load_errors

    # -- trigger types of plugins -------------------------------------------------
    def _load_triggers(self) -> None:
        """Read the `lanner.triggers` entry points, once; a broken one is reported."""
        if self._trigger_group is None:
            return
        with self._loading:
            group, self._trigger_group = self._trigger_group, None
            if group is None:
                return
            for ep in entry_points(group=group):
                try:
                    for plugin in ep.load()():
                        self.register_trigger(plugin)
                except Exception as exc:  # a broken plugin must not stop Lanner
                    self._load_errors.setdefault(ep.name, f"{type(exc).__name__}: {exc}")

    def register_trigger(self, plugin: TriggerPlugin) -> None:
        if not isinstance(plugin, TriggerPlugin):
            raise TypeError(f"a `lanner.triggers` entry point gave {plugin!r}, not a TriggerPlugin")
        for name in (plugin.name, *plugin.aliases):
            existing = self._triggers.get(name)
            if existing is not None and existing is not plugin:
                raise ValueError(f"trigger type {name} is registered twice")
            self._triggers[name] = plugin

    def trigger(self, name: str) -> TriggerPlugin | None:
        """The plugin trigger type of a name or alias (the built-in triggers are the
        model's; this loads the trigger plugins on first use)."""
        self._load_triggers()
        return self._triggers.get(name)

    def triggers(self) -> list[TriggerPlugin]:
        """Each plugin trigger type once, in name order."""
        self._load_triggers()
        seen = {p.name: p for p in self._triggers.values()}
        return [seen[k] for k in sorted(seen)]

    def trigger_names(self) -> dict[str, str]:
        """Every plugin trigger name and alias -> its canonical name."""
        self._load_triggers()
        return {name: p.name for name, p in self._triggers.items()}

    def register(self, task_type: TaskType) -> None:
        for name in (task_type.name, *task_type.aliases):
            existing = self._by_name.get(name)
            if existing is not None and existing is not task_type:
                raise ValueError(f"task type {name} is registered twice")
            self._by_name[name] = task_type

    def get(self, name: str) -> TaskType | None:
        found = self._by_name.get(name)
        if found is not None or not self._pending:
            return found
        segments = name.split(".")
        with self._loading:
            while self._pending:
                found = self._by_name.get(name)  # another thread may have loaded it
                if found is not None:
                    return found
                # A family loaded here puts its modules in the queue: sort again.
                self._load(min(self._pending, key=lambda s: s.hint not in segments))
            return self._by_name.get(name)

    def runnable(self, definition: Mapping[str, Any]) -> tuple[TaskType, Task]:
        """The runnable task a definition (its properties with `id` and `type`) describes,
        validated; an InputError says why when it is unknown, not runnable or invalid."""
        from pydantic import ValidationError

        from lanner.errors import InputError

        name = definition.get("type")
        task_type = self.get(name) if isinstance(name, str) else None
        if task_type is None:
            raise InputError(f"unknown task type {name!r}")
        if task_type.run is None:
            raise InputError(f"{name} is not a runnable task type")
        try:
            return task_type, task_type.model.model_validate(dict(definition))
        except ValidationError as exc:
            details = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
            )
            raise InputError(f"invalid {name} task: {details}") from None

    def names(self) -> list[str]:
        self._load_all()
        return sorted(self._by_name)

    def types(self) -> list[TaskType]:
        """Each type once, in name order."""
        self._load_all()
        seen: dict[str, TaskType] = {t.name: t for t in self._by_name.values()}
        return [seen[k] for k in sorted(seen)]

    def suggest(self, name: str) -> str | None:
        """The closest known type name, matching on the simple class name too."""
        names = [t.name for t in self.types()]
        import difflib  # only for a mistake's suggestion

        close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        if close:
            return close[0]
        simple = name.rsplit(".", 1)[-1].lower()
        by_simple = {n.rsplit(".", 1)[-1].lower(): n for n in names}
        match = difflib.get_close_matches(simple, list(by_simple), n=1, cutoff=0.75)
        return by_simple[match[0]] if match else None
