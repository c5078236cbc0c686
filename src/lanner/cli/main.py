"""`lanner`: the command line. Heavy modules are imported inside the commands,
so that each command loads only what it needs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lanner.cli import executions, files, flows, kv, namespaces, roles, triggers
from lanner.cli.exitcodes import BAD_INPUT, INTERRUPTED, OK, guarded
from lanner.cli.options import (
    ConfigOpt,
    Db,
    Debug,
    Inputs,
    JsonOpt,
    open_db,
    parse_input_pairs,
    print_json,
    registry,
)

app = typer.Typer(
    name="lanner",
    help="Lanner runs Kestra-style YAML flows, on one laptop or many machines sharing PostgreSQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
executions.app.command("files")(guarded(files.files))
app.add_typer(executions.app, name="executions")
app.add_typer(namespaces.app, name="namespaces")
app.add_typer(flows.app, name="flows")
app.add_typer(kv.app, name="kv")
app.add_typer(triggers.app, name="triggers")
workers_app = typer.Typer(help="Live lanner processes.", no_args_is_help=True)
app.add_typer(workers_app, name="workers")
roles.register(app)


@app.command()
@guarded
def validate(
    files: Annotated[list[Path], typer.Argument(help="Flow files to validate.")],
    config: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Validate flow files (several flows in one file separated by `---`); every problem
    is printed with its file, line and YAML path."""
    from lanner.config import load_config
    from lanner.errors import FlowValidationError, InputError
    from lanner.model.validate import load_flow_files

    reg = registry()
    defaults = load_config(config).pluginDefaults
    failed = 0
    for path in files:
        try:
            loaded = load_flow_files(path, reg, defaults)
        except FlowValidationError as exc:
            failed += 1
            print(exc.message, file=sys.stderr)
            continue
        except InputError as exc:
            failed += 1
            print(f"lanner: {exc.message}", file=sys.stderr)
            continue
        for item in loaded:
            flow = item.flow
            where = f"{path}:{item.line}" if len(loaded) > 1 else str(path)
            tasks = sum(1 for _ in flow.all_tasks())
            print(f"{where}: valid flow {flow.namespace}.{flow.id} ({tasks} tasks)")
    raise SystemExit(BAD_INPUT if failed else OK)


@app.command()
@guarded
def schema(debug: Debug = False) -> None:
    """Print the JSON Schema of the flow language (for an editor's YAML extension)."""
    from lanner.model.schema import flow_json_schema

    print_json(flow_json_schema(registry()))


@app.command()
@guarded
def run(
    flow_file: Annotated[Path, typer.Argument(metavar="FLOW.yml", help="The flow to run.")],
    input: Inputs = None,
    flow_id: Annotated[
        str | None,
        typer.Option(
            "--flow",
            metavar="ID",
            help="The flow to run (id or namespace.id) when the file holds several.",
        ),
    ] = None,
    json_output: JsonOpt = False,
    db: Db = None,
    config: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Run a flow to its end, afterExecution included, on the embedded store (or --db)."""
    from lanner.cli.runcmd import run_flow

    code = run_flow(
        flow_file,
        parse_input_pairs(input),
        json_output=json_output,
        db=db,
        config=config,
        flow_id=flow_id,
    )
    raise SystemExit(code)


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

    store = open_db(db)
    execution = store.get_execution(execution_id)
    if execution is None:
        raise NotFoundError(f"execution {execution_id} not found in {store.url}")
    masker = display_masker(execution)
    records = [log_json(r, masker) for r in store.get_logs(execution_id)]
    if json_output:
        print_json(records)
        return
    for r in records:
        where = r["taskId"] or "-"
        print(f"{r['timestamp']} {r['level']:<5} {where}: {r['message']}")


@workers_app.command("list")
@guarded
def workers_list(json_output: JsonOpt = False, db: Db = None, debug: Debug = False) -> None:
    """The live lanner processes: role, heartbeat, and the task runs they hold."""
    from lanner.engine.variables import iso

    rows = open_db(db).list_processes()
    if json_output:
        print_json(
            [
                {
                    "id": p.id,
                    "role": p.role,
                    "host": p.host,
                    "pid": p.pid,
                    "startedAt": iso(p.started_at),
                    "heartbeatAt": iso(p.heartbeat_at),
                    "info": dict(p.info),
                    "running": [
                        {
                            "executionId": j.execution_id,
                            "taskRunId": j.task_run_id,
                            "taskId": j.task_id,
                            "attempt": j.attempt,
                        }
                        for j in p.jobs
                    ],
                }
                for p in rows
            ]
        )
        return
    if not rows:
        print("no live lanner process on this store")
    for p in rows:
        running = ", ".join(f"{j.task_id} ({j.execution_id})" for j in p.jobs) or "idle"
        print(f"{p.role:<8} {p.id}  pid {p.pid}  heartbeat {iso(p.heartbeat_at)}  {running}")


@app.command()
@guarded
def purge(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than", metavar="DURATION", help="ISO-8601 duration, e.g. P30D or PT12H."
        ),
    ],
    db: Db = None,
    config: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Delete finalized executions (with their task runs, logs and files) older than DURATION."""
    from datetime import UTC, datetime

    from lanner.config import load_config, open_storage
    from lanner.errors import InputValueError
    from lanner.model.common import parse_duration
    from lanner.runtime.filepurge import purge_executions

    try:
        age = parse_duration(older_than)
    except ValueError as exc:
        raise InputValueError(f"--older-than: {exc}") from None
    storage = open_storage(load_config(config))
    count = purge_executions(open_db(db), storage, datetime.now(UTC) - age)
    print(f"purged {count} execution(s) finalized more than {older_than} ago")


def main() -> None:
    # Ctrl-C is handled by `lanner run` itself; elsewhere it ends with 130.
    try:
        app()
    except KeyboardInterrupt:
        raise SystemExit(INTERRUPTED) from None
