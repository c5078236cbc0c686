"""Options and helpers that several `lanner` commands share.

`parse_input_pairs` lives in `lanner.cli.runargs` (the fast `lanner run`
path needs it without typer) and is re-exported here."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lanner.cli.runargs import parse_input_pairs as parse_input_pairs

if TYPE_CHECKING:
    from lanner.config import Config
    from lanner.plugin import TaskRegistry
    from lanner.store.base import Store

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="LANNER_DB",
        help="Store URL: sqlite:///ABSOLUTE/PATH or postgresql://... (default $LANNER_HOME/lanner.db).",
    ),
]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="LANNER_CONFIG",
        help="Configuration file (default $LANNER_HOME/config.yml).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON only.")]
Inputs = Annotated[
    list[str] | None, typer.Option("--input", "-i", help="An input as NAME=VALUE (repeatable).")
]


def open_db(db: str | None) -> Store:
    from lanner.config import lanner_home
    from lanner.store import default_db_url, open_store

    return open_store(db or default_db_url(lanner_home()))


def registry() -> TaskRegistry:
    from lanner.plugin import TaskRegistry

    return TaskRegistry.from_entry_points()


def config(path: Path | None) -> Config:
    from lanner.config import load_config

    return load_config(path)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
