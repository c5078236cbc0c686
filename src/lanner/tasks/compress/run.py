"""Running the compress tasks (docs/tasks-compress.md). Archives are read entry by
entry; each entry's name is checked (no absolute path, no `..`: no zip-slip), links
and devices are skipped, and everything decompressed counts against a budget of
bytes and files (codecs.Budget)."""

from __future__ import annotations

import json
import posixpath
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from lanner.errors import LannerError
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.compress import codecs
from lanner.tasks.compress.model import (
    ALGORITHMS,
    COMPRESSIONS,
    KESTRA_ALGORITHMS,
    KESTRA_COMPRESSIONS,
    ArchiveCompress,
    ArchiveDecompress,
    FileCompress,
    FileDecompress,
    check_choice,
)
from lanner.tasks.core.log import as_text


def _guarded(run: Callable[[Any, TaskContext], Outcome]) -> Callable[[Task, TaskContext], Outcome]:
    def guarded(task: Task, ctx: TaskContext) -> Outcome:
        try:
            return run(task, ctx)
        except (LannerError, ValueError, OSError, EOFError) as exc:
            # Bad archives: zipfile.BadZipFile and tarfile.TarError are ValueError/OSError
            # kin or raised as themselves; each says what is wrong.
            return Outcome(State.FAILED, error=f"{type(exc).__name__}: {exc}")
        except (zipfile.BadZipFile, tarfile.TarError) as exc:
            return Outcome(State.FAILED, error=f"not a valid archive: {exc}")

    return guarded


def _compression(ctx: TaskContext, value: Any) -> str | None:
    if value is None:
        return None
    name = as_text(ctx.render(value)).strip()
    return check_choice(name, COMPRESSIONS, KESTRA_COMPRESSIONS, "compression") if name else None


def _algorithm(ctx: TaskContext, value: Any) -> str:
    name = as_text(ctx.render(value)).strip()
    return check_choice(name, ALGORITHMS, KESTRA_ALGORITHMS, "algorithm")


def safe_entry_name(name: str) -> str | None:
    """The entry's path inside the output, or None for one that would land outside it
    (absolute, `..`, a drive letter). Spaces become underscores, as in Kestra."""
    text = name.replace("\\", "/")
    if text.startswith("/") or "\x00" in text or (len(text) > 1 and text[1] == ":"):
        return None
    normal = posixpath.normpath(text)
    if normal in {"", "."} or normal.startswith("../") or normal == "..":
        return None
    if any(part == ".." for part in text.split("/")):
        return None
    return normal.replace(" ", "_")


def _files_map(ctx: TaskContext, value: Any) -> dict[str, str]:
    rendered = ctx.render(value)
    if isinstance(rendered, str):
        try:
            rendered = json.loads(rendered)
        except ValueError:
            raise ValueError("from: expected a map of path in the archive: kestra:// URI") from None
    if not isinstance(rendered, dict) or not rendered:
        raise ValueError("from: expected a map of path in the archive: kestra:// URI")
    out: dict[str, str] = {}
    for name, uri in rendered.items():
        safe = safe_entry_name(str(name))
        if safe is None or safe != str(name).replace(" ", "_"):
            raise ValueError(f"from: {name!r} is not a relative path inside the archive")
        out[str(name)] = as_text(uri)
    return out


