"""`io.kestra.plugin.serdes.excel.ExcelToIon` and `IonToExcel`: xlsx workbooks to Ion rows
and back, with openpyxl (the `excel` extra: `pip install 'lanner[excel]'`).

ExcelToIon writes one Ion file per sheet (`uris`: sheet title -> URI). With
`header` the first row names the fields (a row is a map), else a row is a list.
IonToExcel writes one workbook, one sheet per `from` file. openpyxl reads and
writes sheets row by row (read-only and write-only modes): memory stays bounded.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from lanner.expr.dates import zone
from lanner.ion import IonFormatError, encode_line, read_values
from lanner.model.common import DynamicBool, Text, is_dynamic
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome, TaskContext, TaskType
from lanner.storage.uris import StorageUriError
from lanner.tasks.core.log import as_text
from lanner.tasks.serdes import props
from lanner.tasks.serdes.files import CHECK_EVERY, Cancelled, fails_cleanly, source
from lanner.tasks.serdes.props import SerdesError, ZoneId, render, render_bool

_NO_OPENPYXL = (
    "the Excel tasks need openpyxl: install Lanner with its excel extra"
    " (pip install 'lanner[excel]')"
)
_XLSX_CHARSET = "an xlsx file is a zip of UTF-8 XML: 'charset' can only be UTF-8"
VALUE_RENDERS = ("UNFORMATTED_VALUE", "FORMULA")
DATE_RENDERS = ("UNFORMATTED_VALUE", "SERIAL_NUMBER")
_DEFAULT_FORMATS = {
    "dateFormat": "yyyy-MM-dd",
    "dateTimeFormat": "yyyy-MM-dd'T'HH:mm:ss.SSS[XXX]",
    "timeFormat": "HH:mm:ss[XXX]",
}


def _utf8_only(value: str) -> str:
    if is_dynamic(value) or value.replace("-", "").replace("_", "").upper() == "UTF8":
        return value
    raise ValueError(f"not supported here: {_XLSX_CHARSET}")


def _one_of(value: str, allowed: tuple[str, ...], refused: dict[str, str]) -> str:
    if is_dynamic(value) or value in allowed:
        return value
    if value in refused:
        raise ValueError(f"{value} is not supported here: {refused[value]}")
    raise ValueError(f"expected one of {', '.join(allowed)} (got '{value}')")


class ExcelToIon(Task):
    """Read the sheets of an xlsx workbook and write each as Ion rows."""

    type: str
    from_: Text = Field(alias="from", description="The kestra:// URI of the xlsx file.")
    charset: Text = Field("UTF-8", description="Only UTF-8: an xlsx file is UTF-8 XML.")
    sheetsTitle: list[Text] | None = Field(
        None, description="The sheets to read, by title (default: every sheet)."
    )
    header: DynamicBool = Field(True, description="Whether the first row names the fields.")
    skipEmptyRows: DynamicBool = Field(False, description="Whether to skip rows with no value.")
    skipRows: int = Field(0, ge=0, description="Rows skipped at the top of each sheet.")
    valueRender: Text = Field(
        "UNFORMATTED_VALUE",
        description="UNFORMATTED_VALUE (the cells' values; a formula's last computed"
        " value) or FORMULA (a formula's text).",
    )
    dateTimeRender: Text = Field(
        "UNFORMATTED_VALUE",
        description="UNFORMATTED_VALUE (dates as Ion timestamps) or SERIAL_NUMBER (Excel's"
        " day number).",
    )

    @field_validator("charset")
    @classmethod
    def _charset(cls, value: str) -> str:
        return _utf8_only(value)

    @field_validator("valueRender")
    @classmethod
    def _value_render(cls, value: str) -> str:
        reason = "Lanner does not apply Excel's number formats; use UNFORMATTED_VALUE"
        return _one_of(value, VALUE_RENDERS, {"FORMATTED_VALUE": reason})

    @field_validator("dateTimeRender")
    @classmethod
    def _date_render(cls, value: str) -> str:
        reason = "Lanner does not apply Excel's date formats; use UNFORMATTED_VALUE"
        return _one_of(value, DATE_RENDERS, {"FORMATTED_STRING": reason})


class IonToExcel(Task):
    """Read Ion rows and write them as the sheets of an xlsx workbook."""

    type: str
    from_: Text | dict[str, Text] = Field(
        alias="from",
        description="The kestra:// URI of the Ion file, or a map of sheet title to URI.",
    )
    charset: Text = Field("UTF-8", description="Only UTF-8: an xlsx file is UTF-8 XML.")
    sheetsTitle: Text = Field("Sheet", description="The sheet's title when `from` is one URI.")
    header: DynamicBool = Field(True, description="Whether to write the field names first.")
    styles: DynamicBool = Field(
        True,
        description="Whether dates and timestamps are Excel dates (formatted as dates), else"
        " ISO-8601 text.",
    )
    timeZoneId: ZoneId = Field(
        "Etc/UTC", description="The zone timestamps are shown in (Excel dates have no zone)."
    )
    dateFormat: Text = Field(_DEFAULT_FORMATS["dateFormat"], description="Kestra's default only.")
    dateTimeFormat: Text = Field(
        _DEFAULT_FORMATS["dateTimeFormat"], description="Kestra's default only."
    )
    timeFormat: Text = Field(_DEFAULT_FORMATS["timeFormat"], description="Kestra's default only.")

    @field_validator("charset")
    @classmethod
    def _charset(cls, value: str) -> str:
        return _utf8_only(value)

    @field_validator("dateFormat", "dateTimeFormat", "timeFormat")
    @classmethod
    def _default_formats(cls, value: str) -> str:
        if value in _DEFAULT_FORMATS.values():
            return value
        raise ValueError(
            "not supported here: Lanner writes dates as Excel dates with Excel's own formats"
            " (styles: true) or as ISO-8601 text (styles: false)"
        )


# --- ExcelToIon --------------------------------------------------------------------------------


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError:
        raise SerdesError(_NO_OPENPYXL) from None
    return openpyxl


def _file_name(title: str) -> str:
    """A sheet title as a file name (titles may hold spaces, not / or \\)."""
    kept = "".join(c if c.isalnum() or c in "-_." else "_" for c in title).strip(".")
    return kept or "sheet"


def _cell(value: Any, serial: bool) -> Any:
    if isinstance(value, dt.datetime | dt.date) and serial:
        from openpyxl.utils.datetime import to_excel

        return float(to_excel(value))
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # Excel has no zones: a cell's time is UTC here
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def _sheet_rows(
    sheet: Any, header: bool, skip_rows: int, skip_empty: bool, serial: bool
) -> Iterator[Any]:
    names: list[str] | None = None
    for index, raw in enumerate(sheet.iter_rows(values_only=True)):
        if index < skip_rows:
            continue
        values = [_cell(v, serial) for v in raw]
        while values and values[-1] is None:
            values.pop()  # openpyxl pads rows to the sheet's widest
        if skip_empty and not values:
            continue
        if header and names is None:
            names = [str(v) if v is not None else f"column_{i + 1}" for i, v in enumerate(values)]
            continue
        if names is None:
            yield values
            continue
        row = {name: values[i] if i < len(values) else None for i, name in enumerate(names)}
        for i in range(len(names), len(values)):
            row[f"column_{i + 1}"] = values[i]
        yield row


@fails_cleanly
def run_excel_to_ion(task: ExcelToIon, ctx: TaskContext) -> Outcome:
    render(ctx, "charset", task.charset, _utf8_only)
    header = render_bool(ctx, "header", task.header)
    skip_empty = render_bool(ctx, "skipEmptyRows", task.skipEmptyRows)
    value_render = render(ctx, "valueRender", task.valueRender, props.choice(*VALUE_RENDERS))
    date_render = render(ctx, "dateTimeRender", task.dateTimeRender, props.choice(*DATE_RENDERS))
    wanted = [as_text(ctx.render(t)) for t in task.sheetsTitle] if task.sheetsTitle else None
    openpyxl = _openpyxl()
    uris: dict[str, str] = {}
    size = 0
    with tempfile.TemporaryDirectory(prefix="lanner-excel-") as folder:
        local = Path(folder) / "source.xlsx"
        try:
            with source(ctx, task.from_) as raw, local.open("wb") as copy:
                while chunk := raw.read(1 << 20):
                    copy.write(chunk)
            try:
                book = openpyxl.load_workbook(
                    local, read_only=True, data_only=value_render != "FORMULA"
                )
            except Exception as exc:  # not a zip, not a workbook
                raise SerdesError(f"'from' is not an xlsx workbook: {exc}") from None
            try:
                titles = list(book.sheetnames)
                missing = [t for t in wanted or () if t not in titles]
                if missing:
                    raise SerdesError(
                        f"sheetsTitle: no sheet {', '.join(missing)} (the workbook has"
                        f" {', '.join(titles)})"
                    )
                for title in wanted or titles:
                    target = Path(folder) / f"sheet-{len(uris)}.ion"
                    with target.open("wb") as out:
                        rows = _sheet_rows(
                            book[title],
                            header,
                            task.skipRows,
                            skip_empty,
                            date_render == "SERIAL_NUMBER",
                        )
                        for number, row in enumerate(rows, 1):
                            if number % CHECK_EVERY == 0 and ctx.cancelled:
                                raise Cancelled
                            out.write(encode_line(row))
                            size += 1
                    uris[title] = ctx.put_file(target, f"{_file_name(title)}.ion")
            finally:
                book.close()
        except Cancelled:
            return Outcome(State.KILLED)
        except (SerdesError, StorageUriError) as exc:
            return Outcome(State.FAILED, error=str(exc))
    return Outcome(outputs={"uris": uris, "size": size})


# --- IonToExcel --------------------------------------------------------------------------------


def _excel_value(value: Any, styles: bool, zone_id: str) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone(zone_id))
        local = value.astimezone(zone(zone_id))
        return local.replace(tzinfo=None) if styles else local.isoformat()
    if isinstance(value, dt.date):
        return value if styles else value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, default=str, ensure_ascii=False)
    return value


@fails_cleanly
def run_ion_to_excel(task: IonToExcel, ctx: TaskContext) -> Outcome:
    render(ctx, "charset", task.charset, _utf8_only)
    header = render_bool(ctx, "header", task.header)
    styles = render_bool(ctx, "styles", task.styles)
    zone_id = render(ctx, "timeZoneId", task.timeZoneId, props.check_zone)
    if isinstance(task.from_, dict):
        sheets = {str(k): v for k, v in task.from_.items()}
    else:
        sheets = {as_text(ctx.render(task.sheetsTitle)): task.from_}
    openpyxl = _openpyxl()
    book = openpyxl.Workbook(write_only=True)
    size = 0
    with tempfile.TemporaryDirectory(prefix="lanner-excel-") as folder:
        target = Path(folder) / "result.xlsx"
        try:
            for title, uri in sheets.items():
                sheet = book.create_sheet(title)
                names: list[str] | None = None
                with source(ctx, uri) as raw:
                    for number, value in enumerate(read_values(raw, source=uri), 1):
                        if number % CHECK_EVERY == 0 and ctx.cancelled:
                            raise Cancelled
                        if isinstance(value, dict):
                            if names is None:
                                names = [str(k) for k in value]
                                if header:
                                    sheet.append(names)
                            cells = [value.get(n) for n in names]
                        elif isinstance(value, list):
                            cells = list(value)
                        else:
                            cells = [value]
                        sheet.append([_excel_value(c, styles, zone_id) for c in cells])
                        size += 1
            book.save(target)
        except Cancelled:
            return Outcome(State.KILLED)
        except IonFormatError as exc:
            return Outcome(State.FAILED, error=str(exc))
        except (SerdesError, StorageUriError) as exc:
            return Outcome(State.FAILED, error=str(exc))
        return Outcome(outputs={"uri": ctx.put_file(target), "size": size})


TASK_TYPES: list[TaskType] = [
    TaskType(
        name="io.kestra.plugin.serdes.excel.ExcelToIon", model=ExcelToIon, run=run_excel_to_ion
    ),
    TaskType(
        name="io.kestra.plugin.serdes.excel.IonToExcel", model=IonToExcel, run=run_ion_to_excel
    ),
]
