"""The JDBC tasks' pure parts: URLs, SQL splitting and named parameters, value shapes."""

from __future__ import annotations

import datetime as dt
import io
import math
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from amazon.ion import simpleion

from lanner.ion import read_values
from lanner.tasks.jdbc.sqltext import ParameterError, bind_named, split_statements
from lanner.tasks.jdbc.urls import JdbcUrl, JdbcUrlError, parse_jdbc_url
from lanner.tasks.jdbc.values import (
    ion_value,
    output_value,
    parse_zone,
    store_rows,
    write_ion_rows,
)


@pytest.mark.parametrize(
    ("url", "kind", "expected"),
    [
        (
            "jdbc:postgresql://127.0.0.1:5432/db?sslmode=disable",
            "postgresql",
            JdbcUrl("postgresql", "127.0.0.1", 5432, "db", params={"sslmode": "disable"}),
        ),
        ("jdbc:postgresql://db.local/", "postgresql", JdbcUrl("postgresql", "db.local")),
        ("jdbc:postgresql:shop", "postgresql", JdbcUrl("postgresql", "localhost", None, "shop")),
        ("jdbc:mysql://[::1]:3307/x", "mysql", JdbcUrl("mysql", "::1", 3307, "x")),
        (
            "jdbc:mariadb://h:3306/x?user=u;password=p",
            "mariadb",
            JdbcUrl("mariadb", "h", 3306, "x", params={"user": "u", "password": "p"}),
        ),
        ("jdbc:sqlite::memory:", "sqlite", JdbcUrl("sqlite")),
        ("jdbc:sqlite:", "sqlite", JdbcUrl("sqlite")),
        ("jdbc:sqlite:/tmp/a.db", "sqlite", JdbcUrl("sqlite", path="/tmp/a.db")),
        ("jdbc:sqlite:myfile.db", "sqlite", JdbcUrl("sqlite", path="myfile.db")),
        ("jdbc:duckdb:", "duckdb", JdbcUrl("duckdb")),
        (
            "jdbc:duckdb:/d/x.duckdb?access_mode=READ_ONLY",
            "duckdb",
            JdbcUrl("duckdb", path="/d/x.duckdb", params={"access_mode": "READ_ONLY"}),
        ),
    ],
)
def test_urls_are_read_as_written(url: str, kind: str, expected: JdbcUrl) -> None:
    assert parse_jdbc_url(url, kind) == expected


