"""`io.kestra.plugin.serdes.json.JsonToIon` and `IonToJson`: JSON files to Ion rows and back.

JsonToIon reads JSON Lines (a value per line; blank lines are skipped) or, with
``newLine: false``, one JSON document: an array gives a row per element, any
other value one row. Numbers with a fraction or an exponent become Ion floats
(Jackson's doubles), integers Ion integers. IonToJson writes a JSON value per
line, or with ``newLine: false`` one JSON array. Both stream, the array
included: memory stays bounded whatever the size of the file.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import orjson
from pydantic import Field, field_validator

from lanner.expr.dates import zone
from lanner.ion import IonFormatError, encode_line, read_values
from lanner.model.common import DynamicBool, Text
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.serdes import props
from lanner.tasks.serdes.files import CHECK_EVERY, Cancelled, convert, fails_cleanly, source
from lanner.tasks.serdes.javatext import java_double
from lanner.tasks.serdes.props import Charset, SerdesError, ZoneId, render, render_bool

ANNOTATIONS = (
    "'shouldKeepAnnotations' is not supported here: Lanner drops Ion annotations when it"
    " reads a file"
)
_CHUNK = 1 << 16
MAX_VALUE_CHARS = 16 * 1024 * 1024
"""The longest element of a JSON array (newLine: false) Lanner holds at once."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python accepts NaN and Infinity; Jackson does not


_decoder = json.JSONDecoder(parse_constant=_reject_constant)


class JsonToIon(Task):
    """Read a JSON file and write it as Ion rows."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the JSON file.")
    charset: Charset = Field("UTF-8", description="The file's charset.")
    newLine: DynamicBool = Field(
        True, description="Whether the file is JSON Lines (a value per line), else one document."
    )


class IonToJson(Task):
    """Read Ion rows and write them as JSON."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the Ion file.")
    charset: Charset = Field("UTF-8", description="The charset of the JSON file written.")
    newLine: DynamicBool = Field(
        True, description="Whether to write JSON Lines (a value per line), else one JSON array."
    )
    timeZoneId: ZoneId = Field(
        "Etc/UTC", description="The zone of timestamps that carry no offset in the source."
    )
    shouldKeepAnnotations: DynamicBool = Field(
        False, description="Kestra keeps Ion annotations as ion_annotations fields."
    )

    @field_validator("shouldKeepAnnotations")
    @classmethod
    def _no_annotations(cls, value: bool | str) -> bool | str:
        if value is True:
            raise ValueError(ANNOTATIONS)
        return value


# --- JsonToIon ---------------------------------------------------------------------------------


def _lines(text: TextIO, name: str) -> Iterator[Any]:
    for number, line in enumerate(text, 1):
        try:
            yield orjson.loads(line)  # strict JSON, floats as floats: what Jackson reads
            continue
        except orjson.JSONDecodeError:
            if not line.strip():
                continue
        try:
            yield _decoder.decode(line)  # integers past 64 bits, and the error message
        except ValueError as exc:
            raise SerdesError(f"{name}, line {number}: not JSON ({exc})") from None


def _document(text: TextIO, name: str) -> Iterator[Any]:
    """The elements of a top-level array one at a time, else the one value."""
    buffer = text.read(_CHUNK)
    at = _skip_space(buffer, 0)
    if buffer[at : at + 1] != "[":
        rest = buffer + text.read(MAX_VALUE_CHARS)
        if text.read(1):
            raise SerdesError(
                f"{name}: a JSON document other than an array is read whole,"
                f" up to {MAX_VALUE_CHARS} characters"
            )
        try:
            yield _decoder.decode(rest)
        except ValueError as exc:
            raise SerdesError(f"{name}: not JSON ({exc})") from None
        return
    buffer, at, done = buffer[at + 1 :], 0, False
    first = True
    while True:
        at = _skip_space(buffer, at)
        while at == len(buffer) and not done:
            buffer, at, done = _more(text, buffer, at)
            at = _skip_space(buffer, at)
        if buffer[at : at + 1] == "]":
            if buffer[at + 1 :].strip() or text.read(_CHUNK).strip():
                raise SerdesError(f"{name}: text after the closing ']'")
            return
        if not first:
            if buffer[at : at + 1] != ",":
                raise SerdesError(f"{name}: expected ',' or ']' between array elements")
            at = _skip_space(buffer, at + 1)
        first = False
        while True:
            try:
                value, end = _decoder.raw_decode(buffer, at)
            except ValueError as exc:
                if done:
                    raise SerdesError(f"{name}: not JSON ({exc})") from None
                buffer, at, done = _more(text, buffer, at)
                continue
            # A number at the end of the buffer may go on in the next chunk.
            if end == len(buffer) and not done:
                buffer, at, done = _more(text, buffer, at)
                continue
            break
        yield value
        at = end


