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
import stat
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
_ZIP_EPOCH = 315532800.0  # 1980-01-01: a zip entry's time cannot be earlier

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
                        mode = entry.external_attr >> 16
                        if stat.S_ISLNK(mode):
                            link = archive.read(entry).decode()
                            if _link_inside(directory, target, link):
                                os.symlink(link, target)
                                count += 1
                            continue
                        with archive.open(entry) as data, target.open("wb") as sink:
                            shutil.copyfileobj(data, sink, _CHUNK)
                        if mode & 0o777:  # an executable stays one (a venv's bin/, .bin/)
                            target.chmod(mode & 0o777)
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
        if since is not None and all(p.lstat().st_mtime <= since for _, p in found):
            return False
        with tempfile.TemporaryFile() as local:
            with zipfile.ZipFile(
                local, "w", zipfile.ZIP_DEFLATED, strict_timestamps=False
            ) as archive:
                for name, path in found:
                    if path.is_symlink():  # kept a link (node_modules/.bin), not a copy
                        when = time.localtime(max(path.lstat().st_mtime, _ZIP_EPOCH))[:6]
                        link = zipfile.ZipInfo(name, date_time=when)
                        link.external_attr = (stat.S_IFLNK | 0o777) << 16
                        archive.writestr(link, os.readlink(path))
                    else:
                        archive.write(path, name)
            local.seek(0)
            self.storage.put(self.path, local)
        self.log("INFO", f"{len(found)} file(s) cached in {self.uri}")
        return True


def _matching(directory: Path, patterns: Sequence[str]) -> Iterator[tuple[str, Path]]:
    """The regular files and the symbolic links (to a file or a folder, never followed)
    matching `patterns`; a link leading out of the directory is left out."""
    for folder, dirs, files in os.walk(directory):
        dirs.sort()
        links = [d for d in dirs if Path(folder, d).is_symlink()]
        for name in (*files, *links):
            path = Path(folder, name)
            if path.is_symlink():
                if not _link_inside(directory, path, os.readlink(path)):
                    continue
            elif not path.is_file():
                continue
            relative = path.relative_to(directory).as_posix()
            if matches(relative, patterns):
                yield relative, path


def _link_inside(directory: Path, link: Path, target: str) -> bool:
    """Whether the link `link` to `target` stays inside `directory` (read as written,
    so that a restored link can never lead out of the job's directory)."""
    if not target or os.path.isabs(target):
        return False
    resolved = os.path.normpath(os.path.join(link.parent, target))
    root = os.path.normpath(directory)
    return resolved == root or resolved.startswith(root + os.sep)


def _inside(directory: Path, name: str) -> Path | None:
    relative = PurePosixPath(name)
    if not name or relative.is_absolute() or ".." in relative.parts:
        return None  # an archive entry that would leave the directory
    return directory / relative
