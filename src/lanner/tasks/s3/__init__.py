"""`io.kestra.plugin.aws.s3.*` (docs/tasks-s3.md): the `s3` entry point of `lanner.tasks`.
boto3 is imported when a task runs (the optional `s3` extra)."""

from __future__ import annotations

from lanner.model.task import Task
from lanner.plugin import TaskType
from lanner.tasks.s3.model import (
    Copy,
    CreateBucket,
    Delete,
    DeleteList,
    Download,
    Downloads,
    List,
    Upload,
)
from lanner.tasks.s3.run import RUNNERS

_MODELS: dict[str, type[Task]] = {
    "Upload": Upload,
    "Download": Download,
    "Downloads": Downloads,
    "List": List,
    "Delete": Delete,
    "DeleteList": DeleteList,
    "Copy": Copy,
    "CreateBucket": CreateBucket,
}


def task_types() -> list[TaskType]:
    """The S3 task types (the `s3` entry point)."""
    return [
        TaskType(name=f"io.kestra.plugin.aws.s3.{name}", model=model, run=RUNNERS[name])
        for name, model in _MODELS.items()
    ]
