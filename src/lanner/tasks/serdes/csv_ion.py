"""`io.kestra.plugin.serdes.csv.CsvToIon` and `IonToCsv`: CSV files to Ion rows and back.

CsvToIon writes one Ion struct per CSV record, keyed by the header, with every
value a string (``\\N`` is null), or one list of strings per record when
``header: false``. IonToCsv writes a header from the first struct's field names,
then each row's values in the row's own order (as Kestra does), each as the text
of its value (Java's ``toString``; dates through the task's patterns).
Both stream, a chunk of rows at a time (`CHUNK` records, or the Ion reader's
blocks), whatever the size of the file.
"""

from __future__ import annotations

import csv
import io
import itertools
import operator
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, Field, field_validator

from lanner.ion import IonFormatError, encode_line, encode_text_row, read_batches
from lanner.model.common import DynamicBool, DynamicInt, Text
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.tasks.serdes import props
from lanner.tasks.serdes.files import CHECK_EVERY, Cancelled, convert, fails_cleanly, source
from lanner.tasks.serdes.javatext import Formats
from lanner.tasks.serdes.props import (
    Char,
    Charset,
    DatePattern,
    OnBadLines,
    SerdesError,
    ZoneId,
    render,
    render_bool,
    render_int,
)

MAX_FIELD = 16 * 1024 * 1024
"""Kestra's default maxFieldSize and maxBufferSize, and Lanner's ceiling for both."""
LIMITS = "maxFieldSize or maxBufferSize"
CHUNK = 1024
"""Records converted at once: enough to leave little per-record Python work, few
enough to keep memory small (a few hundred KB)."""

# Python's csv module has one process-wide field limit: Lanner's ceiling. It also
# bounds what an unclosed quote can make the reader hold.
csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD))

ON_EMPTY_HEADER = props.choice("DROP", "RENAME")
QUOTE_MODES = props.choice("ALWAYS", "REQUIRED", "NON_NUMERIC")
LINE_DELIMITERS = props.choice("\n", "\r\n", "\r")
EmptyHeader = Annotated[Text, AfterValidator(props.static_check(ON_EMPTY_HEADER))]
QuoteMode = Annotated[Text, AfterValidator(props.static_check(QUOTE_MODES))]
LineDelimiter = Annotated[Text, AfterValidator(props.static_check(LINE_DELIMITERS))]


class CsvToIon(Task):
    """Read a CSV file and write its records as Ion rows."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the CSV file.")
    charset: Charset = Field(
        "UTF-8", description="The file's charset (a leading UTF-8 BOM is dropped)."
    )
    fieldSeparator: Char = Field(",", description="The field separator character.")
    textDelimiter: Char = Field('"', description="The text delimiter (quote) character.")
    header: DynamicBool = Field(True, description="Whether the first record is the header.")
    skipEmptyRows: DynamicBool = Field(False, description="Whether empty lines are skipped.")
    skipRows: DynamicInt = Field(
        0, description="Records skipped at the start of the file, before the header."
    )
    onBadLines: OnBadLines = Field(
        "ERROR",
        description="A malformed record or one whose field count is not the header's:"
        " ERROR fails the task, WARN logs and skips it, SKIP skips it.",
    )
    errorOnDifferentFieldCount: DynamicBool | None = Field(
        None,
        description="Deprecated: true fails the task on a record whose field count is not"
        " the header's, whatever onBadLines says.",
    )
    allowExtraCharsAfterClosingQuote: DynamicBool = Field(
        False, description="Whether characters after a closing quote are kept instead of refused."
    )
    maxFieldSize: DynamicInt = Field(MAX_FIELD, description="The longest field, in characters.")
    maxBufferSize: DynamicInt = Field(MAX_FIELD, description="The longest record, in characters.")
    onEmptyHeader: EmptyHeader = Field(
        "DROP",
        description="Trailing header columns with no name: DROP leaves them out,"
        " RENAME names them col_<index>.",
    )

    @field_validator("maxFieldSize", "maxBufferSize")
    @classmethod
    def _at_most_ceiling(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= MAX_FIELD:
            raise ValueError(
                f"expected 1 to {MAX_FIELD}: Lanner's CSV reader caps fields at 16 MiB"
            )
        return value


class IonToCsv(Task):
    """Read Ion rows and write them as a CSV file."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the Ion file.")
    charset: Charset = Field("UTF-8", description="The charset of the CSV file written.")
    fieldSeparator: Char = Field(",", description="The field separator character.")
    textDelimiter: Char = Field('"', description="The text delimiter (quote) character.")
    header: DynamicBool = Field(
        True, description="Whether to write a header line (the first row's field names)."
    )
    lineDelimiter: LineDelimiter = Field("\n", description="The line ending: \\n, \\r\\n or \\r.")
    alwaysDelimitText: DynamicBool = Field(
        False, description="Deprecated for quoteMode: true quotes every field."
    )
    quoteMode: QuoteMode | None = Field(
        None,
        description="When fields are quoted: ALWAYS, REQUIRED (only when needed) or"
        " NON_NUMERIC (all but numbers); overrides alwaysDelimitText.",
    )
    dateFormat: DatePattern = Field("yyyy-MM-dd", description="The pattern of dates.")
    timeFormat: DatePattern = Field("HH:mm:ss[XXX]", description="The pattern of times.")
    dateTimeFormat: DatePattern = Field(
        "yyyy-MM-dd'T'HH:mm:ss.SSS[XXX]", description="The pattern of timestamps."
    )
    timeZoneId: ZoneId = Field(
        "Etc/UTC",
        description="The zone timestamps are written in; a timestamp with no offset is"
        " taken to be in it.",
    )


