"""`lanner executions ...`: start, inspect and control executions in the store.

These commands only write events; an executor (`lanner server` or
`lanner executor`) running on the same store carries them out.
"""

from __future__ import annotations

import time
from pathlib import Path
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
    from lanner.engine.events import Event
    from lanner.engine.execution import Execution, TaskRun
    from lanner.store.base import Store

app = typer.Typer(help="Start, inspect and control executions.", no_args_is_help=True)

ExecutionId = Annotated[str, typer.Argument(metavar="EXECUTION_ID", help="The execution id.")]


def _get(store: Store, execution_id: str) -> Execution:
    from lanner.errors import NotFoundError

    execution = store.get_execution(execution_id)
    if execution is None:
        raise NotFoundError(f"execution {execution_id} not found in {store.url}")
    return execution


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
def show(execution_id: ExecutionId, db: Db = None, debug: Debug = False) -> None:
    """Print one execution as JSON, in Kestra's API shape."""
    from lanner.cli.views import execution_json

    print_json(execution_json(_get(open_db(db), execution_id)))


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
    from datetime import UTC, datetime

    from lanner.errors import NotFoundError
    from lanner.model.validate import load_flow
    from lanner.runtime.newexecution import new_execution, start_event

    store = open_db(db)
    record = store.get_flow(namespace, flow_id)
    if record is None:
        raise NotFoundError(f"flow {namespace}.{flow_id} not found in {store.url}")
    flow = load_flow(record.source, registry(), defaults=config(config_file).pluginDefaults)
    now = datetime.now(UTC)
    execution = new_execution(flow, record.revision, parse_input_pairs(input), now)
    store.create_execution(execution, [start_event(execution, now)])
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
    from lanner.errors import LannerError

    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.01
    while True:
        execution = _get(store, execution_id)
        if execution.finalized_at is not None:
            return execution
        if deadline is not None and time.monotonic() > deadline:
            raise LannerError(
                f"execution {execution_id} is still {execution.state.value} after {timeout} s"
                " (is an executor running on this store?)"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _print_final(execution: Execution, json_output: bool) -> None:
    from lanner.cli.views import display_masker, execution_json

    if json_output:
        print_json(execution_json(execution, display_masker(execution)))
    else:
        print(
            f"Execution {execution.id} ended {execution.state.value}"
            f" ({len(execution.task_runs)} task runs)"
        )


def _send(store: Store, execution: Execution, event: Event, key: str) -> bool:
    from datetime import UTC, datetime

    from lanner.runtime import eventcodec

    return store.add_event(eventcodec.encode(execution.id, event, datetime.now(UTC), key))


@app.command("kill")
@guarded
def kill(execution_id: ExecutionId, db: Db = None, debug: Debug = False) -> None:
    """Kill an execution: running tasks stop, afterExecution still runs."""
    from lanner.engine.events import Kill
    from lanner.errors import InputError

    store = open_db(db)
    execution = _get(store, execution_id)
    if execution.terminal_at is not None:
        raise InputError(
            f"execution {execution_id} already ended {execution.state.value}: nothing to kill"
        )
    _send(store, execution, Kill(), f"kill:{execution_id}")
    print(f"execution {execution_id}: kill requested")


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
    from lanner.engine.events import Resume
    from lanner.errors import InputError
    from lanner.model.states import State

    store = open_db(db)
    execution = _get(store, execution_id)
    if execution.state is not State.PAUSED:
        raise InputError(
            f"execution {execution_id} is {execution.state.value}, not PAUSED: nothing to resume"
        )
    paused = [r for r in execution.ordered_task_runs() if r.state is State.PAUSED]
    target = paused[0] if paused else None
    given = parse_input_pairs(input)
    values = _resume_inputs(store, execution, target, given, config_file) if target else {}
    _send(
        store,
        execution,
        Resume(values, target.id if target else None),
        f"resume:{execution_id}:{target.id if target else ''}:{len(execution.histories)}",
    )
    print(f"execution {execution_id}: resume requested")


def _resume_inputs(
    store: Store,
    execution: Execution,
    paused: TaskRun,
    given: dict[str, str],
    config_file: Path | None,
) -> dict[str, object]:
    """Check the values against the paused task's `onResume` definitions (exit 2 when bad)."""
    from datetime import UTC, datetime

    from lanner.engine.inputrender import input_renderer
    from lanner.errors import InputValueError
    from lanner.model.inputs import parse_inputs
    from lanner.model.validate import load_flow

    record = store.get_flow(execution.namespace, execution.flow_id, execution.flow_revision)
    if record is None:
        return dict(given)
    flow = load_flow(record.source, registry(), defaults=config(config_file).pluginDefaults)
    task = next((t for t in flow.all_tasks() if t.id == paused.task_id), None)
    declared = list(getattr(task, "onResume", None) or ())
    if not declared:
        if given:
            raise InputValueError(
                "the paused task declares no onResume inputs; given: " + ", ".join(sorted(given))
            )
        return {}
    render = input_renderer(flow.namespace, flow.id, flow.revision, datetime.now(UTC))
    return dict(parse_inputs(declared, given, from_strings=True, render=render))


@app.command("restart")
@guarded
def restart(execution_id: ExecutionId, db: Db = None, debug: Debug = False) -> None:
    """Restart a FAILED or KILLED execution from its failed task runs."""
    from lanner.engine.events import Restart
    from lanner.errors import InputError
    from lanner.model.states import State

    store = open_db(db)
    execution = _get(store, execution_id)
    if execution.state not in (State.FAILED, State.KILLED) or execution.finalized_at is None:
        raise InputError(
            f"execution {execution_id} is {execution.state.value}"
            f"{'' if execution.finalized_at else ' and not finalized'}:"
            " only a finished FAILED or KILLED execution can be restarted"
        )
    _send(store, execution, Restart(), f"restart:{execution_id}:{len(execution.histories)}")
    print(f"execution {execution_id}: restart requested")
