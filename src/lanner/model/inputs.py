"""Flow inputs (SPEC §1.3): their declarations, and the values an execution is given.

A flow declares typed inputs (`type: STRING`, `INT`, `DATETIME`, ...). The
models here validate the declarations when the flow is loaded — Kestra's
property names, unknown properties rejected, defaults checked against the
type. :func:`parse_inputs` turns the values given to one execution (text
from the CLI or a form, or typed JSON from the API) into JSON-compatible
values, reporting every problem at once.

Inputs grouped in a FORM are expanded to their leaves, whose ids are the
dotted path (`environment.region`), as Kestra does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator, model_validator

from lanner.model.common import (
    INPUT_ID_RE,
    DurationLike,
    Model,
    Text,
    is_dynamic,
)
from lanner.model.conditions import known_type
from lanner.model.inputvalues import (
    CONVERTERS,
    FILE_STORE_MISSING,
    check_inputs,
    convert_items,
    leaves,
    nest_inputs,
    parse_date,
    parse_datetime,
    parse_inputs,
    parse_iso_duration,
    parse_time,
    secret_input_ids,
    to_list,
    to_str,
)

# The flow-level rules and an execution's values live with the converters in
# inputvalues (they only need the InputDecl protocol); they are part of this API.
__all__ = [
    "FILE_STORE_MISSING",
    "Input",
    "InputModel",
    "InputType",
    "check_inputs",
    "leaves",
    "nest_inputs",
    "parse_inputs",
    "secret_input_ids",
]


class InputType(StrEnum):
    STRING = "STRING"
    ENUM = "ENUM"  # deprecated, removed in Kestra 2.0: use SELECT
    SELECT = "SELECT"
    INT = "INT"
    FLOAT = "FLOAT"
    BOOLEAN = "BOOLEAN"  # deprecated, removed in Kestra 2.0: use BOOL
    BOOL = "BOOL"
    DATETIME = "DATETIME"
    DATE = "DATE"
    TIME = "TIME"
    DURATION = "DURATION"
    FILE = "FILE"
    JSON = "JSON"
    URI = "URI"
    SECRET = "SECRET"
    ARRAY = "ARRAY"
    MULTISELECT = "MULTISELECT"
    YAML = "YAML"
    EMAIL = "EMAIL"
    FORM = "FORM"


# ---- declarations -----------------------------------------------------------------------


class DependsOn(Model):
    inputs: list[str] = Field(default_factory=list)
    condition: Text | None = None


class ValueOption(Model):
    """A choice shown as `label`, stored as `value`."""

    label: Text
    value: Text


def _option_values(values: Sequence[str | ValueOption] | None) -> list[str]:
    return [v.value if isinstance(v, ValueOption) else v for v in values or ()]


class _Input(Model):
    """What every input has (Kestra's `Input`)."""

    id: str
    type: str
    description: Text | None = None
    displayName: Text | None = None
    required: bool = True
    defaults: Any = None
    prefill: Any = None
    dependsOn: DependsOn | None = None

    @model_validator(mode="before")
    @classmethod
    def _old_name(cls, data: Any) -> Any:
        # `name` is the pre-0.15 name of `id`; Kestra uses it only when `id` is absent.
        if isinstance(data, dict) and "name" in data:
            data = dict(data)
            name = data.pop("name")
            data.setdefault("id", name)
        return data

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not INPUT_ID_RE.match(v):
            raise ValueError(
                f"'{v}' is not a valid input id: start with a letter or digit, "
                "then letters, digits, ., _ or -"
            )
        return v

    def problems(self) -> list[tuple[str, str]]:
        """Declaration problems found by parsing its values, as (property, message).

        Reported by :func:`check_inputs` rather than raised by the model so
        that each one points at the property (`inputs[0].defaults`).
        """
        out: list[tuple[str, str]] = []
        if self.defaults is not None and self.prefill is not None:
            out.append(("prefill", "give `defaults` or `prefill`, not both"))
        for name in ("defaults", "prefill"):
            value = getattr(self, name)
            if value is not None and not is_dynamic(value):
                try:
                    self.convert(value, isinstance(value, str))
                except ValueError as exc:
                    out.append((name, f"invalid {name}: {exc}"))
        return out

    def convert(self, value: Any, text: bool) -> Any:
        """The stored value of `value`, or ValueError saying what is wrong with it."""
        return self._check(CONVERTERS[self.type](value, text))

    def _check(self, value: Any) -> Any:
        return value

    def default_value(self) -> Any:
        """The value used when none is given (None: no default)."""
        return self.defaults


def _compiled(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
    return pattern


class _Validated(_Input):
    validator: str | None = None

    @field_validator("validator")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        return _compiled(v)

    def _check(self, value: Any) -> Any:
        # Java's String.matches: the whole value must match.
        if self.validator is not None and not re.fullmatch(self.validator, value):
            shown = "the value" if self.type == "SECRET" else repr(value)
            raise ValueError(f"{shown} does not match the pattern {self.validator!r}")
        return value


class StringInput(_Validated):
    type: Literal["STRING"]


class SecretInput(_Validated):
    type: Literal["SECRET"]

    def convert(self, value: Any, text: bool) -> Any:
        try:
            return super().convert(value, text)
        except ValueError as exc:
            # Never echo a secret, even a malformed one.
            if "got" in str(exc):
                raise ValueError("expected a string") from None
            raise


class _Range(_Input):
    """Bounds, inclusive, compared once both sides are parsed."""

    _upper: ClassVar[str] = "max"

    def _bounds(self) -> tuple[Any, Any, Callable[[Any], Any]]:
        raise NotImplementedError

    def _check(self, value: Any) -> Any:
        low, high, parse = self._bounds()
        # A bound written as an expression cannot be checked before it is rendered.
        low, high = (None if is_dynamic(b) else b for b in (low, high))
        if low is not None and parse(value) < parse(low):
            raise ValueError(f"{value!r} is below the minimum {low!r}")
        if high is not None and parse(value) > parse(high):
            raise ValueError(f"{value!r} is above the maximum {high!r}")
        return value

    def problems(self) -> list[tuple[str, str]]:
        low, high, parse = self._bounds()
        if low is None or high is None or is_dynamic(low) or is_dynamic(high):
            return super().problems()
        if parse(low) > parse(high):
            return [(self._upper, f"the lower bound {low!r} is above the upper bound {high!r}")]
        return super().problems()


class IntInput(_Range):
    type: Literal["INT"]
    min: int | None = None
    max: int | None = None

    def _bounds(self) -> tuple[Any, Any, Callable[[Any], Any]]:
        return self.min, self.max, int


class FloatInput(_Range):
    type: Literal["FLOAT"]
    min: float | None = None
    max: float | None = None

    def _bounds(self) -> tuple[Any, Any, Callable[[Any], Any]]:
        return self.min, self.max, float


class DurationInput(_Range):
    type: Literal["DURATION"]
    min: DurationLike | None = None
    max: DurationLike | None = None

    def _bounds(self) -> tuple[Any, Any, Callable[[Any], Any]]:
        return self.min, self.max, parse_iso_duration


class _Between(_Range):
    """DATETIME, DATE and TIME: `after` and `before` bound the value (inclusive, as Kestra)."""

    after: str | None = None
    before: str | None = None
    _upper: ClassVar[str] = "before"

    @staticmethod
    def parse_value(value: Any) -> Any:
        raise NotImplementedError

    @field_validator("after", "before")
    @classmethod
    def _parsable(cls, v: str | None) -> str | None:
        if v is not None and not is_dynamic(v):
            cls.parse_value(v)
        return v

    def _bounds(self) -> tuple[Any, Any, Callable[[Any], Any]]:
        return self.after, self.before, type(self).parse_value

    def _check(self, value: Any) -> Any:
        parse = type(self).parse_value
        after, before = (None if is_dynamic(b) else b for b in (self.after, self.before))
        if after is not None and parse(value) < parse(after):
            raise ValueError(f"{value!r} must be after {after}")
        if before is not None and parse(value) > parse(before):
            raise ValueError(f"{value!r} must be before {before}")
        return value


class DateTimeInput(_Between):
    type: Literal["DATETIME"]

    @staticmethod
    def parse_value(value: Any) -> Any:
        return parse_datetime(value)


class DateInput(_Between):
    type: Literal["DATE"]

    @staticmethod
    def parse_value(value: Any) -> Any:
        return parse_date(value)


class TimeInput(_Between):
    type: Literal["TIME"]

    @staticmethod
    def parse_value(value: Any) -> Any:
        return parse_time(value)


class BoolInput(_Input):
    type: Literal["BOOL", "BOOLEAN"]  # BOOLEAN is the deprecated name, same behaviour


class _Choice(_Input):
    values: list[Text | ValueOption] | None = None
    expression: Text | None = None
    allowCustomValue: bool = False
    autoSelectFirst: bool = False

    def choices(self) -> list[str] | None:
        """The allowed values, None when they come from `expression` at run time."""
        return _option_values(self.values) if self.values is not None else None

    def _allowed(self, value: str) -> None:
        choices = self.choices()
        if choices is not None and not self.allowCustomValue and value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(map(repr, choices))}")

    def default_value(self) -> Any:
        choices = self.choices()
        if self.defaults is None and self.autoSelectFirst and choices:
            return choices[0] if self.type == "SELECT" else [choices[0]]
        return self.defaults


class SelectInput(_Choice):
    type: Literal["SELECT"]
    isRadio: bool = False

    @model_validator(mode="after")
    def _source(self) -> SelectInput:
        if self.values is None and self.expression is None:
            raise ValueError("a SELECT input needs `values` or `expression`")
        return self

    def _check(self, value: Any) -> Any:
        self._allowed(value)
        return value


class EnumInput(_Input):
    type: Literal["ENUM"]
    values: Annotated[list[Text], Field(min_length=1)]

    def _check(self, value: Any) -> Any:
        if value not in self.values:
            raise ValueError(f"{value!r} is not one of {', '.join(map(repr, self.values))}")
        return value


_NO_ITEM_TYPES = frozenset({"ARRAY", "MULTISELECT", "FILE", "FORM"})


def _item_type(v: InputType) -> InputType:
    if v in _NO_ITEM_TYPES:
        raise ValueError(f"itemType cannot be {v}")
    return v


class MultiselectInput(_Choice):
    type: Literal["MULTISELECT"]
    options: list[Text] | None = None  # deprecated name of `values`
    itemType: InputType = InputType.STRING

    @field_validator("itemType")
    @classmethod
    def _items_ok(cls, v: InputType) -> InputType:
        return _item_type(v)

    @model_validator(mode="after")
    def _source(self) -> MultiselectInput:
        if self.values is not None and self.options is not None:
            raise ValueError("you can't define both `values` and `options`")
        if self.values is None and self.options is None and self.expression is None:
            raise ValueError("a MULTISELECT input needs `values` or `expression`")
        return self

    def choices(self) -> list[str] | None:
        return list(self.options) if self.options is not None else super().choices()

    def convert(self, value: Any, text: bool) -> Any:
        items = to_list(value, text)
        for item in items:
            self._allowed(to_str(item, False))
        return convert_items(items, self.itemType)


class ArrayInput(_Input):
    type: Literal["ARRAY"]
    itemType: InputType

    @field_validator("itemType")
    @classmethod
    def _items_ok(cls, v: InputType) -> InputType:
        return _item_type(v)

    def convert(self, value: Any, text: bool) -> Any:
        return convert_items(to_list(value, text), self.itemType)


class JsonInput(_Input):
    type: Literal["JSON"]


class YamlInput(_Input):
    type: Literal["YAML"]


class URIInput(_Input):
    type: Literal["URI"]


class EmailInput(_Input):
    type: Literal["EMAIL"]


class FileInput(_Input):
    """A file: given as a local path (`lanner run --input f=PATH`) or a `kestra://` URI,
    its value in the execution is the `kestra://` URI of its copy in internal storage."""

    type: Literal["FILE"]
    allowedFileExtensions: list[str] | None = None
    extension: str | None = None  # deprecated in Kestra: use allowedFileExtensions

    def problems(self) -> list[tuple[str, str]]:
        # Never a host path: a deployed flow must not make a CLI read the user's files.
        if self.defaults is not None and not (
            isinstance(self.defaults, str)
            and self.defaults.startswith(("kestra:///", "nsfile:///"))
        ):
            return [("defaults", "a FILE default is a kestra:/// or nsfile:/// URI")]
        return []

    def convert(self, value: Any, text: bool) -> Any:
        """The path or URI, its extension checked; the files callback stores it."""
        if not isinstance(value, str) or not value:
            raise ValueError("a FILE input's value is a file path or a kestra:// URI")
        allowed = self.allowedFileExtensions or ([self.extension] if self.extension else [])
        if allowed:
            name = value.rsplit("/", 1)[-1].lower()
            if not any(
                name.endswith(e.lower() if e.startswith(".") else "." + e.lower()) for e in allowed
            ):
                raise ValueError(f"{name!r}: allowed file extensions are {', '.join(allowed)}")
        return value


class FormInput(_Input):
    """A group of inputs, each reached as `<form id>.<input id>`; forms do not nest."""

    type: Literal["FORM"]
    inputs: Annotated[list[Input], Field(min_length=1)]

    @field_validator("inputs")
    @classmethod
    def _flat(cls, v: list[Any]) -> list[Any]:
        if any(isinstance(i, FormInput) for i in v):
            raise ValueError("a FORM cannot contain another FORM")
        return v

    def problems(self) -> list[tuple[str, str]]:
        given = [n for n in ("defaults", "prefill") if getattr(self, n) is not None]
        return [(n, "a FORM has no value: set it on the inputs inside it") for n in given]


_INPUT_NAMES: dict[str, str] = {t.value: t.value for t in InputType}
_INPUT_NAMES["BOOLEAN"] = "BOOL"


def _input_tag(value: Any) -> str | None:
    raw = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return _INPUT_NAMES.get(raw, raw) if isinstance(raw, str) else None


Input = Annotated[
    Annotated[StringInput, Tag("STRING")]
    | Annotated[IntInput, Tag("INT")]
    | Annotated[FloatInput, Tag("FLOAT")]
    | Annotated[BoolInput, Tag("BOOL")]
    | Annotated[SelectInput, Tag("SELECT")]
    | Annotated[EnumInput, Tag("ENUM")]
    | Annotated[MultiselectInput, Tag("MULTISELECT")]
    | Annotated[ArrayInput, Tag("ARRAY")]
    | Annotated[JsonInput, Tag("JSON")]
    | Annotated[YamlInput, Tag("YAML")]
    | Annotated[DateTimeInput, Tag("DATETIME")]
    | Annotated[DateInput, Tag("DATE")]
    | Annotated[TimeInput, Tag("TIME")]
    | Annotated[DurationInput, Tag("DURATION")]
    | Annotated[URIInput, Tag("URI")]
    | Annotated[EmailInput, Tag("EMAIL")]
    | Annotated[SecretInput, Tag("SECRET")]
    | Annotated[FileInput, Tag("FILE")]
    | Annotated[FormInput, Tag("FORM")],
    Discriminator(_input_tag),
    BeforeValidator(lambda v: known_type(v, {**_INPUT_NAMES, "BOOLEAN": "BOOLEAN"}, "input")),
]
"""An input declaration of any type, as a pydantic field type; errors keep their locations."""

InputModel = _Input
# Forward references resolve when the model is first used (defer_build).
