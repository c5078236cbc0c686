"""Lanner's Ion codec against amazon-ion, the reference: what Lanner writes,
amazon-ion reads as the same values; what amazon-ion writes (a value per line, as
Kestra's files are), Lanner reads as the same values."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from amazon.ion import simpleion
from hypothesis import given, settings
from hypothesis import strategies as st

from lanner.ion import IonFormatError, dumps_line, read_values, write_values
from lanner.ion.reference import plain

# Ion has no lone surrogates (they are not Unicode scalar values).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
NAMES = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True), TEXT.filter(bool))
OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)
DATETIMES = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=OFFSETS
)
# amazon-ion reads decimals in a 34-digit context (IEEE decimal128): longer ones it rounds.
DECIMALS = st.decimals(allow_nan=False, allow_infinity=False).filter(
    lambda d: len(d.as_tuple().digits) <= 34
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    DECIMALS,
    TEXT,
    DATETIMES,
    st.dates(min_value=dt.date(1, 1, 1)),
    st.binary(max_size=20),
)
FLAT_ROWS = st.dictionaries(NAMES, SCALARS, max_size=8)
STRING_ROWS = st.dictionaries(NAMES, st.one_of(st.none(), TEXT), max_size=8)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=12,
)


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types (1 == 1.0 == True is not enough), offsets included."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return bool(b != b)
    if isinstance(a, Decimal):
        return bool(a.as_tuple() == b.as_tuple())
    if isinstance(a, dt.datetime):
        return bool(a == b and a.utcoffset() == b.utcoffset())
    return bool(a == b)


def lanner_reads(text: str) -> list[Any]:
    return list(read_values(io.BytesIO(text.encode("utf-8"))))


def amazon_reads(text: str) -> list[Any]:
    return [plain(v) for v in simpleion.loads(text, single_value=False)]


@settings(max_examples=400)
@given(st.lists(FLAT_ROWS, max_size=5))
def test_flat_rows_written_by_lanner_read_the_same_in_amazon_ion(
    rows: list[dict[str, Any]],
) -> None:
    out = io.BytesIO()
    assert write_values(out, rows) == len(rows)
    got = amazon_reads(out.getvalue().decode())
    assert len(got) == len(rows)
    for want, have in zip(rows, got, strict=True):
        assert same(want, have), (want, have, out.getvalue())
    assert same(lanner_reads(out.getvalue().decode()), rows)


@settings(max_examples=300)
@given(VALUES)
def test_any_value_written_by_lanner_reads_the_same_in_amazon_ion_and_lanner(value: Any) -> None:
    line = dumps_line(value)
    assert "\n" not in line
    (by_amazon,) = amazon_reads(line)
    (by_lanner,) = lanner_reads(line + "\n")
    assert same(value, by_amazon), (value, by_amazon, line)
    assert same(value, by_lanner), (value, by_lanner, line)


def _amazon_line(value: Any) -> str:
    text = simpleion.dumps(value, binary=False, omit_version_marker=True)
    assert isinstance(text, str)
    return text


# amazon-ion cannot write dates or bytes given as plain Python; the rest it writes.
AMAZON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    DECIMALS,
    TEXT,
    DATETIMES,
)
AMAZON_VALUES = st.recursive(
    AMAZON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(st.lists(st.dictionaries(NAMES, AMAZON_VALUES, max_size=6), max_size=5))
def test_rows_written_by_amazon_ion_one_per_line_read_the_same_in_lanner(
    rows: list[dict[str, Any]],
) -> None:
    text = "".join(_amazon_line(row) + "\n" for row in rows)
    assert same(amazon_reads(text), lanner_reads(text)), text


def _quoted_symbol(name: str) -> str:
    escaped = json.dumps(name, ensure_ascii=False)[1:-1]  # JSON escapes are Ion escapes
    return "'" + escaped.replace("'", "\\'") + "'"


@settings(max_examples=200)
@given(st.lists(STRING_ROWS, max_size=5))
def test_kestra_shaped_rows_take_the_fast_path_and_read_the_same(
    rows: list[dict[str, Any]],
) -> None:
    # Kestra writes bare field names where it can: {a:"1",b:null}.
    lines = []
    for row in rows:
        fields = []
        for k, v in row.items():
            bare = k.isidentifier() and k.isascii() and k not in ("null", "true", "false", "nan")
            name = k if bare else _quoted_symbol(k)
            fields.append(f"{name}:{dumps_line(v)}")
        lines.append("{" + ",".join(fields) + "}\n")
    text = "".join(lines)
    assert same(amazon_reads(text), lanner_reads(text)), text


def test_ion_only_notations_go_to_amazon_ion() -> None:
    text = (
        "$ion_1_0\n"
        "{a:sym, 'b c':ann::\"x\", d:2020-01-02T, e:2020-01-02T03:04Z, f:1.5, g:1d3, h:nan}\n"
        "// a comment\n"
        "{\n  a: 1,\n  /* spread over lines */ b: '''long''' '''string'''\n}\n"
        '["x", null.string, (1 2)]\n'
    )
    rows = lanner_reads(text)
    assert same(rows, amazon_reads(text))
    assert rows[0]["d"] == dt.date(2020, 1, 2)
    assert rows[0]["f"] == Decimal("1.5")
    assert rows[1] == {"a": 1, "b": "longstring"}
    assert rows[2] == ["x", None, [1, 2]]


@pytest.mark.parametrize(
    "line",
    [
        '{"a":NaN}',  # JSON extension, an Ion symbol
        '{"a":Infinity}',
        "{null:1}",
    ],
)
def test_json_extensions_are_not_taken_for_ion_numbers(line: str) -> None:
    try:
        by_amazon = amazon_reads(line)
    except Exception:
        with pytest.raises(IonFormatError):
            lanner_reads(line)
        return
    assert same(lanner_reads(line), by_amazon)


def test_a_broken_file_names_the_line() -> None:
    with pytest.raises(IonFormatError, match="line 2"):
        lanner_reads('{"a":1}\n{a:"unterminated\n')


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("NaN"), "finite"),
        (dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(seconds=30))), "whole minutes"),
        (object(), "no Ion representation"),
    ],
)
def test_values_ion_cannot_hold_are_refused(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dumps_line({"a": value})


def test_floats_keep_their_type_and_special_values() -> None:
    line = dumps_line([1.0, float("inf"), float("-inf"), float("nan"), 1e300])
    values = lanner_reads(line)[0]
    assert values[:3] == [1.0, float("inf"), float("-inf")]
    assert values[3] != values[3]
    assert all(type(v) is float for v in values)


def test_a_file_without_line_breaks_is_not_read_whole() -> None:
    def read(text: str) -> list[Any]:
        return list(read_values(io.BytesIO(text.encode()), max_chars=1000))

    with pytest.raises(IonFormatError, match="line 1: longer than 1000 bytes"):
        read('{"a":"' + "x" * 5000 + '"}')
    assert read('{"a":"' + "x" * 900 + '"}\n') == [{"a": "x" * 900}]
    with pytest.raises(IonFormatError, match="line 1: not Ion text"):
        read("{\n" + '  a: "xxxxxxxxxx",\n' * 100)  # a value spread over lines, unbounded


@pytest.mark.parametrize("row", [{"$0": 1, "a": "x"}, {"$12": {"$3": 2}}, {"$7": "s"}])
def test_a_field_named_like_a_symbol_id_reads_as_its_text_in_amazon_ion(row: Any) -> None:
    # amazon-ion reads a string field name "$0" as symbol id zero: Lanner quotes it.
    text = dumps_line(row)
    assert amazon_reads(text) == [row]
    assert lanner_reads(text + "\n") == [row]
