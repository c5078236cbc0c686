"""Namespace files: files kept per namespace (`lanner namespaces files upload NS DIR`),
at `kestra:///<namespace as a path>/_files/<path>` (uris.namespace_file_uri).

Executions of the namespace and of the namespaces below it may read them
(`read('queries/q.sql')`, `namespaceFiles` of scripts). `namespace_files` picks
them with Kestra's include/exclude globs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lanner.storage.base import Storage
from lanner.storage.uris import namespace_file_uri, storage_path

_SKIPPED_DIRS = frozenset({".git", "__pycache__", ".venv", "node_modules"})


@dataclass(frozen=True, slots=True)
class NamespaceFile:
    path: str  # relative to the namespace's root, `/`-separated: "queries/q.sql"
    uri: str  # kestra:///company/team/_files/queries/q.sql
    size: int


def _root(namespace: str) -> str:
    # The storage path of the namespace's root: the URI of a file in it, less the file.
    return storage_path(namespace_file_uri(namespace, "x"))[:-1]


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """A glob as Java's PathMatcher reads it (Kestra's include/exclude): `**` crosses
    folders, `*` and `?` stay within one, `{a,b}` is either."""
    out, i = [], 0
    pattern = pattern.lstrip("/")
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "{":
            end = pattern.find("}", i)
            if end < 0:
                out.append(re.escape(c))
            else:
                out.append(
                    "(?:" + "|".join(re.escape(a) for a in pattern[i + 1 : end].split(",")) + ")"
                )
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def matches(path: str, patterns: Sequence[str]) -> bool:
    return any(_glob(p).fullmatch(path) for p in patterns)


def namespace_files(
    storage: Storage,
    namespace: str,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> Iterator[NamespaceFile]:
    """The namespace's own files (not its parents'), in path order: those matching one of
    `include` (every file when None or empty) and none of `exclude`. Open one with
    `storage.open(storage_path(f.uri))`."""
    root = _root(namespace)
    for info in storage.list(root):
        path = info.path[len(root) :]
        if include and not matches(path, include):
            continue
        if exclude and matches(path, exclude):
            continue
        yield NamespaceFile(path, namespace_file_uri(namespace, path), info.size)


def upload_directory(storage: Storage, namespace: str, directory: Path) -> list[NamespaceFile]:
    """Store every file under `directory` as the namespace file of its relative path
    (replacing any); hidden folders such as .git and caches are left out."""
    stored: list[NamespaceFile] = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if not path.is_file() or any(part in _SKIPPED_DIRS for part in relative.parts[:-1]):
            continue
        uri = namespace_file_uri(namespace, relative.as_posix())
        with path.open("rb") as data:
            size = storage.put(storage_path(uri), data)
        stored.append(NamespaceFile(relative.as_posix(), uri, size))
    return stored


def delete_namespace_file(storage: Storage, namespace: str, path: str) -> int:
    """Delete the file at `path`, or every file under it when it names a folder; how many."""
    target = storage_path(namespace_file_uri(namespace, path))
    if storage.delete(target):
        return 1
    return storage.delete_prefix(target.rstrip("/") + "/")
