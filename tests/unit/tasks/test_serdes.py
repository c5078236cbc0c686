"""CsvToIon, IonToCsv, JsonToIon and IonToJson run against a real TaskContext and a
real storage folder; what CsvToIon writes is checked with amazon-ion, the reference."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from amazon.ion import simpleion
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lanner.ion import dumps_line
from lanner.ion.reference import plain
from lanner.model.states import State
from lanner.model.task import Task
from lanner.plugin import Outcome
from lanner.storage import LocalStorage
from lanner.tasks.serdes.csv_ion import CsvToIon, IonToCsv, run_csv_to_ion, run_ion_to_csv
from lanner.tasks.serdes.json_ion import IonToJson, JsonToIon, run_ion_to_json, run_json_to_ion
from tests.support.task_context import LocalTaskContext


@pytest.fixture
def ctx(tmp_path: Path) -> LocalTaskContext:
    return LocalTaskContext(storage=LocalStorage(tmp_path / "storage"), task_id="convert")


def make(model: type[Task], **props: Any) -> Any:
    return model.model_validate({"id": "convert", "type": "any", **props})


def stored(ctx: LocalTaskContext, tmp_path: Path, content: bytes, name: str = "in.txt") -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return ctx.put_file(path)


def result(ctx: LocalTaskContext, outcome: Outcome) -> bytes:
    assert outcome.state is State.SUCCESS, outcome.error
    uri = outcome.outputs["uri"]
    assert uri.startswith("kestra:///company/team/flow/executions/exec-1/tasks/convert/")
    with ctx.open_file(uri) as f:
        return f.read()


def ion_rows(data: bytes) -> list[Any]:
    return [plain(v) for v in simpleion.loads(data.decode(), single_value=False)]


def csv_to_ion(ctx: LocalTaskContext, tmp_path: Path, csv: str, **props: Any) -> list[Any]:
    uri = stored(ctx, tmp_path, csv.encode(props.pop("encoding", "utf-8")))
    outcome = run_csv_to_ion(make(CsvToIon, **{"from": uri, **props}), ctx)
    return ion_rows(result(ctx, outcome))


def ion_to_csv(ctx: LocalTaskContext, tmp_path: Path, rows: list[Any], **props: Any) -> str:
    text = "".join(dumps_line(r) + "\n" for r in rows)
    uri = stored(ctx, tmp_path, text.encode())
    return result(ctx, run_ion_to_csv(make(IonToCsv, **{"from": uri, **props}), ctx)).decode()


# --- CsvToIon: Kestra's documented shape --------------------------------------------------------


def test_csv_rows_become_structs_of_strings_keyed_by_the_header(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    rows = csv_to_ion(ctx, tmp_path, 'id,name,note\n1,Ada,"x, ""y"""\n2,Bob,\\N\n3,,\n')
    assert rows == [
        {"id": "1", "name": "Ada", "note": 'x, "y"'},
        {"id": "2", "name": "Bob", "note": None},
        {"id": "3", "name": "", "note": ""},
    ]


def test_without_a_header_each_row_is_a_list(ctx: LocalTaskContext, tmp_path: Path) -> None:
    assert csv_to_ion(ctx, tmp_path, "1,a\n2,b,c\n", header=False) == [["1", "a"], ["2", "b", "c"]]


def test_separator_delimiter_charset_and_bom(ctx: LocalTaskContext, tmp_path: Path) -> None:
    rows = csv_to_ion(
        ctx,
        tmp_path,
        "a;b\n'x;y';é\n",
        fieldSeparator=";",
        textDelimiter="'",
        charset="ISO-8859-1",
        encoding="latin-1",
    )
    assert rows == [{"a": "x;y", "b": "é"}]
    assert csv_to_ion(ctx, tmp_path, "\ufeffa,b\n1,2\n") == [{"a": "1", "b": "2"}]


def test_skip_rows_come_before_the_header(ctx: LocalTaskContext, tmp_path: Path) -> None:
    assert csv_to_ion(ctx, tmp_path, "junk\nmore junk\na,b\n1,2\n", skipRows=2) == [
        {"a": "1", "b": "2"}
    ]
    assert csv_to_ion(ctx, tmp_path, "a\n1\n", skipRows=-3) == [{"a": "1"}]


def test_empty_rows(ctx: LocalTaskContext, tmp_path: Path) -> None:
    assert csv_to_ion(ctx, tmp_path, "a\n1\n\n2\n", skipEmptyRows=True) == [{"a": "1"}, {"a": "2"}]
    assert csv_to_ion(ctx, tmp_path, "1\n\n2\n", header=False) == [["1"], [""], ["2"]]


