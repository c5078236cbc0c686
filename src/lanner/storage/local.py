"""Internal storage in a folder of this machine (the embedded default)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from lanner.storage.base import FileInfo, Storage

_CHUNK = 1 << 20


class LocalStorage(Storage):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _file(self, path: str) -> Path:
        target = (self.root / path).resolve()
        root = self.root.resolve()
        if target == root or root not in target.parents:
            raise ValueError(f"{path!r} is outside the storage")
        return target

    def put(self, path: str, data: BinaryIO) -> int:
        target = self._file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside its place and renamed: a reader sees the old file or the whole new one.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(data, out, _CHUNK)
                size = out.tell()
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size

    def open(self, path: str) -> BinaryIO:
        target = self._file(path)
        if target.is_dir():  # a folder is no file here (S3 has none)
            raise FileNotFoundError(path)
        return target.open("rb")

    def info(self, path: str) -> FileInfo | None:
        try:
            st = self._file(path).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        return FileInfo(path, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def delete(self, path: str) -> bool:
        target = self._file(path)
        try:
            target.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return False
        except PermissionError:  # unlinking a folder, on some systems
            if target.is_dir():
                return False
            raise
        return True

    def list(self, prefix: str) -> Iterator[FileInfo]:
        root = self.root.resolve()
        if not root.is_dir():
            return
        # Walk only the deepest folder the prefix names entirely.
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self._file(base) if base else root
        if not start.is_dir():
            return
        found: list[FileInfo] = []
        for dirpath, _dirs, files in os.walk(start):
            for name in files:
                if name.startswith(".put-"):
                    continue
                full = Path(dirpath) / name
                rel = full.relative_to(root).as_posix()
                if rel.startswith(prefix):
                    st = full.stat()
                    found.append(
                        FileInfo(rel, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))
                    )
        yield from sorted(found, key=lambda f: f.path)
