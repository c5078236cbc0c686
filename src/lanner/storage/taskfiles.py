"""What one task run may do with internal storage: store the files it produced,
read the files its execution may read."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lanner.storage.base import Storage
from lanner.storage.namespacefiles import NamespaceFile, namespace_files
from lanner.storage.uris import (
    SCHEME,
    StorageUriError,
    execution_prefix,
    may_read,
    namespace_file_uri,
    storage_path,
    task_file_uri,
)


@dataclass(frozen=True)
class TaskFiles:
    storage: Storage
    namespace: str
    flow_id: str
    execution_id: str
    task_id: str
    task_run_id: str
    # The first execution of this one's chain (its `originalId`), when another: a batch
    # file names the first child of its batch as its reader (storage/uris.py).
    reader_id: str | None = None

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
        reader = self.reader_id or self.execution_id
        if not may_read(uri, self.namespace, self.flow_id, reader):
            raise StorageUriError(
                f"{uri} belongs to another flow: an execution of "
                f"{self.namespace}.{self.flow_id} may read its own flow's files and its "
                "namespace's files only"
            )
        try:
            return self.storage.open(storage_path(uri))
        except FileNotFoundError:
            raise StorageUriError(f"{uri}: no such file in internal storage") from None

    def delete_file(self, uri: str) -> bool:
        """Delete a `kestra://` file of this flow's executions; whether there was one.
        Namespace files and other flows' files are not a task's to delete."""
        path = storage_path(uri)
        own = execution_prefix(self.namespace, self.flow_id, self.execution_id)
        flow_root = own[: own.index("/executions/") + 1]
        if not path.startswith(flow_root):
            raise StorageUriError(
                f"{uri}: an execution of {self.namespace}.{self.flow_id} may delete its own "
                "flow's files only"
            )
        return self.storage.delete(path)

    def purge_execution_files(self) -> list[str]:
        """Delete every file of this execution (inputs, task outputs); their URIs."""
        prefix = execution_prefix(self.namespace, self.flow_id, self.execution_id)
        deleted = []
        for info in list(self.storage.list(prefix)):
            if self.storage.delete(info.path):
                deleted.append(f"{SCHEME}/{info.path}")
        return deleted

    def namespace_files(
        self,
        namespace: str | None = None,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
    ) -> list[NamespaceFile]:
        """The files of `namespace` (default: the flow's; else the flow's namespace or
        one above it) picked by include/exclude globs; open one with open_file(f.uri)."""
        target = self.namespace if namespace is None else namespace
        own = self.namespace.split(".")
        if target.split(".") != own[: len(target.split("."))]:
            raise StorageUriError(
                f"namespace files of {target}: an execution of {self.namespace} may read its "
                "namespace's files and those of the namespaces above it only"
            )
        return list(namespace_files(self.storage, target, include, exclude))

    def put_namespace_file(
        self, namespace: str, path: str, data: BinaryIO, *, overwrite: bool = True
    ) -> NamespaceFile | None:
        """Store `data` as the namespace file `path` of `namespace`; with `overwrite`
        False, an existing file is kept and None returned (UploadFiles). Any namespace:
        Kestra's open-source edition has no namespace permissions either."""
        uri = namespace_file_uri(namespace, path)
        target = storage_path(uri)
        if not overwrite and self.storage.info(target) is not None:
            return None
        size = self.storage.put(target, data)
        root = namespace_file_uri(namespace, "x")[:-1]  # the URI of the namespace's root
        return NamespaceFile(uri[len(root) :], uri, size)

    def delete_namespace_files(
        self, namespace: str, patterns: Sequence[str]
    ) -> list[NamespaceFile]:
        """Delete the files of `namespace` matching one of the globs; those deleted."""
        deleted = []
        for f in list(namespace_files(self.storage, namespace, include=patterns or ["**"])):
            if self.storage.delete(storage_path(f.uri)):
                deleted.append(f)
        return deleted
