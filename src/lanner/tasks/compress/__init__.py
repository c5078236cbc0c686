"""`io.kestra.plugin.compress.*` (docs/tasks-compress.md): the `compress` entry point of
`lanner.tasks`, on the standard library's zipfile, tarfile, gzip, bz2, lzma and zlib."""

from __future__ import annotations

from lanner.model.task import Task
from lanner.plugin import TaskType
from lanner.tasks.compress.model import (
    ArchiveCompress,
    ArchiveDecompress,
    FileCompress,
    FileDecompress,
)
from lanner.tasks.compress.run import RUNNERS

_MODELS: dict[str, type[Task]] = {
    "ArchiveCompress": ArchiveCompress,
    "ArchiveDecompress": ArchiveDecompress,
    "FileCompress": FileCompress,
    "FileDecompress": FileDecompress,
}


def task_types() -> list[TaskType]:
    """The compress task types (the `compress` entry point)."""
    return [
        TaskType(name=f"io.kestra.plugin.compress.{name}", model=model, run=RUNNERS[name])
        for name, model in _MODELS.items()
    ]
