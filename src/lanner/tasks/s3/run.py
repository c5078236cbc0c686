"""Running the `io.kestra.plugin.aws.s3.*` tasks (docs/tasks-s3.md): files stream between
internal storage and S3 through a temporary file or boto3's managed transfer, never
whole in memory."""

from __future__ import annotations

import json
import posixpath
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lanner.errors import LannerError
from lanner.model.awss3 import Action, S3Listing
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext
from lanner.tasks.s3 import client as s3
from lanner.tasks.s3.model import (
    Copy,
    CreateBucket,
    Delete,
    DeleteList,
    Download,
    Downloads,
    List,
    Upload,
)

_CHUNK = 1 << 20


def _guarded(run: Callable[[Any, TaskContext], Outcome]) -> Callable[[Task, TaskContext], Outcome]:
    """S3's answers (no such bucket, access denied, a server that does not answer) and a
    missing boto3 end the task FAILED with the reason, not with a traceback."""

    def guarded(task: Task, ctx: TaskContext) -> Outcome:
        try:
            return run(task, ctx)
        except (LannerError, ValueError) as exc:
            return Outcome(State.FAILED, error=str(exc))
        except Exception as exc:
            try:
                from botocore.exceptions import BotoCoreError, ClientError
            except ImportError:
                raise exc from None
            if isinstance(exc, ClientError | BotoCoreError):
                return Outcome(State.FAILED, error=f"S3: {exc}")
            raise

    return guarded


def _sources(ctx: TaskContext, value: Any) -> list[str]:
    rendered = ctx.render(value)
    if isinstance(rendered, str):
        stripped = rendered.strip()
        if stripped.startswith("["):
            try:
                rendered = json.loads(stripped)
            except ValueError:
                raise ValueError("from: expected a kestra:// URI or a JSON array of them") from None
        else:
            return [stripped]
    if not isinstance(rendered, list) or not rendered:
        raise ValueError("from: expected a kestra:// URI or a list of them")
    return [str(u).strip() for u in rendered]


def run_upload(task: Upload, ctx: TaskContext) -> Outcome:
    client = s3.s3_client(task, ctx.render)
    bucket, key = str(ctx.render(task.bucket)), str(ctx.render(task.key))
    sources = _sources(ctx, task.from_)
    extra: dict[str, Any] = {}
    for name, value in (
        ("ContentType", task.contentType),
        ("ContentEncoding", task.contentEncoding),
        ("ContentDisposition", task.contentDisposition),
        ("CacheControl", task.cacheControl),
        ("StorageClass", task.storageClass),
        ("ACL", task.acl),
    ):
        rendered = s3.text(ctx.render, value)
        if rendered:
            extra[name] = rendered
    if task.metadata:
        extra["Metadata"] = {str(k): str(ctx.render(v)) for k, v in task.metadata.items()}
    head: dict[str, Any] = {}
    for uri in sources:
        # Several files go under `key` as a folder, each by its file name (Kestra).
        target = key if len(sources) == 1 else f"{key.rstrip('/')}/{posixpath.basename(uri)}"
        with ctx.open_file(uri) as source:
            client.upload_fileobj(source, bucket, target, ExtraArgs=extra or None)
        head = client.head_object(Bucket=bucket, Key=target)
        ctx.log("INFO", f"uploaded {uri} to s3://{bucket}/{target}")
    return Outcome(
        outputs={
            "bucket": bucket,
            "key": key,
            "eTag": head.get("ETag"),
            "versionId": head.get("VersionId"),
        }
    )


def _fetch(
    client: Any, bucket: str, key: str, folder: Path, version: str | None
) -> tuple[Path, dict[str, Any]]:
    """The object streamed to a file in `folder`, and its GetObject answer."""
    request: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version:
        request["VersionId"] = version
    answer = client.get_object(**request)
    path = folder / f"{len(list(folder.iterdir()))}.part"
    with path.open("wb") as out:
        body = answer["Body"]
        try:
            shutil.copyfileobj(body, out, _CHUNK)
        finally:
            body.close()
    return path, answer


def _name(key: str) -> str:
    return key.rstrip("/").rsplit("/", 1)[-1] or "object"


def run_download(task: Download, ctx: TaskContext) -> Outcome:
    client = s3.s3_client(task, ctx.render)
    bucket, key = str(ctx.render(task.bucket)), str(ctx.render(task.key))
    with tempfile.TemporaryDirectory(prefix="lanner-s3-") as tmp:
        path, answer = _fetch(client, bucket, key, Path(tmp), s3.text(ctx.render, task.versionId))
        uri = ctx.put_file(path, _name(key))
    return Outcome(
        outputs={
            "uri": uri,
            "contentLength": int(answer.get("ContentLength", 0)),
            "contentType": answer.get("ContentType"),
            "metadata": dict(answer.get("Metadata") or {}),
            "versionId": answer.get("VersionId"),
        }
    )