# --- CsvToIon ----------------------------------------------------------------------------------


def _bad(ctx: TaskContext, on_bad: str, message: str) -> None:
    if on_bad == "ERROR":
        raise SerdesError(f"Bad line: {message} (onBadLines: WARN or SKIP skips such lines)")
    if on_bad == "WARN":
        ctx.log("WARN", f"Bad line encountered (skipped): {message}")


def _header(names: list[str], on_empty: str) -> list[str]:
    end = len(names)
    while end and not names[end - 1]:
        end -= 1
    if on_empty == "DROP":
        return names[:end]
    return names[:end] + [f"col_{i}" for i in range(end, len(names))]


@fails_cleanly
def run_csv_to_ion(task: CsvToIon, ctx: TaskContext) -> Outcome:
    charset = render(ctx, "charset", task.charset, props.check_charset)
    separator = render(ctx, "fieldSeparator", task.fieldSeparator, props.check_char)
    quote = render(ctx, "textDelimiter", task.textDelimiter, props.check_char)
    header = render_bool(ctx, "header", task.header)
    skip_empty = render_bool(ctx, "skipEmptyRows", task.skipEmptyRows)
    skip_rows = max(render_int(ctx, "skipRows", task.skipRows), 0)
    on_bad = render(ctx, "onBadLines", task.onBadLines, props.ON_BAD_LINES)
    strict_count = task.errorOnDifferentFieldCount is not None and render_bool(
        ctx, "errorOnDifferentFieldCount", task.errorOnDifferentFieldCount
    )
    extra_chars = render_bool(
        ctx, "allowExtraCharsAfterClosingQuote", task.allowExtraCharsAfterClosingQuote
    )
    max_field = _size(ctx, "maxFieldSize", task.maxFieldSize)
    max_record = _size(ctx, "maxBufferSize", task.maxBufferSize)
    on_empty = render(ctx, "onEmptyHeader", task.onEmptyHeader, ON_EMPTY_HEADER)
    if separator == quote:
        raise SerdesError("'fieldSeparator' and 'textDelimiter' must differ")
    limited = max_field < MAX_FIELD or max_record < MAX_FIELD

    def work(target: Path) -> None:
        with (
            source(ctx, task.from_) as raw,
            io.TextIOWrapper(raw, encoding=props.python_charset(charset), newline="") as text,
            target.open("wb") as out,
        ):
            reader = csv.reader(text, delimiter=separator, quotechar=quote, strict=not extra_chars)
            write = out.write
            names: list[str] = []
            width = 0
            number = 0
            # Once the header is read, a chunk of records all of its width with no \N
            # is written in one go (`_text_rows`).
            fast = False

            def one(record: list[str]) -> None:
                nonlocal number, width, names, fast
                number += 1
                if not record:
                    if skip_empty:
                        return
                    record = [""]  # an empty line is a record of one empty field
                if number <= skip_rows:
                    return
                if limited and _too_long(record, max_field, max_record):
                    _bad(ctx, on_bad, f"record {number} is longer than {LIMITS}")
                    return
                if header and not width:
                    width = len(record)
                    names = _header(record, on_empty)
                    # A name like $1 needs Ion's quoted symbol: such headers go row by row.
                    fast = not limited and bool(names) and not any(n[:1] == "$" for n in names)
                    return
                row: Sequence[str | None] = record
                if "\\N" in record:
                    row = [None if v == "\\N" else v for v in record]
                if not header:
                    write(encode_line(row))
                elif len(record) == width:
                    write(encode_text_row(dict(zip(names, row, strict=False))))
                else:
                    message = f"record {number} has {len(record)} fields, the header {width}"
                    if strict_count:
                        raise SerdesError(f"Bad line: {message}")
                    _bad(ctx, on_bad, message)

            while True:
                chunk: list[list[str]] = []
                error: csv.Error | None = None
                try:
                    # extend keeps the records read before a malformed one.
                    chunk.extend(itertools.islice(reader, CHUNK))
                except csv.Error as exc:  # the reader goes on with the next line
                    error = exc
                if not chunk and error is None:
                    return
                if fast and _uniform(chunk, width):
                    write(_text_rows(names, chunk))
                    number += len(chunk)
                else:
                    for record in chunk:
                        one(record)
                if ctx.cancelled:
                    raise Cancelled
                if error is not None:
                    number += 1
                    _bad(ctx, on_bad, f"record {number} is malformed: {error}")

    return convert(ctx, ".ion", work)


