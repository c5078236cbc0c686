"""What one task run may do with internal storage: store the files it produced,
read the files its execution may read."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lanner.storage.base import Storage
from lanner.storage.uris import StorageUriError, may_read, storage_path, task_file_uri


@dataclass(frozen=True)
class TaskFiles:
    storage: Storage
    namespace: str
    flow_id: str
    execution_id: str
    task_id: str
    task_run_id: str

    def put_file(self, source: str | os.PathLike[str], name: str | None = None) -> str:
        """Copy a local file into internal storage as a file of this task run; its URI."""
        src = Path(source)
        uri = task_file_uri(
            self.namespace,
            self.flow_id,
            self.execution_id,
            self.task_id,
            self.task_run_id,
            name if name is not None else src.name,
        )
        with src.open("rb") as data:
            self.storage.put(storage_path(uri), data)
        return uri

    def open_file(self, uri: str) -> BinaryIO:
        """Open a `kestra://` file this execution may read."""
        if not may_read(uri, self.namespace, self.flow_id):
            raise StorageUriError(
                f"{uri} belongs to another flow: an execution of "
                f"{self.namespace}.{self.flow_id} may read its own flow's files and its "
                "namespace's files only"
            )
        try:
            return self.storage.open(storage_path(uri))
        except FileNotFoundError:
            raise StorageUriError(f"{uri}: no such file in internal storage") from None
