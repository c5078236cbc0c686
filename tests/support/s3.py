"""A local S3-compatible server for the tests: moto's, on 127.0.0.1, never the network.

`s3_server` starts one per test session; each test gets a fresh bucket of its
own (`S3Server.new_bucket`), so that tests never see each other's files.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.ports import free_port

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


class S3Server:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def client(self) -> Any:
        import boto3

        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        ).client("s3", endpoint_url=self.endpoint)

    def new_bucket(self) -> str:
        name = f"lanner-test-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name

    def config_yaml(self, bucket: str, prefix: str = "") -> str:
        """The `storage:` section of a config.yml pointing at `bucket` here."""
        lines = [
            "storage:",
            "  type: s3",
            f"  bucket: {bucket}",
            f"  endpoint: {self.endpoint}",
            f"  region: {REGION}",
            f"  accessKey: {ACCESS_KEY}",
            f"  secretKey: {SECRET_KEY}",
        ]
        if prefix:
            lines.append(f"  prefix: {prefix}")
        return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
