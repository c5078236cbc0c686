"""`io.kestra.plugin.core.namespace.UploadFiles`, `DownloadFiles`, `DeleteFiles`: namespace
files (docs/storage.md) written, copied out and deleted by a task.

- UploadFiles takes `files` as a list, each entry a `kestra://` URI (stored under
  `destination` by its file name) or a glob of files of the task's working directory
  (stored under `destination` by their path in it; ``glob:`` and ``regex:`` prefixes as
  Java's PathMatcher), or as a map of namespace paths to `kestra://` URIs (`filesMap`,
  Kestra's newer name for the map form, is the same). `conflict` says what an existing
  file does: OVERWRITE (default), SKIP or ERROR. A standalone task's working directory
  is a fresh empty one (plugin.TaskContext.working_directory), so globs find files only
  in a WorkingDirectory; a URI that names no file is skipped, as in Kestra.
- DownloadFiles copies the namespace files matching `files` (globs) into this task
  run's internal storage; `files` maps each `/path` to its new URI. The namespace must be
  the flow's or one above it, the namespace files an execution may read.
- DeleteFiles deletes the files matching `files` (globs) in any namespace; `files` maps
  each deleted `/path` to the URI it had. Namespace files are a flat set of paths with no
  folders of their own, so `deleteParentFolder` has nothing more to delete.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from lanner.errors import InputError
from lanner.model.common import DynamicBool, Text
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.storage.namespacefiles import matches
from lanner.storage.uris import SCHEME, StorageUriError

_PREFIX = "io.kestra.plugin.core.namespace."


class UploadFiles(Task):
    """Store files as namespace files."""

    type: str
    namespace: Text = Field(description="The namespace the files go to.")
    files: list[Text] | dict[str, Text] | None = Field(
        None,
        description="`kestra://` URIs or globs of working-directory files (stored under"
        " `destination`), or a map of namespace paths to `kestra://` URIs.",
    )
    filesMap: dict[str, Text] | Text | None = Field(
        None, description="A map of namespace paths to `kestra://` URIs."
    )
    destination: Text = Field("/", description="The folder the files of a list go to.")
    conflict: Literal["OVERWRITE", "ERROR", "SKIP"] = Field(
        "OVERWRITE", description="What to do when the file exists."
    )

    @field_validator("filesMap")
    @classmethod
    def _not_both(cls, value: object, info: ValidationInfo) -> object:
        # Located at filesMap: `files` is declared (so validated) first.
        if value is not None and info.data.get("files") is not None:
            raise ValueError("give files or filesMap, not both")
        return value

    @model_validator(mode="after")
    def _some_files(self) -> UploadFiles:
        if self.files is None and self.filesMap is None:
            raise ValueError("give files or filesMap")
        return self


def _workdir_matches(root: Path, patterns: list[str]) -> list[tuple[str, Path]]:
    globs = [p.removeprefix("glob:") for p in patterns if not p.startswith("regex:")]
    regexes = [re.compile(p.removeprefix("regex:")) for p in patterns if p.startswith("regex:")]
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        if matches(relative, globs) or any(r.fullmatch(relative) for r in regexes):
            found.append((relative, path))
    return found


def run_upload(task: UploadFiles, ctx: TaskContext) -> Outcome:
    stored: dict[str, str] = {}

    def put(target: str, data: BinaryIO) -> None:
        with data:
            put = ctx.put_namespace_file(
                task.namespace, target, data, overwrite=task.conflict == "OVERWRITE"
            )
        if put is not None:
            stored["/" + put.path] = put.uri
        elif task.conflict == "ERROR":
            raise InputError(f"the namespace file /{target.strip('/')} exists in {task.namespace}")
        else:
            ctx.log("DEBUG", f"/{target.strip('/')} exists in {task.namespace}: skipped")

    mapping = task.filesMap if task.filesMap is not None else task.files
    if isinstance(mapping, str):
        raise InputError("filesMap must render to a map of namespace paths to kestra:// URIs")
    if isinstance(mapping, dict):
        for target, uri in mapping.items():
            data = _open_if_any(ctx, uri)
            if data is not None:
                put(target, data)
    else:
        entries = list(mapping or [])
        destination = task.destination.strip("/")
        base = destination + "/" if destination else ""
        for uri in (e for e in entries if e.startswith(SCHEME)):
            data = _open_if_any(ctx, uri)
            if data is not None:
                put(base + uri.rsplit("/", 1)[-1], data)
        patterns = [e for e in entries if not e.startswith(SCHEME)]
        if patterns:
            for relative, path in _workdir_matches(ctx.working_directory(), patterns):
                put(base + relative, path.open("rb"))
    ctx.log("INFO", f"Uploaded {len(stored)} file(s) to the namespace {task.namespace}")
    return Outcome(outputs={"files": stored})


def _open_if_any(ctx: TaskContext, uri: str) -> BinaryIO | None:
    """The file at `uri`, or None when there is none (skipped, as in Kestra)."""
    try:
        return ctx.open_file(uri)
    except StorageUriError as exc:
        if "no such file" in exc.message:
            return None
        raise


def _patterns(files: Text | list[Text]) -> list[str]:
    return [files] if isinstance(files, str) else list(files)


class DownloadFiles(Task):
    """Copy namespace files into this task run's internal storage."""

    type: str
    namespace: Text = Field(description="The namespace to read (the flow's or one above it).")
    files: Text | list[Text] = Field(description="A glob or a list of globs of namespace paths.")


def run_download(task: DownloadFiles, ctx: TaskContext) -> Outcome:
    found = ctx.namespace_files(task.namespace, include=_patterns(task.files))
    downloaded: dict[str, str] = {}
    work = ctx.working_directory() / ".download"
    for f in found:
        local = work / f.path
        local.parent.mkdir(parents=True, exist_ok=True)
        with ctx.open_file(f.uri) as data, local.open("wb") as out:
            while chunk := data.read(1 << 20):
                out.write(chunk)
        downloaded["/" + f.path] = ctx.put_file(local, f.path)
        local.unlink()
        ctx.log("DEBUG", f"Downloaded /{f.path}")
    return Outcome(outputs={"files": downloaded})


class DeleteFiles(Task):
    """Delete namespace files."""

    type: str
    namespace: Text = Field(description="The namespace to delete files from.")
    files: Text | list[Text] = Field(description="A glob or a list of globs of namespace paths.")
    deleteParentFolder: DynamicBool = Field(
        False, description="Namespace files have no folders of their own: nothing more to delete."
    )


def run_delete(task: DeleteFiles, ctx: TaskContext) -> Outcome:
    deleted = ctx.delete_namespace_files(task.namespace, _patterns(task.files))
    ctx.log("INFO", f"Deleted {len(deleted)} file(s) of the namespace {task.namespace}")
    return Outcome(outputs={"files": {"/" + f.path: f.uri for f in deleted}})


TASK_TYPES: list[TaskType] = [
    TaskType(_PREFIX + "UploadFiles", UploadFiles, run=run_upload),
    TaskType(_PREFIX + "DownloadFiles", DownloadFiles, run=run_download),
    TaskType(_PREFIX + "DeleteFiles", DeleteFiles, run=run_delete),
]
