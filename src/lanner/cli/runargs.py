"""The arguments of the short way of `lanner run` (lanner.cli.launch): which
command lines it takes, read as the full CLI (typer) would read them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


def parse_input_pairs(pairs: Sequence[str] | None) -> dict[str, str]:
    """`--input NAME=VALUE` options as a mapping (split at the first `=`)."""
    from lanner.errors import InputValueError

    out: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputValueError(f"--input '{pair}': expected NAME=VALUE")
        out[name] = value
    return out


@dataclass
class RunArgs:
    flow_file: Path
    inputs: list[str] = field(default_factory=list)
    json_output: bool = False
    db: str | None = None
    config: Path | None = None
    debug: bool = False
    flow_id: str | None = None


_VALUED = {
    "--input": "inputs",
    "-i": "inputs",
    "--db": "db",
    "--config": "config",
    "--flow": "flow",
}


def parse_run(argv: list[str]) -> RunArgs | None:
    """The arguments of `lanner run`, or None when the full CLI should parse them."""
    if not argv or argv[0] != "run":
        return None
    positional: list[str] = []
    inputs: list[str] = []
    values: dict[str, str] = {}
    flags = {"--json": False, "--debug": False}
    rest = argv[1:]
    i = 0
    while i < len(rest):
        arg = rest[i]
        i += 1
        if arg in flags:
            flags[arg] = True
            continue
        name, eq, value = arg.partition("=")
        if name in _VALUED and name.startswith("--") and eq:
            pass
        elif arg in _VALUED and i < len(rest) and not rest[i].startswith("-"):
            name, value = arg, rest[i]
            i += 1
        elif arg.startswith("-") or positional:
            return None  # help, an unknown option, a second argument: the full CLI says
        else:
            positional.append(arg)
            continue
        if _VALUED[name] == "inputs":
            inputs.append(value)
        else:
            values[_VALUED[name]] = value  # the last one wins, as with click
    if len(positional) != 1:
        return None
    # Click reads an option's environment variable only when it is set and not empty.
    db = values.get("db", os.environ.get("LANNER_DB") or None)
    config = values.get("config", os.environ.get("LANNER_CONFIG") or None)
    return RunArgs(
        Path(positional[0]),
        inputs,
        flags["--json"],
        db,
        Path(config) if config is not None else None,
        flags["--debug"],
        values.get("flow"),
    )
