"""The `lanner` entry point. `lanner run FLOW.yml [options]` takes a short way
that starts faster; every other command line goes to the full CLI (typer).

Typer builds a pydantic TypeAdapter for every parameter of the command it
runs, on top of its own import: a tenth of a second before a one-task flow
even starts. A plain `lanner run` with well-formed options needs none of
that. Anything the short way does not recognise (help, an unknown or
malformed option, a missing argument) is left to typer, so usage errors and
help read the same as before.

For `lanner run`, Ctrl-C and SIGTERM exit 130 without a traceback from this
module's import on (docs/runtime.md): it imports nothing at its top but what
Python has already loaded, notes the signals until `main` runs, and `main`
catches them from its first line, the imports that follow included; then
`lanner.cli.interrupts` takes over.
"""

from __future__ import annotations

# The C module, loaded with the interpreter: `signal` would import enum first,
# while a Ctrl-C is not yet caught. It has no type stubs.
import _signal  # type: ignore[import-not-found]
import gc
import os
import sys
from types import FrameType

from lanner import cli

INTERRUPTED = 130  # as lanner.cli.exitcodes, which is not imported yet


# Every SIGINT and SIGTERM `lanner run` received, from this module's import to
# its exit (lanner.cli.interrupts adds its own): any of them makes the exit 130.
# The list lives in the package, which Python loaded before this module.
noted = cli.noted_signals


def _note(signum: int, frame: FrameType | None) -> None:
    noted.append(signum)


# The console script pip writes compiles a regular expression between importing
# this module and calling main(): a Ctrl-C there would end in a traceback no
# code of ours could catch. Imported by that script for `lanner run`, this
# module only notes the signals until main() answers them.
if sys.argv[1:2] == ["run"] and os.path.basename(sys.argv[0]) == "lanner":
    _signal.signal(_signal.SIGINT, _note)
    _signal.signal(_signal.SIGTERM, _note)


def _main(argv: list[str]) -> int | None:
    """The exit code of `lanner run`; None when the full CLI ran (it exits itself)."""
    from lanner.cli.runargs import parse_input_pairs, parse_run

    args = parse_run(argv)
    if args is None:
        from lanner.cli.main import main as full_cli

        full_cli()
        return None

    from lanner.cli.exitcodes import guarded

    @guarded
    def command(*, debug: bool) -> int:
        try:
            from lanner.cli.runcmd import run_flow
        except Exception:
            if noted:  # Python reports some interrupted imports as another error
                raise KeyboardInterrupt from None
            raise
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


def _interrupt(signum: int, frame: FrameType | None) -> None:
    noted.append(signum)
    raise KeyboardInterrupt


def main() -> None:
    code_cache = None
    try:
        if sys.argv[1:2] == ["run"]:
            # Start-up (imports, models, validators) allocates objects by the hundred
            # thousand and hardly any garbage: the collector's passes over them were
            # about a tenth of a cold one-task run. Resumed by run_flow once the
            # runtime has frozen them (runtime/process.py, `_freeze_start_up`).
            gc.disable()
            cli.gc_paused.append(True)
            # SIGTERM ends `lanner run` as Ctrl-C does, from here on; run_flow
            # takes both signals over once it has something to stop.
            _signal.signal(_signal.SIGINT, _interrupt)
            _signal.signal(_signal.SIGTERM, _interrupt)
            # The code dataclasses and typing compile from text, as earlier runs
            # compiled it, from before the first class is defined (lanner.cli.codecache).
            from lanner.cli import codecache

            code_cache = codecache.install()
        if noted:
            raise KeyboardInterrupt
        code = _main(sys.argv[1:])
    except (KeyboardInterrupt, Exception) as exc:
        if not (isinstance(exc, KeyboardInterrupt) or noted):
            raise
        # An interrupt (possibly reported by Python as another error, e.g. from
        # an import). Before anything else: a second signal must not interrupt the exit.
        _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
        _signal.signal(_signal.SIGTERM, _signal.SIG_IGN)
        code = INTERRUPTED
    if code is None:
        return
    if noted:
        code = INTERRUPTED
    import contextlib
    import threading

    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(t.is_alive() and not t.daemon for t in others):
        sys.exit(code)  # a task left a thread the interpreter must wait for
    # Everything is committed and every thread stopped: leave without the
    # interpreter's teardown (freeing every module and object one by one),
    # which costs a cold `lanner run` more than its flow does.
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe or stream: nothing more to say there.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if code_cache is not None and code_cache.pending:
        # All is said: a signal while the cache is written only makes the exit code 130.
        _signal.signal(_signal.SIGINT, _note)
        _signal.signal(_signal.SIGTERM, _note)
        code_cache.save()
        if noted:
            code = INTERRUPTED
    os._exit(code)
