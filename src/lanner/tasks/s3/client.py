"""An S3 client from Kestra's connection properties, and the listing the S3 tasks and
the S3 Trigger share (docs/tasks-s3.md). boto3 is the optional `s3` extra."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lanner.errors import LannerError
from lanner.model.awss3 import Action, ObjectFilter, S3Actions, S3Connection, S3Listing

Render = Callable[[Any], Any]


class MissingBoto3Error(LannerError):
    """The S3 tasks need boto3: install it with `pip install 'lanner[s3]'`."""


def text(render: Render, value: Any) -> str | None:
    if value is None:
        return None
    rendered = render(value)
    return None if rendered is None else str(rendered)


def flag(render: Render, value: Any) -> bool:
    rendered = render(value)
    return rendered if isinstance(rendered, bool) else str(rendered).strip().lower() == "true"


def integer(render: Render, value: Any, name: str, low: int, high: int) -> int:
    rendered = render(value)
    try:
        number = int(str(rendered).strip())
    except ValueError:
        raise ValueError(f"{name}: expected an integer, got {rendered!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{name}: must be between {low} and {high}, got {number}")
    return number


def s3_client(props: S3Connection, render: Render) -> Any:
    """A boto3 S3 client; credentials not given come from boto3's usual places."""
    try:
        import boto3
        from botocore.config import Config as BotoConfig
    except ImportError:
        raise MissingBoto3Error(
            "the io.kestra.plugin.aws.s3 task types need boto3: install it with"
            " `pip install 'lanner[s3]'`"
        ) from None
    session = boto3.session.Session(
        aws_access_key_id=text(render, props.accessKeyId),
        aws_secret_access_key=text(render, props.secretKeyId),
        aws_session_token=text(render, props.sessionToken),
        region_name=text(render, props.region),
    )
    path_style = props.forcePathStyle is not None and flag(render, props.forcePathStyle)
    config = BotoConfig(
        s3={"addressing_style": "path"} if path_style else {},
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return session.client("s3", endpoint_url=text(render, props.endpointOverride), config=config)


def s3_object(item: dict[str, Any], uri: str | None = None) -> dict[str, Any]:
    """One listed object as Kestra's S3Object output."""
    modified = item.get("LastModified")
    out: dict[str, Any] = {
        "key": item["Key"],
        "etag": item.get("ETag"),
        "size": int(item.get("Size", 0)),
        "lastModified": _iso(modified) if isinstance(modified, datetime) else modified,
    }
    owner = item.get("Owner")
    if isinstance(owner, dict):
        out["owner"] = {"id": owner.get("ID"), "displayName": owner.get("DisplayName")}
    if uri is not None:
        out["uri"] = uri
    return out


def _iso(date: datetime) -> str:
    return date.isoformat().replace("+00:00", "Z")


def list_objects(client: Any, props: S3Listing, render: Render) -> list[dict[str, Any]]:
    """The objects the listing properties select: one ListObjects request of at most
    `maxKeys` keys (as Kestra's List), then `regexp` (the whole key) and `filter`."""
    bucket = str(render(props.bucket))
    request: dict[str, Any] = {
        "Bucket": bucket,
        "MaxKeys": integer(render, props.maxKeys, "maxKeys", 1, 1000),
    }
    for name, value in (
        ("Prefix", props.prefix),
        ("Delimiter", props.delimiter),
        ("Marker", props.marker),
        ("EncodingType", props.encodingType),
    ):
        rendered = text(render, value)
        if rendered:
            request[name] = rendered
    answer = client.list_objects(**request)
    pattern = text(render, props.regexp)
    compiled = re.compile(pattern) if pattern else None
    out: list[dict[str, Any]] = []
    for item in answer.get("Contents", ()):
        key = str(item["Key"])
        directory = key.endswith("/")
        if props.filter is ObjectFilter.FILES and directory:
            continue
        if props.filter is ObjectFilter.DIRECTORY and not directory:
            continue
        if compiled is not None and not compiled.fullmatch(key):
            continue
        out.append(item)
    return out


def moved_key(move_key: str, key: str) -> str:
    """Where MOVE puts `key`: its file name under the `moveTo.key` folder (as Kestra)."""
    name = key.rstrip("/").rsplit("/", 1)[-1]
    return f"{move_key.rstrip('/')}/{name}" if move_key.strip("/") else name


def missing(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


def act(
    client: Any,
    bucket: str,
    keys: list[str],
    action: Action,
    move_to: tuple[str, str] | None,
) -> None:
    """MOVE (copy, then delete) or DELETE the objects `keys`; NONE leaves them. Done
    again after a crash, it is harmless: a key that is gone is skipped."""
    from botocore.exceptions import ClientError

    if action is Action.NONE or not keys:
        return
    if action is Action.MOVE:
        assert move_to is not None
        target_bucket, folder = move_to
        for key in keys:
            try:
                client.copy_object(
                    Bucket=target_bucket,
                    Key=moved_key(folder, key),
                    CopySource={"Bucket": bucket, "Key": key},
                )
            except ClientError as exc:
                if missing(exc):
                    continue  # moved already
                raise
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )


DELETE_BATCH = 1000  # S3's limit per DeleteObjects request


def move_target(props: S3Actions, render: Render, bucket: str) -> tuple[str, str] | None:
    if props.action is not Action.MOVE or props.moveTo is None:
        return None
    target = text(render, props.moveTo.bucket) or bucket
    return target, str(render(props.moveTo.key))
