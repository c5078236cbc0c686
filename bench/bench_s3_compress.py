"""The S3 and compress families on this machine: the compress tasks' throughput
(FileCompress/FileDecompress GZIP, ArchiveCompress/ArchiveDecompress TAR+GZIP) and,
against moto's S3 server on 127.0.0.1, Upload/Download throughput and the time of
one S3 Trigger evaluation that fires for N new objects (list, fetch each into
internal storage, commit one execution, DELETE them). Medians of --runs runs.
moto is a Python server: the S3 figures bound Lanner's overhead from above, they
are not S3's speed.

    .venv/bin/python -m bench.bench_s3_compress [--mb 50] [--objects 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lanner.config import Config
from lanner.plugin import TaskRegistry
from lanner.runtime.triggers import TriggerRuntime
from lanner.storage import LocalStorage
from lanner.store import open_store
from tests.support.ports import free_port
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY
from tests.support.task_context import LocalTaskContext

REGISTRY = TaskRegistry.from_entry_points()


def _run(name: str, ctx: LocalTaskContext, **props: Any) -> Any:
    kind = REGISTRY.get(name)
    assert kind is not None and kind.run is not None
    out = kind.run(kind.model.model_validate({"id": "t", "type": name, **props}), ctx)
    assert out.state.value == "SUCCESS", out.error
    return out


def _timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_compress(tmp: Path, mb: int, runs: int) -> None:
    ctx = LocalTaskContext(storage=LocalStorage(tmp / "storage"))
    source = tmp / "data.csv"
    with source.open("wb") as out:
        line = b"12345,some text that repeats,2025-01-06T12:00:00Z,42.5\n"
        out.write(os.urandom(mb * 100_000))  # some incompressible bytes, mostly text
        out.write(line * (mb * 1_000_000 // len(line)))
    uri = ctx.put_file(source, "data.csv")
    size = source.stat().st_size / 1e6
    c = "io.kestra.plugin.compress."
    packed: dict[str, str] = {}

    def pack() -> None:
        packed["f"] = _run(c + "FileCompress", ctx, compression="GZIP", **{"from": uri}).outputs[
            "uri"
        ]

    def unpack() -> None:
        _run(c + "FileDecompress", ctx, compression="GZIP", **{"from": packed["f"]})

    def archive() -> None:
        packed["a"] = _run(
            c + "ArchiveCompress",
            ctx,
            algorithm="TAR",
            compression="GZIP",
            **{"from": {"a.csv": uri, "b.csv": uri}},
        ).outputs["uri"]

    def extract() -> None:
        _run(
            c + "ArchiveDecompress",
            ctx,
            algorithm="TAR",
            compression="GZIP",
            **{"from": packed["a"]},
        )

    for label, fn, mbytes in (
        ("FileCompress GZIP", pack, size),
        ("FileDecompress GZIP", unpack, size),
        ("ArchiveCompress TAR+GZIP (2 files)", archive, 2 * size),
        ("ArchiveDecompress TAR+GZIP (2 files)", extract, 2 * size),
    ):
        times = [_timed(fn) for _ in range(runs)]
        print(f"{label:40s} {mbytes / statistics.median(times):7.1f} MB/s  (median of {runs})")


def bench_s3(tmp: Path, mb: int, objects: int, runs: int) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        ).client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket="bench")
        conn = {
            "endpointOverride": endpoint,
            "region": REGION,
            "accessKeyId": ACCESS_KEY,
            "secretKeyId": SECRET_KEY,
            "bucket": "bench",
        }
        ctx = LocalTaskContext(storage=LocalStorage(tmp / "storage"))
        source = tmp / "blob.bin"
        source.write_bytes(os.urandom(mb * 1_000_000))
        uri = ctx.put_file(source, "blob.bin")
        s3 = "io.kestra.plugin.aws.s3."
        up = [
            _timed(lambda: _run(s3 + "Upload", ctx, key="blob", **{"from": uri}, **conn))
            for _ in range(runs)
        ]
        down = [_timed(lambda: _run(s3 + "Download", ctx, key="blob", **conn)) for _ in range(runs)]
        print(
            f"{'S3 Upload (moto)':40s} {mb / statistics.median(up):7.1f} MB/s  (median of {runs})"
        )
        print(
            f"{'S3 Download (moto)':40s} {mb / statistics.median(down):7.1f} MB/s  (median of {runs})"
        )

        flow = f"""id: watch
namespace: bench
tasks:
  - id: l
    type: io.kestra.plugin.core.log.Log
    message: x
triggers:
  - id: w
    type: io.kestra.plugin.aws.s3.Trigger
    interval: PT1S
    bucket: bench
    prefix: in/
    action: DELETE
    endpointOverride: {endpoint}
    region: {REGION}
    accessKeyId: {ACCESS_KEY}
    secretKeyId: {SECRET_KEY}
"""
        store = open_store(f"sqlite://{tmp / 'lanner.db'}")
        store.migrate()
        store.deploy_flow("bench", "watch", flow)
        runtime = TriggerRuntime(
            store, REGISTRY, Config(), owner="bench", storage=LocalStorage(tmp / "storage")
        )
        now = datetime(2025, 1, 6, tzinfo=UTC)
        runtime.tick(now)  # the context, nothing to fire
        ticks = []
        for run in range(runs):
            for n in range(objects):
                client.put_object(Bucket="bench", Key=f"in/{run}-{n}.csv", Body=b"id\n1\n")
            now += timedelta(seconds=2)
            start = time.perf_counter()
            assert runtime.tick(now) == 1
            ticks.append(time.perf_counter() - start)
        label = f"S3 Trigger firing for {objects} objects"
        print(f"{label:40s} {statistics.median(ticks) * 1000:7.0f} ms    (median of {runs})")
        store.close()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--objects", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lanner-bench-") as tmp:
        bench_compress(Path(tmp), args.mb, args.runs)
        bench_s3(Path(tmp), args.mb // 5 or 1, args.objects, args.runs)


if __name__ == "__main__":
    main()
