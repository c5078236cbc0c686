"""Validation examples of the Avro and Parquet serdes task types, for
tests/unit/model/test_task_validation.py's tables (their behaviour:
tests/unit/tasks/test_serdes_avro_parquet.py)."""

from __future__ import annotations

import json
from typing import Any

SERDES = "io.kestra.plugin.serdes."
FILE = "kestra:///company/team/f/executions/E/tasks/t/TR/rows.ion"
SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Salary",
        "namespace": "com.example.salary",
        "fields": [
            {"name": "job_title", "type": "string"},
            {"name": "avg_salary", "type": "double"},
            {
                "name": "at",
                "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}],
                "default": None,
            },
        ],
    }
)
UNION = json.dumps(
    {"type": "record", "name": "R", "fields": [{"name": "a", "type": ["int", "string"]}]}
)

VALID: dict[str, list[dict[str, Any]]] = {
    SERDES + "avro.IonToAvro": [
        {"from": "{{ outputs.convert.uri }}", "schema": SCHEMA},
        {"from": FILE, "datetimeFormat": "yyyy-MM-dd' 'HH:mm:ss", "schema": SCHEMA},
        {"from": FILE},  # the schema is inferred from the rows
        {
            "from": FILE,
            "schema": "{{ read('schema.avsc') }}",
            "nullValues": ["", "NULL"],
            "trueValues": ["Y"],
            "falseValues": ["N"],
            "decimalSeparator": ",",
            "strictSchema": True,
            "inferAllFields": True,
            "timeZoneId": "Europe/Paris",
            "onBadLines": "WARN",
            "numberOfRowsToScan": 1000,
        },
        {"from": FILE, "schema": UNION},  # Avro holds any union
    ],
    SERDES + "avro.AvroToIon": [{"from": FILE}, {"from": FILE, "onBadLines": "SKIP"}],
    SERDES + "parquet.IonToParquet": [
        {"from": "{{ outputs.avg_salary_by_job_title.uri }}", "schema": SCHEMA},
        {
            "from": FILE,
            "schema": SCHEMA,
            "compressionCodec": "ZSTD",
            "parquetVersion": "V1",
            "rowGroupSize": 67108864,
            "pageSize": 65536,
            "dictionaryPageSize": 65536,
        },
        {"from": FILE, "compressionCodec": "{{ inputs.codec }}"},
    ],
    SERDES + "parquet.ParquetToIon": [{"from": FILE}],
}

INVALID: dict[str, list[tuple[dict[str, Any], str, str]]] = {
    SERDES + "avro.IonToAvro": [
        ({"schema": SCHEMA}, "from", "missing required property 'from'"),
        ({"from": FILE, "schema": "{oops"}, "schema", "not JSON"),
        ({"from": FILE, "schema": '{"type": "array", "items": "int"}'}, "schema", "record schema"),
        ({"from": FILE, "dateFormat": "yyyy-MM-dd G"}, "dateFormat", "not supported here"),
        ({"from": FILE, "decimalSeparator": ",,"}, "decimalSeparator", "single character"),
        ({"from": FILE, "numberOfRowsToScan": 0}, "numberOfRowsToScan", "at least 1"),
    ],
    SERDES + "avro.AvroToIon": [
        ({}, "from", "missing required property 'from'"),
        ({"from": FILE, "onBadLines": "IGNORE"}, "onBadLines", "ERROR, WARN, SKIP"),
    ],
    SERDES + "parquet.IonToParquet": [
        ({"from": FILE, "compressionCodec": "LZO"}, "compressionCodec", "not supported here"),
        ({"from": FILE, "parquetVersion": "V3"}, "parquetVersion", "V1 or V2"),
        # Kestra renamed it parquetVersion: `version` is every task's plugin version.
        ({"from": FILE, "version": "V1"}, "version", "one version of each task"),
        ({"from": FILE, "schema": UNION}, "schema", "several non-null types"),
        ({"from": FILE, "rowGroupSize": 0}, "rowGroupSize", "at least 1 byte"),
    ],
    SERDES + "parquet.ParquetToIon": [
        ({}, "from", "missing required property 'from'"),
        ({"from": FILE, "charset": "UTF-8"}, "charset", ""),
    ],
}