def run_archive_compress(task: ArchiveCompress, ctx: TaskContext) -> Outcome:
    algorithm = _algorithm(ctx, task.algorithm)
    compression = _compression(ctx, task.compression)
    files = _files_map(ctx, task.from_)
    with tempfile.TemporaryDirectory(prefix="lanner-compress-") as tmp:
        archive = Path(tmp) / "archive"
        if algorithm == "TAR":
            with archive.open("wb") as raw, tarfile.open(fileobj=raw, mode="w|") as tar:
                for name, uri in files.items():
                    local = Path(tmp) / "entry"
                    with ctx.open_file(uri) as source, local.open("wb") as out:
                        codecs.copy(source, out)
                    info = tar.gettarinfo(str(local), arcname=name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with local.open("rb") as data:
                        tar.addfile(info, data)
        else:  # ZIP and JAR (a JAR is a ZIP)
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
                for name, uri in files.items():
                    with ctx.open_file(uri) as source, zf.open(name, "w", force_zip64=True) as out:
                        codecs.copy(source, out)
        final = archive
        if compression is not None:
            final = Path(tmp) / "compressed"
            with (
                archive.open("rb") as source,
                final.open("wb") as raw,
                codecs.writer(compression, raw) as out,
            ):
                codecs.copy(source, out)
        uri = ctx.put_file(final, f"archive.{_extension(algorithm, compression)}")
    return Outcome(outputs={"uri": uri})


SUFFIXES = {"GZIP": ".gz", "BZIP2": ".bz2", "XZ": ".xz", "LZMA": ".lzma", "DEFLATE": ".zz"}


def _extension(algorithm: str, compression: str | None) -> str:
    base = {"ZIP": "zip", "JAR": "jar", "TAR": "tar"}[algorithm]
    return base + (SUFFIXES[compression] if compression else "")


@contextmanager
def _decompressed(
    ctx: TaskContext, uri: str, compression: str | None, budget: codecs.Budget, folder: Path
) -> Iterator[BinaryIO]:
    """The archive's bytes, decompressed (to a file, within the budget, when compressed)."""
    with ctx.open_file(uri) as raw:
        if compression is None:
            yield raw
            return
        path = folder / "archive"
        with codecs.reader(compression, raw) as source, path.open("wb") as out:
            budget.copy(source, out)
    with path.open("rb") as data:
        yield data


def run_archive_decompress(task: ArchiveDecompress, ctx: TaskContext) -> Outcome:
    algorithm = _algorithm(ctx, task.algorithm)
    compression = _compression(ctx, task.compression)
    uri = as_text(ctx.render(task.from_))
    budget = codecs.Budget()
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="lanner-compress-") as tmp:
        folder = Path(tmp)
        entry_path = folder / "entry"
        with _decompressed(ctx, uri, compression, budget, folder) as data:
            for name, source in _entries(algorithm, data, folder, ctx):
                budget.entry()
                with entry_path.open("wb") as out:
                    budget.copy(source, out)
                files[name] = ctx.put_file(entry_path, name)
    ctx.log("INFO", f"extracted {len(files)} file(s)")
    return Outcome(outputs={"files": files})


def _entries(
    algorithm: str, data: BinaryIO, folder: Path, ctx: TaskContext
) -> Iterator[tuple[str, codecs.Readable]]:
    """(safe name, content) of each regular file of the archive, in archive order."""
    if algorithm == "TAR":
        with tarfile.open(fileobj=data, mode="r|") as tar:
            for member in tar:
                if member.isdir():
                    continue
                name = safe_entry_name(member.name)
                if not member.isfile() or name is None:
                    ctx.log(
                        "WARN",
                        f"entry {member.name!r} skipped: not a regular file inside the archive",
                    )
                    continue
                content = tar.extractfile(member)
                if content is not None:
                    with content:
                        yield name, content
        return
    source: BinaryIO = data
    if not data.seekable():  # zipfile reads the central directory at the end
        path = folder / "archive.zip"
        with path.open("wb") as out:
            shutil.copyfileobj(data, out, codecs.CHUNK)
        source = path.open("rb")
    with source, zipfile.ZipFile(source) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = safe_entry_name(info.filename)
            mode = (info.external_attr >> 16) & 0o170000
            if name is None or mode == 0o120000:  # outside the output, or a symbolic link
                ctx.log(
                    "WARN",
                    f"entry {info.filename!r} skipped: not a regular file inside the archive",
                )
                continue
            with zf.open(info) as content:
                yield name, content


def run_file_compress(task: FileCompress, ctx: TaskContext) -> Outcome:
    compression = _compression(ctx, task.compression)
    assert compression is not None
    uri = as_text(ctx.render(task.from_))
    with tempfile.TemporaryDirectory(prefix="lanner-compress-") as tmp:
        path = Path(tmp) / "file"
        with (
            ctx.open_file(uri) as source,
            path.open("wb") as raw,
            codecs.writer(compression, raw) as out,
        ):
            codecs.copy(source, out)
        name = posixpath.basename(uri) or "file"
        uri = ctx.put_file(path, name + SUFFIXES[compression])
    return Outcome(outputs={"uri": uri})


def run_file_decompress(task: FileDecompress, ctx: TaskContext) -> Outcome:
    compression = _compression(ctx, task.compression)
    assert compression is not None
    uri = as_text(ctx.render(task.from_))
    budget = codecs.Budget()
    with tempfile.TemporaryDirectory(prefix="lanner-compress-") as tmp:
        path = Path(tmp) / "file"
        with (
            ctx.open_file(uri) as raw,
            codecs.reader(compression, raw) as source,
            path.open("wb") as out,
        ):
            budget.copy(source, out)
        name = posixpath.basename(uri) or "file"
        for ending in (*SUFFIXES.values(), ".z"):
            if name.lower().endswith(ending) and len(name) > len(ending):
                name = name[: -len(ending)]
                break
        uri = ctx.put_file(path, name)
    return Outcome(outputs={"uri": uri})


RUNNERS: dict[str, Callable[[Task, TaskContext], Outcome]] = {
    "ArchiveCompress": _guarded(run_archive_compress),
    "ArchiveDecompress": _guarded(run_archive_decompress),
    "FileCompress": _guarded(run_file_compress),
    "FileDecompress": _guarded(run_file_decompress),
}
