"""`lanner namespaces files upload|list|delete`: namespace files in internal storage
(docs/storage.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lanner.cli.exitcodes import guarded
from lanner.cli.options import ConfigOpt, Debug, JsonOpt, config, print_json

app = typer.Typer(help="Namespaces: their files.", no_args_is_help=True)
files_app = typer.Typer(
    help="Namespace files, read by flows of the namespace.", no_args_is_help=True
)
app.add_typer(files_app, name="files")

Namespace = Annotated[str, typer.Argument(metavar="NAMESPACE", help="The namespace.")]


@files_app.command("upload")
@guarded
def upload(
    namespace: Namespace,
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Every file under it, by its relative path.")
    ],
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Upload a folder's files as the namespace's files (same paths replace them)."""
    from lanner.config import open_storage
    from lanner.errors import InputValueError
    from lanner.storage.namespacefiles import upload_directory

    if not directory.is_dir():
        raise InputValueError(f"{directory}: not a folder")
    stored = upload_directory(open_storage(config(config_file)), namespace, directory)
    print(f"uploaded {len(stored)} file(s) to namespace {namespace}")


@files_app.command("list")
@guarded
def list_files(
    namespace: Namespace,
    json_output: JsonOpt = False,
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """List the namespace's files (path and size)."""
    from lanner.config import open_storage
    from lanner.storage.namespacefiles import namespace_files

    found = list(namespace_files(open_storage(config(config_file)), namespace))
    if json_output:
        print_json([{"path": f.path, "uri": f.uri, "size": f.size} for f in found])
        return
    if not found:
        print(f"namespace {namespace} has no files")
    for f in found:
        print(f"{f.size:>12}  {f.path}")


@files_app.command("delete")
@guarded
def delete(
    namespace: Namespace,
    path: Annotated[str, typer.Argument(metavar="PATH", help="A file, or a folder's path.")],
    config_file: ConfigOpt = None,
    debug: Debug = False,
) -> None:
    """Delete a namespace file, or every file under a folder."""
    from lanner.config import open_storage
    from lanner.errors import NotFoundError
    from lanner.storage.namespacefiles import delete_namespace_file

    count = delete_namespace_file(open_storage(config(config_file)), namespace, path)
    if not count:
        raise NotFoundError(f"namespace {namespace} has no file {path}")
    print(f"deleted {count} file(s)")
