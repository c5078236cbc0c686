"""Kestra's internal-storage URIs, and which of them an execution may read.

A file has one URI for its whole life, `kestra:///` followed by a path whose
first segments are the namespace (its dots made slashes) and the flow:

- a task run's file: `kestra:///company/team/my_flow/executions/EXEC/tasks/TASK/TASKRUN/name`
- a FILE input: `kestra:///company/team/my_flow/executions/EXEC/inputs/INPUT/name`
- a polling trigger's file: `kestra:///company/team/my_flow/executions/EXEC/trigger/TRIGGER/name`
- a namespace file: `kestra:///company/team/_files/path/in/namespace`
- a WorkingDirectory's cache: `kestra:///company/team/my_flow/TASK/cache/cache.zip`

An execution may read the files of its own flow and the namespace files of its
namespace and of the namespaces above it; never a host path. One exception, for
ForEachItem (docs/flowables.md): a child execution may read the one batch file
its parent wrote for it, and no other file of the parent. The batch file names
its reader: that child's id is derived from the batch file's URI
(`batch_reader_id`), so the rule needs no state beyond the reader's own id.
"""

from __future__ import annotations

import hashlib
import posixpath
from urllib.parse import unquote

from lanner.errors import InputError

SCHEME = "kestra://"
_NAMESPACE_FILES = "_files"
# The namespace (and digits) of execution ids made from a seed (engine/execution.py
# `new_execution_id`); storage may not import the engine, so a test keeps them equal.
_ID_NAMESPACE = bytes.fromhex("8f2e3c1a6b0d4d599a531f5b2d7c9e40")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BATCH_SEED = "foreachitem-batch:"


class StorageUriError(InputError):
    """A URI that is not an internal-storage URI this execution may use (bad input: exit 2)."""


def _segment(value: str, what: str) -> str:
    if not value or "/" in value or value in {".", ".."} or "\x00" in value:
        raise StorageUriError(f"invalid {what} for an internal-storage file: {value!r}")
    return value


def _namespace_path(namespace: str) -> str:
    return "/".join(_segment(part, "namespace") for part in namespace.split("."))


def task_file_uri(
    namespace: str, flow_id: str, execution_id: str, task_id: str, task_run_id: str, name: str
) -> str:
    """Where a file a task run produced lives."""
    return (
        f"{SCHEME}/{_namespace_path(namespace)}/{_segment(flow_id, 'flow id')}"
        f"/executions/{_segment(execution_id, 'execution id')}"
        f"/tasks/{_segment(task_id, 'task id')}/{_segment(task_run_id, 'task run id')}"
        f"/{_relative(name)}"
    )


def input_file_uri(
    namespace: str, flow_id: str, execution_id: str, input_id: str, name: str
) -> str:
    """Where a FILE input's content lives."""
    return (
        f"{SCHEME}/{_namespace_path(namespace)}/{_segment(flow_id, 'flow id')}"
        f"/executions/{_segment(execution_id, 'execution id')}"
        f"/inputs/{_segment(input_id, 'input id')}/{_relative(name)}"
    )


def trigger_file_uri(
    namespace: str, flow_id: str, execution_id: str, trigger_id: str, name: str
) -> str:
    """Where a file a polling trigger fetched for the execution it creates lives (an S3
    trigger's objects, a JDBC trigger's stored rows)."""
    return (
        f"{SCHEME}/{_namespace_path(namespace)}/{_segment(flow_id, 'flow id')}"
        f"/executions/{_segment(execution_id, 'execution id')}"
        f"/trigger/{_segment(trigger_id, 'trigger id')}/{_relative(name)}"
    )


def namespace_file_uri(namespace: str, path: str) -> str:
    """Where a namespace file lives (`path` is relative to the namespace's root)."""
    return f"{SCHEME}/{_namespace_path(namespace)}/{_NAMESPACE_FILES}/{_relative(path)}"


def cache_uri(namespace: str, flow_id: str, cache_id: str, object_id: str | None = None) -> str:
    """Where a WorkingDirectory's `cache` archive lives, as Kestra lays it out: one per
    task of a flow (`cache_id`, lower-cased), and one per loop value (`object_id`,
    hashed) when the task runs in a loop."""
    base = (
        f"{SCHEME}/{_namespace_path(namespace)}/{_segment(flow_id, 'flow id')}"
        f"/{_segment(cache_id.lower(), 'task id')}/cache"
    )
    if object_id is None:
        return f"{base}/cache.zip"
    return f"{base}/{hashlib.sha256(object_id.encode()).hexdigest()[:32]}/cache.zip"


def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> str:
    """The storage path under which every file of one execution lives."""
    return (
        f"{_namespace_path(namespace)}/{_segment(flow_id, 'flow id')}"
        f"/executions/{_segment(execution_id, 'execution id')}/"
    )


def _relative(name: str) -> str:
    """A relative path with no way out of where it is put."""
    normal = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
    if not name or normal in {"", "."} or normal.startswith("..") or "\x00" in normal:
        raise StorageUriError(f"invalid file name for internal storage: {name!r}")
    return normal


def storage_path(uri: str) -> str:
    """The path a `kestra://` URI names inside the storage, checked and normalised.

    Refused: other schemes (host paths, `file://`, `http://`), a host part, and any
    path that leaves the storage's root once `.` and `..` are resolved.
    """
    if not isinstance(uri, str) or not uri.startswith(SCHEME):
        raise StorageUriError(
            f"{uri!r} is not an internal-storage URI: expected one starting with {SCHEME}/"
        )
    rest = unquote(uri[len(SCHEME) :])
    if not rest.startswith("/"):
        raise StorageUriError(f"{uri!r}: an internal-storage URI has no host ({SCHEME}/path)")
    path = rest.lstrip("/")
    normal = posixpath.normpath(path) if path else ""
    if (
        not path
        or normal in {".", ""}
        or normal.startswith("..")
        or "\x00" in path
        or any(part == ".." for part in path.split("/"))
    ):
        raise StorageUriError(f"{uri!r} does not name a file in internal storage")
    return normal


def batch_reader_id(uri: str) -> str:
    """The id of the one child execution a ForEachItem starts for the batch file `uri`
    (the same as the engine's `new_execution_id(BATCH_SEED + uri)`)."""
    digest = hashlib.sha1(_ID_NAMESPACE + (BATCH_SEED + uri).encode()).digest()[:16]
    n = int.from_bytes(digest)
    n = (n & ~(0xC000 << 48) | (0x8000 << 48)) & ~(0xF000 << 64) | (5 << 76)  # uuid5 bits
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return "".join(reversed(out)).rjust(22, "0")


def _is_task_file(path: str) -> bool:
    parts = path.split("/")
    # .../<flow>/executions/<execution>/tasks/<task>/<task run>/<name...>
    return any(parts[i] == "executions" and parts[i + 2] == "tasks" for i in range(len(parts) - 5))


def may_read(uri: str, namespace: str, flow_id: str, execution_id: str | None = None) -> bool:
    """Whether an execution of `namespace`.`flow_id` (id `execution_id`, when known) may
    read the file `uri`: its own flow's files, the namespace files of its namespace and
    its parents, and a task file made for it alone (a ForEachItem batch)."""
    path = storage_path(uri)
    if execution_id is not None and _is_task_file(path) and batch_reader_id(uri) == execution_id:
        return True
    parts = namespace.split(".")
    own = f"{_namespace_path(namespace)}/{flow_id}/"
    if path.startswith(own):
        return True
    for i in range(len(parts), 0, -1):
        if path.startswith(f"{'/'.join(parts[:i])}/{_NAMESPACE_FILES}/"):
            return True
    return False
