"""`io.kestra.plugin.serdes.parquet.IonToParquet` and `ParquetToIon` (old names
`ParquetWriter`, `ParquetReader`): Ion rows to a Parquet file and back, with pyarrow
(the `parquet` extra: `pip install 'lanner[parquet]'`).

As in Kestra, IonToParquet writes through an Avro schema (given or inferred): rows are
fitted to it by :mod:`lanner.tasks.serdes.avrorows`, the schema is mapped to Arrow
types, and rows are written a row group at a time (at most `rowGroupSize` bytes of
Arrow data, capped at 16 MiB, are held). The Avro schema is stored in the file's
metadata under `parquet.avro.schema`, as parquet-avro does. ParquetToIon reads one
row group at a time, in batches.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from lanner.ion import IonFormatError, encode_line
from lanner.model.common import DynamicInt, Text, is_dynamic
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.log import as_text
from lanner.tasks.serdes import avroprops, avrorows, props
from lanner.tasks.serdes.avro import converted_rows
from lanner.tasks.serdes.files import CHECK_EVERY, Cancelled, convert, fails_cleanly, source
from lanner.tasks.serdes.props import SerdesError, render

_NO_PYARROW = (
    "the Parquet tasks need pyarrow: install Lanner with its parquet extra"
    " (pip install 'lanner[parquet]')"
)
CODECS = {"UNCOMPRESSED": "none", "SNAPPY": "snappy", "GZIP": "gzip", "ZSTD": "zstd"}
_REFUSED_CODECS = {
    "LZO": "pyarrow cannot write LZO",
    "BROTLI": "Kestra's IonToParquet offers UNCOMPRESSED, SNAPPY, GZIP and ZSTD",
    "LZ4": "Kestra's IonToParquet offers UNCOMPRESSED, SNAPPY, GZIP and ZSTD",
    "LZ4_RAW": "Kestra's IonToParquet offers UNCOMPRESSED, SNAPPY, GZIP and ZSTD",
}
# parquet-mr's levels (what Kestra writes): zlib's default 6 (Arrow's own gzip default,
# 9, is ~10x slower for ~0.1% smaller files) and zstd's 3.
LEVELS = {"gzip": 6, "zstd": 3}
VERSIONS = {"V1": ("1.0", "1.0"), "V2": ("2.6", "2.0")}  # (format version, data page version)
ROW_GROUP_CAP = 16 * 1024 * 1024
_BATCH_ROWS = 4096
_READ_BATCH_ROWS = 8192
DEFAULT_ROW_GROUP = 128 * 1024 * 1024  # parquet-mr's DEFAULT_BLOCK_SIZE
DEFAULT_PAGE = 1024 * 1024  # parquet-mr's DEFAULT_PAGE_SIZE


def _codec(value: str) -> str:
    if value in CODECS:
        return value
    if value in _REFUSED_CODECS:
        raise ValueError(f"{value} is not supported here: {_REFUSED_CODECS[value]}")
    raise ValueError(f"expected one of {', '.join(CODECS)} (got '{value}')")


def _version(value: str) -> str:
    if value in VERSIONS:
        return value
    raise ValueError(f"expected V1 or V2 (got '{value}')")


Codec = Annotated[Text, AfterValidator(props.static_check(_codec))]
Version = Annotated[Text, AfterValidator(props.static_check(_version))]


def pyarrow_modules() -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise SerdesError(_NO_PYARROW) from None
    return pyarrow, pyarrow.parquet


# --- Avro schema -> Arrow schema -------------------------------------------------------------


class Unmappable(ValueError):
    """An Avro type with no Parquet column here."""


def parquet_problem(schema: dict[str, Any]) -> str | None:
    """Why an Avro schema cannot be written as Parquet here, or None."""
    try:
        _walk(schema, avrorows.named_types(schema), None)
    except Unmappable as exc:
        return str(exc)
    return None


def _walk(schema: Any, named: dict[str, Any], pa: Any) -> Any:
    """The Arrow type of an Avro type (with pa=None: only checks it), and its nullability."""
    if isinstance(schema, list):
        rest = [b for b in schema if b != "null"]
        if len(rest) != 1:
            raise Unmappable(
                f"the union {json.dumps(schema)} has several non-null types: a Parquet column"
                ' has one type here (use ["null", type])'
            )
        return _walk(rest[0], named, pa)
    if isinstance(schema, str):
        if schema in avrorows.PRIMITIVES:
            return _primitive(schema, pa)
        if schema not in named:
            raise Unmappable(f"the schema names an unknown type '{schema}'")
        schema = named[schema]
    kind = schema.get("type")
    if isinstance(kind, list | dict):
        return _walk(kind, named, pa)
    logical = schema.get("logicalType")
    if logical == "decimal":
        precision, scale = int(schema.get("precision", 0)), int(schema.get("scale", 0))
        if not 1 <= precision <= 76:
            raise Unmappable(f"a decimal of precision {precision}: Arrow's hold 1 to 76 digits")
        if pa is None:
            return None
        return (pa.decimal128 if precision <= 38 else pa.decimal256)(precision, scale)
    if logical in _LOGICAL_ARROW:
        return None if pa is None else _LOGICAL_ARROW[logical](pa)
    if kind in ("record", "error"):
        fields = [
            (f["name"], _walk(f["type"], named, pa), _is_nullable(f["type"]))
            for f in schema.get("fields", [])
        ]
        if not fields:
            raise Unmappable(f"the record {schema.get('name')} has no field: Parquet needs one")
        if pa is None:
            return None
        return pa.struct([pa.field(n, t, nullable=null) for n, t, null in fields])
    if kind == "array":
        item = _walk(schema["items"], named, pa)
        return None if pa is None else pa.list_(item)
    if kind == "map":
        value = _walk(schema["values"], named, pa)
        return None if pa is None else pa.map_(pa.string(), value)
    if kind == "enum":
        return None if pa is None else pa.string()
    if kind == "fixed":
        return None if pa is None else pa.binary(int(schema["size"]))
    if kind in avrorows.PRIMITIVES:
        return _primitive(str(kind), pa)
    raise Unmappable(f"the schema type {kind!r} is not an Avro type")


_LOGICAL_ARROW: dict[str, Any] = {
    "uuid": lambda pa: pa.string(),
    "date": lambda pa: pa.date32(),
    "time-millis": lambda pa: pa.time32("ms"),
    "time-micros": lambda pa: pa.time64("us"),
    "timestamp-millis": lambda pa: pa.timestamp("ms", tz="UTC"),
    "timestamp-micros": lambda pa: pa.timestamp("us", tz="UTC"),
    "local-timestamp-millis": lambda pa: pa.timestamp("ms"),
    "local-timestamp-micros": lambda pa: pa.timestamp("us"),
}


def _primitive(kind: str, pa: Any) -> Any:
    if pa is None:
        return None
    return {
        "null": pa.null,
        "boolean": pa.bool_,
        "int": pa.int32,
        "long": pa.int64,
        "float": pa.float32,
        "double": pa.float64,
        "bytes": pa.binary,
        "string": pa.string,
    }[kind]()


def _is_nullable(schema: Any) -> bool:
    if schema == "null":
        return True
    if isinstance(schema, list):
        return "null" in schema
    if isinstance(schema, dict) and isinstance(schema.get("type"), list):
        return "null" in schema["type"]
    return False


def arrow_schema(schema: dict[str, Any], pa: Any) -> Any:
    named = avrorows.named_types(schema)
    fields = [
        pa.field(f["name"], _walk(f["type"], named, pa), nullable=_is_nullable(f["type"]))
        for f in schema.get("fields", [])
    ]
    metadata = {"parquet.avro.schema": json.dumps(schema), "writer.model.name": "avro"}
    return pa.schema(fields, metadata=metadata)


def _arrow_value(value: Any) -> Any:
    """Values as pyarrow builds them: maps as (key, value) pairs."""
    if isinstance(value, dict):
        return {k: _arrow_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_arrow_value(v) for v in value]
    return value


# --- IonToParquet -----------------------------------------------------------------------------


class IonToParquet(avroprops.AvroConversion):
    """Read Ion rows and write them as a Parquet file."""

    compressionCodec: Codec = Field("GZIP", description="UNCOMPRESSED, SNAPPY, GZIP or ZSTD.")
    parquetVersion: Version = Field("V2", description="The Parquet format version, V1 or V2.")
    rowGroupSize: DynamicInt = Field(
        DEFAULT_ROW_GROUP,
        description="Target row group size in bytes (Lanner holds at most 16 MiB of rows).",
    )
    pageSize: DynamicInt = Field(DEFAULT_PAGE, description="Target data page size in bytes.")
    dictionaryPageSize: DynamicInt = Field(
        DEFAULT_PAGE, description="Largest dictionary page, in bytes."
    )

    @field_validator("rowGroupSize", "pageSize", "dictionaryPageSize")
    @classmethod
    def _positive_size(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("must be at least 1 byte")
        return value

    @field_validator("schema_")
    @classmethod
    def _as_parquet(cls, value: str | None) -> str | None:
        if value is None or is_dynamic(value):
            return value
        problem = parquet_problem(avrorows.parse_schema(value))
        if problem:
            raise ValueError(f"not supported here: {problem}")
        return value


def _size(ctx: TaskContext, name: str, value: int | str) -> int:
    number = props.render_int(ctx, name, value)
    if number < 1:
        raise SerdesError(f"'{name}': must be at least 1 byte")
    return number


@fails_cleanly
def run_ion_to_parquet(task: IonToParquet, ctx: TaskContext) -> Outcome:
    pa, pq = pyarrow_modules()
    options = avroprops.options(task, ctx)
    on_bad = render(ctx, "onBadLines", task.onBadLines, props.ON_BAD_LINES)
    codec = CODECS[render(ctx, "compressionCodec", task.compressionCodec, _codec)]
    version, page_version = VERSIONS[render(ctx, "parquetVersion", task.parquetVersion, _version)]
    row_group = min(_size(ctx, "rowGroupSize", task.rowGroupSize), ROW_GROUP_CAP)
    page = _size(ctx, "pageSize", task.pageSize)
    dictionary_page = _size(ctx, "dictionaryPageSize", task.dictionaryPageSize)
    schema = avroprops.schema(task, ctx, options.infer_all_fields)
    problem = parquet_problem(schema)
    if problem:
        raise SerdesError(f"the schema cannot be written as Parquet here: {problem}")
    target_schema = arrow_schema(schema, pa)
    try:
        converter = avrorows.RowConverter(schema, options)
    except avrorows.SchemaError as exc:
        raise SerdesError(f"'schema': {exc}") from None
    uri = as_text(ctx.render(task.from_))
    counter = [0]

    def work(target: Path) -> None:
        writer = pq.ParquetWriter(
            str(target),
            target_schema,
            compression=codec,
            compression_level=LEVELS.get(codec),
            version=version,
            data_page_version=page_version,
            data_page_size=page,
            dictionary_pagesize_limit=dictionary_page,
        )
        try:
            batches: list[Any] = []
            held = 0
            rows: list[dict[str, Any]] = []

            def flush_batch() -> None:
                nonlocal held
                try:
                    batch = pa.RecordBatch.from_pylist(rows, schema=target_schema)
                except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
                    raise SerdesError(f"cannot write the rows as Parquet: {exc}") from None
                rows.clear()
                batches.append(batch)
                held += batch.nbytes

            def flush_group() -> None:
                nonlocal held
                if batches:
                    writer.write_table(pa.Table.from_batches(batches, schema=target_schema))
                    batches.clear()
                    held = 0

            try:
                for row in converted_rows(ctx, uri, converter, on_bad, counter):
                    rows.append(_arrow_value(row))
                    if len(rows) >= _BATCH_ROWS:
                        flush_batch()
                        if held >= row_group:
                            flush_group()
            except IonFormatError as exc:
                raise SerdesError(str(exc)) from None
            if rows:
                flush_batch()
            flush_group()
        finally:
            writer.close()

    outcome = convert(ctx, ".parquet", work)
    if outcome.state is not State.SUCCESS:
        return outcome
    return Outcome(outputs={**outcome.outputs, "size": counter[0]})


# --- ParquetToIon -----------------------------------------------------------------------------


class ParquetToIon(Task):
    """Read a Parquet file and write its rows as Ion."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the Parquet file.")


