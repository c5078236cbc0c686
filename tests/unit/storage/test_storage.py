"""Internal storage: Kestra's URIs, what an execution may read, and the local folder."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lanner.storage import (
    LocalStorage,
    input_file_uri,
    namespace_file_uri,
    storage_path,
    task_file_uri,
)
from lanner.storage.taskfiles import TaskFiles
from lanner.storage.uris import StorageUriError, may_read


def test_uris_follow_kestras_layout() -> None:
    assert (
        task_file_uri("company.team", "etl", "E1", "extract", "TR1", "data.csv")
        == "kestra:///company/team/etl/executions/E1/tasks/extract/TR1/data.csv"
    )
    assert (
        input_file_uri("company.team", "etl", "E1", "file", "in.txt")
        == "kestra:///company/team/etl/executions/E1/inputs/file/in.txt"
    )
    assert namespace_file_uri("company", "sql/q.sql") == "kestra:///company/_files/sql/q.sql"


@pytest.mark.parametrize(
    "uri",
    [
        "/etc/passwd",
        "file:///etc/passwd",
        "http://127.0.0.1/x",
        "kestra://host/a/b",
        "kestra:///",
        "kestra:///../../etc/passwd",
        "kestra:///company/../../etc/passwd",
        "kestra:///company/%2e%2e/%2e%2e/etc/passwd",
        "kestra:///a\x00b",
    ],
)
def test_host_paths_and_escapes_are_refused(uri: str) -> None:
    with pytest.raises(StorageUriError):
        storage_path(uri)


@pytest.mark.parametrize("name", ["", ".", "../x", "a/../../x", "x\x00"])
def test_a_file_name_cannot_leave_its_place(name: str) -> None:
    with pytest.raises(StorageUriError):
        task_file_uri("ns", "f", "E", "t", "TR", name)


def test_an_execution_reads_its_flow_and_its_namespace_files_only() -> None:
    own = task_file_uri("company.team", "etl", "E1", "t", "TR", "a.txt")
    other_flow = task_file_uri("company.team", "other", "E2", "t", "TR", "a.txt")
    other_ns = task_file_uri("company.ops", "etl", "E3", "t", "TR", "a.txt")
    assert may_read(own, "company.team", "etl")
    assert not may_read(other_flow, "company.team", "etl")
    assert not may_read(other_ns, "company.team", "etl")
    assert may_read(namespace_file_uri("company.team", "q.sql"), "company.team", "etl")
    assert may_read(namespace_file_uri("company", "q.sql"), "company.team", "etl")
    assert not may_read(namespace_file_uri("company.ops", "q.sql"), "company.team", "etl")


def test_local_storage_writes_whole_files_and_lists_by_prefix(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    assert storage.put("ns/f/executions/E1/tasks/t/TR/a.txt", io.BytesIO(b"hello")) == 5
    storage.put("ns/f/executions/E1/tasks/t/TR/b.txt", io.BytesIO(b"x" * 3_000_000))
    storage.put("ns/f/executions/E10/tasks/t/TR/c.txt", io.BytesIO(b""))
    with storage.open("ns/f/executions/E1/tasks/t/TR/a.txt") as f:
        assert f.read() == b"hello"
    info = storage.info("ns/f/executions/E1/tasks/t/TR/b.txt")
    assert info is not None and info.size == 3_000_000
    assert [f.path for f in storage.list("ns/f/executions/E1/")] == [
        "ns/f/executions/E1/tasks/t/TR/a.txt",
        "ns/f/executions/E1/tasks/t/TR/b.txt",
    ]
    assert storage.delete_prefix("ns/f/executions/E1/") == 2
    assert storage.info("ns/f/executions/E1/tasks/t/TR/a.txt") is None
    assert [f.path for f in storage.list("ns/")] == ["ns/f/executions/E10/tasks/t/TR/c.txt"]
    assert not storage.delete("ns/f/executions/E1/tasks/t/TR/a.txt")
    with pytest.raises(FileNotFoundError):
        storage.open("ns/missing")
    with pytest.raises(ValueError):
        storage.put("../outside", io.BytesIO(b"x"))


def test_task_files_store_and_read_back(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "storage")
    files = TaskFiles(storage, "company.team", "etl", "E1", "extract", "TR1")
    src = tmp_path / "out.csv"
    src.write_text("a,b\n1,2\n")
    uri = files.put_file(src)
    assert uri == "kestra:///company/team/etl/executions/E1/tasks/extract/TR1/out.csv"
    with files.open_file(uri) as f:
        assert f.read() == b"a,b\n1,2\n"
    other = TaskFiles(storage, "company.ops", "etl", "E9", "t", "TR9")
    with pytest.raises(StorageUriError, match="another flow"):
        other.open_file(uri)
    with pytest.raises(StorageUriError, match="no such file"):
        files.open_file(uri + ".missing")