def test_a_row_of_another_width_fails_or_is_skipped_as_on_bad_lines_says(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    uri = stored(ctx, tmp_path, b"a,b\n1,2\n3\n4,5\n")
    failed = run_csv_to_ion(make(CsvToIon, **{"from": uri}), ctx)
    assert failed.state is State.FAILED
    assert "record 3 has 1 fields, the header 2" in (failed.error or "")
    warned = run_csv_to_ion(make(CsvToIon, **{"from": uri, "onBadLines": "WARN"}), ctx)
    assert ion_rows(result(ctx, warned)) == [{"a": "1", "b": "2"}, {"a": "4", "b": "5"}]
    assert any("record 3" in m for m in ctx.messages("WARN"))
    strict = make(
        CsvToIon, **{"from": uri, "onBadLines": "SKIP", "errorOnDifferentFieldCount": True}
    )
    assert run_csv_to_ion(strict, ctx).state is State.FAILED


def test_extra_chars_after_a_closing_quote(ctx: LocalTaskContext, tmp_path: Path) -> None:
    uri = stored(ctx, tmp_path, b'a\n"x"y\n')
    assert run_csv_to_ion(make(CsvToIon, **{"from": uri}), ctx).state is State.FAILED
    lenient = make(CsvToIon, **{"from": uri, "allowExtraCharsAfterClosingQuote": True})
    assert ion_rows(result(ctx, run_csv_to_ion(lenient, ctx))) == [{"a": "xy"}]


def test_empty_trailing_header_names(ctx: LocalTaskContext, tmp_path: Path) -> None:
    assert csv_to_ion(ctx, tmp_path, "a,,\n1,2,3\n") == [{"a": "1"}]
    assert csv_to_ion(ctx, tmp_path, "a,,\n1,2,3\n", onEmptyHeader="RENAME") == [
        {"a": "1", "col_1": "2", "col_2": "3"}
    ]


def test_max_field_size(ctx: LocalTaskContext, tmp_path: Path) -> None:
    rows = csv_to_ion(ctx, tmp_path, "a\nshort\nmuch too long\n", maxFieldSize=5, onBadLines="SKIP")
    assert rows == [{"a": "short"}]


def test_dynamic_properties_are_rendered(tmp_path: Path) -> None:
    ctx = LocalTaskContext(
        {"vars": {"sep": ";", "h": "false"}},
        storage=LocalStorage(tmp_path / "s"),
        task_id="convert",
    )
    rows = csv_to_ion(
        ctx, tmp_path, "1;2\n", fieldSeparator="{{ vars.sep }}", header="{{ vars.h }}"
    )
    assert rows == [["1", "2"]]
    bad = make(CsvToIon, **{"from": stored(ctx, tmp_path, b"x"), "fieldSeparator": "{{ 'ab' }}"})
    failed = run_csv_to_ion(bad, ctx)
    assert failed.state is State.FAILED
    assert failed.error == "'fieldSeparator': expected a single character (got 'ab')"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"fieldSeparator": ";;"}, "single character"),
        ({"charset": "NOPE-8"}, "not a charset name"),
        ({"onBadLines": "IGNORE"}, "ERROR, WARN, SKIP"),
        ({"maxFieldSize": 1 << 30}, "caps fields at 16 MiB"),
        ({"delimiter": ";"}, "Extra inputs"),
        ({}, "from"),
    ],
)
def test_csv_to_ion_validation(props: dict[str, Any], message: str) -> None:
    base = {} if not props else {"from": "kestra:///x"}
    with pytest.raises(ValidationError, match=message):
        make(CsvToIon, **{**base, **props})


def test_from_must_be_a_file_this_execution_may_read(ctx: LocalTaskContext) -> None:
    for uri, message in [
        ("/etc/passwd", "must be a kestra:// URI"),
        ("kestra:///other/ns/flow/executions/e/tasks/t/r/x.csv", "belongs to another flow"),
        ("kestra:///company/team/flow/executions/e/tasks/t/r/x.csv", "no such file"),
    ]:
        failed = run_csv_to_ion(make(CsvToIon, **{"from": uri}), ctx)
        assert failed.state is State.FAILED
        assert message in (failed.error or "")


# --- IonToCsv -----------------------------------------------------------------------------------


def test_structs_become_csv_with_a_header(ctx: LocalTaskContext, tmp_path: Path) -> None:
    rows = [
        {"id": 1, "name": 'A "b", c', "ok": True, "none": None},
        {"id": 2, "name": "x\ny", "ok": False, "none": None},
    ]
    assert ion_to_csv(ctx, tmp_path, rows) == (
        'id,name,ok,none\n1,"A ""b"", c",true,\n2,"x\ny",false,\n'
    )


