"""`io.kestra.plugin.serdes.avro.IonToAvro` and `AvroToIon` (old names `AvroWriter`,
`AvroReader`): Ion rows to an Avro data file and back, with fastavro (the `avro`
extra: `pip install 'lanner[avro]'`).

Both stream: fastavro writes a block every ~16 kB of rows and reads block by block,
so memory stays bounded whatever the file's size. The row conversion is
:mod:`lanner.tasks.serdes.avrorows` (shared with IonToParquet).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import Field

from lanner.ion import IonFormatError, encode_line, read_values
from lanner.model.common import Text
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.core.log import as_text
from lanner.tasks.serdes import avroprops, avrorows, props
from lanner.tasks.serdes.files import CHECK_EVERY, Cancelled, convert, fails_cleanly, source
from lanner.tasks.serdes.props import OnBadLines, SerdesError, render

_NO_FASTAVRO = (
    "the Avro tasks need fastavro: install Lanner with its avro extra (pip install 'lanner[avro]')"
)


def fastavro_module() -> Any:
    try:
        import fastavro
    except ImportError:
        raise SerdesError(_NO_FASTAVRO) from None
    return fastavro


class IonToAvro(avroprops.AvroConversion):
    """Read Ion rows and write them as an Avro data file."""


class AvroToIon(Task):
    """Read an Avro data file and write its records as Ion rows."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the Avro file.")
    onBadLines: OnBadLines = Field(
        "ERROR",
        description="A record with a null in a field that is not nullable: ERROR fails the"
        " task, WARN logs and skips it, SKIP skips it.",
    )


def converted_rows(
    ctx: TaskContext, uri: str, converter: avrorows.RowConverter, on_bad: str, counter: list[int]
) -> Iterator[dict[str, Any]]:
    """The rows of the Ion file `uri` fitted to the schema; bad rows as onBadLines says.
    counter[0] counts the rows given."""
    with source(ctx, uri) as raw:
        for number, value in enumerate(read_values(raw, source=uri), 1):
            if number % CHECK_EVERY == 0 and ctx.cancelled:
                raise Cancelled
            try:
                row = converter.row(value)
            except avrorows.BadValue as exc:
                avroprops.bad_row(ctx, on_bad, number, exc)
                continue
            counter[0] += 1
            yield row


@fails_cleanly
def run_ion_to_avro(task: IonToAvro, ctx: TaskContext) -> Outcome:
    fastavro = fastavro_module()
    options = avroprops.options(task, ctx)
    on_bad = render(ctx, "onBadLines", task.onBadLines, props.ON_BAD_LINES)
    schema = avroprops.schema(task, ctx, options.infer_all_fields)
    try:
        parsed = fastavro.parse_schema(schema)
    except Exception as exc:
        raise SerdesError(f"'schema' is not a valid Avro schema: {exc}") from None
    try:
        converter = avrorows.RowConverter(schema, options)
    except avrorows.SchemaError as exc:
        raise SerdesError(f"'schema': {exc}") from None
    uri = as_text(ctx.render(task.from_))
    counter = [0]

    def work(target: Path) -> None:
        with target.open("wb") as out:
            try:
                fastavro.writer(out, parsed, converted_rows(ctx, uri, converter, on_bad, counter))
            except IonFormatError as exc:
                raise SerdesError(str(exc)) from None
            except SerdesError:
                raise
            except (ValueError, TypeError) as exc:  # a value fastavro refuses after conversion
                raise SerdesError(f"cannot write the row as Avro: {exc}") from None

    outcome = convert(ctx, ".avro", work)
    if outcome.state is not State.SUCCESS:
        return outcome
    return Outcome(outputs={**outcome.outputs, "size": counter[0]})


def _nullable(schema: Any, named: dict[str, Any]) -> bool:
    if schema == "null":
        return True
    if isinstance(schema, list):
        return any(_nullable(b, named) for b in schema)
    if isinstance(schema, dict) and isinstance(schema.get("type"), list | dict):
        return _nullable(schema["type"], named)
    return False


@fails_cleanly
def run_avro_to_ion(task: AvroToIon, ctx: TaskContext) -> Outcome:
    fastavro = fastavro_module()
    on_bad = render(ctx, "onBadLines", task.onBadLines, props.ON_BAD_LINES)
    uri = as_text(ctx.render(task.from_))
    size = 0

    def work(target: Path) -> None:
        nonlocal size
        with source(ctx, uri) as raw, target.open("wb") as out:
            try:
                reader = fastavro.reader(raw)
            except Exception as exc:  # not an Avro data file
                raise SerdesError(f"'from' is not an Avro data file: {exc}") from None
            fields = (
                reader.writer_schema.get("fields", [])
                if isinstance(reader.writer_schema, dict)
                else []
            )
            required = [f["name"] for f in fields if not _nullable(f.get("type"), {})]
            try:
                for number, record in enumerate(reader, 1):
                    if number % CHECK_EVERY == 0 and ctx.cancelled:
                        raise Cancelled
                    if isinstance(record, dict):
                        missing = [n for n in required if record.get(n) is None]
                        if missing:
                            avroprops.bad_row(
                                ctx,
                                on_bad,
                                number,
                                ValueError(
                                    f"null in the field(s) {', '.join(missing)}, not nullable"
                                ),
                            )
                            continue
                    out.write(encode_line(avrorows.ion_value(record)))
                    size += 1
            except SerdesError:
                raise
            except (ValueError, EOFError, OSError) as exc:  # a truncated or corrupt block
                raise SerdesError(f"cannot read the Avro file: {exc}") from None

    outcome = convert(ctx, ".ion", work)
    if outcome.state is not State.SUCCESS:
        return outcome
    return Outcome(outputs={**outcome.outputs, "size": size})


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.serdes.avro.IonToAvro",
        model=IonToAvro,
        aliases=("io.kestra.plugin.serdes.avro.AvroWriter",),
        run=run_ion_to_avro,
    ),
    TaskType(
        name="io.kestra.plugin.serdes.avro.AvroToIon",
        model=AvroToIon,
        aliases=("io.kestra.plugin.serdes.avro.AvroReader",),
        run=run_avro_to_ion,
    ),
]
