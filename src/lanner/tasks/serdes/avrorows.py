"""Ion rows made to fit an Avro schema, as Kestra's `AvroConverter` does it (IonToAvro and
IonToParquet both write through an Avro schema), and a schema inferred from rows when
the task gives none (Kestra's `InferAvroSchema`).

A schema is JSON (Avro's own form). Each row (a struct, or a list read by position) is
converted field by field: text is parsed into the field's type (numbers, booleans
from `trueValues`/`falseValues`, nulls from `nullValues`, dates and times with the
task's Java patterns), typed Ion values are checked and narrowed. A value that does
not fit raises `BadValue`, naming the field; the task then applies `onBadLines`.
The values returned are those fastavro writes (and pyarrow takes): dict, list, str,
int, float, bool, bytes, Decimal, date, time, datetime (aware for `timestamp-*`,
naive for `local-timestamp-*`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any

from lanner.tasks.serdes import javaparse
from lanner.tasks.serdes.javatext import Formats

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_JAVA_INT = re.compile(r"[+-]?\d+")
_POSITIONAL = re.compile(r"col\d+")
_TEXT = Formats()

DEFAULT_TRUE = ["t", "true", "enabled", "1", "on", "yes"]
DEFAULT_FALSE = ["f", "false", "disabled", "0", "off", "no", ""]
DEFAULT_NULL = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "1.#IND",
    "1.#QNAN",
    "NA",
    "n/a",
    "nan",
    "null",
]


class BadValue(ValueError):
    """A row or a value that does not fit the schema."""


class SchemaError(ValueError):
    """A schema that is not an Avro record schema Lanner can use."""


@dataclass(frozen=True)
class Options:
    """The conversion properties of Kestra's AbstractAvroConverter, rendered."""

    true_values: frozenset[str] = frozenset(DEFAULT_TRUE)
    false_values: frozenset[str] = frozenset(DEFAULT_FALSE)
    null_values: frozenset[str] = frozenset(v.lower() for v in DEFAULT_NULL)
    date_format: str = "yyyy-MM-dd[XXX]"
    time_format: str = "HH:mm[:ss][.SSSSSS][XXX]"
    datetime_format: str = "yyyy-MM-dd'T'HH:mm[:ss][.SSSSSS][XXX]"
    decimal_separator: str = "."
    strict_schema: bool = False
    infer_all_fields: bool = False
    zone: dt.tzinfo = dt.UTC


def lower_set(values: Iterable[str]) -> frozenset[str]:
    """Kestra compares these lists ignoring case."""
    return frozenset(str(v).lower() for v in values)


def parse_schema(text: str) -> dict[str, Any]:
    """The schema JSON, checked to be a record schema."""
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise SchemaError(f"'schema' is not JSON: {exc}") from None
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise SchemaError(
            '\'schema\' must be an Avro record schema: {"type": "record", "name": ...,'
            ' "fields": [...]}'
        )
    try:
        import fastavro

        fastavro.parse_schema(schema)
    except ImportError:
        pass  # checked again by the task, which needs fastavro or pyarrow anyway
    except Exception as exc:  # fastavro's SchemaParseException and others
        raise SchemaError(f"'schema' is not a valid Avro schema: {exc}") from None
    return schema


