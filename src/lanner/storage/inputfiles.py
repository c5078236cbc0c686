"""FILE inputs into internal storage: the value an execution's FILE input gets.

As in Kestra, a FILE input's value in the execution is a `kestra://` URI. It is
given as one of:
- a local path (`lanner run --input data=./in.csv`): the file is copied to the
  input's URI (`uris.input_file_uri`);
- a `kestra://` URI this execution may read (`uris.may_read`): kept as it is;
- `nsfile:///path`: a namespace file of the flow's namespace, kept as its URI.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lanner.storage.base import Storage
from lanner.storage.uris import (
    SCHEME,
    StorageUriError,
    input_file_uri,
    may_read,
    namespace_file_uri,
    storage_path,
)

NSFILE = "nsfile:///"


@dataclass(frozen=True)
class InputFiles:
    """The `files` callback of parse_inputs for one execution. Without an execution id it
    only checks the values (inputs checked before anything is created)."""

    storage: Storage
    namespace: str
    flow_id: str
    execution_id: str | None

    def __call__(self, input_id: str, value: str) -> str:
        try:
            if value.startswith(NSFILE):
                return self._existing(namespace_file_uri(self.namespace, value[len(NSFILE) :]))
            if value.startswith(SCHEME):
                return self._existing(value)
            return self._copy(input_id, Path(value))
        except StorageUriError as exc:
            raise ValueError(exc.message) from None

    def _existing(self, uri: str) -> str:
        if not may_read(uri, self.namespace, self.flow_id, self.execution_id):
            raise ValueError(
                f"{uri}: an execution of {self.namespace}.{self.flow_id} may read its own "
                "flow's files and its namespace's files only (docs/storage.md)"
            )
        if self.storage.info(storage_path(uri)) is None:
            raise ValueError(f"{uri}: no such file in internal storage")
        return uri

    def _copy(self, input_id: str, path: Path) -> str:
        if not path.is_file():
            raise ValueError(f"{path}: no such file (a FILE input takes a file's path)")
        if self.execution_id is None:
            return str(path)
        uri = input_file_uri(self.namespace, self.flow_id, self.execution_id, input_id, path.name)
        try:
            with path.open("rb") as data:
                self.storage.put(storage_path(uri), data)
        except OSError as exc:
            raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        return uri
