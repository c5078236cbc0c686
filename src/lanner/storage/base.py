"""The internal-storage contract: a flat space of paths holding immutable bytes.

Paths are the checked paths of `uris.storage_path`, never host paths. A file
is written whole or not at all: a reader never sees half a file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: str  # inside the storage, as storage_path gives it
    size: int
    modified: datetime


class Storage(ABC):
    @abstractmethod
    def put(self, path: str, data: BinaryIO) -> int:
        """Write the file at `path` from `data` (read to its end), replacing any; its size."""

    @abstractmethod
    def open(self, path: str) -> BinaryIO:
        """Read the file at `path`; FileNotFoundError when there is none."""

    @abstractmethod
    def info(self, path: str) -> FileInfo | None:
        """The file at `path`, or None."""

    @abstractmethod
    def delete(self, path: str) -> bool:
        """Delete the file at `path`; whether there was one."""

    @abstractmethod
    def list(self, prefix: str) -> Iterator[FileInfo]:
        """Every file whose path starts with `prefix`, in path order."""

    def delete_prefix(self, prefix: str) -> int:
        """Delete every file under `prefix`; how many."""
        paths = [f.path for f in self.list(prefix)]
        return sum(self.delete(p) for p in paths)
