"""A script's `inputFiles` (into its working directory) and `outputFiles` (out to
internal storage)."""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from lanner.errors import LannerError
from lanner.plugin import TaskContext
from lanner.storage.uris import SCHEME
from lanner.tasks.scripts.model import NamespaceFiles

_URI_PREFIX = SCHEME
# A `kestra://` URI inside a command line: the characters a storage URI is made of.
_URI_IN_COMMAND = re.compile(r"kestra://[-a-zA-Z0-9%._+~#=/]*")


def input_files_map(value: Mapping[str, str] | str | None) -> dict[str, str]:
    """`inputFiles` as a map: given as one, or as a JSON string of one."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise LannerError(
            "inputFiles: expected a map of file names to contents, or a JSON string of one"
        )
    return {str(k): "" if v is None else str(v) for k, v in parsed.items()}


def write_input_files(files: Mapping[str, str], working_dir: Path, ctx: TaskContext) -> None:
    """Each file in the working directory: a `kestra://` URI's content, else the text itself."""
    for name, content in files.items():
        target = inside(working_dir, name, "inputFiles")
        target.parent.mkdir(parents=True, exist_ok=True)
        uri = content.strip()
        if uri.startswith(_URI_PREFIX) and "\n" not in uri:
            with ctx.open_file(uri) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
        else:
            target.write_text(content, encoding="utf-8")


def write_namespace_files(spec: NamespaceFiles, working_dir: Path, ctx: TaskContext) -> None:
    """`namespaceFiles`: the namespace files picked by include/exclude, of the flow's
    namespace or of each of `namespaces` in order, copied into the working directory
    (into a folder per namespace with `folderPerNamespace`). A file that another
    namespace's already wrote is overwritten, kept with a warning, kept, or fails the
    task, as `ifExists` says."""
    if spec.enabled is False or spec.enabled == "false":
        return
    namespaces = list(spec.namespaces or [ctx.namespace])
    written: set[str] = set()
    for namespace in namespaces:
        for file in ctx.namespace_files(namespace, spec.include, spec.exclude):
            name = f"{namespace}/{file.path}" if spec.folderPerNamespace else file.path
            target = inside(working_dir, name, "namespaceFiles")
            if name in written:
                if spec.ifExists == "FAIL":
                    raise LannerError(
                        f"namespaceFiles: '{name}' exists in several namespaces "
                        f"({', '.join(namespaces)}) and ifExists is FAIL"
                    )
                if spec.ifExists == "IGNORE":
                    continue
                if spec.ifExists == "WARN":
                    ctx.log(
                        "WARN",
                        f"namespaceFiles: '{name}' of {namespace} is not copied: it exists already",
                    )
                    continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with ctx.open_file(file.uri) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            written.add(name)


def store_output_files(globs: list[str], working_dir: Path, ctx: TaskContext) -> dict[str, str]:
    """Every file matching one of `globs` (relative to the working directory) put in
    internal storage: relative path -> kestra:// URI."""
    found: dict[str, str] = {}
    for pattern in globs:
        if PurePosixPath(pattern).is_absolute() or ".." in PurePosixPath(pattern).parts:
            raise LannerError(
                f"outputFiles: '{pattern}' must be a path or glob inside the working directory"
            )
        for path in sorted(working_dir.glob(pattern)):
            if not path.is_file():
                continue
            name = path.relative_to(working_dir).as_posix()
            if name not in found:
                found[name] = ctx.put_file(path, name)
    return found


def inside(working_dir: Path, name: str, prop: str) -> Path:
    """`name` resolved in the working directory; a LannerError when it leads outside."""
    relative = PurePosixPath(name)
    if not name or relative.is_absolute() or ".." in relative.parts:
        raise LannerError(f"{prop}: '{name}' must be a relative path inside the working directory")
    return working_dir / relative


def localize_storage_uris(lines: list[str], working_dir: Path, ctx: TaskContext) -> list[str]:
    """Command lines with each `kestra://` URI replaced by the absolute path of a copy
    of its file in the working directory, as Kestra's script tasks do for their
    commands, so that `cat {{ outputs.t.uri }}` reads the file. Each URI is copied once."""
    copies: dict[str, str] = {}

    def local(match: re.Match[str]) -> str:
        uri = match.group()
        if uri not in copies:
            target = working_dir / f".kestra-file-{secrets.token_hex(6)}"
            with ctx.open_file(uri) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            copies[uri] = str(target)
        return copies[uri]

    return [_URI_IN_COMMAND.sub(local, line) if _URI_PREFIX in line else line for line in lines]
