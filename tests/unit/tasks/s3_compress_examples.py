"""Validation examples of the S3 and compress task types, for
tests/unit/model/test_task_validation.py's tables (kept beside their tests)."""

from __future__ import annotations

from typing import Any

S3 = "io.kestra.plugin.aws.s3."
C = "io.kestra.plugin.compress."
URI = "kestra:///company/team/f/executions/E/tasks/t/TR/data.csv"
CONN = {"region": "eu-central-1", "accessKeyId": "{{ secret('AWS_KEY') }}", "secretKeyId": "x"}

VALID: dict[str, list[dict[str, Any]]] = {
    S3 + "Upload": [
        {**CONN, "bucket": "b", "key": "k", "from": URI},
        {
            "bucket": "b",
            "key": "dir/",
            "from": [URI, URI],
            "endpointOverride": "http://127.0.0.1:9000",
            "forcePathStyle": True,
            "metadata": {"a": "b"},
            "contentType": "text/csv",
        },
    ],
    S3 + "Download": [
        {**CONN, "bucket": "b", "key": "k"},
        {"bucket": "b", "key": "k", "versionId": "v"},
    ],
    S3 + "Downloads": [
        {"bucket": "b", "prefix": "in/", "action": "DELETE"},
        {"bucket": "b", "action": "MOVE", "moveTo": {"key": "archive", "bucket": "b2"}},
        {"bucket": "b", "action": "NONE", "regexp": ".*\\.csv", "filter": "FILES", "maxKeys": 10},
    ],
    S3 + "List": [{"bucket": "b"}, {"bucket": "b", "prefix": "p", "delimiter": "/", "marker": "m"}],
    S3 + "Delete": [{"bucket": "b", "key": "k", "sessionToken": "t"}],
    S3 + "DeleteList": [{"bucket": "b", "prefix": "p", "errorOnEmpty": True, "concurrent": 4}],
    S3 + "Copy": [
        {"from": {"bucket": "b", "key": "k"}, "to": {"bucket": "c", "key": "k2"}, "delete": True},
        {"from": {"bucket": "b", "key": "k", "versionId": "v"}, "to": {"key": "k2"}},
    ],
    S3 + "CreateBucket": [{"bucket": "b", "region": "eu-west-1"}],
    C + "ArchiveCompress": [
        {"from": {"a.csv": URI, "dir/b.csv": URI}, "algorithm": "ZIP"},
        {"from": '{"a.csv": "' + URI + '"}', "algorithm": "TAR", "compression": "GZIP"},
        {"from": {"a": URI}, "algorithm": "{{ inputs.algo }}"},
    ],
    C + "ArchiveDecompress": [
        {"from": URI, "algorithm": "ZIP"},
        {"from": URI, "algorithm": "TAR", "compression": "XZ"},
    ],
    C + "FileCompress": [
        {"from": URI, "compression": "BZIP2"},
        {"from": URI, "compression": "DEFLATE"},
    ],
    C + "FileDecompress": [
        {"from": URI, "compression": "GZIP"},
        {"from": URI, "compression": "LZMA"},
    ],
}

INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    S3 + "Upload": [
        ({"bucket": "b", "key": "k"}, "from", "missing required"),
        (
            {"bucket": "b", "key": "k", "from": URI, "stsRoleArn": "arn"},
            "stsRoleArn",
            "not supported here",
        ),
        ({"bucket": "b", "key": "k", "from": URI, "tagging": "a=b"}, "tagging", "unknown"),
    ],
    S3 + "Download": [({"key": "k"}, "bucket", "missing required")],
    S3 + "Downloads": [
        ({"bucket": "b"}, "action", "missing required"),
        ({"bucket": "b", "action": "MOVE", "moveTo": {}}, "moveTo.key", "missing required"),
        ({"bucket": "b", "action": "ARCHIVE"}, "action", "MOVE"),
    ],
    S3 + "List": [
        ({"bucket": "b", "maxKeys": 5000}, "maxKeys", "between 1 and 1000"),
        ({"bucket": "b", "regexp": "("}, "regexp", "not a regular expression"),
        ({"bucket": "b", "filter": "ALL"}, "filter", "FILES"),
    ],
    S3 + "Delete": [({"bucket": "b"}, "key", "missing required")],
    S3 + "DeleteList": [({"bucket": "b", "concurrent": 1}, "concurrent", "2")],
    S3 + "Copy": [({"from": {"bucket": "b", "key": "k"}}, "to", "missing required")],
    S3 + "CreateBucket": [({"region": "eu-west-1"}, "bucket", "missing required")],
    C + "ArchiveCompress": [
        ({"from": {"a": URI}, "algorithm": "SEVEN_Z"}, "algorithm", "not supported here"),
        (
            {"from": {"a": URI}, "algorithm": "ZIP", "compression": "ZSTD"},
            "compression",
            "not supported here",
        ),
    ],
    C + "ArchiveDecompress": [
        ({"from": URI, "algorithm": "CPIO"}, "algorithm", "not supported here"),
        ({"from": URI}, "algorithm", "missing required"),
    ],
    C + "FileCompress": [
        ({"from": URI}, "compression", "missing required"),
        ({"from": URI, "compression": "SNAPPY"}, "compression", "not supported here"),
    ],
    C + "FileDecompress": [
        ({"from": URI, "compression": "BROTLI"}, "compression", "not supported here")
    ],
}
