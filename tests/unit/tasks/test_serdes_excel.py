"""ExcelToIon and IonToExcel against a real TaskContext and storage folder; workbooks
are written and read back with openpyxl itself."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from lanner.ion import read_values
from lanner.model.states import State
from lanner.model.task import Task
from lanner.storage import LocalStorage
from lanner.tasks.serdes.excel import ExcelToIon, IonToExcel, run_excel_to_ion, run_ion_to_excel
from tests.support.task_context import LocalTaskContext


@pytest.fixture
def ctx(tmp_path: Path) -> LocalTaskContext:
    return LocalTaskContext(storage=LocalStorage(tmp_path / "storage"), task_id="convert")


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "convert", "type": "any", **props})


def workbook(ctx: LocalTaskContext, tmp_path: Path) -> str:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Products"
    sheet.append(["name", "price", "added"])
    sheet.append(["apple", 1.5, dt.datetime(2026, 1, 2, 3, 4, 5)])
    sheet.append([None, None, None])
    sheet.append(["pear", 2, dt.datetime(2026, 2, 1)])
    sheet.append(["total", "=SUM(B2:B4)", None])
    other = book.create_sheet("Sales 2026")
    other.append(["a", "b"])
    other.append([1, 2])
    path = tmp_path / "book.xlsx"
    book.save(path)
    return ctx.put_file(path)


def rows(ctx: LocalTaskContext, uri: str) -> list[Any]:
    with ctx.open_file(uri) as f:
        return list(read_values(f))


def test_every_sheet_becomes_ion_rows(ctx: LocalTaskContext, tmp_path: Path) -> None:
    outcome = run_excel_to_ion(make(ExcelToIon, **{"from": workbook(ctx, tmp_path)}), ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    uris = outcome.outputs["uris"]
    assert list(uris) == ["Products", "Sales 2026"]
    products = rows(ctx, uris["Products"])
    assert products[0] == {
        "name": "apple",
        "price": 1.5,
        "added": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    }
    assert products[1] == {"name": None, "price": None, "added": None}
    # openpyxl never computed the formula: its cached value is empty.
    assert products[3] == {"name": "total", "price": None, "added": None}
    assert rows(ctx, uris["Sales 2026"]) == [{"a": 1, "b": 2}]
    assert outcome.outputs["size"] == 5


def test_sheet_choice_skips_formulas_and_serial_dates(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    task = make(
        ExcelToIon,
        **{
            "from": workbook(ctx, tmp_path),
            "sheetsTitle": ["Products"],
            "header": False,
            "skipRows": 1,
            "skipEmptyRows": True,
            "valueRender": "FORMULA",
            "dateTimeRender": "SERIAL_NUMBER",
        },
    )
    outcome = run_excel_to_ion(task, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    assert rows(ctx, outcome.outputs["uris"]["Products"]) == [
        ["apple", 1.5, pytest.approx(46024.128, abs=1e-3)],
        ["pear", 2, 46054.0],
        ["total", "=SUM(B2:B4)"],
    ]


def test_an_unknown_sheet_fails_naming_the_sheets(ctx: LocalTaskContext, tmp_path: Path) -> None:
    task = make(ExcelToIon, **{"from": workbook(ctx, tmp_path), "sheetsTitle": ["Nope"]})
    outcome = run_excel_to_ion(task, ctx)
    assert outcome.state is State.FAILED
    assert outcome.error == "sheetsTitle: no sheet Nope (the workbook has Products, Sales 2026)"


def test_a_file_that_is_not_a_workbook_fails(ctx: LocalTaskContext, tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_text("a,b\n")
    outcome = run_excel_to_ion(make(ExcelToIon, **{"from": ctx.put_file(path)}), ctx)
    assert outcome.state is State.FAILED
    assert outcome.error is not None and outcome.error.startswith("'from' is not an xlsx workbook")


def test_ion_rows_become_sheets_and_read_back(ctx: LocalTaskContext, tmp_path: Path) -> None:
    first = tmp_path / "a.ion"
    first.write_text(
        '{name:"apple",price:1.5,added:2026-01-02T03:04:05Z}\n{name:"pear",price:2,added:null}\n'
    )
    second = tmp_path / "b.ion"
    second.write_text("[1,2,3]\n")
    task = make(
        IonToExcel,
        **{
            "from": {"Fruit": ctx.put_file(first), "Numbers": ctx.put_file(second)},
            "timeZoneId": "Europe/Paris",
        },
    )
    outcome = run_ion_to_excel(task, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    assert outcome.outputs["size"] == 3
    local = tmp_path / "out.xlsx"
    with ctx.open_file(outcome.outputs["uri"]) as f:
        local.write_bytes(f.read())
    book = openpyxl.load_workbook(local)
    assert book.sheetnames == ["Fruit", "Numbers"]
    assert list(book["Fruit"].iter_rows(values_only=True)) == [
        ("name", "price", "added"),
        ("apple", 1.5, dt.datetime(2026, 1, 2, 4, 4, 5)),  # in Paris
        ("pear", 2, None),
    ]
    assert list(book["Numbers"].iter_rows(values_only=True)) == [(1, 2, 3)]


def test_without_styles_dates_are_iso_text(ctx: LocalTaskContext, tmp_path: Path) -> None:
    source = tmp_path / "a.ion"
    source.write_text("{d:2026-01-02T03:04:05Z}\n")
    task = make(
        IonToExcel,
        **{"from": ctx.put_file(source), "sheetsTitle": "Data", "styles": False, "header": False},
    )
    outcome = run_ion_to_excel(task, ctx)
    assert outcome.state is State.SUCCESS, outcome.error
    local = tmp_path / "out.xlsx"
    with ctx.open_file(outcome.outputs["uri"]) as f:
        local.write_bytes(f.read())
    book = openpyxl.load_workbook(local)
    assert list(book["Data"].iter_rows(values_only=True)) == [("2026-01-02T03:04:05+00:00",)]