def _uniform(chunk: list[list[str]], width: int) -> bool:
    """Whether every record has the header's width and no \\N (null) field; in C."""
    return set(map(len, chunk)) == {width} and not any(
        map(operator.contains, chunk, itertools.repeat("\\N"))
    )


def _text_rows(names: list[str], chunk: list[list[str]]) -> bytes:
    """The Ion lines of records of strings, keyed by `names` (not empty, none starting
    with $): the bytes `encode_text_row` writes for each, from one orjson call.

    orjson writes the rows as a JSON list, `[{"a":"1"},{"a":"2"}]`; `},{"` can only
    stand between two rows, since a `"` inside a string is written `\\"` and the
    values are strings or nulls, never structs."""
    rows = list(map(dict, map(zip, itertools.repeat(names), chunk)))
    return orjson.dumps(rows)[1:-1].replace(b'},{"', b'}\n{"') + b"\n"


def _too_long(record: list[str], max_field: int, max_record: int) -> bool:
    return max(map(len, record)) > max_field or sum(map(len, record)) > max_record


def _size(ctx: TaskContext, name: str, value: int | str) -> int:
    size = render_int(ctx, name, value)
    if size > MAX_FIELD or size < 1:
        raise SerdesError(f"'{name}': expected 1 to {MAX_FIELD} (got {size})")
    return size


# --- IonToCsv ----------------------------------------------------------------------------------


_TEXT_TYPES = frozenset({str, type(None)})


class _Numeric(str):
    """A field csv.QUOTE_NONNUMERIC leaves unquoted: it asks the number protocol."""

    __slots__ = ()

    def __float__(self) -> float:
        return float(str.__str__(self))


def _is_numeric(text: str) -> bool:
    # Kestra's NON_NUMERIC rule: an optional sign, digits, at most one point.
    body = text[1:] if text[:1] in "+-" else text
    if not body:
        return False
    whole, _, fraction = body.partition(".")
    return (whole + fraction).isdigit() and (whole + fraction).isascii() and "." not in fraction


