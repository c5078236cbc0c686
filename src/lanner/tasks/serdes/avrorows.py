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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal
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
    """A row or a value that does not fit the schema; `path` names the field."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def within(self, name: str) -> BadValue:
        """The same error, one level up (`name` is a field, or `[i]` an item)."""
        if not self.path:
            path = name
        elif self.path.startswith("["):
            path = name + self.path
        else:
            path = f"{name}.{self.path}"
        return BadValue(self.message, path)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


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


Convert = Callable[[Any], Any]


@dataclass
class RowConverter:
    """Converts Ion rows to the values of one record schema.

    The schema is compiled once into a tree of small functions, one per type, with a
    short way for values that already have the field's type (most rows of a typed
    file): a row costs a few Python calls per field."""

    schema: dict[str, Any]
    options: Options = field(default_factory=Options)

    def __post_init__(self) -> None:
        self.named = named_types(self.schema)
        self._fields = list(self.schema.get("fields", []))
        self._cache: dict[int, Convert] = {}
        self._root = self._compile(self.schema)

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
        out: dict[str, Any] = self._root(value)
        if self.options.strict_schema and len(value) > len(self._fields):
            raise BadValue(self._extra(len(value)))
        return out

    def convert(self, schema: Any, value: Any) -> Any:
        """One value made to fit `schema`; BadValue says why when it cannot."""
        return self._compile(schema)(value)

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
        result: dict[str, Any] = self._root(row)
        return result

    # -- compiling ------------------------------------------------------------------------------

    def _compile(self, schema: Any) -> Convert:
        conv = self._bare(schema)
        if not self.options.infer_all_fields:
            return conv
        o = self.options

        def read_text_first(value: Any) -> Any:
            if type(value) is str:
                lowered = value.lower()
                if lowered in o.null_values:
                    value = None
                elif lowered in o.true_values:
                    value = True
                elif lowered in o.false_values:
                    value = False
            return conv(value)

        return read_text_first

    def _bare(self, schema: Any) -> Convert:
        if isinstance(schema, list):
            return self._union(schema)
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return self._primitive(schema)
            if schema not in self.named:
                raise SchemaError(f"the schema names an unknown type '{schema}'")
            return self._named(self.named[schema])
        kind = schema.get("type")
        if isinstance(kind, dict | list):
            return self._bare(kind)
        logical = schema.get("logicalType")
        if logical is not None and logical in _LOGICAL:
            return self._logical(schema, str(logical))
        if kind in ("record", "error", "enum", "fixed"):
            return self._named(schema)
        if kind == "array":
            return self._array(schema)
        if kind == "map":
            return self._map(schema)
        if kind in PRIMITIVES:
            return self._primitive(str(kind))
        raise SchemaError(f"the schema type {kind!r} is not an Avro type")

    def _named(self, schema: dict[str, Any]) -> Convert:
        """Records, enums and fixed types, compiled once (a record may contain itself)."""
        key = id(schema)
        if key in self._cache:
            return self._cache[key]
        later: list[Convert] = []
        self._cache[key] = lambda value: later[0](value)
        kind = schema.get("type")
        if kind == "enum":
            conv = self._enum(schema)
        elif kind == "fixed":
            conv = self._fixed(schema)
        else:
            conv = self._record(schema)
        later.append(conv)
        self._cache[key] = conv
        return conv

    def _record(self, schema: dict[str, Any]) -> Convert:
        fields: list[tuple[str, tuple[str, ...], Convert]] = []

        def compile_fields() -> None:
            for f in schema.get("fields", []):
                fields.append((f["name"], tuple(f.get("aliases") or ()), self._compile(f["type"])))

        def record(data: Any) -> dict[str, Any]:
            if not isinstance(data, Mapping):
                raise BadValue(f"expected a struct, got {_kind(data)}")
            out: dict[str, Any] = {}
            get = data.get
            for name, aliases, conv in fields:
                value = get(name)
                if value is None and aliases:
                    value = next((get(a) for a in aliases if get(a) is not None), None)
                try:
                    out[name] = conv(value)
                except BadValue as exc:
                    raise exc.within(name) from None
            return out

        # Fields are compiled after the record is cached: a field may name the record.
        self._cache[id(schema)] = record
        compile_fields()
        return record

    def _array(self, schema: dict[str, Any]) -> Convert:
        item = self._compile(schema["items"])

        def array(value: Any) -> list[Any]:
            if not isinstance(value, list):
                raise BadValue(f"expected a list, got {_kind(value)}")
            out = []
            for i, v in enumerate(value):
                try:
                    out.append(item(v))
                except BadValue as exc:
                    raise exc.within(f"[{i}]") from None
            return out

        return array

    def _map(self, schema: dict[str, Any]) -> Convert:
        values = self._compile(schema["values"])

        def avro_map(value: Any) -> dict[str, Any]:
            if not isinstance(value, Mapping):
                raise BadValue(f"expected a struct, got {_kind(value)}")
            out = {}
            for k, v in value.items():
                try:
                    out[str(k)] = values(v)
                except BadValue as exc:
                    raise exc.within(f"[{k}]") from None
            return out

        return avro_map

    def _enum(self, schema: dict[str, Any]) -> Convert:
        text = self._primitive("string")
        symbols = list(schema.get("symbols", []))

        def enum(value: Any) -> str:
            symbol: str = text(value)
            if symbol not in symbols:
                raise BadValue(f"'{symbol}' is not one of {symbols}")
            return symbol

        return enum

    def _fixed(self, schema: dict[str, Any]) -> Convert:
        data = self._primitive("bytes")
        size = schema.get("size")

        def fixed(value: Any) -> bytes:
            raw: bytes = data(value)
            if len(raw) != size:
                raise BadValue(f"{len(raw)} bytes, the fixed type holds {size}")
            return raw

        return fixed

    def _union(self, schema: list[Any]) -> Convert:
        branches = [self._compile(b) for b in schema]
        shown = json.dumps(schema)

        def none_fits(value: Any) -> BadValue:
            return BadValue(f"{_show(value)} fits none of the types {shown}")

        if len(schema) == 2 and schema[0] == "null":
            # ["null", T], the usual nullable field: what the null branch takes, else T's.
            other = branches[1]
            nulls = self.options.null_values

            def nullable(value: Any) -> Any:
                if value is None or (type(value) is str and value.lower() in nulls):
                    return None
                try:
                    return other(value)
                except BadValue:
                    raise none_fits(value) from None

            return nullable

        def union(value: Any) -> Any:
            # Kestra tries the branches in order and keeps the first that takes the value.
            for branch in branches:
                try:
                    return branch(value)
                except BadValue:
                    continue
            raise none_fits(value)

        return union

    def _primitive(self, kind: str) -> Convert:
        parse = _PRIMITIVE[kind]
        o = self.options
        same = _SAME_TYPE.get(kind)
        article = _article(kind)

        def primitive(value: Any) -> Any:
            if same is not None and type(value) is same:
                return value
            try:
                return parse(o, value)
            except BadValue:
                raise
            except (ValueError, TypeError, OverflowError) as exc:
                raise BadValue(f"{_show(value)} is not {article}: {exc}") from None

        return primitive

    def _logical(self, schema: dict[str, Any], logical: str) -> Convert:
        make = _LOGICAL[logical]

        def logical_value(value: Any) -> Any:
            if value is None:
                raise BadValue("null in a field that is not nullable")
            try:
                return make(self, schema, value)
            except BadValue:
                raise
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise BadValue(f"{_show(value)} is not a {logical}: {exc}") from None

        return logical_value


# Types a value may already have that the field keeps as it is (int and long check ranges).
_SAME_TYPE: dict[str, type] = {"string": str, "double": float, "float": float, "boolean": bool}


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
