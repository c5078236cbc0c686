"""FILE inputs: a local path is copied into internal storage at creation and the
input's value is its kestra:// URI; a kestra:// URI must be one the execution may read."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from lanner.errors import InputValueError
from lanner.model.inputs import Input, parse_inputs
from lanner.storage import LocalStorage, namespace_file_uri, storage_path, task_file_uri
from lanner.storage.inputfiles import InputFiles

ADAPTER: TypeAdapter[list[Any]] = TypeAdapter(list[Input])


def declare(*items: dict[str, Any]) -> list[Any]:
    return ADAPTER.validate_python(list(items))


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


def test_a_local_path_is_copied_and_becomes_a_kestra_uri(
    storage: LocalStorage, tmp_path: Path
) -> None:
    src = tmp_path / "data.csv"
    src.write_text("a,b\n1,2\n")
    files = InputFiles(storage, "company.team", "etl", "E1")
    values = parse_inputs(declare({"id": "data", "type": "FILE"}), {"data": str(src)}, files=files)
    uri = "kestra:///company/team/etl/executions/E1/inputs/data/data.csv"
    assert values == {"data": uri}
    with storage.open(storage_path(uri)) as f:
        assert f.read() == b"a,b\n1,2\n"


def test_checking_only_copies_nothing(storage: LocalStorage, tmp_path: Path) -> None:
    src = tmp_path / "data.csv"
    src.write_text("x")
    files = InputFiles(storage, "company.team", "etl", None)
    parse_inputs(declare({"id": "data", "type": "FILE"}), {"data": str(src)}, files=files)
    assert list(storage.list("")) == []


def test_invalid_inputs_leave_no_file_behind(storage: LocalStorage, tmp_path: Path) -> None:
    src = tmp_path / "data.csv"
    src.write_text("x")
    files = InputFiles(storage, "company.team", "etl", "E1")
    decl = declare({"id": "data", "type": "FILE"}, {"id": "n", "type": "INT"})
    with pytest.raises(InputValueError, match="input 'n'"):
        parse_inputs(decl, {"data": str(src), "n": "x"}, files=files)
    assert list(storage.list("")) == []


def test_kestra_uris_only_of_what_the_execution_may_read(
    storage: LocalStorage, tmp_path: Path
) -> None:
    own = task_file_uri("company.team", "etl", "E0", "t", "TR", "a.txt")
    other = task_file_uri("company.ops", "etl", "E0", "t", "TR", "a.txt")
    shared = namespace_file_uri("company", "ref.csv")
    for uri in (own, other, shared):
        storage.put(storage_path(uri), io.BytesIO(b"x"))
    files = InputFiles(storage, "company.team", "etl", "E1")
    decl = declare({"id": "f", "type": "FILE"})
    assert parse_inputs(decl, {"f": own}, files=files) == {"f": own}
    assert parse_inputs(decl, {"f": shared}, files=files) == {"f": shared}
    with pytest.raises(InputValueError, match="may read its own flow's files"):
        parse_inputs(decl, {"f": other}, files=files)
    with pytest.raises(InputValueError, match="no such file in internal storage"):
        parse_inputs(decl, {"f": own + ".gone"}, files=files)
    with pytest.raises(InputValueError, match="no such file"):
        parse_inputs(decl, {"f": str(tmp_path / "missing.txt")}, files=files)


def test_nsfile_defaults_and_allowed_extensions(storage: LocalStorage, tmp_path: Path) -> None:
    storage.put(storage_path(namespace_file_uri("company.team", "q.sql")), io.BytesIO(b"x"))
    files = InputFiles(storage, "company.team", "etl", "E1")
    decl = declare({"id": "q", "type": "FILE", "defaults": "nsfile:///q.sql"})
    assert parse_inputs(decl, {}, files=files) == {"q": "kestra:///company/team/_files/q.sql"}
    src = tmp_path / "notes.md"
    src.write_text("x")
    decl = declare({"id": "f", "type": "FILE", "allowedFileExtensions": [".csv", ".txt"]})
    with pytest.raises(InputValueError, match=r"allowed file extensions are \.csv, \.txt"):
        parse_inputs(decl, {"f": str(src)}, files=files)
