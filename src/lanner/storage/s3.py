"""Internal storage in an S3-compatible object store: several machines, one set of files.

Files stream in parts both ways (boto3's managed transfer up, the response body
down): none is held whole in memory. An object appears only when its upload
completes, so a reader never sees half a file, as in the local folder.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from lanner.errors import LannerError
from lanner.storage.base import FileInfo, Storage

_DELETE_BATCH = 1000  # S3's limit per DeleteObjects call


class _Counting(io.RawIOBase):
    """Reads through `data`, counting the bytes, so that put returns the size
    without a second request."""

    def __init__(self, data: BinaryIO) -> None:
        self._data = data
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        chunk = self._data.read(len(view))
        n = len(chunk)
        view[:n] = chunk
        self.count += n
        return n


class _Body(io.RawIOBase):
    """A GetObject response body as a file object (boto3's StreamingBody is not one)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        chunk: bytes = self._body.read(len(view))
        n = len(chunk)
        view[:n] = chunk
        return n

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Storage(Storage):
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        """Credentials not given come from boto3's usual places (AWS_ACCESS_KEY_ID and
        AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role)."""
        try:
            import boto3
        except ImportError:
            raise LannerError(
                "the S3 internal storage needs boto3: install it with "
                "`pip install 'lanner[s3]'` (or set `storage.type: local`)"
            ) from None
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
        )
        self._client: Any = session.client("s3", endpoint_url=endpoint)

    def _key(self, path: str) -> str:
        return self.prefix + path

    def _missing(self, exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound"}

    def put(self, path: str, data: BinaryIO) -> int:
        counting = _Counting(data)
        self._client.upload_fileobj(
            io.BufferedReader(counting, 1 << 20), self.bucket, self._key(path)
        )
        return counting.count

    def open(self, path: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(path))
        except ClientError as exc:
            if self._missing(exc):
                raise FileNotFoundError(path) from None
            raise
        return io.BufferedReader(_Body(response["Body"]), 1 << 16)

    def info(self, path: str) -> FileInfo | None:
        from botocore.exceptions import ClientError

        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self._key(path))
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise
        return FileInfo(path, int(head["ContentLength"]), head["LastModified"])

    def delete(self, path: str) -> bool:
        # S3 deletes without saying whether there was an object: ask first.
        if self.info(path) is None:
            return False
        self._client.delete_object(Bucket=self.bucket, Key=self._key(path))
        return True

    def list(self, prefix: str) -> Iterator[FileInfo]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key(prefix)
        )
        skip = len(self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                yield FileInfo(item["Key"][skip:], int(item["Size"]), item["LastModified"])

    def delete_prefix(self, prefix: str) -> int:
        keys = [self._key(f.path) for f in self.list(prefix)]
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = keys[start : start + _DELETE_BATCH]
            self._client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
            )
        return len(keys)
