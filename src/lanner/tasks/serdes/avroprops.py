"""The properties IonToAvro and IonToParquet share (Kestra's AbstractAvroConverter), and
the schema each run uses: the `schema` property, or one inferred from the rows."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from lanner.ion import IonFormatError, read_values
from lanner.model.common import DynamicBool, DynamicInt, Text, is_dynamic
from lanner.model.task import Task
from lanner.plugin import TaskContext
from lanner.tasks.core.log import as_text
from lanner.tasks.serdes import avrorows, javaparse, props
from lanner.tasks.serdes.files import source
from lanner.tasks.serdes.props import OnBadLines, SerdesError, ZoneId, render, render_bool


def _check_pattern(value: str) -> str:
    try:
        javaparse.compile_pattern(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return value


def _check_schema(value: str) -> str:
    try:
        avrorows.parse_schema(value)
    except avrorows.SchemaError as exc:
        raise ValueError(str(exc)) from None
    return value


JavaPattern = Annotated[Text, AfterValidator(props.static_check(_check_pattern))]
AvroSchema = Annotated[Text, AfterValidator(props.static_check(_check_schema))]
TextList = list[Text] | Text


class AvroConversion(Task):
    """Properties of the tasks that write rows through an Avro schema."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the Ion file.")
    schema_: AvroSchema | None = Field(
        None,
        alias="schema",
        description="The Avro schema (JSON) of the rows; inferred from the first"
        " numberOfRowsToScan rows when absent.",
    )
    numberOfRowsToScan: DynamicInt = Field(
        100, description="Rows read to infer a schema (only without `schema`)."
    )
    trueValues: TextList = Field(
        default_factory=lambda: list(avrorows.DEFAULT_TRUE),
        description="Texts read as true (case ignored).",
    )
    falseValues: TextList = Field(
        default_factory=lambda: list(avrorows.DEFAULT_FALSE),
        description="Texts read as false (case ignored).",
    )
    nullValues: TextList = Field(
        default_factory=lambda: list(avrorows.DEFAULT_NULL),
        description="Texts read as null (case ignored).",
    )
    dateFormat: JavaPattern = Field("yyyy-MM-dd[XXX]", description="Java pattern of dates.")
    timeFormat: JavaPattern = Field(
        "HH:mm[:ss][.SSSSSS][XXX]", description="Java pattern of times."
    )
    datetimeFormat: JavaPattern = Field(
        "yyyy-MM-dd'T'HH:mm[:ss][.SSSSSS][XXX]", description="Java pattern of timestamps."
    )
    decimalSeparator: props.Char = Field(".", description="The decimal point of numbers in text.")
    strictSchema: DynamicBool = Field(
        False, description="Whether a row with more fields than the schema is a bad row."
    )
    inferAllFields: DynamicBool = Field(
        False,
        description="Read every text field with nullValues/trueValues/falseValues first;"
        " without a schema, infer it from every row.",
    )
    timeZoneId: ZoneId = Field(
        "Etc/UTC", description="The zone of dates and times that carry none."
    )
    onBadLines: OnBadLines = Field(
        "ERROR",
        description="A row that does not fit the schema: ERROR fails the task, WARN logs"
        " and skips it, SKIP skips it.",
    )

    @field_validator("numberOfRowsToScan")
    @classmethod
    def _positive(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("must be at least 1")
        return value


def _texts(ctx: TaskContext, name: str, value: Any) -> frozenset[str]:
    rendered = ctx.render(value)
    if isinstance(rendered, str):
        try:
            rendered = json.loads(rendered)
        except ValueError:
            raise SerdesError(f"'{name}': expected a list of texts") from None
    if not isinstance(rendered, list):
        raise SerdesError(f"'{name}': expected a list of texts")
    return avrorows.lower_set("" if v is None else as_text(v) for v in rendered)


def options(task: AvroConversion, ctx: TaskContext) -> avrorows.Options:
    from lanner.expr.dates import zone

    return avrorows.Options(
        true_values=_texts(ctx, "trueValues", task.trueValues),
        false_values=_texts(ctx, "falseValues", task.falseValues),
        null_values=_texts(ctx, "nullValues", task.nullValues),
        date_format=render(ctx, "dateFormat", task.dateFormat, _check_pattern),
        time_format=render(ctx, "timeFormat", task.timeFormat, _check_pattern),
        datetime_format=render(ctx, "datetimeFormat", task.datetimeFormat, _check_pattern),
        decimal_separator=render(ctx, "decimalSeparator", task.decimalSeparator, props.check_char),
        strict_schema=render_bool(ctx, "strictSchema", task.strictSchema),
        infer_all_fields=render_bool(ctx, "inferAllFields", task.inferAllFields),
        zone=zone(render(ctx, "timeZoneId", task.timeZoneId, props.check_zone)),
    )


def schema(task: AvroConversion, ctx: TaskContext, infer_all: bool) -> dict[str, Any]:
    """The `schema` property rendered and checked, or a schema inferred from the first
    numberOfRowsToScan rows of `from` (every row with inferAllFields)."""
    if task.schema_ is not None:
        text = as_text(ctx.render(task.schema_)) if is_dynamic(task.schema_) else task.schema_
        try:
            return avrorows.parse_schema(text)
        except avrorows.SchemaError as exc:
            raise SerdesError(str(exc)) from None
    limit = (
        None if infer_all else props.render_int(ctx, "numberOfRowsToScan", task.numberOfRowsToScan)
    )
    if limit is not None and limit < 1:
        raise SerdesError("'numberOfRowsToScan': must be at least 1")
    with source(ctx, task.from_) as raw:
        rows = read_values(raw, source=as_text(ctx.render(task.from_)))

        def first() -> Any:
            for number, row in enumerate(rows, 1):
                yield row
                if limit is not None and number >= limit:
                    return

        try:
            return avrorows.infer_schema(first())
        except (avrorows.SchemaError, IonFormatError) as exc:
            raise SerdesError(str(exc)) from None


def bad_row(ctx: TaskContext, on_bad: str, number: int, exc: Exception) -> None:
    """onBadLines for a row that does not fit the schema."""
    message = f"row {number}: {exc}"
    if on_bad == "ERROR":
        raise SerdesError(f"{message} (onBadLines: WARN or SKIP skips such rows)")
    if on_bad == "WARN":
        ctx.log("WARN", f"Bad row skipped: {message}")
