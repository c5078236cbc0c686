"""The io.kestra.plugin.compress tasks on a real local internal storage: round trips of
every format the standard library does, zip-slip and links refused, decompression
bombs stopped by the output budget."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lanner.model.states import State
from lanner.plugin import TaskRegistry
from lanner.storage import LocalStorage
from lanner.tasks.compress import codecs
from tests.support.task_context import LocalTaskContext

C = "io.kestra.plugin.compress."
REGISTRY = TaskRegistry.from_entry_points()


def _run(name: str, ctx: LocalTaskContext, **props: Any) -> Any:
    kind = REGISTRY.get(C + name)
    assert kind is not None and kind.run is not None
    return kind.run(kind.model.model_validate({"id": "t", "type": C + name, **props}), ctx)


def _ctx(tmp_path: Path) -> LocalTaskContext:
    return LocalTaskContext(storage=LocalStorage(tmp_path / "storage"))


def _file(ctx: LocalTaskContext, tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name.replace("/", "_")
    path.write_bytes(content)
    return ctx.put_file(path, name.replace("/", "_"))


def _read(ctx: LocalTaskContext, uri: str) -> bytes:
    with ctx.open_file(uri) as f:
        return f.read()


@pytest.mark.parametrize(
    ("algorithm", "compression"),
    [
        ("ZIP", None),
        ("JAR", None),
        ("TAR", None),
        ("TAR", "GZIP"),
        ("TAR", "BZIP2"),
        ("TAR", "XZ"),
        ("TAR", "LZMA"),
        ("TAR", "DEFLATE"),
        ("ZIP", "GZIP"),
    ],
)
def test_archive_round_trip(tmp_path: Path, algorithm: str, compression: str | None) -> None:
    ctx = _ctx(tmp_path)
    files = {
        "orders.csv": _file(ctx, tmp_path, "orders.csv", b"id\n1\n" * 1000),
        "sub/dir/readme.txt": _file(ctx, tmp_path, "readme.txt", b"hello"),
    }
    extra = {} if compression is None else {"compression": compression}
    made = _run("ArchiveCompress", ctx, algorithm=algorithm, **{"from": files}, **extra)
    assert made.state is State.SUCCESS, made.error
    back = _run(
        "ArchiveDecompress", ctx, algorithm=algorithm, **{"from": made.outputs["uri"]}, **extra
    )
    assert back.state is State.SUCCESS, back.error
    assert sorted(back.outputs["files"]) == ["orders.csv", "sub/dir/readme.txt"]
    assert _read(ctx, back.outputs["files"]["sub/dir/readme.txt"]) == b"hello"
    assert _read(ctx, back.outputs["files"]["orders.csv"]) == b"id\n1\n" * 1000


@pytest.mark.parametrize("compression", ["GZIP", "BZIP2", "XZ", "LZMA", "DEFLATE"])
def test_file_round_trip(tmp_path: Path, compression: str) -> None:
    ctx = _ctx(tmp_path)
    content = bytes(range(256)) * 5000
    uri = _file(ctx, tmp_path, "data.bin", content)
    packed = _run("FileCompress", ctx, compression=compression, **{"from": uri})
    assert packed.state is State.SUCCESS, packed.error
    assert len(_read(ctx, packed.outputs["uri"])) < len(content)
    unpacked = _run(
        "FileDecompress", ctx, compression=compression, **{"from": packed.outputs["uri"]}
    )
    assert unpacked.state is State.SUCCESS, unpacked.error
    assert _read(ctx, unpacked.outputs["uri"]) == content
    assert unpacked.outputs["uri"].endswith("/data.bin")


def test_zip_slip_and_links_are_skipped(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr("../../evil.sh", b"x")
        zf.writestr("/etc/passwd", b"x")
        zf.writestr("ok dir/fine.txt", b"fine")
        link = zipfile.ZipInfo("link")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    uri = _file(ctx, tmp_path, "evil.zip", raw.getvalue())
    out = _run("ArchiveDecompress", ctx, algorithm="ZIP", **{"from": uri})
    assert out.state is State.SUCCESS, out.error
    assert list(out.outputs["files"]) == ["ok_dir/fine.txt"]  # spaces as underscores (Kestra)
    assert sum("skipped" in m for _, m in ctx.logs) == 3

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name in ("../up.txt", "good.txt"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
        sym = tarfile.TarInfo("sym")
        sym.type = tarfile.SYMTYPE
        sym.linkname = "/etc/shadow"
        tar.addfile(sym)
    uri = _file(ctx, tmp_path, "evil.tar", raw.getvalue())
    out = _run("ArchiveDecompress", ctx, algorithm="TAR", **{"from": uri})
    assert list(out.outputs["files"]) == ["good.txt"]
    assert not (tmp_path / "up.txt").exists()


def test_a_decompression_bomb_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _ctx(tmp_path)
    uri = _file(ctx, tmp_path, "zeros.bin", bytes(4 << 20))
    packed = _run("FileCompress", ctx, compression="GZIP", **{"from": uri})
    # The budget is a module setting; a small one stands for the real 8 GiB here.
    monkeypatch.setattr(codecs, "MAX_OUTPUT_BYTES", 1 << 20)
    bomb = _run("FileDecompress", ctx, compression="GZIP", **{"from": packed.outputs["uri"]})
    assert bomb.state is State.FAILED and "decompression bomb" in str(bomb.error)
    monkeypatch.setattr(codecs, "MAX_ENTRIES", 1)
    files = {"a": uri, "b": uri}
    archive = _run("ArchiveCompress", ctx, algorithm="ZIP", **{"from": files})
    many = _run("ArchiveDecompress", ctx, algorithm="ZIP", **{"from": archive.outputs["uri"]})
    assert many.state is State.FAILED


def test_a_bad_archive_fails_with_the_reason(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    uri = _file(ctx, tmp_path, "not.zip", b"plain text")
    out = _run("ArchiveDecompress", ctx, algorithm="ZIP", **{"from": uri})
    assert out.state is State.FAILED and "zip" in str(out.error).lower()
