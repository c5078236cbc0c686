"""What every TaskContext does the same way with files: internal storage through
TaskFiles, and the attempt's working directory (plugin.TaskContext's file members)."""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from lanner.storage.namespacefiles import NamespaceFile
from lanner.storage.taskfiles import TaskFiles


class AttemptFiles:
    """A mixin for the task contexts of the worker, the simulator and the tests: they
    give `_files()`, it gives the TaskContext's file members."""

    _working_dir: Path | None = None
    _shared_dir = False  # the directory is another attempt's (a WorkingDirectory job's)

    @abstractmethod
    def _files(self) -> TaskFiles:
        """This attempt's view of internal storage."""

    def put_file(self, source: str | os.PathLike[str], name: str | None = None) -> str:
        return self._files().put_file(source, name)

    def open_file(self, uri: str) -> BinaryIO:
        return self._files().open_file(uri)

    def delete_file(self, uri: str) -> bool:
        return self._files().delete_file(uri)

    def purge_execution_files(self) -> list[str]:
        return self._files().purge_execution_files()

    def namespace_files(
        self,
        namespace: str | None = None,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
    ) -> list[NamespaceFile]:
        return self._files().namespace_files(namespace, include, exclude)

    def put_namespace_file(
        self, namespace: str, path: str, data: BinaryIO, *, overwrite: bool = True
    ) -> NamespaceFile | None:
        return self._files().put_namespace_file(namespace, path, data, overwrite=overwrite)

    def delete_namespace_files(
        self, namespace: str, patterns: Sequence[str]
    ) -> list[NamespaceFile]:
        return self._files().delete_namespace_files(namespace, patterns)

    def working_directory(self) -> Path:
        if self._working_dir is None:
            self._working_dir = Path(tempfile.mkdtemp(prefix="lanner-wd-"))
        return self._working_dir

    def use_directory(self, path: Path) -> None:
        """Work in `path`, a directory the attempt shares and does not remove."""
        self._working_dir = path
        self._shared_dir = True

    def close(self) -> None:
        """The attempt ended: its working directory goes (unless it is a shared one)."""
        if self._working_dir is not None and not self._shared_dir:
            shutil.rmtree(self._working_dir, ignore_errors=True)
        self._working_dir = None
