"""Versioned schema migrations, one directory per SQL dialect.

A migration is a file ``NNNN_name.sql`` in ``<dialect>/``; its number is the
schema version it brings the database to. Migrations are applied in order
and recorded in the ``schema_version`` table by the store that runs them, so
a database created by an older Lanner is upgraded in place and never
rebuilt. Files are never edited once released: a change is a new file.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from lanner.errors import StoreError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load(dialect: str) -> list[Migration]:
    """The migrations of `dialect` ("sqlite", later "postgresql"), in version order."""
    folder = resources.files(__name__).joinpath(dialect)
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    # A gap or a duplicate number is a packaging mistake; applying around it
    # would leave databases with different schemas under the same version.
    if versions != list(range(1, len(found) + 1)):
        raise StoreError(f"{dialect} migrations are not numbered 1..n: {versions}")
    return found


def split_sqlite(script: str) -> Iterator[str]:
    """A script's statements, one by one.

    sqlite3's executescript() would COMMIT first, but a migration must run
    inside the caller's BEGIN IMMEDIATE so that it is applied exactly once.
    """
    buffer: list[str] = []
    for line in script.splitlines(keepends=True):
        buffer.append(line)
        text = "".join(buffer)
        if sqlite3.complete_statement(text):
            yield text
            buffer.clear()
    rest = [ln for ln in buffer if ln.strip() and not ln.strip().startswith("--")]
    if rest:
        raise StoreError(f"incomplete statement at the end of a migration: {''.join(rest)[:80]!r}")
