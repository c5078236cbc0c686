"""Database values as Kestra's JDBC tasks give them (docs/tasks-jdbc.md).

Two shapes of the same row: `output_value` for the task's `row`/`rows`
outputs (JSON-shaped, as Kestra's outputs are once serialised) and
`ion_value` for the STORE file (Ion keeps decimals, timestamps and bytes
exactly). `store_rows` writes a query's rows with `lanner.ion`'s writer, several
times faster than amazon-ion's simpleion.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import orjson

from lanner.ion import IonText, encode_line, flat_struct_encoder, ion_scalar_text, write_values
from lanner.model.common import format_duration


def _zoned(value: dt.datetime, zone: dt.tzinfo | None) -> dt.datetime:
    # A timestamp with a zone is shown in timeZoneId (else the worker's zone), as Kestra does.
    return value.astimezone(zone) if zone is not None else value.astimezone()


def _time(value: dt.time) -> str:
    return value.isoformat()


def output_value(value: Any, zone: dt.tzinfo | None) -> Any:
    """A value for the `row`/`rows` outputs."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        # JSON numbers: an integral decimal stays an integer, others become floats.
        if value == value.to_integral_value() and abs(value) < 10**18:
            return int(value)
        return float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return _zoned(value, zone).isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return _time(value)
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): output_value(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [output_value(v, zone) for v in value]
    return str(value)


def ion_value(value: Any, zone: dt.tzinfo | None) -> Any:
    """A value for the Ion file of STORE, of a type `lanner.ion`'s writer takes."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, Decimal):
        # Ion decimals are finite; PostgreSQL's numeric NaN/Infinity become Ion floats.
        return value if value.is_finite() else float(value)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dt.datetime):
        return _zoned(value, zone) if value.tzinfo is not None else value
    if isinstance(value, dt.date):
        return value  # an Ion timestamp of day precision
    if isinstance(value, dt.time):
        return _time(value)
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): ion_value(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [ion_value(v, zone) for v in value]
    return str(value)


def write_ion_rows(rows: Iterable[Mapping[str, Any]], out: BinaryIO) -> int:
    """Write one Ion struct per line (lanner.ion's writer); the number of rows written."""
    return write_values(out, (row if type(row) is dict else dict(row) for row in rows))


def _ion_text(zone: dt.tzinfo | None) -> Callable[[Any], IonText]:
    """The Ion text of one non-JSON scalar of a row, as `ion_value` then the writer
    would give it; TypeError for a value left to them (a PostgreSQL numeric NaN, ...)."""

    def text(value: Any) -> IonText:
        kind = type(value)
        if kind is dt.datetime:
            if value.tzinfo is None:
                return IonText(value.isoformat() + "-00:00")  # Ion's unknown offset
            stamp = (value.astimezone(zone) if zone is not None else value.astimezone()).isoformat()
            if stamp[-3] == ":" and stamp[-6] in "+-":  # an offset of whole minutes
                return IonText(stamp[:-6] + "Z" if stamp.endswith("+00:00") else stamp)
            return IonText(ion_scalar_text(_zoned(value, zone)))  # refuses the offset
        if kind is Decimal:
            if not value.is_finite():
                raise TypeError("a decimal NaN or infinity is an Ion float")
            return IonText(ion_scalar_text(value))
        if kind is bytearray or kind is memoryview:
            return IonText(ion_scalar_text(bytes(value)))
        if kind is dt.time:
            return IonText(orjson.dumps(_time(value)))
        if kind is dt.timedelta:
            return IonText(orjson.dumps(format_duration(value)))
        return IonText(ion_scalar_text(value))

    return text


def store_rows(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    zone: dt.tzinfo | None,
    out: BinaryIO,
) -> int:
    """Write rows (value tuples in `columns` order) to the STORE file, one Ion struct
    per line; the number of rows written.

    A row of scalars is written in one orjson call, with only its decimals,
    timestamps and bytes formatted in Python (1M rows: several times faster than
    `ion_value` per value then `encode_line`); other rows take that slower path."""
    fast = flat_struct_encoder(_ion_text(zone))
    write = out.write
    count = 0
    for values_ in rows:
        row = dict(zip(columns, values_, strict=True))
        line = fast(row)
        if line is None:
            line = encode_line({c: ion_value(v, zone) for c, v in row.items()})
        write(line)
        count += 1
    return count


def parse_zone(name: str) -> dt.tzinfo:
    """timeZoneId: an IANA zone id (Europe/Paris, UTC)."""
    try:
        return ZoneInfo(name.strip())
    except (ValueError, KeyError, OSError):
        raise ValueError(
            f"timeZoneId: {name!r} is not a time zone id (e.g. Europe/Paris, UTC)"
        ) from None


def parse_json_text(value: Any) -> Any:
    """A JSON column that the driver gives as text."""
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
