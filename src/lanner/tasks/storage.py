"""`io.kestra.plugin.core.storage.*`: tasks on internal-storage files (docs/storage.md).

`Write`, `Concat`, `Delete`, `Size`, `Split`, `Reverse` and
`PurgeCurrentExecutionFiles` (`FilterItems` and `DeduplicateItems` are in storageitems.py), with Kestra's properties and outputs. Files are
read through `ctx.open_file` (only what the execution may read) and stored with
`ctx.put_file`, streamed: no task holds a whole file in memory, except Reverse,
which keeps the offsets of the lines (8 bytes each, not the lines) to read them
backwards.
"""

from __future__ import annotations

import codecs
import json
import re
import shutil
import tempfile
import uuid
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import Field, field_validator, model_validator

from lanner.model.common import DynamicBool, DynamicInt, Text, is_dynamic
from lanner.model.states import State
from lanner.model.task import Task
from lanner.model.unsupported import reject
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks import localfiles
from lanner.tasks import storageitems as items
from lanner.tasks.core.log import as_text

_CHUNK = 1 << 20
_OLD = "io.kestra.core.tasks.storages."
_NEW = "io.kestra.plugin.core.storage."


def _text(ctx: TaskContext, value: Any) -> str:
    return as_text(ctx.render(value))


def _int(ctx: TaskContext, value: Any, name: str) -> int:
    rendered = ctx.render(value)
    try:
        number = int(str(rendered).strip())
    except ValueError:
        raise ValueError(f"{name}: expected an integer, got {rendered!r}") from None
    if number < 1:
        raise ValueError(f"{name}: must be at least 1, got {number}")
    return number


def _bool(ctx: TaskContext, value: Any) -> bool:
    rendered = ctx.render(value)
    return rendered if isinstance(rendered, bool) else str(rendered).strip().lower() == "true"


_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?B?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_bytes(value: Any) -> int:
    """`10MB`, `200KB`, `512` (bytes); 1 KB is 1024 bytes."""
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"bytes: expected a size such as 10MB, 200KB or 1024, got {value!r}")
    unit = (match.group(2) or "").upper().rstrip("B") or "B"
    size = int(match.group(1)) * _UNITS[unit]
    if size < 1:
        raise ValueError("bytes: must be at least 1")
    return size


def _extension(ext: str) -> str:
    ext = ext.strip()
    if not ext:
        return ""
    if "/" in ext or "\\" in ext or "\x00" in ext:
        raise ValueError(f"extension: {ext!r} is not a file extension")
    return ext if ext.startswith(".") else "." + ext


def _store(ctx: TaskContext, path: Path, name: str) -> str:
    return ctx.put_file(path, name)


