"""`lanner executions ...`: start, inspect and control executions in the store.

These commands only write events; an executor (`lanner server` or
`lanner executor`) running on the same store carries them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lanner.cli.exitcodes import EXECUTION_FAILED, OK, guarded
from lanner.cli.options import (
    ConfigOpt,
    Db,
    Debug,
    Inputs,
    JsonOpt,
    config,
    open_db,
    parse_input_pairs,
    print_json,
    registry,
)

if TYPE_CHECKING:
    from lanner.engine.execution import Execution
    from lanner.store.base import Store

app = typer.Typer(help="Start, inspect and control executions.", no_args_is_help=True)

ExecutionId = Annotated[str, typer.Argument(metavar="EXECUTION_ID", help="The execution id.")]


def _get(store: Store, execution_id: str) -> Execution:
    from lanner.runtime.actions import get_execution

    return get_execution(store, execution_id)


def exit_code(execution: Execution) -> int:
    from lanner.model.states import State

    failed = {State.FAILED, State.KILLED, State.CANCELLED}
    return EXECUTION_FAILED if execution.state in failed else OK


@app.command("list")
@guarded
def list_executions(
    namespace: Annotated[str | None, typer.Option(help="Only this namespace.")] = None,
    flow: Annotated[str | None, typer.Option(help="Only this flow id.")] = None,
    state: Annotated[str | None, typer.Option(help="Only executions in this state.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    json_output: JsonOpt = False,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """List executions, most recent first."""
    from lanner.engine.variables import iso
    from lanner.errors import InputValueError
    from lanner.model.states import State

    if state is not None and state.upper() not in State.__members__:
        raise InputValueError(
            f"--state {state}: not a state (one of {', '.join(State.__members__)})"
        )
    rows = open_db(db).list_executions(
        namespace=namespace, flow_id=flow, limit=limit, state=state.upper() if state else None
    )
    if json_output:
        print_json(
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


@app.command("show")
@guarded
def show(
    execution_id: ExecutionId,
    json_output: Annotated[
        bool, typer.Option("--json", help="Accepted for symmetry: the output is JSON anyway.")
    ] = False,
    db: Db = None,
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Print one execution as JSON, in Kestra's API shape, with its files in internal
    storage under `files` (URI, size, and the text of a small text file)."""
    del json_output  # `show --json`, as the other commands take it, prints the same JSON
    from lanner.cli.files import file_views
    from lanner.cli.views import display_masker, execution_json
    from lanner.config import open_storage

    execution = _get(open_db(db), execution_id)
    masker = display_masker(execution)
    shown = execution_json(execution, masker)
    shown["files"] = file_views(open_storage(config(config_file)), execution, masker)
    print_json(shown)


