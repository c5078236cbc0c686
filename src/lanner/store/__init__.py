"""Persistence: the Store protocol (``base``) and its implementations.

``open_store(url)`` is the one way in: it picks the implementation from the
URL and brings the schema up to date.

- ``sqlite:///ABSOLUTE/PATH`` (``sqlite:////ABSOLUTE/PATH`` is accepted
  too), or a plain filesystem path: the embedded SQLite store; missing
  parent directories are created.
- ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMS]`` (also
  ``postgres://`` and ``postgresql+psycopg://``): the shared PostgreSQL store,
  imported only when asked for (psycopg is needed only then).
"""

from __future__ import annotations

from pathlib import Path

from lanner.errors import StoreError
from lanner.store.base import Store
from lanner.store.sqlite import SQLiteStore

__all__ = ["SQLiteStore", "Store", "default_db_url", "open_store"]

_SQLITE = "sqlite://"
_POSTGRES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def default_db_url(home: Path) -> str:
    """The embedded database of a Lanner home: ``sqlite:///<home>/lanner.db``."""
    return _SQLITE + (Path(home).expanduser().resolve() / "lanner.db").as_posix()


def open_store(url: str, *, migrate: bool = True) -> Store:
    """The store behind `url`, migrated unless `migrate` is False."""
    store = _store_for(url)
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store


def _store_for(url: str) -> Store:
    if url.startswith(_POSTGRES):
        try:
            from lanner.store.postgres import PostgresStore
        except ImportError as exc:  # psycopg is a dependency; a broken install says so
            raise StoreError(f"PostgreSQL support is not installed: {exc}") from exc
        return PostgresStore(url)
    if url.startswith(_SQLITE):
        rest = url[len(_SQLITE) :]
        # The path after "sqlite://" must be absolute: "sqlite:///a/b" -> /a/b
        # (the file-URL form) and "sqlite:////a/b" -> /a/b (SQLAlchemy's).
        if not rest.startswith("/"):
            raise StoreError(f"not an absolute SQLite URL: {url!r} (use sqlite:///ABSOLUTE/PATH)")
        path = "/" + rest.lstrip("/")
        if "?" in path or path == "/:memory:":
            raise StoreError(f"unsupported SQLite URL: {url!r} (use sqlite:///ABSOLUTE/PATH)")
        return SQLiteStore(path)
    if "://" in url:
        raise StoreError(f"unsupported store URL: {url!r} (use sqlite:/// or postgresql://)")
    if not url.strip():
        raise StoreError("empty store URL")
    return SQLiteStore(url)