def _name_of(uri: str) -> tuple[str, str]:
    """(stem, extension) of the file a URI names."""
    name = uri.rsplit("/", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return (stem, "." + ext) if dot and stem else (name, "")


# -- Write ------------------------------------------------------------------------------


class Write(Task):
    """Write a text to a new file in internal storage."""

    type: str
    content: Text = Field(description="The file's content.")
    extension: Text | None = Field(None, description="The file's extension, e.g. .txt.")


def run_write(task: Write, ctx: TaskContext) -> Outcome:
    ext = _extension(_text(ctx, task.extension)) if task.extension is not None else ".tmp"
    with tempfile.TemporaryDirectory(prefix="lanner-write-") as tmp:
        path = Path(tmp) / "content"
        path.write_text(_text(ctx, task.content), encoding="utf-8")
        return Outcome(outputs={"uri": _store(ctx, path, f"{uuid.uuid4().hex}{ext}")})


# -- Concat -----------------------------------------------------------------------------


class Concat(Task):
    """Concatenate files of internal storage into a new one, in order."""

    type: str
    files: list[Text] | Text = Field(
        description="The kestra:// URIs of the files, as a list or a JSON array text."
    )
    separator: Text | None = Field(None, description="Written between two files (default none).")
    extension: Text = Field(".tmp", description="The new file's extension.")


def _uri_list(ctx: TaskContext, value: Any) -> list[str]:
    rendered = ctx.render(value)
    if isinstance(rendered, str):
        try:
            rendered = json.loads(rendered)
        except ValueError:
            rendered = [rendered]
    if isinstance(rendered, str):
        rendered = [rendered]
    if not isinstance(rendered, list) or not all(isinstance(u, str) for u in rendered):
        raise ValueError("files: expected a list of kestra:// URIs or a JSON array of them")
    return rendered


def run_concat(task: Concat, ctx: TaskContext) -> Outcome:
    uris = _uri_list(ctx, task.files)
    separator = _text(ctx, task.separator).encode() if task.separator is not None else b""
    ext = _extension(_text(ctx, task.extension))
    with tempfile.TemporaryDirectory(prefix="lanner-concat-") as tmp:
        path = Path(tmp) / "concat"
        with path.open("wb") as out:
            for i, uri in enumerate(uris):
                if ctx.cancelled:
                    return Outcome(State.KILLED)
                if i and separator:
                    out.write(separator)
                with ctx.open_file(uri) as source:
                    shutil.copyfileobj(source, out, _CHUNK)
        return Outcome(outputs={"uri": _store(ctx, path, f"{uuid.uuid4().hex}{ext}")})


# -- Delete, Size, PurgeCurrentExecutionFiles -------------------------------------------


class Delete(Task):
    """Delete a file of this flow's executions from internal storage."""

    type: str
    uri: Text = Field(description="The kestra:// URI of the file.")
    errorOnMissing: DynamicBool = Field(False, description="Fail when there is no such file.")


def run_delete(task: Delete, ctx: TaskContext) -> Outcome:
    uri = _text(ctx, task.uri)
    deleted = ctx.delete_file(uri)
    if not deleted and _bool(ctx, task.errorOnMissing):
        return Outcome(State.FAILED, error=f"Unable to find the file {uri}")
    return Outcome(outputs={"uri": uri, "deleted": deleted})


class Size(Task):
    """The size in bytes of a file of internal storage."""

    type: str
    uri: Text = Field(description="The kestra:// URI of the file.")


def run_size(task: Size, ctx: TaskContext) -> Outcome:
    size = 0
    with ctx.open_file(_text(ctx, task.uri)) as f:
        while chunk := f.read(_CHUNK):
            size += len(chunk)
    return Outcome(outputs={"size": size})


class PurgeCurrentExecutionFiles(Task):
    """Delete every internal-storage file of the current execution."""

    type: str


def run_purge(task: PurgeCurrentExecutionFiles, ctx: TaskContext) -> Outcome:
    return Outcome(outputs={"uris": ctx.purge_execution_files()})


# -- Split, Reverse ---------------------------------------------------------------------


def _lines(source: BinaryIO, separator: bytes) -> Iterator[bytes]:
    """The file's rows, split on `separator` (kept off), streamed; no empty last row."""
    pending = b""
    while chunk := source.read(_CHUNK):
        pending += chunk
        *rows, pending = pending.split(separator)
        yield from rows
    if pending:
        yield pending


class Split(Task):
    """Split a file of internal storage into several: by size, rows or partitions."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the file to split.")
    bytes: Text | None = Field(None, description="The most bytes of a file: 10MB, 200KB, 1024.")
    partitions: DynamicInt | None = Field(None, description="How many files to make.")
    rows: DynamicInt | None = Field(None, description="The most rows of a file.")
    separator: Text = Field("\n", description="What ends a row (default a newline).")
    regexPattern: Text | None = None

    @field_validator("regexPattern")
    @classmethod
    def _no_regex(cls, v: str | None) -> str | None:
        return reject("regexPattern", v, "splitting on a regular expression is not implemented")

    @field_validator("bytes")
    @classmethod
    def _size(cls, v: str | None) -> str | None:
        if v is not None and not is_dynamic(v):
            parse_bytes(v)
        return v

    @model_validator(mode="after")
    def _one_way(self) -> Split:
        given = [n for n in ("bytes", "partitions", "rows") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of bytes, partitions or rows")
        return self


class _Parts:
    """Output files written side by side, stored in order at the end."""

    def __init__(self, folder: Path, stem: str, ext: str) -> None:
        self.folder, self.stem, self.ext = folder, stem, ext
        self.paths: list[Path] = []

    def new(self) -> BinaryIO:
        path = self.folder / f"{self.stem}_{len(self.paths)}{self.ext}"
        self.paths.append(path)
        return path.open("wb")


def run_split(task: Split, ctx: TaskContext) -> Outcome:
    uri = _text(ctx, task.from_)
    separator = _text(ctx, task.separator).encode()
    if not separator:
        raise ValueError("separator: must not be empty")
    stem, ext = _name_of(uri)
    with tempfile.TemporaryDirectory(prefix="lanner-split-") as tmp:
        parts = _Parts(Path(tmp), stem, ext)
        with ctx.open_file(uri) as source:
            rows = _lines(source, separator)
            if task.partitions is not None:
                count = _int(ctx, task.partitions, "partitions")
                writers = [parts.new() for _ in range(count)]
                try:
                    # Round robin: every partition gets a share without knowing the total.
                    for i, row in enumerate(rows):
                        writers[i % count].write(row + separator)
                finally:
                    for writer in writers:
                        writer.close()
            else:
                limit_rows = _int(ctx, task.rows, "rows") if task.rows is not None else None
                limit_bytes = parse_bytes(ctx.render(task.bytes)) if task.bytes else None
                out: BinaryIO | None = None
                in_part = size = 0
                try:
                    for row in rows:
                        line = row + separator
                        full = (limit_rows is not None and in_part >= limit_rows) or (
                            limit_bytes is not None and in_part and size + len(line) > limit_bytes
                        )
                        if out is None or full:
                            if out is not None:
                                out.close()
                            out, in_part, size = parts.new(), 0, 0
                        out.write(line)
                        in_part += 1
                        size += len(line)
                finally:
                    if out is not None:
                        out.close()
        uris = [_store(ctx, p, p.name) for p in parts.paths]
    return Outcome(outputs={"uris": uris})


class Reverse(Task):
    """Write a file of internal storage with its lines in reverse order, last first."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the file.")
    separator: Text = Field("\n", description="What ends a line (default a newline).")
    charset: Text = Field("UTF-8", description="The file's character set.")


