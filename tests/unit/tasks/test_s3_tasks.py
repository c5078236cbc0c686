"""The io.kestra.plugin.aws.s3 tasks against moto's S3 server on 127.0.0.1: each task's
outputs as Kestra documents them, files through a real local internal storage."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from lanner.model.states import State
from lanner.plugin import TaskRegistry
from lanner.storage import LocalStorage
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.support.task_context import LocalTaskContext

S3 = "io.kestra.plugin.aws.s3."
REGISTRY = TaskRegistry.from_entry_points()


def _run(server: S3Server, name: str, ctx: LocalTaskContext, **props: Any) -> Any:
    kind = REGISTRY.get(S3 + name)
    assert kind is not None and kind.run is not None
    values = {
        "id": "t",
        "type": S3 + name,
        "endpointOverride": server.endpoint,
        "region": REGION,
        "accessKeyId": ACCESS_KEY,
        "secretKeyId": SECRET_KEY,
        **props,
    }
    return kind.run(kind.model.model_validate(values), ctx)


def _ctx(tmp_path: Path) -> LocalTaskContext:
    return LocalTaskContext(storage=LocalStorage(tmp_path / "storage"))


def _file(ctx: LocalTaskContext, tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return ctx.put_file(path, name)


def _read(ctx: LocalTaskContext, uri: str) -> bytes:
    with ctx.open_file(uri) as f:
        return f.read()


def test_upload_list_download_copy_delete(s3_server: S3Server, tmp_path: Path) -> None:
    bucket = s3_server.new_bucket()
    ctx = _ctx(tmp_path)
    uri = _file(ctx, tmp_path, "orders.csv", b"id,total\n1,10\n")
    up = _run(
        s3_server,
        "Upload",
        ctx,
        bucket=bucket,
        key="in/orders.csv",
        **{"from": uri},
        contentType="text/csv",
        metadata={"team": "{{ 'data' }}"},
        storageClass="STANDARD_IA",
        acl="private",
    )
    assert up.state is State.SUCCESS, up.error
    head = s3_server.client().head_object(Bucket=bucket, Key="in/orders.csv")
    assert head["StorageClass"] == "STANDARD_IA"
    assert up.outputs["bucket"] == bucket and up.outputs["key"] == "in/orders.csv"
    assert up.outputs["eTag"]

    listed = _run(s3_server, "List", ctx, bucket=bucket, prefix="in/")
    assert [o["key"] for o in listed.outputs["objects"]] == ["in/orders.csv"]
    first = listed.outputs["objects"][0]
    assert first["uri"] == f"s3://{bucket}/in/orders.csv" and first["size"] == 14
    assert first["etag"] == up.outputs["eTag"] and first["lastModified"].endswith("Z")

    down = _run(s3_server, "Download", ctx, bucket=bucket, key="in/orders.csv")
    assert down.state is State.SUCCESS, down.error
    assert _read(ctx, down.outputs["uri"]) == b"id,total\n1,10\n"
    assert down.outputs["uri"].endswith("/orders.csv")
    assert down.outputs["contentLength"] == 14 and down.outputs["contentType"] == "text/csv"
    assert down.outputs["metadata"] == {"team": "data"}

    copied = _run(
        s3_server,
        "Copy",
        ctx,
        **{"from": {"bucket": bucket, "key": "in/orders.csv"}},
        to={"key": "archive/orders.csv"},
        delete=True,
    )
    assert copied.state is State.SUCCESS, copied.error
    assert copied.outputs["key"] == "archive/orders.csv" and copied.outputs["eTag"]
    keys = [o["key"] for o in _run(s3_server, "List", ctx, bucket=bucket).outputs["objects"]]
    assert keys == ["archive/orders.csv"]

    deleted = _run(s3_server, "Delete", ctx, bucket=bucket, key="archive/orders.csv")
    assert deleted.state is State.SUCCESS and deleted.outputs["deleteMarker"] is False
    assert _run(s3_server, "List", ctx, bucket=bucket).outputs["objects"] == []


def test_upload_several_files_under_a_folder_and_list_filters(
    s3_server: S3Server, tmp_path: Path
) -> None:
    bucket = s3_server.new_bucket()
    ctx = _ctx(tmp_path)
    uris = [_file(ctx, tmp_path, f"{n}.json", b"{}") for n in ("a", "b", "c")]
    up = _run(s3_server, "Upload", ctx, bucket=bucket, key="data/", **{"from": uris})
    assert up.state is State.SUCCESS, up.error
    s3_server.client().put_object(Bucket=bucket, Key="data/sub/", Body=b"")
    listed = _run(s3_server, "List", ctx, bucket=bucket, regexp=r"data/[ab]\.json")
    assert [o["key"] for o in listed.outputs["objects"]] == ["data/a.json", "data/b.json"]
    files = _run(s3_server, "List", ctx, bucket=bucket, filter="FILES", maxKeys=2)
    assert [o["key"] for o in files.outputs["objects"]] == ["data/a.json", "data/b.json"]
    folders = _run(s3_server, "List", ctx, bucket=bucket, filter="DIRECTORY")
    assert [o["key"] for o in folders.outputs["objects"]] == ["data/sub/"]
    # A JSON array of URIs, as Kestra's `from` also takes.
    again = _run(s3_server, "Upload", ctx, bucket=bucket, key="copy", **{"from": f'["{uris[0]}"]'})
    assert again.state is State.SUCCESS and again.outputs["key"] == "copy"


def test_downloads_moves_the_objects_and_delete_list_counts(
    s3_server: S3Server, tmp_path: Path
) -> None:
    bucket = s3_server.new_bucket()
    client = s3_server.client()
    for key in ("in/1.csv", "in/2.csv"):
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    ctx = _ctx(tmp_path)
    got = _run(
        s3_server,
        "Downloads",
        ctx,
        bucket=bucket,
        prefix="in/",
        action="MOVE",
        moveTo={"key": "done"},
    )
    assert got.state is State.SUCCESS, got.error
    assert [o["key"] for o in got.outputs["objects"]] == ["in/1.csv", "in/2.csv"]
    assert _read(ctx, got.outputs["outputFiles"]["in/2.csv"]) == b"in/2.csv"
    assert got.outputs["objects"][0]["uri"].startswith("kestra:///company/team/flow/")
    keys = sorted(o["Key"] for o in client.list_objects(Bucket=bucket)["Contents"])
    assert keys == ["done/1.csv", "done/2.csv"]

    capped = _run(s3_server, "Downloads", ctx, bucket=bucket, action="NONE", maxFiles=1)
    assert [o["key"] for o in capped.outputs["objects"]] == ["done/1.csv"]
    assert any("maxFiles" in m for _, m in ctx.logs)

    gone = _run(s3_server, "DeleteList", ctx, bucket=bucket, prefix="done/")
    assert gone.outputs == {"count": 2, "size": 16}
    empty = _run(s3_server, "DeleteList", ctx, bucket=bucket, errorOnEmpty=True)
    assert empty.state is State.FAILED and "errorOnEmpty" in str(empty.error)


def test_create_bucket_and_s3_errors_fail_the_task(s3_server: S3Server, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    made = _run(s3_server, "CreateBucket", ctx, bucket="lanner-made-here")
    assert made.state is State.SUCCESS and made.outputs["bucket"] == "lanner-made-here"
    assert "lanner-made-here" in [b["Name"] for b in s3_server.client().list_buckets()["Buckets"]]
    missing = _run(s3_server, "Download", ctx, bucket="lanner-made-here", key="nope")
    assert missing.state is State.FAILED and "NoSuchKey" in str(missing.error)
    nobucket = _run(s3_server, "List", ctx, bucket="lanner-no-such-bucket")
    assert nobucket.state is State.FAILED and "NoSuchBucket" in str(nobucket.error)


def test_without_boto3_the_task_fails_saying_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # boto3 is the optional `s3` extra: a None entry makes `import boto3` fail as when
    # it is not installed.
    monkeypatch.setitem(sys.modules, "boto3", None)
    server = S3Server("http://127.0.0.1:9")
    out = _run(server, "List", _ctx(tmp_path), bucket="b")
    assert out.state is State.FAILED
    assert "pip install 'lanner[s3]'" in str(out.error)
