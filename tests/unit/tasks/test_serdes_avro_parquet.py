"""IonToAvro / AvroToIon and IonToParquet / ParquetToIon against a real TaskContext and
storage folder; the files written are read back with fastavro and pyarrow themselves,
and files those libraries write are read by the tasks."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from lanner.ion import encode_line, read_values
from lanner.model.states import State
from lanner.model.task import Task
from lanner.storage import LocalStorage, storage_path
from lanner.tasks.serdes import javaparse
from lanner.tasks.serdes.avro import AvroToIon, IonToAvro, run_avro_to_ion, run_ion_to_avro
from lanner.tasks.serdes.parquet import (
    IonToParquet,
    ParquetToIon,
    run_ion_to_parquet,
    run_parquet_to_ion,
)
from tests.support.task_context import LocalTaskContext

SCHEMA = {
    "type": "record",
    "name": "Order",
    "namespace": "com.example",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {
            "name": "price",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 2},
        },
        {"name": "ratio", "type": ["null", "double"], "default": None},
        {"name": "paid", "type": "boolean"},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": ["null", {"type": "map", "values": "long"}], "default": None},
        {
            "name": "kind",
            "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]},
        },
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}

# As CsvToIon gives them: every value is text.
CSV_ROWS: list[dict[str, Any]] = [
    {
        "id": "1",
        "name": "apple",
        "price": "1.5",
        "ratio": "0.25",
        "paid": "yes",
        "day": "2024-01-02",
        "at": "2024-01-02T10:00:00.123456+01:00",
        "local": "2024-01-02T10:00:00.5",
        "tags": ["x", "y"],
        "attrs": {"k": 3},
        "kind": "A",
        "note": "",
    },
    {
        "id": "2",
        "name": "pear",
        "price": "12.345",
        "ratio": "n/a",
        "paid": "0",
        "day": "2024-02-29",
        "at": "1704189600000",
        "local": "2024-02-29T23:59",
        "tags": [],
        "attrs": None,
        "kind": "B",
        "note": "ripe",
    },
]

EXPECTED = [
    {
        "id": 1,
        "name": "apple",
        "price": Decimal("1.50"),
        "ratio": 0.25,
        "paid": True,
        "day": dt.date(2024, 1, 2),
        "at": dt.datetime(2024, 1, 2, 9, 0, 0, 123000, tzinfo=dt.UTC),
        "local": dt.datetime(2024, 1, 2, 10, 0, 0, 500000),
        "tags": ["x", "y"],
        "attrs": {"k": 3},
        "kind": "A",
        "note": None,
    },
    {
        "id": 2,
        "name": "pear",
        "price": Decimal("12.34"),  # HALF_EVEN to the scale, as Kestra's setScale
        "ratio": None,
        "paid": False,
        "day": dt.date(2024, 2, 29),
        "at": dt.datetime(2024, 1, 2, 10, 0, tzinfo=dt.UTC),
        "local": dt.datetime(2024, 2, 29, 23, 59),
        "tags": [],
        "attrs": None,
        "kind": "B",
        "note": "ripe",
    },
]


@pytest.fixture
def ctx(tmp_path: Path) -> LocalTaskContext:
    return LocalTaskContext(storage=LocalStorage(tmp_path / "storage"), task_id="convert")


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "convert", "type": "any", **props})


def ion_file(ctx: LocalTaskContext, tmp_path: Path, rows: list[Any], name: str = "rows.ion") -> str:
    path = tmp_path / name
    path.write_bytes(b"".join(encode_line(r) for r in rows))
    return ctx.put_file(path)


def local(ctx: LocalTaskContext, uri: str) -> Path:
    storage = ctx.storage
    assert isinstance(storage, LocalStorage)
    return Path(storage.root) / storage_path(uri)


def ion_rows(ctx: LocalTaskContext, uri: str) -> list[Any]:
    with ctx.open_file(uri) as f:
        return list(read_values(f))


def avro_file(path: Path) -> tuple[Any, list[Any]]:
    """The writer schema and the records of an Avro file, read by fastavro."""
    with path.open("rb") as f:
        reader = fastavro.reader(f)
        return reader.writer_schema, list(reader)


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    """Timestamps compared as instants, whatever zone object holds them."""
    return {
        k: v.astimezone(dt.UTC) if isinstance(v, dt.datetime) and v.tzinfo else v
        for k, v in row.items()
    }


# --- Avro ----------------------------------------------------------------------------------------


def test_ion_to_avro_writes_what_fastavro_reads_and_back(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    source = ion_file(ctx, tmp_path, CSV_ROWS)
    outcome = run_ion_to_avro(
        make(IonToAvro, **{"from": source, "schema": json.dumps(SCHEMA)}), ctx
    )
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["size"] == 2 and outcome.outputs["uri"].endswith(".avro")
    written, records = avro_file(local(ctx, outcome.outputs["uri"]))
    assert written["name"] == "com.example.Order"
    assert [comparable(r) for r in records] == EXPECTED
    back = run_avro_to_ion(make(AvroToIon, **{"from": outcome.outputs["uri"]}), ctx)
    assert back.state is State.SUCCESS, back.error
    assert back.outputs["size"] == 2
    assert [comparable(r) for r in ion_rows(ctx, back.outputs["uri"])] == EXPECTED


def test_avro_to_ion_reads_a_file_fastavro_wrote(ctx: LocalTaskContext, tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "t", "type": {"type": "int", "logicalType": "time-millis"}},
            {"name": "b", "type": "bytes"},
            {"name": "f", "type": "float"},
            {
                "name": "inner",
                "type": {"type": "record", "name": "I", "fields": [{"name": "x", "type": "int"}]},
            },
        ],
    }
    path = tmp_path / "given.avro"
    with path.open("wb") as f:
        fastavro.writer(
            f,
            fastavro.parse_schema(schema),
            [
                {
                    "u": "00000000-0000-0000-0000-000000000001",
                    "t": dt.time(10, 30, 5, 250000),
                    "b": b"\x00\xff",
                    "f": 1.5,
                    "inner": {"x": 7},
                }
            ],
            codec="deflate",
        )
    outcome = run_avro_to_ion(make(AvroToIon, **{"from": ctx.put_file(path)}), ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    assert ion_rows(ctx, outcome.outputs["uri"]) == [
        {
            "u": "00000000-0000-0000-0000-000000000001",
            "t": "10:30:05.250000",
            "b": b"\x00\xff",
            "f": 1.5,
            "inner": {"x": 7},
        }
    ]


def test_bad_rows_follow_on_bad_lines(ctx: LocalTaskContext, tmp_path: Path) -> None:
    rows = [CSV_ROWS[0], {**CSV_ROWS[1], "id": "two"}, {**CSV_ROWS[1], "paid": "maybe"}]
    source = ion_file(ctx, tmp_path, rows)
    failed = run_ion_to_avro(make(IonToAvro, **{"from": source, "schema": json.dumps(SCHEMA)}), ctx)
    assert failed.state is State.FAILED
    assert "row 2: id: 'two' is not a long" in (failed.error or "")
    warned = run_ion_to_avro(
        make(IonToAvro, **{"from": source, "schema": json.dumps(SCHEMA), "onBadLines": "WARN"}),
        ctx,
    )
    assert warned.state is State.SUCCESS and warned.outputs["size"] == 1
    assert len(ctx.messages("WARN")) == 2 and "paid" in ctx.messages("WARN")[1]


def test_strict_schema_infer_all_fields_and_text_options(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "amount", "type": "double"},
            {"name": "when", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "ok", "type": ["null", "boolean", "string"]},
            {"name": "s", "type": ["string", "null"]},
        ],
    }
    source = ion_file(
        ctx,
        tmp_path,
        [{"amount": "1,5", "when": "02/01/2024 10h00", "ok": "OUI", "s": "NA", "extra": "x"}],
    )
    common: dict[str, Any] = {
        "from": source,
        "schema": json.dumps(schema),
        "decimalSeparator": ",",
        "datetimeFormat": "dd/MM/yyyy HH'h'mm",
        "timeZoneId": "Europe/Paris",
        "trueValues": ["oui"],
    }
    outcome = run_ion_to_avro(make(IonToAvro, **common), ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    [record] = avro_file(local(ctx, outcome.outputs["uri"]))[1]
    # A union takes the first branch that reads the value: "OUI" is in trueValues.
    assert record == {
        "amount": 1.5,
        "when": dt.datetime(2024, 1, 2, 9, 0, tzinfo=dt.UTC),
        "ok": True,
        "s": "NA",
    }
    # inferAllFields reads nullValues/trueValues/falseValues before the field's type.
    inferred = run_ion_to_avro(make(IonToAvro, **common, inferAllFields=True), ctx)
    assert avro_file(local(ctx, inferred.outputs["uri"]))[1][0]["s"] is None
    strict = run_ion_to_avro(make(IonToAvro, **common, strictSchema=True), ctx)
    assert strict.state is State.FAILED and "strictSchema" in (strict.error or "")


def test_a_schema_is_inferred_when_none_is_given(ctx: LocalTaskContext, tmp_path: Path) -> None:
    rows = [
        {"id": 1, "name": "a", "at": dt.datetime(2024, 1, 2, 3, 4, 5), "n": None},
        {"id": 2, "name": "b", "at": dt.datetime(2024, 1, 3), "n": 1.5, "more": {"x": True}},
    ]
    outcome = run_ion_to_avro(make(IonToAvro, **{"from": ion_file(ctx, tmp_path, rows)}), ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    written, records = avro_file(local(ctx, outcome.outputs["uri"]))
    fields = {f["name"]: f["type"] for f in written["fields"]}
    assert fields["id"] == ["null", "int"]
    assert fields["n"] == ["null", "double"]
    assert records[1]["more"] == {"x": True}
    assert records[0]["at"] == dt.datetime(2024, 1, 2, 3, 4, 5)  # local-timestamp-millis
    empty = run_ion_to_avro(make(IonToAvro, **{"from": ion_file(ctx, tmp_path, [], "e.ion")}), ctx)
    assert empty.state is State.FAILED and "empty" in (empty.error or "")


# --- Parquet -------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["GZIP", "SNAPPY", "ZSTD", "UNCOMPRESSED"])
def test_ion_to_parquet_and_back_gives_the_same_rows(
    ctx: LocalTaskContext, tmp_path: Path, codec: str
) -> None:
    source = ion_file(ctx, tmp_path, CSV_ROWS)
    outcome = run_ion_to_parquet(
        make(
            IonToParquet,
            **{"from": source, "schema": json.dumps(SCHEMA), "compressionCodec": codec},
        ),
        ctx,
    )
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["size"] == 2
    path = local(ctx, outcome.outputs["uri"])
    meta = pq.ParquetFile(path)
    assert meta.metadata.row_group(0).column(0).compression == (
        "UNCOMPRESSED" if codec == "UNCOMPRESSED" else codec
    )
    assert json.loads(meta.schema_arrow.metadata[b"parquet.avro.schema"]) == SCHEMA
    table = pq.read_table(path)
    types = {f.name: f.type for f in table.schema}
    assert types["id"] == pa.int64() and types["price"] == pa.decimal128(8, 2)
    assert types["at"] == pa.timestamp("ms", tz="UTC") and types["local"] == pa.timestamp("us")
    assert types["day"] == pa.date32() and types["attrs"] == pa.map_(pa.string(), pa.int64())
    assert not table.schema.field("id").nullable and table.schema.field("ratio").nullable
    direct = table.to_pylist()
    assert direct[0]["attrs"] == [("k", 3)] and direct[1]["price"] == Decimal("12.34")
    back = run_parquet_to_ion(make(ParquetToIon, **{"from": outcome.outputs["uri"]}), ctx)
    assert back.state is State.SUCCESS, back.error
    assert back.outputs["size"] == 2
    assert [comparable(r) for r in ion_rows(ctx, back.outputs["uri"])] == EXPECTED


def test_ion_to_parquet_to_ion_keeps_typed_ion_rows(ctx: LocalTaskContext, tmp_path: Path) -> None:
    """Rows already typed in Ion (a JDBC STORE file) go through Parquet unchanged."""
    rows = [
        {
            "id": i,
            "amount": Decimal(f"{i}.25"),
            "at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i),
            "ok": i % 2 == 0,
            "name": None if i % 3 == 0 else f"n{i}",
        }
        for i in range(10_000)
    ]
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "id", "type": "long"},
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
            },
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
            {"name": "ok", "type": "boolean"},
            {"name": "name", "type": ["null", "string"]},
        ],
    }
    outcome = run_ion_to_parquet(
        make(
            IonToParquet,
            **{
                "from": ion_file(ctx, tmp_path, rows),
                "schema": json.dumps(schema),
                "rowGroupSize": 50_000,
                "parquetVersion": "V1",
            },
        ),
        ctx,
    )
    assert outcome.state is State.SUCCESS, outcome.error
    parquet = pq.ParquetFile(local(ctx, outcome.outputs["uri"]))
    assert parquet.metadata.num_row_groups > 1  # rowGroupSize bounds what is held
    assert parquet.metadata.format_version == "1.0"
    back = run_parquet_to_ion(make(ParquetToIon, **{"from": outcome.outputs["uri"]}), ctx)
    assert [comparable(r) for r in ion_rows(ctx, back.outputs["uri"])] == rows


def test_parquet_to_ion_reads_a_file_pyarrow_wrote(ctx: LocalTaskContext, tmp_path: Path) -> None:
    table = pa.table(
        {
            "n": pa.array([1, None], pa.int16()),
            "ns": pa.array([1_700_000_000_123_456_789, 0], pa.timestamp("ns")),
            "s": pa.array([{"a": 1.5}, None], pa.struct([("a", pa.float64())])),
            "l": pa.array([[1, 2], []], pa.list_(pa.int32())),
            "d": pa.array(["x", "y"]).dictionary_encode(),
        }
    )
    path = tmp_path / "given.parquet"
    pq.write_table(table, path, row_group_size=1)
    outcome = run_parquet_to_ion(make(ParquetToIon, **{"from": ctx.put_file(path)}), ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    assert ion_rows(ctx, outcome.outputs["uri"]) == [
        {
            "n": 1,
            "ns": dt.datetime(2023, 11, 14, 22, 13, 20, 123456),
            "s": {"a": 1.5},
            "l": [1, 2],
            "d": "x",
        },
        {"n": None, "ns": dt.datetime(1970, 1, 1), "s": None, "l": [], "d": "y"},
    ]
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    failed = run_parquet_to_ion(make(ParquetToIon, **{"from": ctx.put_file(bad)}), ctx)
    assert failed.state is State.FAILED and "not a Parquet file" in (failed.error or "")


def test_parquet_memory_stays_bounded(ctx: LocalTaskContext, tmp_path: Path) -> None:
    """Python allocations while converting do not grow with the file (row groups are
    flushed), for a file about 4x larger than the other."""
    schema = json.dumps(
        {
            "type": "record",
            "name": "R",
            "fields": [{"name": "id", "type": "long"}, {"name": "text", "type": "string"}],
        }
    )
    peaks = []
    for count in (20_000, 80_000):
        source = ion_file(
            ctx, tmp_path, [{"id": str(i), "text": "x" * 50} for i in range(count)], f"{count}.ion"
        )
        tracemalloc.start()
        outcome = run_ion_to_parquet(
            make(IonToParquet, **{"from": source, "schema": schema, "rowGroupSize": 1_000_000}),
            ctx,
        )
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert outcome.state is State.SUCCESS, outcome.error
    assert peaks[1] < peaks[0] * 2


# --- validation and helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "props", "message"),
    [
        (IonToAvro, {"schema": "{not json"}, "not JSON"),
        (IonToAvro, {"schema": '{"type": "string"}'}, "record schema"),
        (
            IonToAvro,
            {
                "schema": '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]}'
            },
            "valid Avro",
        ),
        (IonToAvro, {"dateFormat": "yyyy-MM-dd G"}, "not supported here"),
        (IonToAvro, {"numberOfRowsToScan": 0}, "at least 1"),
        (IonToAvro, {"onBadLines": "IGNORE"}, "ERROR, WARN, SKIP"),
        (IonToParquet, {"compressionCodec": "LZO"}, "not supported here"),
        (IonToParquet, {"compressionCodec": "BZIP2"}, "UNCOMPRESSED, SNAPPY, GZIP, ZSTD"),
        (IonToParquet, {"parquetVersion": "V3"}, "V1 or V2"),
        (IonToParquet, {"pageSize": 0}, "at least 1 byte"),
        (
            IonToParquet,
            {
                "schema": '{"type": "record", "name": "R", "fields": [{"name": "a", "type": ["int", "string"]}]}'
            },
            "several non-null types",
        ),
    ],
)
def test_invalid_properties_fail_at_load(
    model: type[Task], props: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        make(model, **{"from": "kestra:///x.ion", **props})


def test_java_patterns_parse_kestra_defaults() -> None:
    parsed = javaparse.parse("2024-01-02T10:30", "yyyy-MM-dd'T'HH:mm[:ss][.SSSSSS][XXX]")
    assert parsed.datetime(dt.UTC) == dt.datetime(2024, 1, 2, 10, 30, tzinfo=dt.UTC)
    full = javaparse.parse("2024-01-02T10:30:05.12+05:30", "yyyy-MM-dd'T'HH:mm[:ss][.SSSSSS][XXX]")
    assert full.datetime(dt.UTC) == dt.datetime(
        2024, 1, 2, 10, 30, 5, 120000, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))
    )
    assert javaparse.parse("02 Mar 2024 3:04 PM", "dd MMM yyyy h:mm a").datetime(dt.UTC) == (
        dt.datetime(2024, 3, 2, 15, 4, tzinfo=dt.UTC)
    )
    with pytest.raises(ValueError, match="does not match"):
        javaparse.parse("2024/01/02", "yyyy-MM-dd[XXX]")


def test_missing_library_is_named(
    ctx: LocalTaskContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "fastavro", None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    source = ion_file(ctx, tmp_path, CSV_ROWS)
    avro = run_ion_to_avro(make(IonToAvro, **{"from": source}), ctx)
    assert avro.state is State.FAILED and "lanner[avro]" in (avro.error or "")
    parquet = run_parquet_to_ion(make(ParquetToIon, **{"from": source}), ctx)
    assert parquet.state is State.FAILED and "lanner[parquet]" in (parquet.error or "")