def run_downloads(task: Downloads, ctx: TaskContext) -> Outcome:
    client = s3.s3_client(task, ctx.render)
    bucket = str(ctx.render(task.bucket))
    listed = [o for o in s3.list_objects(client, task, ctx.render) if not o["Key"].endswith("/")]
    most = s3.integer(ctx.render, task.maxFiles, "maxFiles", 1, 1_000_000)
    if len(listed) > most:
        ctx.log("WARN", f"{len(listed)} objects listed, the first {most} fetched (maxFiles)")
        listed = listed[:most]
    objects: list[dict[str, Any]] = []
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="lanner-s3-") as tmp:
        for item in listed:
            path, _ = _fetch(client, bucket, item["Key"], Path(tmp), None)
            uri = ctx.put_file(path, item["Key"])
            path.unlink()
            objects.append(s3.s3_object(item, uri))
            files[item["Key"]] = uri
    s3.act(
        client,
        bucket,
        [o["key"] for o in objects],
        task.action,
        s3.move_target(task, ctx.render, bucket),
    )
    return Outcome(outputs={"objects": objects, "outputFiles": files})


def run_list(task: List, ctx: TaskContext) -> Outcome:
    client = s3.s3_client(task, ctx.render)
    bucket = str(ctx.render(task.bucket))
    objects = [
        s3.s3_object(item, f"s3://{bucket}/{item['Key']}")
        for item in s3.list_objects(client, task, ctx.render)
    ]
    return Outcome(outputs={"objects": objects})


def run_delete(task: Delete, ctx: TaskContext) -> Outcome:
    client = s3.s3_client(task, ctx.render)
    answer = client.delete_object(
        Bucket=str(ctx.render(task.bucket)), Key=str(ctx.render(task.key))
    )
    return Outcome(
        outputs={
            "deleteMarker": bool(answer.get("DeleteMarker", False)),
            "versionId": answer.get("VersionId"),
        }
    )


def run_delete_list(task: DeleteList, ctx: TaskContext) -> Outcome:
    client = s3.s3_client(task, ctx.render)
    bucket = str(ctx.render(task.bucket))
    listing: S3Listing = task
    listed = s3.list_objects(client, listing, ctx.render)
    if not listed and s3.flag(ctx.render, task.errorOnEmpty):
        return Outcome(State.FAILED, error=f"no object to delete in s3://{bucket} (errorOnEmpty)")
    keys = [str(o["Key"]) for o in listed]
    s3.act(client, bucket, keys, Action.DELETE, None)
    return Outcome(outputs={"count": len(keys), "size": sum(int(o.get("Size", 0)) for o in listed)})


def run_copy(task: Copy, ctx: TaskContext) -> Outcome:
    client = s3.s3_client(task, ctx.render)
    source_bucket = str(ctx.render(task.from_.bucket))
    source_key = str(ctx.render(task.from_.key))
    source: dict[str, Any] = {"Bucket": source_bucket, "Key": source_key}
    version = s3.text(ctx.render, task.from_.versionId)
    if version:
        source["VersionId"] = version
    bucket = s3.text(ctx.render, task.to.bucket) or source_bucket
    key = str(ctx.render(task.to.key))
    answer = client.copy_object(Bucket=bucket, Key=key, CopySource=source)
    if s3.flag(ctx.render, task.delete):
        client.delete_object(Bucket=source_bucket, Key=source_key)
    result = answer.get("CopyObjectResult") or {}
    return Outcome(
        outputs={
            "bucket": bucket,
            "key": key,
            "eTag": result.get("ETag"),
            "versionId": answer.get("VersionId"),
        }
    )


def run_create_bucket(task: CreateBucket, ctx: TaskContext) -> Outcome:
    client = s3.s3_client(task, ctx.render)
    bucket = str(ctx.render(task.bucket))
    region = s3.text(ctx.render, task.region)
    request: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":  # us-east-1 takes no location constraint
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**request)
    return Outcome(outputs={"bucket": bucket, "region": region})


RUNNERS: dict[str, Callable[[Task, TaskContext], Outcome]] = {
    "Upload": _guarded(run_upload),
    "Download": _guarded(run_download),
    "Downloads": _guarded(run_downloads),
    "List": _guarded(run_list),
    "Delete": _guarded(run_delete),
    "DeleteList": _guarded(run_delete_list),
    "Copy": _guarded(run_copy),
    "CreateBucket": _guarded(run_create_bucket),
}
