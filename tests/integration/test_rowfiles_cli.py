"""A query's rows through Parquet and Avro with the real `lanner run`: SQLite STORE ->
IonToParquet -> ParquetToIon -> IonToAvro (schema inferred) -> AvroToIon; the Parquet
and Avro files in the run's storage are read with pyarrow and fastavro themselves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import fastavro
import pyarrow.parquet as pq

from lanner.storage.uris import storage_path
from tests.support.cli import run_json

FLOW = """
id: rows_pipeline
namespace: company.team
tasks:
  - id: query
    type: io.kestra.plugin.jdbc.sqlite.Query
    url: jdbc:sqlite:data.db
    sql: |
      CREATE TABLE t(job_title TEXT, avg_salary REAL, at TEXT);
      INSERT INTO t VALUES ('dev', 100.5, '2024-01-02T10:00:00'), ('ops', 90, NULL);
      SELECT * FROM t ORDER BY job_title;
    fetchType: STORE
  - id: to_parquet
    type: io.kestra.plugin.serdes.parquet.IonToParquet
    from: "{{ outputs.query.uri }}"
    compressionCodec: SNAPPY
    schema: |
      {
        "type": "record",
        "name": "Salary",
        "namespace": "com.example.salary",
        "fields": [
          {"name": "job_title", "type": "string"},
          {"name": "avg_salary", "type": "double"},
          {"name": "at", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]}
        ]
      }
  - id: back
    type: io.kestra.plugin.serdes.parquet.ParquetToIon
    from: "{{ outputs.to_parquet.uri }}"
  - id: to_avro
    type: io.kestra.plugin.serdes.avro.IonToAvro
    from: "{{ outputs.back.uri }}"
  - id: from_avro
    type: io.kestra.plugin.serdes.avro.AvroToIon
    from: "{{ outputs.to_avro.uri }}"
"""


def test_rows_go_through_parquet_and_avro(tmp_path: Path, env: dict[str, str]) -> None:
    home = Path(env["LANNER_HOME"])
    flow = tmp_path / "flow.yml"
    flow.write_text(FLOW)

    execution = run_json(flow, env)

    assert execution["state"]["current"] == "SUCCESS", execution
    outputs = {t["taskId"]: t["outputs"] for t in execution["taskRunList"]}
    assert all(outputs[t]["size"] == 2 for t in ("to_parquet", "back", "to_avro", "from_avro"))
    parquet = home / "storage" / storage_path(outputs["to_parquet"]["uri"])
    assert pq.read_table(parquet).to_pylist() == [
        {
            "job_title": "dev",
            "avg_salary": 100.5,
            "at": dt.datetime(2024, 1, 2, 10, 0, tzinfo=dt.UTC),  # no offset: timeZoneId, UTC
        },
        {"job_title": "ops", "avg_salary": 90.0, "at": None},
    ]
    with (home / "storage" / storage_path(outputs["to_avro"]["uri"])).open("rb") as f:
        reader = fastavro.reader(f)
        schema = reader.writer_schema
        records = list(reader)
    assert isinstance(schema, dict)
    # Inferred as Kestra does: nullable fields, timestamps as local-timestamp-millis.
    assert [f["name"] for f in schema["fields"]] == ["job_title", "avg_salary", "at"]
    assert records[0] == {
        "job_title": "dev",
        "avg_salary": 100.5,
        "at": dt.datetime(2024, 1, 2, 10, 0),
    }
    ion = (home / "storage" / storage_path(outputs["from_avro"]["uri"])).read_text()
    assert ion.splitlines()[0] == (
        '{"job_title":"dev","avg_salary":100.5e0,"at":2024-01-02T10:00:00-00:00}'
    )