@pytest.mark.parametrize(
    ("url", "kind", "message"),
    [
        ("postgresql://h/db", "postgresql", "is not a postgresql JDBC URL"),
        ("jdbc:mysql://h/db", "postgresql", "is not a postgresql JDBC URL"),
        ("jdbc:postgresql://h:99999/db", "postgresql", "is not a port number"),
        ("jdbc:postgresql://h:abc/db", "postgresql", "is not a port number"),
        ("jdbc:postgresql://a,b/db", "postgresql", "several hosts"),
        ("jdbc:mysql://u@h/db", "mysql", "username"),
        ("jdbc:duckdb:md:my_db", "duckdb", "MotherDuck"),
        ("jdbc:mysql:db", "mysql", "no //host"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, kind: str, message: str) -> None:
    with pytest.raises(JdbcUrlError, match=message):
        parse_jdbc_url(url, kind)


def test_split_keeps_semicolons_inside_quotes_comments_and_dollar_bodies() -> None:
    sql = """
    INSERT INTO t VALUES ('a;b'); -- a comment; still one
    SELECT "x;y" FROM t /* ; */;
    CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
    -- trailing comment only
    """
    assert split_statements(sql) == [
        "INSERT INTO t VALUES ('a;b')",
        '-- a comment; still one\n    SELECT "x;y" FROM t /* ; */',
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
    ]


def test_split_with_backslash_escapes_mysql() -> None:
    assert split_statements(r"SELECT 'it\'s;'; SELECT 2 # x;y", backslash_escapes=True) == [
        r"SELECT 'it\'s;'",
        "SELECT 2 # x;y",
    ]


def test_named_parameters_become_placeholders_in_order() -> None:
    sql, values = bind_named(
        "SELECT :a, ':a', x::int, :b, '50%' FROM t WHERE y = :a",
        {"a": 1, "b": "two"},
        placeholder="%s",
        escape_percent=True,
    )
    assert sql == "SELECT %s, ':a', x::int, %s, '50%%' FROM t WHERE y = %s"
    assert values == [1, "two", 1]


def test_a_missing_parameter_is_named() -> None:
    with pytest.raises(ParameterError, match=r":missing.*given: a"):
        bind_named("SELECT :missing", {"a": 1}, placeholder="?", escape_percent=False)


def test_output_values_are_json_shaped() -> None:
    paris = ZoneInfo("Europe/Paris")
    row = {
        "d": dt.date(2024, 1, 2),
        "t": dt.time(10, 30, 5),
        "ts": dt.datetime(2024, 1, 2, 10, 0, 0, 123000),
        "tz": dt.datetime(2024, 1, 2, 10, 0, tzinfo=dt.UTC),
        "dec": Decimal("1.50"),
        "big": Decimal("12"),
        "b": b"\xaa\xbb",
        "u": uuid.UUID(int=1),
        "j": {"k": [1, Decimal("2.5")]},
        "iv": dt.timedelta(hours=1, minutes=30),
    }
    assert {k: output_value(v, paris) for k, v in row.items()} == {
        "d": "2024-01-02",
        "t": "10:30:05",
        "ts": "2024-01-02T10:00:00.123000",
        "tz": "2024-01-02T11:00:00+01:00",
        "dec": 1.5,
        "big": 12,
        "b": "qrs=",
        "u": "00000000-0000-0000-0000-000000000001",
        "j": {"k": [1, 2.5]},
        "iv": "PT1H30M",
    }


def test_ion_rows_keep_exact_types() -> None:
    """Every value type the drivers give, written with lanner.ion's writer, reads back
    the same with lanner.ion's reader and with amazon-ion (what Kestra's reader does)."""
    paris = ZoneInfo("Europe/Paris")
    row = {
        "d": dt.date(2024, 1, 2),
        "t": dt.time(10, 30, 5),
        "ts": dt.datetime(2024, 1, 2, 10, 0, 0, 123000),
        "tz": dt.datetime(2024, 1, 2, 10, 0, tzinfo=dt.UTC),
        "dec": Decimal("1.50"),
        "nan": Decimal("NaN"),
        "f": 0.25,
        "big": 2**70,
        "b": b"\xaa\xbb",
        "mv": memoryview(b"\x01"),
        "u": uuid.UUID(int=1),
        "j": {"k": [1, Decimal("2.5"), None, True]},
        "iv": dt.timedelta(hours=1, minutes=30),
        "s": 'é\n"x"',
        "n": None,
    }
    out = io.BytesIO()
    rows = [{k: ion_value(v, paris) for k, v in row.items()}, {"a": 1, "b": "x"}]
    assert write_ion_rows(rows, out) == 2
    expected = {
        "d": dt.date(2024, 1, 2),
        "t": "10:30:05",
        "ts": dt.datetime(2024, 1, 2, 10, 0, 0, 123000),
        "tz": dt.datetime(2024, 1, 2, 11, 0, tzinfo=paris),
        "dec": Decimal("1.50"),
        "f": 0.25,
        "big": 2**70,
        "b": b"\xaa\xbb",
        "mv": b"\x01",
        "u": "00000000-0000-0000-0000-000000000001",
        "j": {"k": [1, Decimal("2.5"), None, True]},
        "iv": "PT1H30M",
        "s": 'é\n"x"',
        "n": None,
    }
    first, second = read_values(io.BytesIO(out.getvalue()))
    assert math.isnan(first.pop("nan"))
    assert first == expected
    assert str(first["dec"]) == "1.50"  # the scale is kept
    assert second == {"a": 1, "b": "x"}
    # amazon-ion reads the same values (timestamps as its datetime subclass).
    kestra_first, kestra_second = simpleion.loads(out.getvalue().decode(), single_value=False)
    assert kestra_first["dec"] == Decimal("1.50") and kestra_first["big"] == 2**70
    assert kestra_first["d"].date() == dt.date(2024, 1, 2)
    assert kestra_first["tz"] == expected["tz"]
    assert kestra_first["ts"].replace(tzinfo=None) == expected["ts"]
    assert bytes(kestra_first["b"]) == b"\xaa\xbb" and kestra_first["s"] == expected["s"]
    assert math.isnan(kestra_first["nan"]) and kestra_first["f"] == 0.25
    assert kestra_first["j"]["k"][:2] == [1, Decimal("2.5")]
    assert kestra_first["n"].ion_type.name == "NULL"
    assert dict(kestra_second) == {"a": 1, "b": "x"}


@pytest.mark.parametrize("zone", [ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Kolkata"), None])
def test_store_rows_writes_what_the_value_by_value_path_writes(zone: ZoneInfo | None) -> None:
    """STORE's fast path (one orjson call a row) gives the bytes of ion_value + the writer,
    for each kind of value alone in a row, all together, and rows it hands to the slow path."""
    values = [
        dt.date(2024, 1, 2),
        dt.time(10, 30, 5),
        dt.datetime(2024, 1, 2, 10, 0, 0, 123000),
        dt.datetime(2024, 1, 2, 10, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 7, 2, 23, 59, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
        Decimal("1.50"),
        Decimal("-0"),
        Decimal("1E+3"),
        Decimal("12345678901234567890.000001"),
        Decimal("NaN"),
        Decimal("-Infinity"),
        0.25,
        2**70,
        -(2**63),
        b"\xaa\xbb",
        bytearray(b"\x00"),
        memoryview(b"\x01"),
        uuid.UUID(int=1),
        [1, Decimal("2.5")],
        {"k": None},
        dt.timedelta(hours=1, minutes=30),
        'é\n"x"\u2028',
        True,
        None,
    ]
    rows = [(v,) for v in values] + [tuple(values)]
    columns = [[f"c{i}" for i in range(len(r))] for r in rows]
    fast = io.BytesIO()
    slow = io.BytesIO()
    for names, row in zip(columns, rows, strict=True):
        assert store_rows(names, [row], zone, fast) == 1
        write_ion_rows([{n: ion_value(v, zone) for n, v in zip(names, row, strict=True)}], slow)
    assert fast.getvalue().decode().splitlines() == slow.getvalue().decode().splitlines()
    assert len(simpleion.loads(fast.getvalue().decode(), single_value=False)) == len(rows)


def test_zone_ids() -> None:
    assert parse_zone("Europe/Paris") == ZoneInfo("Europe/Paris")
    with pytest.raises(ValueError, match="timeZoneId"):
        parse_zone("Mars/Olympus")
