"""The storage contract, run on every backend: the local folder and S3 (moto's
server on 127.0.0.1)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lanner.storage import LocalStorage, Storage
from lanner.storage.s3 import S3Storage
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "storage")
    server: S3Server = request.getfixturevalue("s3_server")
    return S3Storage(
        server.new_bucket(),
        prefix="lanner/",
        endpoint=server.endpoint,
        region=REGION,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )


class _Chunks(io.RawIOBase):
    """A source that yields `total` bytes a chunk at a time and never holds them all."""

    def __init__(self, total: int) -> None:
        self.left = total

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left, 1 << 16)
        buffer[:n] = b"z" * n
        self.left -= n
        return n


def test_put_open_info_delete(storage: Storage) -> None:
    assert storage.put("ns/f/executions/E1/tasks/t/TR/a.txt", io.BytesIO(b"hello")) == 5
    with storage.open("ns/f/executions/E1/tasks/t/TR/a.txt") as f:
        assert f.read() == b"hello"
    info = storage.info("ns/f/executions/E1/tasks/t/TR/a.txt")
    assert info is not None and info.size == 5 and info.path.endswith("a.txt")
    assert storage.put("ns/f/executions/E1/tasks/t/TR/a.txt", io.BytesIO(b"bye")) == 3
    with storage.open("ns/f/executions/E1/tasks/t/TR/a.txt") as f:
        assert f.read() == b"bye"
    assert storage.delete("ns/f/executions/E1/tasks/t/TR/a.txt")
    assert not storage.delete("ns/f/executions/E1/tasks/t/TR/a.txt")
    assert storage.info("ns/f/executions/E1/tasks/t/TR/a.txt") is None
    with pytest.raises(FileNotFoundError):
        storage.open("ns/missing")


def test_empty_files_and_large_files_stream(storage: Storage) -> None:
    assert storage.put("ns/empty", io.BytesIO(b"")) == 0
    with storage.open("ns/empty") as f:
        assert f.read() == b""
    size = 12 * (1 << 20)  # beyond boto3's multipart threshold
    assert storage.put("ns/big", io.BufferedReader(_Chunks(size))) == size
    total = 0
    with storage.open("ns/big") as f:
        while chunk := f.read(1 << 20):
            total += len(chunk)
    assert total == size
    info = storage.info("ns/big")
    assert info is not None and info.size == size


def test_list_by_prefix_in_path_order(storage: Storage) -> None:
    storage.put("ns/f/executions/E1/tasks/t/TR/b.txt", io.BytesIO(b"b"))
    storage.put("ns/f/executions/E1/tasks/t/TR/a.txt", io.BytesIO(b"a"))
    storage.put("ns/f/executions/E10/tasks/t/TR/c.txt", io.BytesIO(b""))
    storage.put("ns/_files/q.sql", io.BytesIO(b"select 1"))
    assert [f.path for f in storage.list("ns/f/executions/E1/")] == [
        "ns/f/executions/E1/tasks/t/TR/a.txt",
        "ns/f/executions/E1/tasks/t/TR/b.txt",
    ]
    assert [(f.path, f.size) for f in storage.list("ns/_files/")] == [("ns/_files/q.sql", 8)]
    assert list(storage.list("other/")) == []
    assert storage.delete_prefix("ns/f/executions/E1/") == 2
    assert [f.path for f in storage.list("ns/f/")] == ["ns/f/executions/E10/tasks/t/TR/c.txt"]


def test_a_folder_is_not_a_file(storage: Storage) -> None:
    storage.put("ns/_files/queries/q.sql", io.BytesIO(b"x"))
    assert storage.info("ns/_files/queries") is None
    assert not storage.delete("ns/_files/queries")
    with pytest.raises(FileNotFoundError):
        storage.open("ns/_files/queries")
    assert storage.info("ns/_files/queries/q.sql/deeper") is None
