"""read(), fileSize(), fileExists(), isFileEmpty(): internal-storage files an execution
may read, through the render scope's file reader, bounded by the render limits."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from lanner.errors import RenderError
from lanner.expr import ExpressionEngine, Scope
from lanner.expr.limits import Limits
from lanner.storage import LocalStorage, namespace_file_uri, storage_path, task_file_uri
from lanner.storage.reader import ExecutionFiles

NOW = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
OWN = task_file_uri("company.team", "etl", "E1", "t", "TR", "out.txt")
EMPTY = task_file_uri("company.team", "etl", "E1", "t", "TR", "empty.txt")
OTHER = task_file_uri("company.ops", "etl", "E2", "t", "TR", "secret.txt")


@pytest.fixture
def scope(tmp_path: Path) -> Scope:
    storage = LocalStorage(tmp_path / "storage")
    storage.put(storage_path(OWN), io.BytesIO("héllo\n".encode()))
    storage.put(storage_path(EMPTY), io.BytesIO(b""))
    storage.put(storage_path(OTHER), io.BytesIO(b"not yours"))
    storage.put(
        storage_path(namespace_file_uri("company.team", "queries/q.sql")), io.BytesIO(b"select 1")
    )
    storage.put(storage_path(namespace_file_uri("company", "shared.txt")), io.BytesIO(b"up"))
    storage.put(storage_path(namespace_file_uri("company.team", "big.txt")), io.BytesIO(b"x" * 200))
    files = ExecutionFiles(storage, "company.team", "etl")
    return Scope(variables={"uri": OWN, "empty": EMPTY}, now=NOW, files=files)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ read(uri) }}", "héllo\n"),
        ("{{ read('queries/q.sql') }}", "select 1"),
        ("{{ read('kestra:///company/_files/shared.txt') }}", "up"),
        ("{{ fileSize(uri) }}", "7"),
        ("{{ fileExists(uri) }}", "true"),
        ("{{ fileExists(uri ~ '.gone') }}", "false"),
        ("{{ isFileEmpty(empty) }}", "true"),
        ("{{ isFileEmpty(uri) }}", "false"),
    ],
)
def test_file_functions(scope: Scope, template: str, expected: str) -> None:
    assert ExpressionEngine().render(template, scope) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (f"{{{{ read('{OTHER}') }}}}", "may read its own flow's files"),
        (f"{{{{ fileExists('{OTHER}') }}}}", "may read its own flow's files"),
        # a path is a namespace file's: never the host's
        ("{{ read('/etc/passwd') }}", "no such file"),
        ("{{ read('file:///etc/passwd') }}", "not an internal-storage URI"),
        ("{{ read('kestra:///company/team/etl/../../../etc/passwd') }}", "does not name a file"),
        ("{{ read(uri ~ '.gone') }}", "no such file"),
        ("{{ fileSize(uri ~ '.gone') }}", "no such file"),
        ("{{ read(42) }}", "needs a kestra:// URI"),
        ("{{ read('big.txt') }}", "200 bytes, more than the 100 characters"),
    ],
)
def test_what_is_refused(scope: Scope, template: str, message: str) -> None:
    engine = ExpressionEngine(limits=Limits(output_chars=100))
    with pytest.raises(RenderError) as caught:
        engine.render(template, scope)
    assert message in caught.value.message
    assert "not yours" not in caught.value.message


def test_without_storage_the_functions_say_so() -> None:
    with pytest.raises(RenderError, match="not available here"):
        ExpressionEngine().render("{{ fileExists('x') }}", Scope(variables={}, now=NOW))
