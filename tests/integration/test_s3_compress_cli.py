"""S3 and compress tasks through `lanner run` (a real worker and internal storage), the
S3 endpoint and credentials from the flow's plugin defaults: write a file, archive it,
upload it, list, download, extract it and read it back."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import env, run_json, write_flow  # noqa: F401 (fixture)
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server

FLOW = """\
id: s3_round_trip
namespace: company.team
pluginDefaults:
  - type: io.kestra.plugin.aws.s3
    values:
      endpointOverride: {endpoint}
      region: {region}
      accessKeyId: {access}
      secretKeyId: {secret}
      forcePathStyle: true
tasks:
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "id,total\\n1,10\\n"
    extension: .csv
  - id: pack
    type: io.kestra.plugin.compress.ArchiveCompress
    from:
      data/orders.csv: "{{{{ outputs.write.uri }}}}"
    algorithm: TAR
    compression: GZIP
  - id: upload
    type: io.kestra.plugin.aws.s3.Upload
    bucket: {bucket}
    key: archives/orders.tar.gz
    from: "{{{{ outputs.pack.uri }}}}"
  - id: list
    type: io.kestra.plugin.aws.s3.List
    bucket: {bucket}
    prefix: archives/
  - id: download
    type: io.kestra.plugin.aws.s3.Download
    bucket: {bucket}
    key: "{{{{ outputs.list.objects[0].key }}}}"
  - id: unpack
    type: io.kestra.plugin.compress.ArchiveDecompress
    from: "{{{{ outputs.download.uri }}}}"
    algorithm: TAR
    compression: GZIP
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{{{ read(outputs.unpack.files['data/orders.csv']) }}}}"
"""


def test_s3_and_compress_tasks_through_lanner_run(
    tmp_path: Path,
    env: dict[str, str],  # noqa: F811 (the fixture)
    s3_server: S3Server,
) -> None:
    bucket = s3_server.new_bucket()
    text = FLOW.format(
        endpoint=s3_server.endpoint,
        region=REGION,
        access=ACCESS_KEY,
        secret=SECRET_KEY,
        bucket=bucket,
    )
    final = run_json(write_flow(tmp_path, text), env)
    runs = {r["taskId"]: r for r in final["taskRunList"]}
    assert final["state"]["current"] == "SUCCESS", {
        k: (r["state"]["current"], r.get("outputs")) for k, r in runs.items()
    }
    assert runs["upload"]["outputs"]["key"] == "archives/orders.tar.gz"
    assert [o["key"] for o in runs["list"]["outputs"]["objects"]] == ["archives/orders.tar.gz"]
    assert runs["download"]["outputs"]["uri"].endswith("/orders.tar.gz")
    assert list(runs["unpack"]["outputs"]["files"]) == ["data/orders.csv"]
