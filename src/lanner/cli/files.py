"""`lanner executions files ID [download URI]`: an execution's files in internal storage."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lanner.cli.options import ConfigOpt, Db, Debug, JsonOpt, config, open_db, print_json

if TYPE_CHECKING:
    from lanner.engine.execution import Execution
    from lanner.expr import SecretMasker
    from lanner.storage.base import Storage


def files(
    execution_id: Annotated[str, typer.Argument(metavar="EXECUTION_ID", help="The execution id.")],
    action: Annotated[
        str | None, typer.Argument(metavar="[download URI]", help="Write the file URI.")
    ] = None,
    uri: Annotated[str | None, typer.Argument(hidden=True)] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="With download: write it here (default: stdout)."),
    ] = None,
    json_output: JsonOpt = False,
    db: Db = None,
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """List an execution's files (URI and size); `download URI` writes one to stdout
    or to the file -o names."""
    from lanner.config import open_storage
    from lanner.errors import InputValueError

    if action is None:
        if output is not None:
            raise InputValueError("-o/--output goes with `download URI`")
        _list(execution_id, open_storage(config(config_file)), db, json_output)
        return
    if action != "download" or uri is None:
        raise InputValueError(
            f"expected `lanner executions files {execution_id} download URI`, got {action!r}"
        )
    _download(execution_id, uri, open_storage(config(config_file)), db, output)


def _list(execution_id: str, storage: Storage, db: str | None, json_output: bool) -> None:
    from lanner.storage.uris import SCHEME

    found = list(storage.list(_prefix(execution_id, db)))
    if json_output:
        print_json([{"uri": f"{SCHEME}/{f.path}", "size": f.size} for f in found])
        return
    if not found:
        print(f"execution {execution_id} has no files")
    for f in found:
        print(f"{f.size:>12}  {SCHEME}/{f.path}")


def _download(
    execution_id: str, uri: str, storage: Storage, db: str | None, output: Path | None
) -> None:
    from lanner.errors import NotFoundError
    from lanner.storage.uris import StorageUriError, storage_path

    path = storage_path(uri)
    if not path.startswith(_prefix(execution_id, db)):
        raise StorageUriError(f"{uri} is not a file of execution {execution_id}")
    try:
        source = storage.open(path)
    except FileNotFoundError:
        raise NotFoundError(f"{uri}: no such file in internal storage") from None
    with source:
        if output is None:
            shutil.copyfileobj(source, sys.stdout.buffer, 1 << 20)
            sys.stdout.buffer.flush()
        else:
            with output.open("wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)


def _prefix(execution_id: str, db: str | None) -> str:
    from lanner.errors import NotFoundError
    from lanner.storage.uris import execution_prefix

    store = open_db(db)
    execution = store.get_execution(execution_id)
    if execution is None:
        raise NotFoundError(f"execution {execution_id} not found in {store.url}")
    return execution_prefix(execution.namespace, execution.flow_id, execution.id)


# A file this small whose bytes are UTF-8 text is shown whole in `executions show`.
PREVIEW_BYTES = 2048


def file_views(
    storage: Storage, execution: Execution, masker: SecretMasker
) -> list[dict[str, Any]]:
    """The execution's files for `lanner executions show`: URI, size, and the text of a
    small text file (secrets masked), in path order."""
    from lanner.expr import taint
    from lanner.storage.uris import SCHEME, execution_prefix

    views: list[dict[str, Any]] = []
    prefix = execution_prefix(execution.namespace, execution.flow_id, execution.id)
    for info in storage.list(prefix):
        view: dict[str, Any] = {"uri": f"{SCHEME}/{info.path}", "size": info.size}
        if info.size <= PREVIEW_BYTES:
            try:
                with storage.open(info.path) as source:
                    text = source.read(PREVIEW_BYTES + 1).decode("utf-8")
            except (FileNotFoundError, UnicodeDecodeError):
                text = None
            if text is not None and "\x00" not in text:
                view["preview"] = taint.mask(masker.mask(text), masker)
        views.append(view)
    return views
