"""The files an execution's expressions may read: `read()`, `fileSize()`,
`fileExists()`, `isFileEmpty()` (lanner.expr's FileReader, filled in by the executor).

A path is a `kestra://` URI the execution may read (uris.may_read), or, as in
Kestra's `read('queries/q.sql')`, a namespace file's path relative to the flow's
namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from lanner.storage.base import Storage
from lanner.storage.uris import SCHEME, StorageUriError, may_read, namespace_file_uri, storage_path


@dataclass(frozen=True)
class ExecutionFiles:
    storage: Storage
    namespace: str
    flow_id: str
    # The reading execution's chain (its `originalId`), when known: it may read a batch
    # file made for that chain's first execution (uris).
    execution_id: str | None = None

    def _path(self, path: str) -> str:
        if "://" in path and not path.startswith(SCHEME):
            storage_path(path)  # raises: names the scheme it expects
        uri = path if path.startswith(SCHEME) else namespace_file_uri(self.namespace, path)
        if not may_read(uri, self.namespace, self.flow_id, self.execution_id):
            raise StorageUriError(
                f"{uri} belongs to another flow: an execution of "
                f"{self.namespace}.{self.flow_id} may read its own flow's files and its "
                "namespace's files only"
            )
        return storage_path(uri)

    def size(self, path: str) -> int | None:
        info = self.storage.info(self._path(path))
        return None if info is None else info.size

    def read(self, path: str, max_bytes: int) -> bytes:
        with self.storage.open(self._path(path)) as f:
            return f.read(max_bytes)