def _more(text: TextIO, buffer: str, at: int) -> tuple[str, int, bool]:
    chunk = text.read(_CHUNK)
    kept = buffer[at:]
    if len(kept) > MAX_VALUE_CHARS:
        raise SerdesError(f"an array element is longer than {MAX_VALUE_CHARS} characters")
    return kept + chunk, 0, not chunk


def _skip_space(buffer: str, at: int) -> int:
    while at < len(buffer) and buffer[at] in " \t\r\n":
        at += 1
    return at


@fails_cleanly
def run_json_to_ion(task: JsonToIon, ctx: TaskContext) -> Outcome:
    charset = render(ctx, "charset", task.charset, props.check_charset)
    new_line = render_bool(ctx, "newLine", task.newLine)

    def work(target: Path) -> None:
        with (
            source(ctx, task.from_) as raw,
            io.TextIOWrapper(raw, encoding=props.python_charset(charset)) as text,
            target.open("wb") as out,
        ):
            values = _lines(text, task.from_) if new_line else _document(text, task.from_)
            for number, value in enumerate(values, 1):
                if number % CHECK_EVERY == 0 and ctx.cancelled:
                    raise Cancelled
                out.write(encode_line(value))

    return convert(ctx, ".ion", work)


# --- IonToJson ---------------------------------------------------------------------------------

_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_PLAIN = frozenset({str, int, bool, type(None)})


def _json(value: Any, zone_id: str) -> str:
    kind = type(value)
    if kind in _PLAIN:
        return _dump(value)
    if kind is dict:
        if all(type(v) in _PLAIN for v in value.values()):
            try:
                return orjson.dumps(value).decode("utf-8")
            except TypeError:  # an int past 64 bits
                return _dump(value)
        return "{" + ",".join(f"{_dump(k)}:{_json(v, zone_id)}" for k, v in value.items()) + "}"
    if kind is list:
        return "[" + ",".join(_json(v, zone_id) for v in value) + "]"
    if kind is float:
        text = java_double(value)
        return text if value == value and abs(value) != float("inf") else _dump(text)
    if kind is Decimal:
        return str(value)  # BigDecimal.toString, a JSON number
    if kind is dt.datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone(zone_id))
        text = value.isoformat()
        return _dump(text[:-6] + "Z" if text.endswith("+00:00") else text)
    if kind is dt.date:
        return _dump(value.isoformat())
    if kind is bytes:
        return _dump(base64.b64encode(value).decode("ascii"))
    raise SerdesError(f"{kind.__name__} values cannot be written as JSON")


@fails_cleanly
def run_ion_to_json(task: IonToJson, ctx: TaskContext) -> Outcome:
    charset = render(ctx, "charset", task.charset, props.check_charset)
    new_line = render_bool(ctx, "newLine", task.newLine)
    zone_id = render(ctx, "timeZoneId", task.timeZoneId, props.check_zone)
    if render_bool(ctx, "shouldKeepAnnotations", task.shouldKeepAnnotations):
        raise SerdesError(ANNOTATIONS)
    encoding = props.python_charset(charset).replace("-sig", "")

    def work(target: Path) -> None:
        with (
            source(ctx, task.from_) as raw,
            target.open("w", encoding=encoding, newline="\n") as out,
        ):
            write = out.write
            if not new_line:
                write("[")
            try:
                for number, value in enumerate(read_values(raw, source=task.from_), 1):
                    if number % CHECK_EVERY == 0 and ctx.cancelled:
                        raise Cancelled
                    if new_line:
                        write(_json(value, zone_id))
                        write("\n")
                    else:
                        if number > 1:
                            write(",")
                        write(_json(value, zone_id))
            except IonFormatError as exc:
                raise SerdesError(str(exc)) from None
            if not new_line:
                write("]")

    return convert(ctx, ".jsonl" if new_line else ".json", work)


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.serdes.json.JsonToIon",
        model=JsonToIon,
        aliases=("io.kestra.plugin.serdes.json.JsonReader",),
        run=run_json_to_ion,
    ),
    TaskType(
        name="io.kestra.plugin.serdes.json.IonToJson",
        model=IonToJson,
        aliases=("io.kestra.plugin.serdes.json.JsonWriter",),
        run=run_ion_to_json,
    ),
]