def _readable(pa: Any, batch: Any) -> Any:
    """Nanosecond timestamps as microseconds (Python's datetime holds no nanoseconds)."""
    columns = []
    changed = False
    for column in batch.columns:
        kind = column.type
        if pa.types.is_timestamp(kind) and kind.unit == "ns":
            column = column.cast(pa.timestamp("us", tz=kind.tz), safe=False)
            changed = True
        elif pa.types.is_time64(kind) and kind.unit == "ns":
            column = column.cast(pa.time64("us"), safe=False)
            changed = True
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names) if changed else batch


@fails_cleanly
def run_parquet_to_ion(task: ParquetToIon, ctx: TaskContext) -> Outcome:
    pa, pq = pyarrow_modules()
    uri = as_text(ctx.render(task.from_))
    size = 0

    def work(target: Path) -> None:
        nonlocal size
        local = target.with_suffix(".parquet")
        with source(ctx, uri) as raw, local.open("wb") as copy:
            while chunk := raw.read(1 << 20):
                copy.write(chunk)
        try:
            parquet = pq.ParquetFile(str(local))
        except (pa.ArrowException, OSError) as exc:
            raise SerdesError(f"'from' is not a Parquet file: {exc}") from None
        try:
            with target.open("wb") as out:
                for batch in parquet.iter_batches(batch_size=_READ_BATCH_ROWS):
                    if ctx.cancelled:
                        raise Cancelled
                    for row in _readable(pa, batch).to_pylist():
                        out.write(encode_line(avrorows.ion_value(row)))
                        size += 1
                        if size % CHECK_EVERY == 0 and ctx.cancelled:
                            raise Cancelled
        except (pa.ArrowException, OSError) as exc:
            raise SerdesError(f"cannot read the Parquet file: {exc}") from None
        finally:
            parquet.close()
            local.unlink(missing_ok=True)

    outcome = convert(ctx, ".ion", work)
    if outcome.state is not State.SUCCESS:
        return outcome
    return Outcome(outputs={**outcome.outputs, "size": size})


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.serdes.parquet.IonToParquet",
        model=IonToParquet,
        aliases=("io.kestra.plugin.serdes.parquet.ParquetWriter",),
        run=run_ion_to_parquet,
    ),
    TaskType(
        name="io.kestra.plugin.serdes.parquet.ParquetToIon",
        model=ParquetToIon,
        aliases=("io.kestra.plugin.serdes.parquet.ParquetReader",),
        run=run_parquet_to_ion,
    ),
]
