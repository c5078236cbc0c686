"""`lanner`: the command line. Heavy modules are imported inside the commands,
so that each command loads only what it needs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from lanner.cli.exitcodes import BAD_INPUT, EXECUTION_FAILED, INTERRUPTED, OK, guarded

app = typer.Typer(
    name="lanner",
    help="Lanner runs Kestra-style YAML flows, on one laptop or many machines sharing PostgreSQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
executions_app = typer.Typer(help="Inspect executions.", no_args_is_help=True)
app.add_typer(executions_app, name="executions")

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="LANNER_DB",
        help="Store URL: sqlite:///ABSOLUTE/PATH (default $LANNER_HOME/lanner.db).",
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


def _store(db: str | None) -> Any:
    from lanner.config import lanner_home
    from lanner.store import default_db_url, open_store

    return open_store(db or default_db_url(lanner_home()))


def _registry() -> Any:
    from lanner.plugin import TaskRegistry

    return TaskRegistry.from_entry_points()


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


@app.command()
@guarded
def validate(
    files: Annotated[list[Path], typer.Argument(help="Flow files to validate.")],
    config: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Validate flow files; every problem is printed with its file, line and YAML path."""
    from lanner.config import load_config
    from lanner.errors import FlowValidationError, InputError
    from lanner.model.validate import load_flow_file

    registry = _registry()
    defaults = load_config(config).pluginDefaults
    failed = 0
    for path in files:
        try:
            flow, _ = load_flow_file(path, registry, defaults)
        except FlowValidationError as exc:
            failed += 1
            print(exc.message, file=sys.stderr)
            continue
        except InputError as exc:
            failed += 1
            print(f"lanner: {exc.message}", file=sys.stderr)
            continue
        print(
            f"{path}: valid flow {flow.namespace}.{flow.id} ({sum(1 for _ in flow.all_tasks())} tasks)"
        )
    raise SystemExit(BAD_INPUT if failed else OK)


@app.command()
@guarded
def schema(debug: Debug = False) -> None:
    """Print the JSON Schema of the flow language (for an editor's YAML extension)."""
    from lanner.model.schema import flow_json_schema

    _print_json(flow_json_schema(_registry()))


@app.command()
@guarded
def run(
    flow_file: Annotated[Path, typer.Argument(metavar="FLOW.yml", help="The flow to run.")],
    input: Annotated[
        list[str] | None, typer.Option("--input", "-i", help="An input as NAME=VALUE (repeatable).")
    ] = None,
    json_output: JsonOpt = False,
    db: Db = None,
    config: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Run a flow to its end, afterExecution included, on the embedded store (or --db)."""
    from lanner.cli.runcmd import run_flow

    code = run_flow(
        flow_file, _parse_inputs(input or []), json_output=json_output, db=db, config=config
    )
    raise SystemExit(code)


def _parse_inputs(pairs: list[str]) -> dict[str, str]:
    from lanner.cli.launch import parse_input_pairs

    return parse_input_pairs(pairs)


@app.command()
@guarded
def logs(
    execution_id: Annotated[str, typer.Argument(help="The execution id.")],
    json_output: JsonOpt = False,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """Print an execution's logs, in order."""
    from lanner.cli.views import display_masker, log_json
    from lanner.errors import NotFoundError

    store = _store(db)
    execution = store.get_execution(execution_id)
    if execution is None:
        raise NotFoundError(f"execution {execution_id} not found in {store.url}")
    masker = display_masker(execution)
    records = [log_json(r, masker) for r in store.get_logs(execution_id)]
    if json_output:
        _print_json(records)
        return
    for r in records:
        where = r["taskId"] or "-"
        print(f"{r['timestamp']} {r['level']:<5} {where}: {r['message']}")


@executions_app.command("list")
@guarded
def executions_list(
    namespace: Annotated[str | None, typer.Option(help="Only this namespace.")] = None,
    flow: Annotated[str | None, typer.Option(help="Only this flow id.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    json_output: JsonOpt = False,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """List executions, most recent first."""
    from lanner.engine.variables import iso

    rows = _store(db).list_executions(namespace=namespace, flow_id=flow, limit=limit)
    if json_output:
        _print_json(
            [
                {
                    "id": e.id,
                    "namespace": e.namespace,
                    "flowId": e.flow_id,
                    "state": e.state.value,
                    "startDate": iso(e.start_date),
                }
                for e in rows
            ]
        )
        return
    for e in rows:
        print(f"{e.id}  {iso(e.start_date)}  {e.state.value:<9}  {e.namespace}.{e.flow_id}")


@executions_app.command("show")
@guarded
def executions_show(
    execution_id: Annotated[str, typer.Argument(help="The execution id.")],
    db: Db = None,
    debug: Debug = False,
) -> None:
    """Print one execution as JSON, in Kestra's API shape."""
    from lanner.cli.views import execution_json
    from lanner.errors import NotFoundError

    store = _store(db)
    execution = store.get_execution(execution_id)
    if execution is None:
        raise NotFoundError(f"execution {execution_id} not found in {store.url}")
    _print_json(execution_json(execution))


def main() -> None:
    # Ctrl-C is handled by `lanner run` itself; elsewhere it ends with 130.
    try:
        app()
    except KeyboardInterrupt:
        raise SystemExit(INTERRUPTED) from None


__all__ = ["EXECUTION_FAILED", "app", "main", "os"]
