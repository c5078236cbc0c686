"""A TaskContext for code a polling trigger runs while it is evaluated (a JDBC
Trigger runs the JDBC Query task's code): it renders with the trigger's scope, keeps
files in the `trigger/` folder of the execution it will start, and has a working
directory of its own. What belongs to a running execution (KV, namespace files,
purges) is refused."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from lanner.errors import LannerError
from lanner.plugin import InstanceAccess, KVAccess
from lanner.storage.base import Storage
from lanner.storage.uris import storage_path, trigger_file_uri


class NotInTriggerError(LannerError):
    """This is not available while a trigger is evaluated."""


def _refused(what: str) -> Callable[..., NoReturn]:
    def refuse(self: object, *args: object, **kwargs: object) -> NoReturn:
        raise NotInTriggerError(what)

    return refuse


class TaskOnlyRefused:
    """The TaskContext members only a task run of an execution has, each refusing
    with a NotInTriggerError that names what the trigger's evaluation lacks."""

    @property
    def kv(self) -> KVAccess:
        raise NotInTriggerError("the KV store is not available to a trigger's evaluation")

    @property
    def instance(self) -> InstanceAccess:
        raise NotInTriggerError("a trigger's evaluation does not administer the instance")

    read_execution = _refused("a trigger's evaluation does not read executions")
    execution_context = _refused("a trigger's evaluation has no execution context")
    run_task = _refused("a trigger's evaluation runs no task")
    put_namespace_file = _refused("a trigger's evaluation writes no namespace file")
    delete_namespace_files = _refused("a trigger's evaluation deletes no namespace file")
    open_file = _refused("a trigger's evaluation reads no internal-storage file")
    delete_file = _refused("a trigger's evaluation deletes no file")
    purge_execution_files = _refused("a trigger's evaluation purges no file")
    namespace_files = _refused("namespace files are not available to a trigger's evaluation")


class TriggerTaskContext(TaskOnlyRefused):
    """The task context a polling trigger's evaluation runs task code with (the JDBC
    Trigger runs the Query task's code): internal storage, rendering and logs. What
    only a task run of an execution has (KV, executions, the instance, namespace file
    writes) raises NotInTriggerError, so task code shared with a trigger fails
    clearly where it reaches for them."""

    def __init__(
        self,
        storage: Storage | None,
        namespace: str,
        flow_id: str,
        trigger_id: str,
        execution_id: str,
        render: Callable[[Any], Any],
        log: Callable[[str, str], None],
    ) -> None:
        self.storage = storage
        self.namespace, self.flow_id, self.task_id = namespace, flow_id, trigger_id
        self.execution_id = execution_id
        self.task_run_id = f"trigger-{trigger_id}"
        self.attempt = 1
        self.idempotency_key = f"{execution_id}:{trigger_id}"
        self._render, self._log = render, log
        self._workdir: Path | None = None

    @property
    def server_url(self) -> str | None:
        return None

    def render(self, value: Any) -> Any:
        return self._render(value)

    def log(self, level: str, message: str) -> None:
        self._log(level, message)

    @property
    def cancelled(self) -> bool:
        return False

    def wait(self, seconds: float) -> bool:
        return True

    def put_file(self, source: str | os.PathLike[str], name: str | None = None) -> str:
        if self.storage is None:
            raise NotInTriggerError("this trigger needs the internal storage to keep files")
        uri = trigger_file_uri(
            self.namespace, self.flow_id, self.execution_id, self.task_id, name or Path(source).name
        )
        with open(source, "rb") as data:
            self.storage.put(storage_path(uri), data)
        return uri

    def working_directory(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="lanner-trigger-"))
        return self._workdir

    def close(self) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
