"""The properties of the `io.kestra.plugin.aws.s3.*` task types, as Kestra names them
(docs/tasks-s3.md). Unknown properties are rejected by the model (Kestra's ACL,
encryption, checksum and storage-class options among them)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lanner.model.awss3 import S3Actions, S3Connection, S3Listing
from lanner.model.common import DynamicBool, Model, Text
from lanner.model.task import Task
from lanner.model.unsupported import unsupported


class Upload(S3Connection, Task):
    """Upload one file, or several under a folder key."""

    type: str
    bucket: Text = Field(description="The bucket.")
    key: Text = Field(description="The object's key; a folder when `from` is several files.")
    from_: Text | list[Text] = Field(
        alias="from", description="A kestra:// URI, a list of them or a JSON array of them."
    )
    contentType: Text | None = Field(None, description="The object's MIME type.")
    contentEncoding: Text | None = Field(None, description="The object's content encoding.")
    contentDisposition: Text | None = Field(None, description="The object's disposition.")
    cacheControl: Text | None = Field(None, description="The object's Cache-Control.")
    metadata: dict[str, Text] | None = Field(None, description="User metadata of the object.")
    storageClass: Text | None = Field(
        None, description="STANDARD, STANDARD_IA, GLACIER, ... (S3's storage classes)."
    )
    acl: Text | None = Field(None, description="A canned ACL: private, public-read, ...")


class Download(S3Connection, Task):
    """Download one object into internal storage."""

    type: str
    bucket: Text = Field(description="The bucket.")
    key: Text = Field(description="The object's key.")
    versionId: Text | None = Field(None, description="A version of the object.")


class Downloads(S3Connection, S3Actions, Task):
    """Download the listed objects into internal storage, then MOVE, DELETE or keep them."""

    type: str


class List(S3Connection, S3Listing, Task):
    """List objects: `objects` (key, etag, size, lastModified, owner, uri)."""

    type: str


class Delete(S3Connection, Task):
    """Delete one object."""

    type: str
    bucket: Text = Field(description="The bucket.")
    key: Text = Field(description="The object's key.")


class DeleteList(S3Connection, S3Listing, Task):
    """Delete the listed objects: `count` and `size`."""

    type: str
    errorOnEmpty: DynamicBool = Field(False, description="Fail when nothing was listed.")
    # Deletions go in batches of up to 1,000 keys per request, which outpaces parallel
    # single deletions; the value is checked, the batches do the rest.
    concurrent: int | None = Field(
        None, ge=2, description="Accepted: objects are deleted in batches of 1,000."
    )


class CopyFrom(Model):
    bucket: Text = Field(description="The source bucket.")
    key: Text = Field(description="The source key.")
    versionId: Text | None = Field(None, description="A version of the source.")


class CopyTo(Model):
    bucket: Text | None = Field(None, description="The target bucket (default: the source's).")
    key: Text = Field(description="The target key.")
    kmsKeyId: Any = None
    serverSideEncryption: Any = None

    _encryption_not_supported = unsupported(
        "kmsKeyId",
        "serverSideEncryption",
        reasons=dict.fromkeys(
            ("kmsKeyId", "serverSideEncryption"),
            "server-side encryption settings are not supported here",
        ),
    )


class Copy(S3Connection, Task):
    """Copy an object (server-side), and delete the source with `delete: true`."""

    type: str
    from_: CopyFrom = Field(alias="from", description="The source bucket and key.")
    to: CopyTo = Field(description="The target bucket and key.")
    delete: DynamicBool = Field(False, description="Delete the source once copied.")


class CreateBucket(S3Connection, Task):
    """Create a bucket."""

    type: str
    bucket: Text = Field(description="The bucket to create.")