def test_values_are_written_as_kestra_writes_them(ctx: LocalTaskContext, tmp_path: Path) -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    row = {
        "f": 1.5,
        "big": 1e10,
        "d": Decimal("1.50"),
        "day": dt.date(2024, 3, 1),
        "at": dt.datetime(2024, 3, 1, 12, 30, 5, 123000, tzinfo=paris),
        "naive": dt.datetime(2024, 3, 1, 12, 30),
        "list": [1, "a", None],
        "map": {"k": 1},
    }
    text = ion_to_csv(ctx, tmp_path, [row], header=False)
    assert text == (
        "1.5,1.0E10,1.50,2024-03-01,2024-03-01T11:30:05.123Z,2024-03-01T12:30:00.000Z,"
        '"[1, a, null]",{k=1}\n'
    )
    text = ion_to_csv(
        ctx,
        tmp_path,
        [row],
        header=False,
        timeZoneId="Europe/Paris",
        dateFormat="dd/MM/yyyy",
        dateTimeFormat="yyyy-MM-dd HH:mm",
    )
    assert text.startswith("1.5,1.0E10,1.50,01/03/2024,2024-03-01 12:30,2024-03-01 12:30,")


def test_lists_need_header_false(ctx: LocalTaskContext, tmp_path: Path) -> None:
    assert ion_to_csv(ctx, tmp_path, [["a", 1]], header=False) == "a,1\n"
    uri = stored(ctx, tmp_path, b'["a"]\n')
    failed = run_ion_to_csv(make(IonToCsv, **{"from": uri}), ctx)
    assert failed.state is State.FAILED
    assert "header: false" in (failed.error or "")


def test_quoting_separators_and_line_endings(ctx: LocalTaskContext, tmp_path: Path) -> None:
    rows = [{"a": "x", "b": "12.5", "c": None, "d": 3}]
    assert (
        ion_to_csv(ctx, tmp_path, rows, alwaysDelimitText=True, header=False)
        == '"x","12.5","","3"\n'
    )
    assert ion_to_csv(ctx, tmp_path, rows, quoteMode="NON_NUMERIC", header=False) == '"x",12.5,,3\n'
    assert (
        ion_to_csv(ctx, tmp_path, rows, quoteMode="REQUIRED", alwaysDelimitText=True, header=False)
        == "x,12.5,,3\n"
    )
    assert (
        ion_to_csv(
            ctx, tmp_path, rows, fieldSeparator="\t", lineDelimiter="\r\n", textDelimiter="'"
        )
        == "a\tb\tc\td\r\nx\t12.5\t\t3\r\n"
    )


def test_ion_to_csv_reads_kestra_written_files(ctx: LocalTaskContext, tmp_path: Path) -> None:
    uri = stored(ctx, tmp_path, b'{id:"1",at:2024-01-02T03:04:05Z,n:1.5e0}\n{id:"2",at:null,n:2}\n')
    text = result(ctx, run_ion_to_csv(make(IonToCsv, **{"from": uri}), ctx)).decode()
    assert text == "id,at,n\n1,2024-01-02T03:04:05.000Z,1.5\n2,,2\n"


