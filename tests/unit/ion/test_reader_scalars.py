"""lanner.ion's reader takes Ion timestamps and `d` decimals in JSON-shaped lines itself
(a query's STORE file is made of them): the values must be amazon-ion's, and anything
it does not take must still reach amazon-ion."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lanner.ion import IonFormatError, encode_line, read_values
from lanner.ion.reference import load_text

LINES = [
    '{"a":2024-01-01T00:00:01-00:00,"b":2024-01-01T00:00:01.5+05:30,"c":2024-01-02T}',
    '{"d":150d-2,"e":1D+3,"f":-0d0,"s":"2024-01-01T00:00Z 1d2","n":-3,"x":1.5e0}',
    "{a:2024-01-01T10:00Z, b:[2024-02-29, 2024-02-29T23:59:59.999999-12:00]}",
    "[2024-01-01T00:00:01Z, 5d-1]",
    "2024-01-01T00:00:01Z",
    # Not taken here (longer fraction, annotation, symbol, year precision): amazon-ion.
    '{"a":2024-01-01T00:00:01.1234567Z}',
    '{"a":ts::2024-01-01T}',
    "{a:abc2024}",
    "{a:2024T}",
    '{"a":"-0.0e-999999 text"}',
]


@pytest.mark.parametrize("line", LINES)
def test_lines_read_as_amazon_ion_reads_them(line: str) -> None:
    [value] = list(read_values(io.BytesIO(line.encode() + b"\n")))
    assert value == load_text(line)[0]
    assert repr(value) == repr(load_text(line)[0]) or isinstance(value, dict | list)


def test_a_date_that_does_not_exist_is_an_error() -> None:
    with pytest.raises(IonFormatError, match="line 1"):
        list(read_values(io.BytesIO(b'{"a":2023-02-30T}\n')))


@given(
    st.lists(
        st.one_of(
            st.datetimes(
                min_value=dt.datetime(1, 1, 1),
                timezones=st.sampled_from([None, dt.UTC]),
            ),
            st.dates(),
            st.decimals(allow_nan=False, allow_infinity=False, places=None),
            st.text(max_size=20),
            st.integers(),
        ),
        max_size=6,
    )
)
def test_written_rows_read_back_equal(values: list[object]) -> None:
    row = {f"c{i}": v for i, v in enumerate(values)}
    line = encode_line(row)
    [back] = list(read_values(io.BytesIO(line)))
    assert back == row
    assert back == load_text(line.decode())[0]
    assert [type(v) for v in back.values()] == [type(v) for v in row.values()]
    for got, want in zip(back.values(), row.values(), strict=True):
        if isinstance(want, Decimal):
            assert got.as_tuple() == want.as_tuple()