@app.command("start")
@guarded
def start(
    namespace: Annotated[str, typer.Argument(help="The flow's namespace.")],
    flow_id: Annotated[str, typer.Argument(metavar="FLOW_ID", help="The flow's id.")],
    input: Inputs = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Return once the execution is finalized.")
    ] = False,
    timeout: Annotated[
        float | None, typer.Option(help="With --wait: give up after this many seconds (exit 3).")
    ] = None,
    json_output: JsonOpt = False,
    db: Db = None,
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Start an execution of a deployed flow; prints its id (or, with --wait, the
    finished execution, with `lanner run`'s exit codes)."""
    from lanner.config import open_storage
    from lanner.engine.execution import new_execution_id
    from lanner.runtime.actions import deployed_flow, start_execution
    from lanner.storage.inputfiles import InputFiles

    store = open_db(db)
    cfg = config(config_file)
    flow, revision = deployed_flow(store, registry(), cfg.pluginDefaults, namespace, flow_id)
    execution_id = new_execution_id()
    files = InputFiles(open_storage(cfg), flow.namespace, flow.id, execution_id)
    execution = start_execution(
        store, flow, revision, parse_input_pairs(input), execution_id=execution_id, files=files
    )
    if not wait:
        if json_output:
            print_json({"id": execution.id})
        else:
            print(execution.id)
        return
    final = wait_finalized(store, execution.id, timeout)
    _print_final(final, json_output)
    raise SystemExit(exit_code(final))


def wait_finalized(store: Store, execution_id: str, timeout: float | None) -> Execution:
    """Poll the store until the execution is finalized (afterExecution done)."""
    from lanner.runtime import actions

    return actions.wait_finalized(store, execution_id, timeout)


def _print_final(execution: Execution, json_output: bool) -> None:
    from lanner.cli.views import display_masker, execution_json

    if json_output:
        print_json(execution_json(execution, display_masker(execution)))
    else:
        print(
            f"Execution {execution.id} ended {execution.state.value}"
            f" ({len(execution.task_runs)} task runs)"
        )


@app.command("kill")
@guarded
def kill(execution_id: ExecutionId, db: Db = None, debug: Debug = False) -> None:
    """Kill an execution: running tasks stop, afterExecution still runs."""
    from lanner.runtime.actions import request_kill

    request_kill(open_db(db), execution_id)
    print(f"execution {execution_id}: kill requested")


@app.command("pause")
@guarded
def pause(execution_id: ExecutionId, db: Db = None, debug: Debug = False) -> None:
    """Pause a RUNNING execution: no task starts until it is resumed; running ones end."""
    from lanner.runtime.actions import request_pause

    request_pause(open_db(db), execution_id)
    print(f"execution {execution_id}: pause requested")


@app.command("resume")
@guarded
def resume(
    execution_id: ExecutionId,
    input: Inputs = None,
    db: Db = None,
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Resume a PAUSED execution (with the Pause task's onResume inputs, if any)."""
    from lanner.runtime.actions import request_resume

    defaults = config(config_file).pluginDefaults
    request_resume(open_db(db), registry(), defaults, execution_id, parse_input_pairs(input))
    print(f"execution {execution_id}: resume requested")


@app.command("replay")
@guarded
def replay(
    execution_id: ExecutionId,
    task_run: Annotated[
        str | None,
        typer.Option(
            "--task-run",
            help="Replay from this task run: the ones before it are copied as they ended.",
        ),
    ] = None,
    revision: Annotated[
        int | None, typer.Option(help="The flow revision to run (default: the original's).")
    ] = None,
    input: Inputs = None,
    db: Db = None,
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Replay a finished execution as a new one (with its inputs and labels; each
    --input replaces the original's value of that input)."""
    from lanner.config import open_storage
    from lanner.engine.execution import new_execution_id
    from lanner.runtime.actions import replay_execution
    from lanner.storage.inputfiles import InputFiles

    store = open_db(db)
    cfg = config(config_file)
    original = _get(store, execution_id)
    new_id = new_execution_id()
    files = InputFiles(open_storage(cfg), original.namespace, original.flow_id, new_id)
    new = replay_execution(
        store,
        registry(),
        cfg.pluginDefaults,
        execution_id,
        revision,
        task_run_id=task_run,
        inputs=parse_input_pairs(input),
        files=files,
        new_id=new_id,
    )
    print(f"execution {new.id} created, a replay of {execution_id}")


@app.command("set-state")
@guarded
def set_state(
    execution_id: ExecutionId,
    task_run: Annotated[
        str, typer.Option("--task-run", help="The ended task run whose state changes.")
    ],
    state: Annotated[str, typer.Option(help="SUCCESS, WARNING or FAILED.")],
    db: Db = None,
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Change the state of an ended task run of a finished execution; the execution
    goes on from it (the tasks after it run, or its failure is handled)."""
    from lanner.runtime.actions import request_mark

    defaults = config(config_file).pluginDefaults
    request_mark(open_db(db), registry(), defaults, execution_id, task_run, state.upper())
    print(f"execution {execution_id}: task run {task_run} to {state.upper()} requested")


@app.command("force-run")
@guarded
def force_run(execution_id: ExecutionId, db: Db = None, debug: Debug = False) -> None:
    """Start a CREATED or QUEUED execution now, past its flow's concurrency limit."""
    from lanner.runtime.actions import request_force_run

    request_force_run(open_db(db), execution_id)
    print(f"execution {execution_id}: force-run requested")


@app.command("unqueue")
@guarded
def unqueue(
    execution_id: ExecutionId,
    state: Annotated[
        str, typer.Option(help="RUNNING (start it now), CANCELLED, FAILED or KILLED.")
    ] = "RUNNING",
    db: Db = None,
    debug: Debug = False,
) -> None:
    """Take a QUEUED execution out of its flow's queue."""
    from lanner.runtime.actions import request_force_run

    request_force_run(open_db(db), execution_id, state.upper())
    print(f"execution {execution_id}: unqueue to {state.upper()} requested")


@app.command("restart")
@guarded
def restart(execution_id: ExecutionId, db: Db = None, debug: Debug = False) -> None:
    """Restart a FAILED or KILLED execution from its failed task runs."""
    from lanner.runtime.actions import request_restart

    request_restart(open_db(db), execution_id)
    print(f"execution {execution_id}: restart requested")
