"""`lanner triggers list|enable|disable|unlock|backfill`: the stored triggers (docs/triggers.md).

A trigger's context is created by the first server that sees its flow
deployed; these commands read and change it in the store, and the servers
running on that store follow.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lanner.cli.exitcodes import guarded
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
    from lanner.store.base import TriggerContext

app = typer.Typer(help="List, enable, disable and backfill triggers.", no_args_is_help=True)

Namespace = Annotated[str, typer.Argument(metavar="NAMESPACE", help="The flow's namespace.")]
FlowId = Annotated[str, typer.Argument(metavar="FLOW_ID", help="The flow's id.")]
TriggerId = Annotated[str, typer.Argument(metavar="TRIGGER_ID", help="The trigger's id.")]


def _date(value: datetime | None) -> str | None:
    from lanner.engine.schedule import iso

    return None if value is None else iso(value)


def _json(c: TriggerContext) -> dict[str, Any]:
    from lanner.runtime.backfill import answer as backfill_answer

    return {
        "namespace": c.namespace,
        "flowId": c.flow_id,
        "triggerId": c.trigger_id,
        "type": c.type,
        "nextExecutionDate": _date(c.next_date),
        "date": _date(c.last_date),
        "disabled": c.disabled,
        "executionId": c.execution_id,
        "lockedBy": c.locked_by,
        "lockedUntil": _date(c.locked_until),
        "backfill": backfill_answer(c),
    }


@app.command("list")
@guarded
def list_triggers(
    namespace: Annotated[str | None, typer.Option(help="Only this namespace.")] = None,
    json_output: JsonOpt = False,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """The triggers a server evaluates, with their next and last dates."""
    contexts = open_db(db).list_trigger_contexts(namespace)
    if json_output:
        print_json([_json(c) for c in contexts])
        return
    for c in contexts:
        state = "disabled" if c.disabled else "enabled"
        print(
            f"{c.namespace}.{c.flow_id}.{c.trigger_id}  {c.type.rsplit('.', 1)[-1]}  {state}"
            f"  next {_date(c.next_date) or '-'}  last {_date(c.last_date) or '-'}"
            + _backfill_note(c)
        )


def _backfill_note(c: TriggerContext) -> str:
    from lanner.runtime.backfill import backfill_of

    running = backfill_of(c)
    if running is None:
        return ""
    status = "paused" if running.paused else "running"
    return f"  backfill {status} at {_date(running.current)}"


def _set_disabled(db: str | None, key: tuple[str, str, str], disabled: bool) -> None:
    from datetime import UTC

    from lanner.runtime.triggers import set_trigger_disabled

    set_trigger_disabled(open_db(db), key, disabled, datetime.now(UTC))
    print(f"{'.'.join(key)} {'disabled' if disabled else 'enabled'}")


@app.command("enable")
@guarded
def enable(
    namespace: Namespace,
    flow_id: FlowId,
    trigger_id: TriggerId,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """Enable a trigger (one `disable` or `stopAfter` disabled)."""
    _set_disabled(db, (namespace, flow_id, trigger_id), False)


@app.command("disable")
@guarded
def disable(
    namespace: Namespace,
    flow_id: FlowId,
    trigger_id: TriggerId,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """Disable a trigger: it keeps its state and fires nothing until enabled."""
    _set_disabled(db, (namespace, flow_id, trigger_id), True)


@app.command("unlock")
@guarded
def unlock(
    namespace: Namespace,
    flow_id: FlowId,
    trigger_id: TriggerId,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """Release a trigger's evaluation lock (held by a process that died)."""
    released = open_db(db).unlock_trigger(namespace, flow_id, trigger_id)
    print(f"{namespace}.{flow_id}.{trigger_id} {'unlocked' if released else 'was not locked'}")


def _when(text: str, option: str) -> datetime:
    from datetime import UTC

    from lanner.errors import InputError

    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{option} {text!r} is not an ISO-8601 date-time such as 2025-01-31T00:00:00Z"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _decoded(pairs: dict[str, str]) -> dict[str, Any]:
    """--input values: JSON when they parse as JSON, text otherwise."""
    out: dict[str, Any] = {}
    for key, text in pairs.items():
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    return out


@app.command("backfill")
@guarded
def backfill(
    namespace: Namespace,
    flow_id: FlowId,
    trigger_id: TriggerId,
    start: Annotated[
        str | None, typer.Option("--start", help="First date (ISO-8601), included.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last date (ISO-8601), included; default now.")
    ] = None,
    input: Inputs = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", metavar="KEY=VALUE", help="A label for each execution."),
    ] = None,
    pause: Annotated[bool, typer.Option("--pause", help="Pause the running backfill.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Resume a paused backfill.")] = False,
    delete: Annotated[bool, typer.Option("--delete", help="Stop and forget the backfill.")] = False,
    json_output: JsonOpt = False,
    db: Db = None,
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Start a backfill of a Schedule's dates from --start to --end (a running server
    creates its executions, a few dates per second), or --pause, --resume or --delete
    the trigger's backfill."""
    from datetime import UTC

    from lanner.errors import InputError, NotFoundError
    from lanner.model.triggers import Schedule
    from lanner.model.validate import load_flow
    from lanner.runtime import backfill as backfills
    from lanner.runtime.schedule import ScheduleType

    store = open_db(db)
    key = (namespace, flow_id, trigger_id)
    now = datetime.now(UTC)
    actions = [
        name for name, on in (("pause", pause), ("resume", resume), ("delete", delete)) if on
    ]
    if len(actions) > 1 or (actions and start is not None):
        raise InputError("give --start (a new backfill) or one of --pause, --resume, --delete")
    if actions:
        if delete:
            saved = backfills.delete_backfill(store, key, now)
        else:
            saved = backfills.set_backfill_paused(store, key, pause, now)
        _print_backfill(saved, json_output)
        return
    if start is None:
        raise InputError("give --start (the first date) or one of --pause, --resume, --delete")
    record = store.get_flow(namespace, flow_id)
    if record is None:
        raise NotFoundError(f"flow {namespace}.{flow_id} not found in {store.url}")
    flow = load_flow(record.source, registry(), defaults=config(config_file).pluginDefaults)
    trigger = next((t for t in flow.triggers or () if t.id == trigger_id), None)
    if trigger is None:
        raise NotFoundError(f"flow {namespace}.{flow_id} has no trigger {trigger_id}")
    if not isinstance(trigger, Schedule):
        raise InputError(f"trigger {trigger_id} is not a Schedule: only a Schedule has dates")
    first = _when(start, "--start")
    last = now if end is None else _when(end, "--end")
    saved = backfills.start_backfill(
        store,
        ScheduleType(),
        flow,
        record.revision,
        trigger,
        first,
        last,
        now,
        inputs=_decoded(parse_input_pairs(input)),
        labels=backfills.labels_of(_labels(label)),
    )
    _print_backfill(saved, json_output)


def _labels(pairs: list[str] | None) -> dict[str, str]:
    from lanner.errors import InputError

    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--label {pair!r}: expected KEY=VALUE")
        out[key] = value
    return out


def _print_backfill(context: TriggerContext, json_output: bool) -> None:
    from lanner.runtime.backfill import answer

    state = answer(context)
    if json_output:
        print_json(state)
        return
    name = ".".join(context.key)
    if state is None:
        print(f"{name}: no backfill")
        return
    status = "paused" if state["paused"] else "running"
    print(
        f"{name}: backfill {state['start']} .. {state['end']} {status},"
        f" at {state['currentDate']}, {state['created']} execution(s) created"
    )
