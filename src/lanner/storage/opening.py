"""Opening the internal storage a configuration names (the `storage:` section of
config.yml, docs/storage.md): the one place the runtime and the CLI get it from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from lanner.storage.base import Storage
from lanner.storage.local import LocalStorage


class StorageSpec(Protocol):
    """What `open_storage` reads; lanner.config's StorageConfig is one."""

    @property
    def type(self) -> str: ...
    @property
    def basePath(self) -> str | None: ...
    @property
    def bucket(self) -> str | None: ...
    @property
    def endpoint(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def accessKey(self) -> str | None: ...
    @property
    def secretKey(self) -> str | None: ...
    @property
    def prefix(self) -> str | None: ...


def default_storage_path(home: str | os.PathLike[str]) -> Path:
    return Path(home) / "storage"


def open_storage(spec: StorageSpec, home: str | os.PathLike[str]) -> Storage:
    """The storage `spec` describes; `home` is LANNER_HOME (the local default's parent)."""
    if spec.type == "s3":
        from lanner.storage.s3 import S3Storage

        assert spec.bucket is not None  # the configuration's validation requires it
        return S3Storage(
            spec.bucket,
            prefix=spec.prefix or "",
            endpoint=spec.endpoint,
            region=spec.region,
            access_key=spec.accessKey,
            secret_key=spec.secretKey,
        )
    base = Path(spec.basePath).expanduser() if spec.basePath else default_storage_path(home)
    return LocalStorage(base)
