"""The `lanner` entry point. `lanner run FLOW.yml [options]` takes a short way
that starts faster; every other command line goes to the full CLI (typer).

Typer builds a pydantic TypeAdapter for every parameter of the command it
runs, on top of its own import: a tenth of a second before a one-task flow
even starts. A plain `lanner run` with well-formed options needs none of
that. Anything the short way does not recognise (help, an unknown or
malformed option, a missing argument) is left to typer, so usage errors and
help read the same as before.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lanner.cli.exitcodes import INTERRUPTED


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


def _run(args: RunArgs) -> int:
    from lanner.cli.exitcodes import guarded

    @guarded
    def command(*, debug: bool) -> int:
        from lanner.cli.runcmd import run_flow

        return run_flow(
            args.flow_file,
            parse_input_pairs(args.inputs),
            json_output=args.json_output,
            db=args.db,
            config=args.config,
            flow_id=args.flow_id,
        )

    try:
        return int(command(debug=args.debug))
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        return 1


def _other_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t is not threading.main_thread()]


def main() -> None:
    args = parse_run(sys.argv[1:])
    if args is None:
        from lanner.cli.main import main as full_cli

        full_cli()
        return
    try:
        code = _run(args)
    except KeyboardInterrupt:
        code = INTERRUPTED
    if any(t.is_alive() and not t.daemon for t in _other_threads()):
        sys.exit(code)  # a task left a thread the interpreter must wait for
    # Everything is committed and every thread stopped: leave without the
    # interpreter's teardown (freeing every module and object one by one),
    # which costs a cold `lanner run` more than its flow does.
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe or stream: nothing more to say there.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