def test_a_file_that_is_not_ion_fails_naming_the_line(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    uri = stored(ctx, tmp_path, b'{"a":"1"}\n{a:"oops\n')
    failed = run_ion_to_csv(make(IonToCsv, **{"from": uri}), ctx)
    assert failed.state is State.FAILED
    assert "line 2" in (failed.error or "")


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"lineDelimiter": "\n\n"}, "expected one of"),
        ({"quoteMode": "SOMETIMES"}, "ALWAYS, REQUIRED, NON_NUMERIC"),
        ({"timeZoneId": "Mars/Olympus"}, "time zone"),
        ({"dateFormat": "yyyy-bb"}, "date pattern"),
    ],
)
def test_ion_to_csv_validation(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make(IonToCsv, **{"from": "kestra:///x", **props})


def test_csv_round_trip(ctx: LocalTaskContext, tmp_path: Path) -> None:
    original = 'id,text\n1,"a, ""quoted""\nline"\n2,é ü\n'
    uri = stored(ctx, tmp_path, original.encode())
    ion = run_csv_to_ion(make(CsvToIon, **{"from": uri}), ctx)
    assert ion.state is State.SUCCESS
    back = run_ion_to_csv(make(IonToCsv, **{"from": ion.outputs["uri"]}), ctx)
    assert result(ctx, back).decode() == original


def test_chunks_of_rows_keep_each_row_its_place_number_and_bytes(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    """Several chunks of records (and of Ion blocks), with a null, a malformed record
    and one of another width inside them: the same rows, bytes and record numbers
    as a conversion row by row."""
    lines = [f"{i},name {i},text {i}" for i in range(1, 5001)]
    lines[1499] = "1500,\\N,text 1500"
    lines[1999] = '2000,"x"y,text'  # malformed: a character after the closing quote
    lines[2999] = "3000,short"
    uri = stored(ctx, tmp_path, ("id,name,text\n" + "\n".join(lines) + "\n").encode())
    ion = run_csv_to_ion(make(CsvToIon, **{"from": uri, "onBadLines": "WARN"}), ctx)
    kept = [line.split(",") for n, line in enumerate(lines, 1) if n not in (2000, 3000)]
    expected = [dict(zip(["id", "name", "text"], r, strict=True)) for r in kept]
    expected[1499]["name"] = None  # type: ignore[assignment]
    assert result(ctx, ion) == "".join(dumps_line(r) + "\n" for r in expected).encode()
    warnings = ctx.messages("WARN")
    assert any("record 2001 is malformed" in m for m in warnings), warnings  # the header is 1
    assert any("record 3001 has 2 fields, the header 3" in m for m in warnings), warnings

    back = run_ion_to_csv(make(IonToCsv, **{"from": ion.outputs["uri"]}), ctx)
    rows = list(csv.reader(io.StringIO(result(ctx, back).decode(), newline="")))
    assert rows == [["id", "name", "text"]] + [[v or "" for v in r.values()] for r in expected]


def test_ion_blocks_mixing_shapes_read_in_order_and_name_a_bad_line(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    """Blocks of Lanner's rows with a Kestra-shaped line, a number and a bad line among
    them: rows in order, the bad line named by its number in the file."""
    lines = [f'{{"id":"{i}","v":"{"x" * 40}"}}' for i in range(1, 8001)]
    lines[2999] = '{id:"3000",v:"kestra"}'
    lines[4999] = '{"id":"5000","v":5}'
    uri = stored(ctx, tmp_path, ("\n".join(lines) + "\n").encode())
    text = result(ctx, run_ion_to_csv(make(IonToCsv, **{"from": uri}), ctx)).decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 8001
    assert rows[3000] == ["3000", "kestra"] and rows[5000] == ["5000", "5"]
    assert rows[8000] == ["8000", "x" * 40]
    lines[6999] = '{"id":"7000",v:"oops}'
    uri = stored(ctx, tmp_path, ("\n".join(lines)).encode())  # no line break at the end
    failed = run_ion_to_csv(make(IonToCsv, **{"from": uri}), ctx)
    assert failed.state is State.FAILED
    assert "line 7000" in (failed.error or ""), failed.error


# --- JSON ---------------------------------------------------------------------------------------


def test_json_lines_to_ion_and_back(ctx: LocalTaskContext, tmp_path: Path) -> None:
    lines = '{"id":1,"x":1.5,"tags":["a"],"n":null}\n\n{"id":2,"x":2e3,"ok":true}\n'
    uri = stored(ctx, tmp_path, lines.encode())
    ion = run_json_to_ion(make(JsonToIon, **{"from": uri}), ctx)
    rows = ion_rows(result(ctx, ion))
    assert rows == [
        {"id": 1, "x": 1.5, "tags": ["a"], "n": None},
        {"id": 2, "x": 2000.0, "ok": True},
    ]
    assert type(rows[0]["x"]) is float  # Jackson's double, an Ion float
    back = result(ctx, run_ion_to_json(make(IonToJson, **{"from": ion.outputs["uri"]}), ctx))
    assert (
        back.decode() == '{"id":1,"x":1.5,"tags":["a"],"n":null}\n{"id":2,"x":2000.0,"ok":true}\n'
    )


def test_a_json_array_is_read_element_by_element(ctx: LocalTaskContext, tmp_path: Path) -> None:
    many = [{"i": i, "s": "x" * (i % 50)} for i in range(5000)]
    uri = stored(ctx, tmp_path, json.dumps(many, indent=1).encode())
    ion = run_json_to_ion(make(JsonToIon, **{"from": uri, "newLine": False}), ctx)
    assert ion_rows(result(ctx, ion)) == many
    one = stored(ctx, tmp_path, b' {"a": 12345} ')
    assert ion_rows(
        result(ctx, run_json_to_ion(make(JsonToIon, **{"from": one, "newLine": False}), ctx))
    ) == [{"a": 12345}]
    numbers = stored(
        ctx, tmp_path, ("[" + ",".join(str(10**12 + i) for i in range(30000)) + "]").encode()
    )
    got = ion_rows(
        result(ctx, run_json_to_ion(make(JsonToIon, **{"from": numbers, "newLine": False}), ctx))
    )
    assert got == [10**12 + i for i in range(30000)]


def test_ion_to_a_json_array(ctx: LocalTaskContext, tmp_path: Path) -> None:
    uri = stored(ctx, tmp_path, b"{a:1}\n{a:2024-01-02T03:04:05-00:00, d:1.50, b:{{YWI=}}}\n")
    out = result(ctx, run_ion_to_json(make(IonToJson, **{"from": uri, "newLine": False}), ctx))
    assert json.loads(out) == [{"a": 1}, {"a": "2024-01-02T03:04:05Z", "d": 1.5, "b": "YWI="}]
    assert b'"d":1.50' in out


def test_bad_json_fails_naming_the_line(ctx: LocalTaskContext, tmp_path: Path) -> None:
    uri = stored(ctx, tmp_path, b'{"a":1}\n{"a":NaN}\n')
    failed = run_json_to_ion(make(JsonToIon, **{"from": uri}), ctx)
    assert failed.state is State.FAILED
    assert "line 2" in (failed.error or "")


def test_annotations_are_not_kept(ctx: LocalTaskContext) -> None:
    with pytest.raises(ValidationError, match="not supported here"):
        make(IonToJson, **{"from": "kestra:///x", "shouldKeepAnnotations": True})


def test_a_file_in_another_charset_fails_saying_so(ctx: LocalTaskContext, tmp_path: Path) -> None:
    uri = stored(ctx, tmp_path, "a\nété\n".encode("latin-1"))
    failed = run_csv_to_ion(make(CsvToIon, **{"from": uri}), ctx)
    assert failed.state is State.FAILED
    assert "'charset'" in (failed.error or "")


def test_a_killed_conversion_stops_and_stores_nothing(
    ctx: LocalTaskContext, tmp_path: Path
) -> None:
    uri = stored(ctx, tmp_path, b"a\n" + b"x\n" * 10_000)
    ctx.cancel()
    assert run_csv_to_ion(make(CsvToIon, **{"from": uri}), ctx).state is State.KILLED
    ion = stored(ctx, tmp_path, b'{"a":"x"}\n' * 10_000)
    assert run_ion_to_csv(make(IonToCsv, **{"from": ion}), ctx).state is State.KILLED
    lines = stored(ctx, tmp_path, b'{"a":1}\n' * 10_000)
    assert run_json_to_ion(make(JsonToIon, **{"from": lines}), ctx).state is State.KILLED
    assert run_ion_to_json(make(IonToJson, **{"from": ion}), ctx).state is State.KILLED


CELLS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\x00"), max_size=12)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(1, 4).flatmap(
        lambda width: st.tuples(
            st.lists(CELLS.filter(bool), min_size=width, max_size=width, unique=True),
            st.lists(st.lists(CELLS, min_size=width, max_size=width), max_size=6),
        )
    )
)
def test_any_table_survives_csv_to_ion_and_back(
    ctx: LocalTaskContext, tmp_path: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    names, rows = table
    rows = [r for r in rows if r != [""] and "\\N" not in r]  # an empty line; Kestra's null
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([names, *rows])
    uri = stored(ctx, tmp_path, buffer.getvalue().encode())
    ion = run_csv_to_ion(make(CsvToIon, **{"from": uri}), ctx)
    assert ion_rows(result(ctx, ion)) == [dict(zip(names, r, strict=True)) for r in rows]
    back = result(ctx, run_ion_to_csv(make(IonToCsv, **{"from": ion.outputs["uri"]}), ctx))
    parsed = list(csv.reader(io.StringIO(back.decode(), newline="")))
    assert parsed == ([names, *rows] if rows else [])


def test_memory_does_not_grow_with_the_file(ctx: LocalTaskContext, tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "big.csv"
    with path.open("w") as f:
        f.write("id,name,comment\n")
        for i in range(120_000):
            f.write(f'{i},name {i},"a comment, with a comma, number {i}"\n')
    uri = ctx.put_file(path)
    assert path.stat().st_size > 6_000_000
    tracemalloc.start()
    try:
        ion = run_csv_to_ion(make(CsvToIon, **{"from": uri}), ctx)
        back = run_ion_to_csv(make(IonToCsv, **{"from": ion.outputs["uri"]}), ctx)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert back.state is State.SUCCESS
    # About 2 MB of buffers (storage copies, file buffers) for a file of 1, 3 or 10 MB:
    # far less than the file, whatever its size.
    assert peak < 3_000_000, peak