def named_types(
    schema: Any, namespace: str = "", into: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The record, enum and fixed types a schema defines, by name and full name."""
    found: dict[str, Any] = {} if into is None else into
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, namespace, found)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            name = str(schema.get("name", ""))
            space = str(schema.get("namespace", namespace))
            if "." in name:
                space = name.rsplit(".", 1)[0]
            found[name.rsplit(".", 1)[-1]] = schema
            found[f"{space}.{name.rsplit('.', 1)[-1]}" if space else name] = schema
            if kind in ("record", "error"):
                for f in schema.get("fields", []):
                    named_types(f.get("type"), space, found)
        elif kind == "array":
            named_types(schema.get("items"), namespace, found)
        elif kind == "map":
            named_types(schema.get("values"), namespace, found)
        elif isinstance(kind, dict | list):
            named_types(kind, namespace, found)
    return found


@dataclass
class RowConverter:
    """Converts Ion rows to the values of one record schema."""

    schema: dict[str, Any]
    options: Options = field(default_factory=Options)

    def __post_init__(self) -> None:
        self.named = named_types(self.schema)
        self._fields = list(self.schema.get("fields", []))

    def row(self, value: Any) -> dict[str, Any]:
        if isinstance(value, list):
            return self._positional(value)
        if not isinstance(value, dict):
            raise BadValue(f"a row must be a struct or a list, not {_kind(value)}")
        keys = list(value)
        if keys and all(_POSITIONAL.fullmatch(k) for k in keys):
            # CsvToIon without a header in Kestra's newer shape: {col0: ..., col1: ...}
            by_index = {int(k[3:]): v for k, v in value.items()}
            if self.options.strict_schema and len(keys) > len(self._fields):
                raise BadValue(self._extra(len(keys)))
            return self._positional([by_index.get(i) for i in range(len(self._fields))])
        out = self._record(self.schema, value, "")
        if self.options.strict_schema and len(value) > len(self._fields):
            raise BadValue(self._extra(len(value)))
        return out

    def _extra(self, count: int) -> str:
        return (
            f"the row has {count} fields, the schema {len(self._fields)}"
            " (strictSchema: true refuses fields the schema does not declare)"
        )

    def _positional(self, values: list[Any]) -> dict[str, Any]:
        if self.options.strict_schema and len(values) > len(self._fields):
            raise BadValue(self._extra(len(values)))
        row = {
            f["name"]: values[i] if i < len(values) else None for i, f in enumerate(self._fields)
        }
        return self._record(self.schema, row, "")

    def _record(self, schema: Mapping[str, Any], data: Any, path: str) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise BadValue(f"{path or 'row'}: expected a struct, got {_kind(data)}")
        out: dict[str, Any] = {}
        for f in schema.get("fields", []):
            name = f["name"]
            value = data.get(name)
            if value is None:
                for alias in f.get("aliases") or ():
                    if data.get(alias) is not None:
                        value = data[alias]
                        break
            out[name] = self.convert(f["type"], value, f"{path}.{name}" if path else name)
        return out

    def convert(self, schema: Any, value: Any, path: str) -> Any:
        """One value made to fit `schema`; BadValue names `path` when it cannot."""
        if self.options.infer_all_fields and isinstance(value, str):
            lowered = value.lower()
            if lowered in self.options.null_values:
                value = None
            elif lowered in self.options.true_values:
                value = True
            elif lowered in self.options.false_values:
                value = False
        if isinstance(schema, list):
            return self._union(schema, value, path)
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return self._primitive(schema, value, path)
            if schema not in self.named:
                raise BadValue(f"{path}: the schema names an unknown type '{schema}'")
            schema = self.named[schema]
        kind = schema.get("type")
        if isinstance(kind, dict | list):
            return self.convert(kind, value, path)
        logical = schema.get("logicalType")
        try:
            if logical is not None and logical in _LOGICAL:
                if value is None:
                    raise BadValue(f"{path}: null in a field that is not nullable")
                return _LOGICAL[logical](self, schema, value)
        except BadValue:
            raise
        except (ValueError, TypeError, ArithmeticError, InvalidOperation) as exc:
            raise BadValue(f"{path}: {_show(value)} is not a {logical}: {exc}") from None
        if kind in ("record", "error"):
            return self._record(schema, value, path)
        if kind == "array":
            if not isinstance(value, list):
                raise BadValue(f"{path}: expected a list, got {_kind(value)}")
            return [self.convert(schema["items"], v, f"{path}[{i}]") for i, v in enumerate(value)]
        if kind == "map":
            if not isinstance(value, Mapping):
                raise BadValue(f"{path}: expected a struct, got {_kind(value)}")
            return {
                str(k): self.convert(schema["values"], v, f"{path}[{k}]") for k, v in value.items()
            }
        if kind == "enum":
            text = self._primitive("string", value, path)
            if text not in schema.get("symbols", []):
                raise BadValue(f"{path}: '{text}' is not one of {schema.get('symbols')}")
            return text
        if kind == "fixed":
            data = self._primitive("bytes", value, path)
            if len(data) != schema.get("size"):
                raise BadValue(
                    f"{path}: {len(data)} bytes, the fixed type holds {schema.get('size')}"
                )
            return data
        if kind in PRIMITIVES:
            return self._primitive(str(kind), value, path)
        raise BadValue(f"{path}: the schema type {kind!r} is not an Avro type")

    def _union(self, branches: list[Any], value: Any, path: str) -> Any:
        # Kestra tries the branches in order and keeps the first that takes the value.
        for branch in branches:
            try:
                return self.convert(branch, value, path)
            except BadValue:
                continue
        raise BadValue(f"{path}: {_show(value)} fits none of the types {json.dumps(branches)}")

    def _primitive(self, kind: str, value: Any, path: str) -> Any:
        try:
            return _PRIMITIVE[kind](self.options, value)
        except BadValue as exc:
            raise BadValue(f"{path}: {exc}") from None
        except (ValueError, TypeError, OverflowError) as exc:
            raise BadValue(f"{path}: {_show(value)} is not {_article(kind)}: {exc}") from None


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- primitives ---------------------------------------------------------------------------------


def _null(o: Options, value: Any) -> None:
    if value is None or (isinstance(value, str) and value.lower() in o.null_values):
        return None
    raise BadValue(f"{_show(value)} is not null (nullValues lists the texts read as null)")


def _not_null(value: Any) -> None:
    if value is None:
        raise BadValue('null in a field that is not nullable (make its type ["null", ...])')


def _integer(value: Any, bounds: tuple[int, int], kind: str) -> int:
    _not_null(value)
    if isinstance(value, str):
        if not _JAVA_INT.fullmatch(value):
            raise ValueError("not an integer")
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise TypeError(f"a {_kind(value)} is not an integer")
    if not bounds[0] <= number <= bounds[1]:
        raise BadValue(f"{number} is out of the range of Avro's {kind}")
    return number


def _int(o: Options, value: Any) -> int:
    return _integer(value, _INT32, "int")


def _long(o: Options, value: Any) -> int:
    return _integer(value, _INT64, "long")


def _double(o: Options, value: Any) -> float:
    _not_null(value)
    if isinstance(value, str):
        text = value if o.decimal_separator == "." else value.replace(o.decimal_separator, ".", 1)
        return float(text)
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int | float | Decimal):
        return float(value)
    raise TypeError(f"a {_kind(value)} is not a number")


def _bool(o: Options, value: Any) -> bool:
    _not_null(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in o.true_values:
            return True
        if lowered in o.false_values:
            return False
        raise ValueError("not in trueValues nor in falseValues")
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    raise TypeError(f"a {_kind(value)} is not a boolean")


def _string(o: Options, value: Any) -> str:
    _not_null(value)
    if isinstance(value, str):
        return value
    text = _TEXT.text(value)  # Java's String.valueOf of the Ion value
    assert text is not None
    return text


def _bytes(o: Options, value: Any) -> bytes:
    _not_null(value)
    if isinstance(value, bytes):
        return value
    return _string(o, value).encode("utf-8")


_PRIMITIVE: dict[str, Any] = {
    "null": _null,
    "boolean": _bool,
    "int": _int,
    "long": _long,
    "float": _double,
    "double": _double,
    "string": _string,
    "bytes": _bytes,
}


# --- logical types ------------------------------------------------------------------------------


def _decimal(c: RowConverter, schema: Mapping[str, Any], value: Any) -> Decimal:
    precision = int(schema.get("precision", 0))
    scale = int(schema.get("scale", 0))
    if isinstance(value, str):
        sep = c.options.decimal_separator
        number = Decimal(value if sep == "." else value.replace(sep, ".", 1))
    elif isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    elif isinstance(value, float):
        number = Context(prec=precision or 28).create_decimal_from_float(value)
    elif isinstance(value, int | Decimal):
        number = Decimal(value)
    else:
        raise TypeError(f"a {_kind(value)} is not a number")
    if not number.is_finite():
        raise ValueError("Avro decimals are finite")
    rounded = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)
    if precision and len(rounded.as_tuple().digits) > precision:
        raise BadValue(f"{number} has more than {precision} digits (scale {scale})")
    return rounded


def _uuid(c: RowConverter, schema: Mapping[str, Any], value: Any) -> str:
    return str(uuid.UUID(str(value)))


def _date(c: RowConverter, schema: Mapping[str, Any], value: Any) -> dt.date:
    if isinstance(value, str):
        return javaparse.parse(value, c.options.date_format).date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"a {_kind(value)} is not a date")


def _time(c: RowConverter, schema: Mapping[str, Any], value: Any) -> dt.time:
    if isinstance(value, str):
        moment = javaparse.parse(value, c.options.time_format).time()
    elif isinstance(value, dt.time):
        moment = value.replace(tzinfo=None)
    else:
        raise TypeError(f"a {_kind(value)} is not a time")
    if schema.get("logicalType") == "time-millis":
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _instant(c: RowConverter, schema: Mapping[str, Any], value: Any) -> dt.datetime:
    millis = "millis" in str(schema.get("logicalType"))
    if isinstance(value, str) and _JAVA_INT.fullmatch(value.strip()):
        value = int(value.strip())  # Kestra reads digits as epoch millis (micros)
    if isinstance(value, int) and not isinstance(value, bool):
        moment = _EPOCH + dt.timedelta(**{"milliseconds" if millis else "microseconds": value})
    elif isinstance(value, str):
        moment = javaparse.parse(value, c.options.datetime_format).datetime(c.options.zone)
    elif isinstance(value, dt.datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=c.options.zone)
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(), c.options.zone)
    else:
        raise TypeError(f"a {_kind(value)} is not a timestamp")
    if millis:
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment


def _local(c: RowConverter, schema: Mapping[str, Any], value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        moment = value  # already a local date-time
        if "millis" in str(schema.get("logicalType")):
            moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        return moment
    return _instant(c, schema, value).astimezone(c.options.zone).replace(tzinfo=None)


_LOGICAL: dict[str, Any] = {
    "decimal": _decimal,
    "uuid": _uuid,
    "date": _date,
    "time-millis": _time,
    "time-micros": _time,
    "timestamp-millis": _instant,
    "timestamp-micros": _instant,
    "local-timestamp-millis": _local,
    "local-timestamp-micros": _local,
}


# --- from Avro (and Parquet) values back to Ion ----------------------------------------------------


def ion_value(value: Any) -> Any:
    """A value read from an Avro or Parquet file, as Lanner's Ion writer takes it: times
    of day and UUIDs become text (Ion has no such types), maps become structs."""
    if value is None or isinstance(value, str | bool | int | float | Decimal | bytes):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, Mapping):
        return {str(k): ion_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): ion_value(v) for k, v in value}  # an Arrow map: (key, value) pairs
        return [ion_value(v) for v in value]
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)


# --- inference ----------------------------------------------------------------------------------


def infer_schema(rows: Iterable[Any]) -> dict[str, Any]:
    """A record schema for struct rows (Kestra's InferAvroSchema): every field is a
    union with null; text and decimals are strings, integers int (long past 32 bits),
    floats double, timestamps local-timestamp-millis, dates date; nested structs are
    records, lists arrays. A field seen with several types is a union of them."""
    root: dict[str, Any] | None = None
    for row in rows:
        if not isinstance(row, dict):
            raise SchemaError(
                "a schema can be inferred from struct rows only: give 'schema' for rows that"
                " are lists"
            )
        inferred = _infer(row, "root")
        root = inferred if root is None else _merge_records(root, inferred)
    if root is None:
        raise SchemaError("cannot infer an Avro schema from an empty file: give 'schema'")
    root["namespace"] = "io.kestra.plugin.serdes.avro"
    return root


def _infer(value: Any, name: str) -> Any:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int" if _INT32[0] <= value <= _INT32[1] else "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str | Decimal):
        return "string"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, dt.datetime):
        return {"type": "long", "logicalType": "local-timestamp-millis"}
    if isinstance(value, dt.date):
        return {"type": "int", "logicalType": "date"}
    if isinstance(value, dt.time):
        return {"type": "int", "logicalType": "time-millis"}
    if isinstance(value, dict):
        return {
            "type": "record",
            "name": _avro_name(name),
            "fields": [
                {
                    "name": _avro_name(k),
                    "type": _nullable(_infer(v, f"{name}_{k}")),
                    "default": None,
                }
                for k, v in value.items()
            ],
        }
    if isinstance(value, list):
        items: Any = None
        for v in value:
            t = _infer(v, f"{name}_items")
            items = t if items is None else _merge(items, t)
        return {"type": "array", "items": items if items is not None else "string"}
    raise SchemaError(f"cannot infer an Avro type for a {type(value).__name__}")


def _avro_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", str(name))
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"


def _branches(t: Any) -> list[Any]:
    return list(t) if isinstance(t, list) else [t]


def _nullable(t: Any) -> Any:
    rest = [b for b in _branches(t) if b != "null"]
    return ["null", *rest]


def _key(t: Any) -> Any:
    if isinstance(t, dict):
        return (t.get("type"), t.get("logicalType"))
    return t


def _merge(a: Any, b: Any) -> Any:
    out: list[Any] = []
    for t in _branches(a) + _branches(b):
        for i, existing in enumerate(out):
            if _key(existing) == _key(t):
                if isinstance(t, dict) and t.get("type") == "record":
                    out[i] = _merge_records(existing, t)
                elif isinstance(t, dict) and t.get("type") == "array":
                    out[i] = {"type": "array", "items": _merge(existing["items"], t["items"])}
                break
        else:
            out.append(t)
    if "null" in out:
        out.remove("null")
        out.insert(0, "null")
    return out[0] if len(out) == 1 else out


def _merge_records(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {f["name"]: f["type"] for f in a["fields"]}
    for f in b["fields"]:
        fields[f["name"]] = (
            _merge(fields[f["name"]], f["type"]) if f["name"] in fields else f["type"]
        )
    return {
        **a,
        "fields": [{"name": n, "type": _nullable(t), "default": None} for n, t in fields.items()],
    }
