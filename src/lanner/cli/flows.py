"""`lanner flows deploy|list|show|delete`: flows in the store, without the API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lanner.cli.exitcodes import BAD_INPUT, guarded
from lanner.cli.options import ConfigOpt, Db, Debug, JsonOpt, config, open_db, print_json, registry

app = typer.Typer(help="Deploy and inspect flows in the store.", no_args_is_help=True)

_SUFFIXES = (".yml", ".yaml")


def flow_files(paths: list[Path]) -> list[Path]:
    """The files named, and every .yml/.yaml file below the directories named, in order."""
    from lanner.errors import FileReadError

    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file()))
        elif path.exists():
            out.append(path)
        else:
            raise FileReadError(f"{path}: no such file or directory")
    return out


@app.command("deploy")
@guarded
def deploy(
    paths: Annotated[
        list[Path], typer.Argument(metavar="FILE|DIR...", help="Flow files or folders.")
    ],
    db: Db = None,
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Deploy flows: all or nothing — when one file is invalid, none is deployed.
    A file may hold several flows separated by `---`. A new revision is saved
    only when a flow's source changed."""
    from lanner.errors import FlowValidationError, InputError
    from lanner.model.validate import load_flow_files

    reg = registry()
    defaults = config(config_file).pluginDefaults
    files = flow_files(paths)
    if not files:
        raise InputError("no .yml or .yaml flow file found in " + ", ".join(map(str, paths)))
    loaded: dict[tuple[str, str], tuple[str, str]] = {}
    problems: list[str] = []
    for path in files:
        try:
            flows = load_flow_files(path, reg, defaults)
        except FlowValidationError as exc:
            problems.append(exc.message)
            continue
        except InputError as exc:
            problems.append(exc.message)
            continue
        for item in flows:
            flow = item.flow
            # A file of several flows (`---`): each is deployed with its own document.
            where = f"{path}:{item.line}" if len(flows) > 1 else str(path)
            key = (flow.namespace, flow.id)
            if key in loaded:
                problems.append(
                    f"{where}: flow {flow.namespace}.{flow.id} is also defined in {loaded[key][0]}"
                )
                continue
            loaded[key] = (where, item.source)
    if problems:
        for message in problems:
            print(message, file=sys.stderr)
        print(f"lanner: nothing deployed ({len(problems)} invalid file(s))", file=sys.stderr)
        raise SystemExit(BAD_INPUT)
    store = open_db(db)
    for (namespace, flow_id), (where, source) in loaded.items():
        revision, created = store.deploy_flow(namespace, flow_id, source)
        change = "new revision" if created else "unchanged"
        print(f"{namespace}.{flow_id}: revision {revision} ({change}) from {where}")


@app.command("list")
@guarded
def list_flows(
    namespace: Annotated[str | None, typer.Option(help="Only this namespace (or below).")] = None,
    json_output: JsonOpt = False,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """List deployed flows (latest revision of each)."""
    from lanner.engine.variables import iso

    rows = [
        r
        for r in open_db(db).list_flows()
        if namespace is None or r.namespace == namespace or r.namespace.startswith(namespace + ".")
    ]
    if json_output:
        print_json(
            [
                {
                    "namespace": r.namespace,
                    "id": r.id,
                    "revision": r.revision,
                    "updated": iso(r.updated_at),
                }
                for r in rows
            ]
        )
        return
    for r in rows:
        print(f"{r.namespace}.{r.id}  revision {r.revision}  {iso(r.updated_at)}")


@app.command("show")
@guarded
def show(
    namespace: Annotated[str, typer.Argument(help="The flow's namespace.")],
    flow_id: Annotated[str, typer.Argument(metavar="FLOW_ID", help="The flow's id.")],
    revision: Annotated[int | None, typer.Option(help="A given revision.")] = None,
    db: Db = None,
    debug: Debug = False,
) -> None:
    """Print a deployed flow's source."""
    from lanner.errors import NotFoundError

    record = open_db(db).get_flow(namespace, flow_id, revision)
    if record is None:
        which = f" revision {revision}" if revision is not None else ""
        raise NotFoundError(f"flow {namespace}.{flow_id}{which} not found")
    sys.stdout.write(record.source if record.source.endswith("\n") else record.source + "\n")


@app.command("delete")
@guarded
def delete(
    namespace: Annotated[str, typer.Argument(help="The flow's namespace.")],
    flow_id: Annotated[str, typer.Argument(metavar="FLOW_ID", help="The flow's id.")],
    db: Db = None,
    debug: Debug = False,
) -> None:
    """Delete a flow (executions keep the revision they run)."""
    from lanner.errors import NotFoundError

    if not open_db(db).delete_flow(namespace, flow_id):
        raise NotFoundError(f"flow {namespace}.{flow_id} not found")
    print(f"{namespace}.{flow_id}: deleted")
