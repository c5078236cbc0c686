"""A WorkingDirectory's `cache` (docs/tasks-workdir.md): the files of its directory that
match the cache's globs, kept in internal storage as one zip archive after a successful
run and unpacked into the directory at the start of the next run, until `ttl` has passed.

The archive lives where Kestra keeps it (`uris.cache_uri`): one per task of a flow, and
one per loop value when the task runs in a loop. It is written again only when a
matching file changed during the run, so a `ttl` counts from when the files were last
cached, not from each run; an expired archive is deleted and the run starts without it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from lanner.storage import Storage
from lanner.storage.namespacefiles import matches
from lanner.storage.uris import cache_uri, storage_path

_CHUNK = 1 << 20

Log = Callable[[str, str], None]  # (level, message)


@dataclass
class DirectoryCache:
    """The cache of one WorkingDirectory task (of one loop value), in `storage`."""

    storage: Storage
    uri: str
    patterns: Sequence[str]
    ttl: timedelta | None
    log: Log
    restored_at: float | None = None  # when the archive was unpacked (a time.time())

    @classmethod
    def of(
        cls,
        storage: Storage,
        namespace: str,
        flow_id: str,
        task_id: str,
        value: str | None,
        patterns: Sequence[str],
        ttl: timedelta | None,
        log: Log,
    ) -> DirectoryCache:
        return cls(storage, cache_uri(namespace, flow_id, task_id, value), patterns, ttl, log)

    @property
    def path(self) -> str:
        return storage_path(self.uri)

    def restore(self, directory: Path) -> int:
        """Unpack the archive, if there is one still valid, into `directory`; how many
        files. A damaged archive is deleted and the run goes on without it."""
        info = self.storage.info(self.path)
        if info is None:
            return 0
        if self.ttl is not None and info.modified + self.ttl < datetime.now(UTC):
            self.storage.delete(self.path)
            self.log("INFO", f"The cache {self.uri} expired (ttl {self.ttl}): it is deleted")
            return 0
        count = 0
        with tempfile.TemporaryFile() as local:
            with self.storage.open(self.path) as source:
                shutil.copyfileobj(source, local, _CHUNK)
            local.seek(0)
            try:
                made: set[Path] = set()
                with zipfile.ZipFile(local) as archive:
                    for entry in archive.infolist():
                        target = _inside(directory, entry.filename)
                        if entry.is_dir() or target is None:
                            continue
                        if target.parent not in made:  # many files share a folder
                            target.parent.mkdir(parents=True, exist_ok=True)
                            made.add(target.parent)
                        with archive.open(entry) as data, target.open("wb") as sink:
                            shutil.copyfileobj(data, sink, _CHUNK)
                        count += 1
            except zipfile.BadZipFile:
                self.storage.delete(self.path)
                self.log("WARN", f"The cache {self.uri} is not a zip archive: it is deleted")
                return 0
        # Files unpacked before this instant are the cache's; a later change rewrites it.
        self.restored_at = time.time()
        self.log("INFO", f"{count} file(s) restored from the cache {self.uri}")
        return count

    def save(self, directory: Path) -> bool:
        """Write the archive of the matching files when one changed since `restore`
        (every time when nothing was restored and some file matches); whether it did."""
        found = sorted(_matching(directory, self.patterns))
        if not found:
            return False
        since = self.restored_at
        if since is not None and all(p.stat().st_mtime <= since for _, p in found):
            return False
        with tempfile.TemporaryFile() as local:
            with zipfile.ZipFile(local, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, path in found:
                    archive.write(path, name)
            local.seek(0)
            self.storage.put(self.path, local)
        self.log("INFO", f"{len(found)} file(s) cached in {self.uri}")
        return True


def _matching(directory: Path, patterns: Sequence[str]) -> Iterator[tuple[str, Path]]:
    for folder, dirs, files in os.walk(directory):
        dirs.sort()
        for name in files:
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            relative = path.relative_to(directory).as_posix()
            if matches(relative, patterns):
                yield relative, path


def _inside(directory: Path, name: str) -> Path | None:
    relative = PurePosixPath(name)
    if not name or relative.is_absolute() or ".." in relative.parts:
        return None  # an archive entry that would leave the directory
    return directory / relative
