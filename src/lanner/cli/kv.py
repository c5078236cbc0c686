"""`lanner kv set|get|delete|list`: the KV store of a namespace, without the API (docs/kv.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lanner.cli.exitcodes import guarded
from lanner.cli.options import Db, Debug, JsonOpt, open_db, print_json

if TYPE_CHECKING:
    from lanner.model.kvtypes import KVEntry

app = typer.Typer(help="Read and write the KV store of a namespace.", no_args_is_help=True)

Namespace = Annotated[str, typer.Argument(metavar="NAMESPACE", help="The namespace.")]
Key = Annotated[str, typer.Argument(metavar="KEY", help="The key.")]


def _namespace(namespace: str) -> str:
    from lanner.errors import InputError
    from lanner.model.common import NAMESPACE_RE

    if not NAMESPACE_RE.match(namespace):
        raise InputError(
            f"invalid namespace {namespace!r}: lower-case letters, digits, '.', '_' and '-'"
        )
    return namespace


def _access(db: str | None, namespace: str) -> Any:
    from lanner.runtime.kvaccess import StoreKV

    return StoreKV(open_db(db), _namespace(namespace))


def _shown(value: Any) -> Any:
    """A value as displayed: a value that came from a secret is masked (docs/secrets.md)."""
    from lanner.expr import taint

    return taint.shown(value)


def _text(value: Any) -> str:
    shown = _shown(value)
    if isinstance(shown, str):
        return shown
    return json.dumps(shown, ensure_ascii=False)


def _json(entry: KVEntry) -> dict[str, Any]:
    from lanner.engine.variables import iso

    return {
        "namespace": entry.namespace,
        "key": entry.key,
        "type": entry.type.value,
        "value": _shown(entry.value),
        "description": entry.description,
        "updateDate": None if entry.updated_at is None else iso(entry.updated_at),
        "expirationDate": None if entry.expires_at is None else iso(entry.expires_at),
    }


@app.command("set")
@guarded
def kv_set(
    namespace: Namespace,
    key: Key,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The value, as text.")],
    kv_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="STRING (default), NUMBER, BOOLEAN, DATETIME, DATE, DURATION or JSON.",
        ),
    ] = None,
    ttl: Annotated[
        str | None,
        typer.Option("--ttl", metavar="DURATION", help="Expire after this ISO-8601 duration."),
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="A description of the pair.")
    ] = None,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """Set KEY in NAMESPACE to VALUE, parsed as --type (replacing any value it had)."""
    from lanner.errors import InputError
    from lanner.model.kvtypes import KVType

    kind = KVType.STRING
    if kv_type is not None:
        try:
            kind = KVType(kv_type.upper())
        except ValueError:
            names = ", ".join(t.value for t in KVType)
            raise InputError(f"--type must be one of {names} (got {kv_type!r})") from None
    entry = _access(db, namespace).set(
        namespace, key, value, kv_type=kind, ttl=ttl, description=description
    )
    expires = "" if entry.expires_at is None else f", expires {entry.expires_at.isoformat()}"
    print(f"set {namespace} {key} ({entry.type.value}{expires})")


@app.command("get")
@guarded
def kv_get(
    namespace: Namespace,
    key: Key,
    json_output: JsonOpt = False,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """Print the value of KEY in NAMESPACE (that namespace only; text as is, others as JSON)."""
    from lanner.errors import NotFoundError

    entry = _access(db, namespace).get(namespace, key)
    if entry is None:
        raise NotFoundError(f"the key '{key}' does not exist in the namespace '{namespace}'")
    if json_output:
        print_json(_json(entry))
    else:
        print(_text(entry.value))


@app.command("delete")
@guarded
def kv_delete(namespace: Namespace, key: Key, db: Db = None, debug: Debug = False) -> None:
    """Delete KEY from NAMESPACE."""
    from lanner.errors import NotFoundError

    if not _access(db, namespace).delete(namespace, key):
        raise NotFoundError(f"the key '{key}' does not exist in the namespace '{namespace}'")
    print(f"deleted {namespace} {key}")


@app.command("list")
@guarded
def kv_list(
    namespace: Namespace, json_output: JsonOpt = False, db: Db = None, debug: Debug = False
) -> None:
    """List the pairs of NAMESPACE (expired ones are not shown), by key."""
    entries = _access(db, namespace).entries(namespace)
    if json_output:
        print_json([_json(e) for e in entries])
        return
    if not entries:
        print(f"no KV pair in the namespace {namespace}")
    for e in entries:
        expires = "" if e.expires_at is None else f"  expires {e.expires_at.isoformat()}"
        print(f"{e.key}  {e.type.value}  {_text(e.value)}{expires}")
