"""io.kestra.plugin.core.storage.*: validation at load, and runs against a real
folder storage through LocalTaskContext."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lanner.errors import FlowValidationError
from lanner.model.states import State
from lanner.model.task import Task
from lanner.model.validate import load_flow
from lanner.plugin import TaskRegistry
from lanner.storage import LocalStorage, storage_path, task_file_uri
from lanner.storage.uris import StorageUriError
from lanner.tasks import storage as st
from tests.support.task_context import LocalTaskContext


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "t1", "type": "any", **props})


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


@pytest.fixture
def ctx(storage: LocalStorage) -> LocalTaskContext:
    return LocalTaskContext(storage=storage, execution_id="E1", flow_id="etl")


def put(storage: LocalStorage, data: bytes, name: str = "in.csv", flow: str = "etl") -> str:
    uri = task_file_uri("company.team", flow, "E0", "src", "TR0", name)
    storage.put(storage_path(uri), io.BytesIO(data))
    return uri


def content(storage: LocalStorage, uri: str) -> bytes:
    with storage.open(storage_path(uri)) as f:
        return f.read()


def test_registered_under_kestras_names_and_aliases() -> None:
    registry = TaskRegistry(st.task_types())
    for name in ("Write", "Concat", "Delete", "Size", "Split", "Reverse"):
        assert registry.get(f"io.kestra.plugin.core.storage.{name}") is not None
        assert registry.get(f"io.kestra.core.tasks.storages.{name}") is not None
    assert registry.get("io.kestra.plugin.core.storage.PurgeExecution") is not None


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("type: io.kestra.plugin.core.storage.Split\n    from: x", "exactly one of bytes"),
        (
            "type: io.kestra.plugin.core.storage.Split\n    from: x\n    rows: 2\n    bytes: 1KB",
            "exactly one of bytes",
        ),
        ("type: io.kestra.plugin.core.storage.Split\n    from: x\n    bytes: lots", "10MB"),
        (
            "type: io.kestra.plugin.core.storage.Split\n    from: x\n    regexPattern: a",
            "'regexPattern' is not supported here",
        ),
        ("type: io.kestra.plugin.core.storage.Write\n    contents: x", "content"),
        ("type: io.kestra.plugin.core.storage.Size\n    uri: x\n    extra: 1", "extra"),
    ],
)
def test_bad_properties_are_located_at_load(task: str, message: str) -> None:
    text = f"id: f\nnamespace: company.team\ntasks:\n  - id: t\n    {task}\n"
    with pytest.raises(FlowValidationError) as caught:
        load_flow(text, TaskRegistry(st.task_types()))
    assert message in caught.value.message
    assert "tasks[0]" in caught.value.message


def test_write_and_size(ctx: LocalTaskContext, storage: LocalStorage) -> None:
    out = st.run_write(make(st.Write, content="héllo", extension="txt"), ctx)
    uri = out.outputs["uri"]
    assert uri.startswith("kestra:///company/team/etl/executions/E1/tasks/task/")
    assert uri.endswith(".txt") and content(storage, uri) == "héllo".encode()
    assert st.run_size(make(st.Size, uri=uri), ctx).outputs == {"size": 6}
    with pytest.raises(ValueError, match="not a file extension"):
        st.run_write(make(st.Write, content="x", extension="../x"), ctx)


def test_concat_takes_a_list_or_a_json_array(ctx: LocalTaskContext, storage: LocalStorage) -> None:
    a, b = put(storage, b"a", "a.txt"), put(storage, b"b", "b.txt")
    listed = st.run_concat(make(st.Concat, files=[a, b], separator="\n"), ctx)
    assert content(storage, listed.outputs["uri"]) == b"a\nb"
    assert listed.outputs["uri"].endswith(".tmp")
    as_json = st.run_concat(make(st.Concat, files=f'["{b}", "{a}"]'), ctx)
    assert content(storage, as_json.outputs["uri"]) == b"ba"


def test_another_flows_file_is_refused(ctx: LocalTaskContext, storage: LocalStorage) -> None:
    other = put(storage, b"secret", flow="other")
    with pytest.raises(StorageUriError, match="another flow"):
        st.run_size(make(st.Size, uri=other), ctx)
    with pytest.raises(StorageUriError, match="may delete its own flow's files only"):
        st.run_delete(make(st.Delete, uri=other), ctx)
    assert content(storage, other) == b"secret"


def test_delete_and_error_on_missing(ctx: LocalTaskContext, storage: LocalStorage) -> None:
    uri = put(storage, b"x")
    assert st.run_delete(make(st.Delete, uri=uri), ctx).outputs == {"uri": uri, "deleted": True}
    assert st.run_delete(make(st.Delete, uri=uri), ctx).outputs["deleted"] is False
    failed = st.run_delete(make(st.Delete, uri=uri, errorOnMissing=True), ctx)
    assert failed.state is State.FAILED and uri in (failed.error or "")


@pytest.mark.parametrize(
    ("props", "parts"),
    [
        ({"rows": 2}, [b"1\n2\n", b"3\n4\n", b"5\n"]),
        ({"partitions": 2}, [b"1\n3\n5\n", b"2\n4\n"]),
        ({"bytes": "4"}, [b"1\n2\n", b"3\n4\n", b"5\n"]),
        ({"bytes": "1KB"}, [b"1\n2\n3\n4\n5\n"]),
        ({"rows": 2, "separator": ";"}, [b"1\n2\n3\n4\n5;"]),
    ],
)
def test_split(
    ctx: LocalTaskContext, storage: LocalStorage, props: dict[str, Any], parts: list[bytes]
) -> None:
    uri = put(storage, b"1\n2\n3\n4\n5")
    uris = st.run_split(make(st.Split, **{"from": uri}, **props), ctx).outputs["uris"]
    assert [content(storage, u) for u in uris] == parts
    assert all(u.endswith(".csv") for u in uris)


def test_reverse(ctx: LocalTaskContext, storage: LocalStorage) -> None:
    uri = put(storage, "a\nbé\nc\n".encode())
    out = st.run_reverse(make(st.Reverse, **{"from": uri}), ctx).outputs["uri"]
    assert content(storage, out) == "c\nbé\na\n".encode()
    with pytest.raises(ValueError, match="unknown character set"):
        st.run_reverse(make(st.Reverse, **{"from": uri}, charset="nope"), ctx)


def test_purge_current_execution_files(ctx: LocalTaskContext, storage: LocalStorage) -> None:
    kept = put(storage, b"another execution's")
    mine = st.run_write(make(st.Write, content="x"), ctx).outputs["uri"]
    assert st.run_purge(make(st.PurgeCurrentExecutionFiles), ctx).outputs == {"uris": [mine]}
    assert st.run_purge(make(st.PurgeCurrentExecutionFiles), ctx).outputs == {"uris": []}
    assert content(storage, kept) == b"another execution's"


def test_bytes_sizes() -> None:
    assert st.parse_bytes("10MB") == 10 << 20
    assert st.parse_bytes("200kb") == 200 << 10
    assert st.parse_bytes(512) == 512
    with pytest.raises(ValueError):
        st.parse_bytes("-1")
    with pytest.raises(ValidationError):
        make(st.Split, **{"from": "x"}, bytes="1XB")


def test_the_simulator_stores_file_inputs_and_reads_files(
    storage: LocalStorage, tmp_path: Path
) -> None:
    from lanner.testing import simulate

    src = tmp_path / "in.txt"
    src.write_text("from a file")
    flow = (
        "id: etl\nnamespace: company.team\ninputs:\n  - id: data\n    type: FILE\ntasks:\n"
        "  - id: write\n    type: io.kestra.plugin.core.storage.Write\n"
        '    content: "{{ read(inputs.data) }}!"\n'
        "  - id: show\n    type: io.kestra.plugin.core.log.Log\n"
        '    message: "{{ read(outputs.write.uri) }} {{ fileSize(inputs.data) }}"\n'
    )
    run = simulate(flow, inputs={"data": str(src)}, storage=storage)
    assert run.messages("show") == ["from a file! 11"]