def run_reverse(task: Reverse, ctx: TaskContext) -> Outcome:
    uri = _text(ctx, task.from_)
    charset = _text(ctx, task.charset)
    try:
        codecs.lookup(charset)
    except LookupError:
        raise ValueError(f"charset: unknown character set {charset!r}") from None
    separator = _text(ctx, task.separator).encode(charset)
    if not separator:
        raise ValueError("separator: must not be empty")
    _, ext = _name_of(uri)
    with tempfile.TemporaryDirectory(prefix="lanner-reverse-") as tmp:
        copy = Path(tmp) / "source"
        with ctx.open_file(uri) as source, copy.open("wb") as out:
            shutil.copyfileobj(source, out, _CHUNK)
        # The line ends' offsets, then the lines read backwards from the local copy.
        offsets = array("q", [0])  # 8 bytes a line, not a Python int's 36
        with copy.open("rb") as f:
            for row in _lines(f, separator):
                offsets.append(offsets[-1] + len(row) + len(separator))
        result = Path(tmp) / "reversed"
        with copy.open("rb") as f, result.open("wb") as out:
            for i in range(len(offsets) - 1, 0, -1):
                start, end = offsets[i - 1], offsets[i]
                f.seek(start)
                row = f.read(end - start)
                out.write(row if row.endswith(separator) else row + separator)
        return Outcome(outputs={"uri": _store(ctx, result, f"{uuid.uuid4().hex}{ext}")})


def _types(name: str, model: type[Task], run: Any, *aliases: str) -> TaskType:
    return TaskType(name=_NEW + name, model=model, run=run, aliases=(_OLD + name, *aliases))


def task_types() -> list[TaskType]:
    """The `io.kestra.plugin.core.storage` task types (the `storage` entry point)."""
    return [
        _types("FilterItems", items.FilterItems, items.run_filter),
        _types("DeduplicateItems", items.DeduplicateItems, items.run_deduplicate),
        _types("Write", Write, run_write),
        _types("Concat", Concat, run_concat),
        _types("Delete", Delete, run_delete),
        _types("Size", Size, run_size),
        _types("Split", Split, run_split),
        _types("Reverse", Reverse, run_reverse),
        localfiles.TASK_TYPE,
        TaskType(
            name=_NEW + "PurgeCurrentExecutionFiles",
            model=PurgeCurrentExecutionFiles,
            run=run_purge,
            aliases=(_NEW + "PurgeExecution", _OLD + "PurgeExecution"),
        ),
    ]
