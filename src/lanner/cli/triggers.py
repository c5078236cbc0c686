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
        )


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
    start: Annotated[str, typer.Option("--start", help="First date (ISO-8601), included.")],
    end: Annotated[
        str | None, typer.Option("--end", help="Last date (ISO-8601), included; default now.")
    ] = None,
    input: Inputs = None,
    json_output: JsonOpt = False,
    db: Db = None,
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Create the executions of a Schedule's dates from --start to --end, each date once."""
    import uuid
    from datetime import UTC

    from lanner.errors import InputError, NotFoundError
    from lanner.model.triggers import Schedule
    from lanner.model.validate import load_flow
    from lanner.runtime.schedule import backfill_executions

    store = open_db(db)
    record = store.get_flow(namespace, flow_id)
    if record is None:
        raise NotFoundError(f"flow {namespace}.{flow_id} not found in {store.url}")
    flow = load_flow(record.source, registry(), defaults=config(config_file).pluginDefaults)
    trigger = next((t for t in flow.triggers or () if t.id == trigger_id), None)
    if trigger is None:
        raise NotFoundError(f"flow {namespace}.{flow_id} has no trigger {trigger_id}")
    if not isinstance(trigger, Schedule):
        raise InputError(f"trigger {trigger_id} is not a Schedule: only a Schedule has dates")
    now = datetime.now(UTC)
    first = _when(start, "--start")
    last = now if end is None else _when(end, "--end")
    if last > now:
        raise InputError("--end is in the future: the schedule itself fires those dates")
    created, warnings = backfill_executions(
        flow,
        record.revision,
        trigger,
        first,
        last,
        now,
        inputs=_decoded(parse_input_pairs(input)),
        backfill_id=uuid.uuid4().hex,
    )
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    for new in created:
        store.create_execution(new.execution, new.events)
    dates = [(new.execution.trigger or {}).get("date") for new in created]
    if json_output:
        print_json([{"id": n.execution.id, "date": d} for n, d in zip(created, dates, strict=True)])
        return
    for new, date in zip(created, dates, strict=True):
        print(f"{new.execution.id}  {date}")
