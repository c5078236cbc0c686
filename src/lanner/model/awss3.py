"""The properties Kestra's `io.kestra.plugin.aws.s3.*` tasks and its S3 `Trigger` share
(docs/tasks-s3.md): the connection, the listing, the action on listed objects.

They live in the model layer because the S3 `Trigger` is validated with the flow's
triggers; the task types (lanner.tasks.s3) build on the same pieces.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from lanner.model.common import DynamicBool, DynamicInt, Model, Text, is_dynamic
from lanner.model.unsupported import unsupported

_STS = (
    "assuming a role through STS is not supported here; give accessKeyId/secretKeyId"
    " (and sessionToken) or let boto3 find credentials in its usual places"
)
_REASONS = {
    "stsRoleArn": _STS,
    "stsRoleExternalId": _STS,
    "stsRoleSessionName": _STS,
    "stsRoleSessionDuration": _STS,
    "stsEndpointOverride": _STS,
    "requestPayer": "requester-pays buckets are not supported here",
    "expectedBucketOwner": "the bucket owner check is not supported here",
}


class S3Connection(Model):
    """Kestra's AbstractConnection of the AWS plugin, plus the S3 client options."""

    region: Text | None = Field(None, description="The AWS region (e.g. eu-central-1).")
    accessKeyId: Text | None = Field(None, description="The access key id.")
    secretKeyId: Text | None = Field(None, description="The secret access key.")
    sessionToken: Text | None = Field(None, description="A temporary session token.")
    endpointOverride: Text | None = Field(
        None, description="The endpoint of an S3-compatible server (http://127.0.0.1:9000)."
    )
    forcePathStyle: DynamicBool | None = Field(
        None, description="Address buckets as http://host/bucket rather than http://bucket.host."
    )
    # Kestra's choice between two Java clients; boto3 has one, compatible with every server.
    compatibilityMode: DynamicBool | None = Field(
        None, description="Accepted for compatibility: boto3 works with every S3 server."
    )
    stsRoleArn: Any = None
    stsRoleExternalId: Any = None
    stsRoleSessionName: Any = None
    stsRoleSessionDuration: Any = None
    stsEndpointOverride: Any = None
    requestPayer: Any = None
    expectedBucketOwner: Any = None

    _s3_not_supported = unsupported(
        "stsRoleArn",
        "stsRoleExternalId",
        "stsRoleSessionName",
        "stsRoleSessionDuration",
        "stsEndpointOverride",
        "requestPayer",
        "expectedBucketOwner",
        reasons=_REASONS,
    )


class ObjectFilter(StrEnum):
    FILES = "FILES"
    DIRECTORY = "DIRECTORY"
    BOTH = "BOTH"


class S3Listing(Model):
    """What lists objects: List, DeleteList, Downloads and the Trigger."""

    bucket: Text = Field(description="The bucket.")
    prefix: Text | None = Field(None, description="Only keys that start with it.")
    delimiter: Text | None = Field(None, description="Groups keys: list one level.")
    marker: Text | None = Field(None, description="Start listing after this key.")
    encodingType: Text | None = Field(None, description="url: keys are URL-encoded in answers.")
    maxKeys: DynamicInt = Field(1000, description="At most this many keys are listed.")
    regexp: Text | None = Field(None, description="Only keys that match it (whole key).")
    filter: ObjectFilter = Field(
        ObjectFilter.BOTH, description="FILES, DIRECTORY (keys ending in /) or BOTH."
    )

    @field_validator("regexp")
    @classmethod
    def _regexp(cls, value: str | None) -> str | None:
        if value is not None and not is_dynamic(value):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"regexp {value!r} is not a regular expression: {exc}") from None
        return value

    @field_validator("maxKeys")
    @classmethod
    def _max_keys(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 1000:
            raise ValueError(f"maxKeys must be between 1 and 1000, got {value}")
        return value


class Action(StrEnum):
    MOVE = "MOVE"
    DELETE = "DELETE"
    NONE = "NONE"


class MoveTo(Model):
    """Where MOVE puts an object: `key` is a folder the object's key is put under."""

    bucket: Text | None = Field(None, description="The target bucket (default: the same).")
    key: Text = Field(description="The target folder (the object's own key is appended).")
    kmsKeyId: Any = None
    serverSideEncryption: Any = None

    _move_not_supported = unsupported(
        "kmsKeyId",
        "serverSideEncryption",
        reasons={
            "kmsKeyId": "server-side encryption settings are not supported here",
            "serverSideEncryption": "server-side encryption settings are not supported here",
        },
    )


class S3Actions(S3Listing):
    """Downloads and the Trigger: what to do with the objects once fetched."""

    action: Action = Field(description="MOVE, DELETE or NONE (the objects stay).")
    moveTo: MoveTo | None = Field(None, description="Where MOVE puts the objects.")
    maxFiles: DynamicInt = Field(
        25, description="At most this many objects are fetched at once; the rest wait."
    )

    @field_validator("maxFiles")
    @classmethod
    def _max_files(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError(f"maxFiles must be at least 1, got {value}")
        return value

    @model_validator(mode="after")
    def _move_needs_target(self) -> S3Actions:
        if self.action is Action.MOVE and self.moveTo is None:
            raise ValueError("action MOVE needs moveTo (the target key, and bucket)")
        return self
