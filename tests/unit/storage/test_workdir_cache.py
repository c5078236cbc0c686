"""The WorkingDirectory cache archive (runtime/workdircache.py) on the real local
storage: a round trip keeps nested files, executable bits and links inside the
directory; links and entries that would lead out are never written; the ttl, a
damaged archive, and an unchanged directory (no rewrite)."""

from __future__ import annotations

import io
import os
import stat
import time
import zipfile
from datetime import timedelta
from pathlib import Path

from lanner.runtime.workdircache import DirectoryCache
from lanner.storage.local import LocalStorage


def _cache(
    tmp_path: Path, patterns: list[str], ttl: timedelta | None = None
) -> tuple[DirectoryCache, list[tuple[str, str]]]:
    lines: list[tuple[str, str]] = []
    storage = LocalStorage(tmp_path / "storage")
    cache = DirectoryCache.of(
        storage, "company.team", "flow", "wDir", None, patterns, ttl, lambda *a: lines.append(a)
    )
    return cache, lines


def test_a_round_trip_keeps_files_modes_and_inner_links(tmp_path: Path) -> None:
    source = tmp_path / "one"
    (source / "node_modules/pkg/bin").mkdir(parents=True)
    tool = source / "node_modules/pkg/bin/tool.js"
    tool.write_text("#!/bin/sh\necho hi\n")
    tool.chmod(0o755)
    (source / "node_modules/.bin").mkdir()
    os.symlink("../pkg/bin/tool.js", source / "node_modules/.bin/tool")
    os.symlink("pkg", source / "node_modules/alias")  # a link to a folder
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink("../../secret.txt", source / "node_modules/leak")  # leads out: left out
    (source / "other.txt").write_text("not cached")
    cache, _ = _cache(tmp_path, ["node_modules/**"])
    assert cache.save(source)
    assert cache.uri == "kestra:///company/team/flow/wdir/cache/cache.zip"
    assert (tmp_path / "storage/company/team/flow/wdir/cache/cache.zip").is_file()
    target = tmp_path / "two"
    target.mkdir()
    again, lines = _cache(tmp_path, ["node_modules/**"])
    assert again.restore(target) == 3
    restored = target / "node_modules/pkg/bin/tool.js"
    assert restored.read_text() == "#!/bin/sh\necho hi\n"
    assert stat.S_IMODE(restored.stat().st_mode) == 0o755
    link = target / "node_modules/.bin/tool"
    assert link.is_symlink() and os.readlink(link) == "../pkg/bin/tool.js"
    assert link.read_text() == restored.read_text()
    assert os.readlink(target / "node_modules/alias") == "pkg"
    assert not (target / "node_modules/leak").exists()
    assert not (target / "other.txt").exists()
    assert any("3 file(s) restored" in m for _, m in lines)
    # Nothing changed since the restore: the archive is not written again.
    assert not again.save(target)
    time.sleep(0.01)
    (target / "node_modules/pkg/new.js").write_text("x")
    assert again.save(target)


def test_entries_and_links_leading_out_are_never_written(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escape.txt", "no")
        archive.writestr("/abs.txt", "no")
        out = zipfile.ZipInfo("up")
        out.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(out, "../..")
        archive.writestr("ok/fine.txt", "yes")
    cache, _ = _cache(tmp_path, ["**"])
    buffer.seek(0)
    cache.storage.put(cache.path, buffer)
    target = tmp_path / "dir"
    target.mkdir()
    assert cache.restore(target) == 1
    assert (target / "ok/fine.txt").read_text() == "yes"
    assert not (tmp_path / "escape.txt").exists()
    assert not (target / "up").exists() and not (target / "up").is_symlink()


def test_an_expired_or_damaged_archive_is_deleted(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("a")
    cache, lines = _cache(tmp_path, ["*.txt"], ttl=timedelta(minutes=5))
    assert cache.save(source)
    stored = tmp_path / "storage" / cache.path
    old = time.time() - 600
    os.utime(stored, (old, old))
    assert cache.restore(tmp_path) == 0
    assert not stored.exists()
    assert any("expired" in m for _, m in lines)
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"not a zip")
    assert cache.restore(tmp_path) == 0
    assert not stored.exists()
    assert ("WARN", f"The cache {cache.uri} is not a zip archive: it is deleted") in lines


def test_nothing_matching_writes_nothing(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path, ["deps/**"])
    (tmp_path / "dir").mkdir()
    assert not cache.save(tmp_path / "dir")
    assert cache.storage.info(cache.path) is None