@fails_cleanly
def run_ion_to_csv(task: IonToCsv, ctx: TaskContext) -> Outcome:
    charset = render(ctx, "charset", task.charset, props.check_charset)
    separator = render(ctx, "fieldSeparator", task.fieldSeparator, props.check_char)
    quote = render(ctx, "textDelimiter", task.textDelimiter, props.check_char)
    header = render_bool(ctx, "header", task.header)
    line_end = render(ctx, "lineDelimiter", task.lineDelimiter, LINE_DELIMITERS)
    mode = (
        render(ctx, "quoteMode", task.quoteMode, QUOTE_MODES)
        if task.quoteMode is not None
        else (
            "ALWAYS"
            if render_bool(ctx, "alwaysDelimitText", task.alwaysDelimitText)
            else "REQUIRED"
        )
    )
    formats = Formats(
        date=render(ctx, "dateFormat", task.dateFormat, props.check_date_pattern),
        time=render(ctx, "timeFormat", task.timeFormat, props.check_date_pattern),
        date_time=render(ctx, "dateTimeFormat", task.dateTimeFormat, props.check_date_pattern),
        zone_id=render(ctx, "timeZoneId", task.timeZoneId, props.check_zone),
    )
    if separator == quote:
        raise SerdesError("'fieldSeparator' and 'textDelimiter' must differ")
    quoting: Literal[0, 1, 2] = 1 if mode == "ALWAYS" else 2 if mode == "NON_NUMERIC" else 0
    assert quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC)
    text_of = formats.text

    def fields(values: Any) -> Any:
        if quoting != csv.QUOTE_NONNUMERIC and _TEXT_TYPES.issuperset(map(type, values)):
            return values  # strings and nulls: csv writes them as they are
        out = [v if type(v) is str else text_of(v) for v in values]
        if quoting == csv.QUOTE_NONNUMERIC:
            # Numbers and nulls (an empty field, as Kestra writes them) go unquoted.
            out = [_Numeric(v or "") if v is None or _is_numeric(v) else v for v in out]
        return out

    def work(target: Path) -> None:
        with (
            source(ctx, task.from_) as raw,
            target.open(
                "w", encoding=props.python_charset(charset).replace("-sig", ""), newline=""
            ) as out,
        ):
            # The writer fills a buffer, written to the file once a batch: one encoding
            # and one write call per batch instead of per row.
            buffer = io.StringIO()
            writer = csv.writer(
                buffer,
                delimiter=separator,
                quotechar=quote,
                lineterminator=line_end,
                quoting=quoting,
            )
            first = True
            ignored = 0
            number = 0
            as_is = quoting != csv.QUOTE_NONNUMERIC
            try:
                for batch in read_batches(raw, source=task.from_):
                    # The short way for most batches: structs of strings and nulls after
                    # the header, written by one writerows.
                    if (
                        as_is
                        and not first
                        and set(map(type, batch)) == {dict}
                        and _TEXT_TYPES.issuperset(
                            map(type, itertools.chain.from_iterable(map(dict.values, batch)))
                        )
                    ):
                        writer.writerows(map(dict.values, batch))
                        number += len(batch)
                        _drain(buffer, out)
                        if ctx.cancelled:
                            raise Cancelled
                        continue
                    for row in batch:
                        number += 1
                        if number % CHECK_EVERY == 0 and ctx.cancelled:
                            raise Cancelled
                        if type(row) is dict:
                            if first and header:
                                writer.writerow(fields(row.keys()))
                            first = False
                            writer.writerow(fields(row.values()))
                        elif type(row) is list:
                            if header:
                                raise SerdesError(
                                    f"row {number} is a list, which has no field names for a"
                                    " header: set 'header: false' to write lists"
                                )
                            writer.writerow(fields(row))
                        else:
                            ignored += 1
                    _drain(buffer, out)
            except IonFormatError as exc:
                raise SerdesError(str(exc)) from None
            if ignored:
                # Kestra skips them silently; say it.
                ctx.log(
                    "WARN", f"{ignored} values were neither structs nor lists and were not written"
                )

    return convert(ctx, ".csv", work)


def _drain(buffer: io.StringIO, out: IO[str]) -> None:
    out.write(buffer.getvalue())
    buffer.seek(0)
    buffer.truncate()


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.serdes.csv.CsvToIon",
        model=CsvToIon,
        aliases=("io.kestra.plugin.serdes.csv.CsvReader",),
        run=run_csv_to_ion,
    ),
    TaskType(
        name="io.kestra.plugin.serdes.csv.IonToCsv",
        model=IonToCsv,
        aliases=("io.kestra.plugin.serdes.csv.CsvWriter",),
        run=run_ion_to_csv,
    ),
]
