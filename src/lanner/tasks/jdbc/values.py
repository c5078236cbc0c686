"""Database values as Kestra's JDBC tasks give them (docs/tasks-jdbc.md).

Two shapes of the same row: `output_value` for the task's `row`/`rows`
outputs (JSON-shaped, as Kestra's outputs are once serialised) and
`ion_value` for the STORE file (Ion keeps decimals, timestamps and bytes
exactly). `write_ion_rows` writes them with `lanner.ion`'s writer, several
times faster than amazon-ion's simpleion.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from lanner.ion import write_values
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
